/**
 * The baseline engine's `--evm fast` path: the fast EVM's StateBackend over the FlatStateManager (flat
 * state on LMDB behind the two caches, a witness DB's misses proven with the trie), a reth-like client:
 * fast execution, then merkleization and persistence of the MPT on LMDB exactly as with @ethereumjs.
 * Reads and writes go through the state manager's synchronous twins of its async interface, so the cache
 * counters, state reads, stateLoad penalties, unproven absences and block diffs are the same kind of data.
 */
import { RLP } from '@ethereumjs/rlp'
import { CODEHASH_PREFIX } from '@ethereumjs/statemanager'
import { Address, KECCAK256_NULL, KECCAK256_RLP, bytesToBigInt, bytesToHex, bytesToUnprefixedHex, concatBytes, createAccount, equalsBytes, hexToBytes, unpadBytes } from '@ethereumjs/util'

import { bytesToWord, wordToBytes } from '../../evm/interpreter.js'
import { type AccountRecord, type StateBackend, type StateChanges, fromHex } from '../../evm/state.js'
import type { FlatStateManager } from '../../storage/flatStateManager.js'
import { trieGetSync } from '../../storage/trieGet.js'
import { Phase, type PhaseClock } from '../../probes/phases.js'
import { keccak256 } from '../../util/keccak.js'
import { MissingNodeSignal, type NodeStore, describeAccount, describeSlot } from '../../trie/nodeStore.js'
import type { ReplayStateManager } from './stateManager.js'

export class FlatBackend implements StateBackend {
  constructor(readonly sm: FlatStateManager) {}

  getAccount(address: string): AccountRecord | undefined {
    const rlp = this.sm.accountRlpSync(fromHex(address))
    if (rlp === null) return undefined
    const f = RLP.decode(rlp) as Uint8Array[]
    return { nonce: bytesToBigInt(f[0]!), balance: bytesToBigInt(f[1]!), codeHash: f[3]! }
  }

  getCode(codeHash: Uint8Array): Uint8Array {
    return this.sm.codeSync(codeHash)
  }

  getStorage(address: string, slot: bigint): bigint {
    const v = this.sm.storageValueSync(fromHex(address), wordToBytes(slot))
    return v.length === 0 ? 0n : bytesToWord(v)
  }

  hasStorage(address: string): boolean {
    return this.sm.hasStorageSync(fromHex(address))
  }

  applyChanges(c: StateChanges): void {
    this.sm.applyChangesSync(c)
  }
}

/**
 * The fast EVM's StateBackend over the baseline's in-memory trie (`--storage memory`): reads walk the
 * account and storage tries in the node store synchronously from the block's starting root (every read is
 * a trie read: counted and timed as stateLoad, as the state manager's cache misses are; the fast EVM's
 * `WorldState` keeps what it read and wrote for the whole block, so later changes are never read back); the
 * changes (the block's, or before Byzantium each transaction's) are kept and then written through the state
 * manager's async interface (`writeTo`), whose state root and commit into the node store follow as with
 * @ethereumjs.
 */
export class TrieBackend implements StateBackend {
  private readonly changes: StateChanges[] = []
  private readonly root: Uint8Array

  constructor(
    readonly sm: ReplayStateManager,
    readonly nodes: NodeStore,
    private readonly clock: PhaseClock,
  ) {
    this.root = sm.trieRoot
  }

  private node = (h: string): Uint8Array | undefined => this.nodes.getBytes(hexToBytes(`0x${h}`))

  private timed<T>(fn: () => T): T {
    this.clock.enter(Phase.stateLoad)
    try {
      return fn()
    } finally {
      this.clock.exit()
    }
  }

  private accountFields(address: string): Uint8Array[] | null {
    const bytes = fromHex(address)
    const hashed = keccak256(bytes)
    if (equalsBytes(this.root, KECCAK256_RLP)) return null
    try {
      const rlp = trieGetSync(this.node, this.root, hashed)
      return rlp === null ? null : (RLP.decode(rlp) as Uint8Array[])
    } catch (err) {
      if (!(err instanceof MissingNodeSignal)) throw err
      err.reading ??= `reading ${describeAccount(bytes, hashed)}`
      this.sm.unproven.add(err, hashed)
      return null
    }
  }

  getAccount(address: string): AccountRecord | undefined {
    this.sm.reads.accounts++
    const f = this.timed(() => this.accountFields(address))
    return f === null ? undefined : { nonce: bytesToBigInt(f[0]!), balance: bytesToBigInt(f[1]!), codeHash: f[3]! }
  }

  getCode(codeHash: Uint8Array): Uint8Array {
    if (equalsBytes(codeHash, KECCAK256_NULL)) return new Uint8Array(0)
    const code = this.timed(() => this.nodes.getBytes(concatBytes(CODEHASH_PREFIX, codeHash)))
    if (code === undefined) throw new Error(`code ${bytesToHex(codeHash)} is not in the node store`)
    this.sm.reads.code++
    this.sm.reads.codeBytes += code.length
    return code
  }

  getStorage(address: string, slot: bigint): bigint {
    this.sm.reads.storageSlots++
    return this.timed(() => {
      const f = this.accountFields(address)
      if (f === null || equalsBytes(f[2]!, KECCAK256_RLP)) return 0n
      const key = wordToBytes(slot)
      const hashedSlot = keccak256(key)
      try {
        const v = trieGetSync(this.node, f[2]!, hashedSlot)
        if (v === null) return 0n
        const b = RLP.decode(v) as Uint8Array
        return b.length === 0 ? 0n : bytesToWord(b)
      } catch (err) {
        if (err instanceof MissingNodeSignal) err.reading ??= `reading ${describeSlot(key, hashedSlot, describeAccount(fromHex(address), keccak256(fromHex(address))))}`
        throw err
      }
    })
  }

  hasStorage(address: string): boolean {
    const f = this.accountFields(address)
    return f !== null && !equalsBytes(f[2]!, KECCAK256_RLP)
  }

  applyChanges(c: StateChanges): void {
    this.changes.push(c)
  }

  /** The changes handed over since the last call, in order, into the state manager (inside a checkpoint the caller commits after the block's state root). */
  async writeTo(): Promise<void> {
    for (const c of this.changes.splice(0)) await this.write(c)
  }

  private async write(c: StateChanges): Promise<void> {
    const sm = this.sm
    const addr = (hex: string) => new Address(fromHex(hex))
    for (const a of c.wiped) if ((await sm.getAccount(addr(a))) !== undefined) await sm.clearStorage(addr(a))
    for (const [a, rec] of c.accounts) {
      if (rec === null) continue
      const prev = await sm.getAccount(addr(a))
      const storageRoot = c.wiped.has(a) || prev === undefined ? KECCAK256_RLP : prev.storageRoot
      await sm.putAccount(addr(a), createAccount({ nonce: rec.nonce, balance: rec.balance, storageRoot, codeHash: rec.codeHash }))
      const code = c.codes.get(bytesToUnprefixedHex(rec.codeHash))
      if (code !== undefined) await sm.putCode(addr(a), code)
    }
    for (const [a, slots] of c.storage) {
      for (const [k, v] of slots) await sm.putStorage(addr(a), wordToBytes(BigInt(`0x${k}`)), v === 0n ? new Uint8Array(0) : unpadBytes(wordToBytes(v)))
    }
    for (const [a, rec] of c.accounts) if (rec === null && (await sm.getAccount(addr(a))) !== undefined) await sm.deleteAccount(addr(a))
  }
}
