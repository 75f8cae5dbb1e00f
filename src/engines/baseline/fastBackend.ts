/**
 * The baseline engine's `--evm fast` path: the fast EVM's StateBackend over the FlatStateManager (flat
 * state on LMDB behind the two caches, a witness DB's misses proven with the trie), a reth-like client:
 * fast execution, then merkleization and persistence of the MPT on LMDB exactly as with @ethereumjs.
 * Reads and writes go through the state manager's synchronous twins of its async interface, so the cache
 * counters, state reads, stateLoad penalties, unproven absences and block diffs are the same kind of data.
 */
import { RLP } from '@ethereumjs/rlp'
import { bytesToBigInt } from '@ethereumjs/util'

import { bytesToWord, wordToBytes } from '../../evm/interpreter.js'
import { type AccountRecord, type StateBackend, type StateChanges, fromHex } from '../../evm/state.js'
import type { FlatStateManager } from '../../storage/flatStateManager.js'

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
