import type { BatchDBOp, DB } from '@ethereumjs/util'
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import { keccak256 } from '../util/keccak.js'

/** RLP of the empty string (0x80): the "node" of an empty trie, which some witnesses list. */
const EMPTY_TRIE_NODE = 0x80
/** keccak256(0x80): the root of an empty trie. Looking it up is normal (an empty storage trie). */
const EMPTY_TRIE_ROOT = '56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421'

/**
 * Thrown by a strict NodeStore (or the LMDB trie tables) on a lookup it cannot answer; the engine
 * names the block. `reading` is what the state manager was reading or writing when the trie needed
 * the node (an account, or a slot of an account): set by `whileReading`, innermost first.
 */
export class MissingNodeSignal extends Error {
  override name = 'MissingNodeSignal'
  reading: string | undefined
  constructor(
    readonly key: string,
    reading?: string,
  ) {
    super(`missing node ${key}`)
    this.reading = reading
  }
}

/**
 * Runs `fn`; a missing node it runs into is labelled with `reading()` (what was being read or
 * written) unless an inner call already labelled it. Costs a try/catch on the success path only.
 */
export async function whileReading<T>(reading: () => string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (err) {
    for (let e: unknown = err; e instanceof Error; e = e.cause) {
      if (e instanceof MissingNodeSignal) {
        e.reading ??= reading()
        break
      }
    }
    throw err
  }
}

/** The MissingNodeSignal in an error's cause chain, if any. */
export function missingNodeSignalOf(err: unknown): MissingNodeSignal | undefined {
  for (let e: unknown = err; e instanceof Error; e = e.cause) if (e instanceof MissingNodeSignal) return e
  return undefined
}

/**
 * Accounts the witness holds no path to, read as absent ("unproven absence"). A source's witness may lack
 * the proof of an account a client reads but never writes (go-ethereum's witness of Hoodi block 1151683
 * lacks the blob transaction's recipient; ethereumjs, with a lenient trie, reads such accounts as absent).
 * Reading one gives "absent", and removing it from the trie (ethereumjs deletes a touched empty account)
 * leaves the missing subtree as it is. Nothing is assumed silently: the engine takes the list after each
 * block, and if the block fails any check (or fails to execute) it reports the first such read as the
 * MissingTrieNodeError it would have been; if the block verifies, its roots prove the assumption.
 */
export class UnprovenAccounts {
  private list: MissingNodeSignal[] = []
  /** Trie keys (hashed addresses, hex) read as absent without a proof: their deletions are checked first. */
  private readonly keys = new Set<string>()
  add(signal: MissingNodeSignal, hashedAddress?: Uint8Array): void {
    this.list.push(signal)
    if (hashedAddress !== undefined) this.keys.add(bytesToHex(hashedAddress))
  }
  /** Whether this account (trie key) was read as absent without a proof. */
  has(hashedAddress: Uint8Array): boolean {
    return this.keys.has(bytesToHex(hashedAddress))
  }
  /** The block's unproven reads (in order), cleared. */
  take(): MissingNodeSignal[] {
    const l = this.list
    this.list = []
    return l
  }
}

/**
 * Runs an account read or an account-trie deletion: a node the witness lacks makes it an unproven
 * absence (recorded in `unproven`, `absent` returned) instead of an error. Labelled like `whileReading`.
 */
export async function unlessUnproven<T>(unproven: UnprovenAccounts, reading: () => string, absent: T, fn: () => Promise<T>, hashedAddress?: Uint8Array): Promise<T> {
  try {
    return await whileReading(reading, fn)
  } catch (err) {
    const signal = missingNodeSignalOf(err)
    if (signal === undefined) throw err
    unproven.add(signal, hashedAddress)
    return absent
  }
}

/** How a missing-node error names an account: address (when known) and its trie key. */
export function describeAccount(address: Uint8Array | undefined, hashedAddress: Uint8Array): string {
  return address === undefined ? `account with trie key ${bytesToHex(hashedAddress)}` : `account ${bytesToHex(address)} (trie key ${bytesToHex(hashedAddress)})`
}

