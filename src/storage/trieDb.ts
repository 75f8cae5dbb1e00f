import type { BatchDBOp, DB } from '@ethereumjs/util'
import { hexToBytes } from '@ethereumjs/util'

import { MissingNodeSignal } from '../trie/nodeStore.js'
import { flatString } from '../util/hex.js'
import { CacheKind, type StateStore, type TableName } from './stateStore.js'

/** keccak256(0x80): the empty trie's root; looking it up is normal. */
const EMPTY_TRIE_ROOT = '56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421'

/** Counters of one trie table's node traffic during merkleization. */
export type TrieCounters = { reads: number; writes: number }

/**
 * @ethereumjs/mpt's DB interface over one trie table of the state store. Reads go through the
 * store's two caches to LMDB; writes stay in `pending` (in memory) until persistence writes the ones
 * still reachable from the new roots. Nothing is ever deleted: nodes are content-addressed and may
 * be shared between tries. A node that is nowhere to be found is an error (MissingNodeSignal).
 */
export class TrieDb implements DB<string, Uint8Array> {
  readonly pending = new Map<string, Uint8Array>()
  readonly counters: TrieCounters = { reads: 0, writes: 0 }

  constructor(
    private readonly store: StateStore,
    readonly table: TableName,
  ) {}

  async get(key: string): Promise<Uint8Array | undefined> {
    return this.getSync(key)
  }

  /** `get`, synchronously (the fast EVM's reads of a witness DB prove absences with it). */
  getSync(key: string): Uint8Array | undefined {
    this.counters.reads++
    const p = this.pending.get(key)
    if (p !== undefined) return p
    const v = this.store.read(CacheKind.trieNode, `${this.table === 'account_trie' ? 't' : 'u'}${key}`, this.table, () =>
      hexToBytes(`0x${key}`),
    )
    if (v === null) {
      if (key === EMPTY_TRIE_ROOT) return undefined
      throw new MissingNodeSignal(key)
    }
    return v
  }

  async put(key: string, value: Uint8Array): Promise<void> {
    this.counters.writes++
    this.pending.set(flatString(key), value)
  }

  async del(): Promise<void> {}

  async batch(ops: BatchDBOp<string, Uint8Array>[]): Promise<void> {
    for (const op of ops) if (op.type === 'put') await this.put(op.key, op.value)
  }

  shallowCopy(): DB<string, Uint8Array> {
    return this
  }

  async open(): Promise<void> {}
}
