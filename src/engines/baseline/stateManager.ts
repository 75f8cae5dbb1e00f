import { MerkleStateManager, type MerkleStateManagerOpts } from '@ethereumjs/statemanager'
import { RLP } from '@ethereumjs/rlp'
import { type Account, type Address, EthereumJSErrorWithoutCode, unpadBytes } from '@ethereumjs/util'

import { Phase, type PhaseClock } from '../../probes/phases.js'
import { keccak256 } from '../../util/keccak.js'
import { UnprovenAccounts, describeAccount, describeSlot, unlessUnproven, whileReading } from '../../trie/nodeStore.js'
import type { ExecutionProbe } from './executeBlock.js'

/** Reads that missed the state caches and went to the trie (the `state_reads` of a slow-block line). */
export type StateReadCounts = { accounts: number; storageSlots: number; code: number; codeBytes: number }

export type ReplayStateManagerOpts = MerkleStateManagerOpts & {
  /** Receives the time of every read that misses the caches, as the `stateLoad` phase. */
  clock?: PhaseClock | undefined
  /** Told about every state-root computation. */
  probe?: ExecutionProbe | undefined
}

/**
 * @ethereumjs/statemanager's MerkleStateManager with two changes for replay:
 *
 * 1. Storage writes stay in the cache until the state root is computed. In 10.1.3, `putStorage`
 *    writes every SSTORE through to the storage trie even when a storage cache exists
 *    (`cache.put()` returns undefined, so the `??` falls through). Besides being slow, the writes
 *    perform intermediate deletions whose sibling nodes a pre/post-state witness does not hold.
 *    The state root is the same either way; the flush at state-root time writes the final values.
 * 2. Reads that miss the caches are counted and timed (phase `stateLoad`).
 */
export class ReplayStateManager extends MerkleStateManager {
  readonly reads: StateReadCounts = { accounts: 0, storageSlots: 0, code: 0, codeBytes: 0 }
  /** Accounts read as absent because the witness holds no path to them (taken per block by the engine). */
  readonly unproven = new UnprovenAccounts()
  private readonly clock: PhaseClock | undefined
  /** Set by the engine while a probe is attached. */
  probe: ExecutionProbe | undefined
  private readDepth = 0

  constructor(opts: ReplayStateManagerOpts) {
    super(opts)
    this.clock = opts.clock
    this.probe = opts.probe
    // The account trie's writes (the flush at state-root time) name the account if a node is
    // missing. Storage tries are separate instances (shallow copies), written in _writeContractStorage.
    const trie = this._trie
    const put = trie.put.bind(trie)
    const del = trie.del.bind(trie)
    trie.put = (key, value, skip) => whileReading(() => `updating ${describeAccount(key, keccak256(key))} in the account trie`, () => put(key, value, skip))
    const get = trie.get.bind(trie)
    trie.del = async (key, skip) => {
      const label = () => `deleting ${describeAccount(key, keccak256(key))} from the account trie`
      // The path is proven first (a read takes no lock): a failed del would leave the trie's write lock held.
      if (this.unproven.has(keccak256(key)) && (await unlessUnproven(this.unproven, label, null, () => get(key, true))) === null) return
      return whileReading(label, () => del(key, skip))
    }
  }

  /** The account trie's root as last flushed (the fast EVM's reads walk the trie from it). */
  get trieRoot(): Uint8Array {
    return this._trie.root()
  }

  override async putStorage(address: Address, key: Uint8Array, value: Uint8Array): Promise<void> {
    const cache = this._caches?.storage
    if (cache === undefined) return super.putStorage(address, key, value)
    if (key.length !== 32) throw EthereumJSErrorWithoutCode('Storage key must be 32 bytes long')
    if (value.length > 32) throw EthereumJSErrorWithoutCode('Storage value cannot be longer than 32 bytes')
    const account = await this.getAccount(address)
    if (!account) throw EthereumJSErrorWithoutCode('putStorage() called on non-existing account')
    cache.put(address, key, RLP.encode(unpadBytes(value)))
  }

  override async getAccount(address: Address): Promise<Account | undefined> {
    if (this._caches?.account?.get(address) !== undefined) return super.getAccount(address)
    const read = () =>
      unlessUnproven(this.unproven, () => `reading ${describeAccount(address.bytes, keccak256(address.bytes))}`, undefined, () => super.getAccount(address), keccak256(address.bytes))
    if (this.readDepth > 0) return read()
    this.reads.accounts++
    return this.timedRead(read)
  }

  override async getStorage(address: Address, key: Uint8Array): Promise<Uint8Array> {
    if (key.length !== 32 || this._caches?.storage?.get(address, key) !== undefined) return super.getStorage(address, key)
    const read = () =>
      whileReading(
        () => `reading ${describeSlot(key, keccak256(key), describeAccount(address.bytes, keccak256(address.bytes)))}`,
        () => super.getStorage(address, key),
      )
    if (this.readDepth > 0) return read()
    this.reads.storageSlots++
    return this.timedRead(read)
  }

  /**
   * One slot written to its storage trie at state-root time. Replaces 10.1.3's version, which runs
   * the trie update inside `new Promise(async …)`: an error there (a node missing from the witness)
   * was an unhandled rejection and the flush never settled. Same updates otherwise.
   */
  protected override async _writeContractStorage(address: Address, account: Account, key: Uint8Array, value: Uint8Array): Promise<void> {
    const storageTrie = this._getStorageTrie(address, account)
    const deleting = !(value instanceof Uint8Array && value.length > 0)
    await whileReading(
      () => `${deleting ? 'deleting' : 'updating'} ${describeSlot(key, keccak256(key), describeAccount(address.bytes, keccak256(address.bytes)))} in its storage trie`,
      () => (deleting ? storageTrie.del(key) : storageTrie.put(key, RLP.encode(value))),
    )
    account.storageRoot = storageTrie.root()
    await this.putAccount(address, account)
  }

  override async getCode(address: Address): Promise<Uint8Array> {
    if (this.readDepth > 0 || this._caches?.code?.get(address) !== undefined) return super.getCode(address)
    const code = await this.timedRead(() => super.getCode(address))
    this.reads.code++
    this.reads.codeBytes += code.length
    return code
  }

  override async getStateRoot(): Promise<Uint8Array> {
    this.probe?.stateRootStart()
    this.clock?.enter(Phase.merkleization)
    try {
      return await super.getStateRoot()
    } finally {
      this.clock?.exit()
      this.probe?.stateRootEnd()
    }
  }

  private async timedRead<T>(fn: () => Promise<T>): Promise<T> {
    this.readDepth++
    this.clock?.enter(Phase.stateLoad)
    try {
      return await fn()
    } finally {
      this.clock?.exit()
      this.readDepth--
    }
  }
}
