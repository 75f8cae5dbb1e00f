import type { BatchDBOp, DB } from '@ethereumjs/util'
import { bytesToUnprefixedHex } from '@ethereumjs/util'
import { keccak_256 } from '@noble/hashes/sha3.js'

/** RLP of the empty string (0x80): the "node" of an empty trie, which some witnesses list. */
const EMPTY_TRIE_NODE = 0x80
/** keccak256(0x80): the root of an empty trie. Looking it up is normal (an empty storage trie). */
const EMPTY_TRIE_ROOT = '56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421'

/** Thrown by a strict NodeStore on a lookup it cannot answer; the engine names the block. */
export class MissingNodeSignal extends Error {
  override name = 'MissingNodeSignal'
  constructor(readonly key: string) {
    super(`missing node ${key}`)
  }
}

/**
 * A hash-keyed store of trie nodes and contract code, in memory, behind @ethereumjs/mpt's DB
 * interface (keys arrive as unprefixed hex strings; values are bytes). It counts reads.
 *
 * Strict by default: a lookup of a key it does not hold throws MissingNodeSignal. Keys are content
 * hashes, so such a lookup always means an incomplete witness, and @ethereumjs/mpt's `get` would
 * otherwise treat the missing node as an absent key and execution would silently go wrong.
 */
export class NodeStore implements DB<string, Uint8Array> {
  private readonly map = new Map<string, Uint8Array>()
  reads = 0
  misses = 0
  writes = 0
  /** The last key asked for and not found (unprefixed hex). */
  lastMissingKey: string | undefined

  constructor(private readonly strict = true) {}

  /** Loads witness nodes keyed by keccak256(node), and codes keyed by `prefix || keccak256(code)`. */
  static fromWitness(nodes: readonly Uint8Array[], codes: readonly Uint8Array[], codePrefix: Uint8Array): NodeStore {
    const store = new NodeStore()
    for (const node of nodes) {
      if (node.length === 1 && node[0] === EMPTY_TRIE_NODE) continue
      store.map.set(bytesToUnprefixedHex(keccak_256(node)), node)
    }
    const prefix = bytesToUnprefixedHex(codePrefix)
    for (const code of codes) store.map.set(prefix + bytesToUnprefixedHex(keccak_256(code)), code)
    return store
  }

  get size(): number {
    return this.map.size
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    this.reads++
    const v = this.map.get(key)
    if (v === undefined) {
      this.misses++
      this.lastMissingKey = key
      if (this.strict && key !== EMPTY_TRIE_ROOT) throw new MissingNodeSignal(key)
    }
    return v
  }

  async put(key: string, value: Uint8Array): Promise<void> {
    this.writes++
    this.map.set(key, value)
  }

  async del(key: string): Promise<void> {
    // Nodes are content-addressed and may be shared: like a client without pruning, keep them.
    void key
  }

  async batch(ops: BatchDBOp<string, Uint8Array>[]): Promise<void> {
    for (const op of ops) {
      if (op.type === 'put') {
        this.writes++
        this.map.set(op.key, op.value)
      }
    }
  }

  shallowCopy(): DB<string, Uint8Array> {
    return this
  }

  async open(): Promise<void> {}
}