/** How a missing-node error names a storage slot: slot (when known), its trie key, and the account. */
export function describeSlot(slot: Uint8Array | undefined, hashedSlot: Uint8Array, account: string): string {
  return `${slot === undefined ? 'storage slot with trie key' : `storage slot ${bytesToHex(slot)} (trie key`} ${bytesToHex(hashedSlot)}${slot === undefined ? '' : ')'} of ${account}`
}

const MAX_CHUNK = 64 * 1024 * 1024

/**
 * A content-addressed store of trie nodes and contract code, in memory, behind @ethereumjs/mpt's DB
 * interface (keys arrive as unprefixed hex strings; values are bytes).
 *
 * Compact, so that a generated state of millions of accounts fits: entries live back to back in
 * large byte arenas (`keyLen u8 | key | valueLen u32 | value`) and an open-addressing table of
 * arena offsets (Float64Array, linear probing) indexes them, so there is no JS object per entry.
 * Keys are keccak hashes (optionally prefixed), hence uniformly distributed: the table hashes by
 * the key's first six bytes. Values are content-addressed, so a put of an existing key is a no-op;
 * nodes are never deleted (like a client without pruning).
 *
 * Strict by default: a lookup of a key it does not hold throws MissingNodeSignal. Such a lookup
 * always means an incomplete witness, and @ethereumjs/mpt's `get` would otherwise treat the
 * missing node as an absent key, and execution would silently go wrong.
 */
export class NodeStore implements DB<string, Uint8Array> {
  private chunks: Uint8Array[] = []
  private chunkUsed = 0
  /** Global offset + 1 of each entry (0 = empty slot); global offset = chunk index · MAX_CHUNK + offset. */
  private table: Float64Array
  private entries = 0
  private bytes = 0
  reads = 0
  misses = 0
  writes = 0
  /** The last key asked for and not found (unprefixed hex). */
  lastMissingKey: string | undefined

  constructor(
    private readonly strict = true,
    initialCapacity = 1024,
  ) {
    let cap = 1024
    while (cap < initialCapacity * 2) cap *= 2
    this.table = new Float64Array(cap)
  }

  /** Loads witness nodes keyed by keccak256(node), and codes keyed by `prefix || keccak256(code)`. */
  static fromWitness(nodes: readonly Uint8Array[], codes: readonly Uint8Array[], codePrefix: Uint8Array): NodeStore {
    const store = new NodeStore(true, nodes.length + codes.length)
    for (const node of nodes) {
      if (node.length === 1 && node[0] === EMPTY_TRIE_NODE) continue
      store.putBytes(keccak256(node), node)
    }
    for (const code of codes) store.putBytes(concat(codePrefix, keccak256(code)), code)
    return store
  }

  /** Number of entries. */
  get size(): number {
    return this.entries
  }

  /** Bytes of keys and values held (excluding the index). */
  get storedBytes(): number {
    return this.bytes
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    this.reads++
    const v = this.getBytes(hexToBytes(`0x${key}`))
    if (v === undefined) {
      this.misses++
      this.lastMissingKey = key
      if (this.strict && key !== EMPTY_TRIE_ROOT) throw new MissingNodeSignal(key)
    }
    return v
  }

  async put(key: string, value: Uint8Array): Promise<void> {
    this.putBytes(hexToBytes(`0x${key}`), value)
  }

  async del(key: string): Promise<void> {
    void key
  }

  async batch(ops: BatchDBOp<string, Uint8Array>[]): Promise<void> {
    for (const op of ops) if (op.type === 'put') this.putBytes(hexToBytes(`0x${op.key}`), op.value)
  }

  shallowCopy(): DB<string, Uint8Array> {
    return this
  }

  async open(): Promise<void> {}

  /** The value stored under `key`, as a view into the arena (do not modify it). */
  getBytes(key: Uint8Array): Uint8Array | undefined {
    const mask = this.table.length - 1
    for (let i = slotOf(key, mask); ; i = (i + 1) & mask) {
      const ref = this.table[i]!
      if (ref === 0) return undefined
      const { chunk, offset } = this.locate(ref - 1)
      if (keyEquals(chunk, offset, key)) {
        const vOff = offset + 1 + key.length
        const len = readU32(chunk, vOff)
        return chunk.subarray(vOff + 4, vOff + 4 + len)
      }
    }
  }

  /** Stores `value` under `key` unless the key is present (values are content-addressed). */
  putBytes(key: Uint8Array, value: Uint8Array): void {
    this.writes++
    if (key.length > 255) throw new RangeError('NodeStore keys are at most 255 bytes')
    if ((this.entries + 1) * 2 > this.table.length) this.grow()
    const mask = this.table.length - 1
    let i = slotOf(key, mask)
    for (; ; i = (i + 1) & mask) {
      const ref = this.table[i]!
      if (ref === 0) break
      const { chunk, offset } = this.locate(ref - 1)
      if (keyEquals(chunk, offset, key)) return
    }
    this.table[i] = this.append(key, value) + 1
    this.entries++
    this.bytes += key.length + value.length
  }

  /** Visits every entry (key bytes, value view), in storage order. */
  forEach(fn: (key: Uint8Array, value: Uint8Array) => void): void {
    for (let c = 0; c < this.chunks.length; c++) {
      const chunk = this.chunks[c]!
      const end = c === this.chunks.length - 1 ? this.chunkUsed : chunk.length
      let off = 0
      while (off < end) {
        const kLen = chunk[off]!
        if (kLen === 0) break // unused tail of a chunk
        const key = chunk.subarray(off + 1, off + 1 + kLen)
        const vOff = off + 1 + kLen
        const vLen = readU32(chunk, vOff)
        fn(key, chunk.subarray(vOff + 4, vOff + 4 + vLen))
        off = vOff + 4 + vLen
      }
    }
  }

  private append(key: Uint8Array, value: Uint8Array): number {
    const need = 1 + key.length + 4 + value.length
    let chunk = this.chunks.at(-1)
    if (chunk === undefined || this.chunkUsed + need > chunk.length) {
      const size = Math.min(MAX_CHUNK, Math.max(need, chunk === undefined ? 64 * 1024 : chunk.length * 2))
      if (need > MAX_CHUNK) throw new RangeError(`NodeStore value of ${value.length} bytes is too large`)
      chunk = new Uint8Array(size)
      this.chunks.push(chunk)
      this.chunkUsed = 0
    }
    const at = this.chunkUsed
    chunk[at] = key.length
    chunk.set(key, at + 1)
    writeU32(chunk, at + 1 + key.length, value.length)
    chunk.set(value, at + 5 + key.length)
    this.chunkUsed = at + need
    return (this.chunks.length - 1) * MAX_CHUNK + at
  }

  private locate(global: number): { chunk: Uint8Array; offset: number } {
    const c = Math.floor(global / MAX_CHUNK)
    return { chunk: this.chunks[c]!, offset: global - c * MAX_CHUNK }
  }

  private grow(): void {
    const old = this.table
    this.table = new Float64Array(old.length * 2)
    const mask = this.table.length - 1
    for (const ref of old) {
      if (ref === 0) continue
      const { chunk, offset } = this.locate(ref - 1)
      const key = chunk.subarray(offset + 1, offset + 1 + chunk[offset]!)
      let i = slotOf(key, mask)
      while (this.table[i] !== 0) i = (i + 1) & mask
      this.table[i] = ref
    }
  }
}

/** Slot from the key's first six bytes (keys are hashes); the prefix byte of code keys is included. */
function slotOf(key: Uint8Array, mask: number): number {
  let h = 0
  for (let i = 0; i < 6 && i < key.length; i++) h = h * 256 + key[i]!
  // mask + 1 is a power of two ≤ 2^32: the low bits of h.
  return h % (mask + 1)
}

function keyEquals(chunk: Uint8Array, offset: number, key: Uint8Array): boolean {
  if (chunk[offset] !== key.length) return false
  for (let i = 0; i < key.length; i++) if (chunk[offset + 1 + i] !== key[i]) return false
  return true
}

function readU32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0
}

function writeU32(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24
  b[o + 1] = (v >>> 16) & 0xff
  b[o + 2] = (v >>> 8) & 0xff
  b[o + 3] = v & 0xff
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length)
  out.set(a, 0)
  out.set(b, a.length)
  return out
}
