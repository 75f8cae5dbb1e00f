import type { Common } from '@ethereumjs/common'
import { MerklePatriciaTrie } from '@ethereumjs/mpt'
import { RLP } from '@ethereumjs/rlp'
import { KECCAK256_RLP, ValueEncoding, bigIntToUnpaddedBytes, createAccountFromRLP, hexToBytes } from '@ethereumjs/util'

import { type NodeStore, UnprovenAccounts, describeAccount, whileReading } from '../../trie/nodeStore.js'
import { type AccountUpdate, applyAccountUpdates } from '../../storage/merkleize.js'
import type { MegaState, StateChange } from './megaState.js'

/**
 * Ethereum's Merkle Patricia trie kept beside the mega engine's own structure, in memory: applies
 * the mega state's changes and gives the MPT state root, to check it against block headers
 * (`--verify-mpt`) and to produce the per-transaction roots pre-Byzantium receipts need.
 */
export class MptMirror {
  private root: Uint8Array
  private readonly storageRoots = new Map<string, Uint8Array>()
  /** Deleted accounts the witness holds no path to (the mega state read them as absent): left as they are. */
  readonly unproven = new UnprovenAccounts()

  constructor(
    private readonly common: Common,
    private readonly store: NodeStore,
    stateRoot: Uint8Array,
  ) {
    this.root = stateRoot
  }

  get stateRoot(): Uint8Array {
    return this.root
  }

  /** Applies a batch of changes (values as they are now in `state`); returns the new root. */
  async apply(changes: readonly StateChange[], state: MegaState): Promise<Uint8Array> {
    const byAccount = new Map<string, { wiped: boolean; slots: Map<string, Uint8Array> }>()
    const entry = (key: string) => {
      let e = byAccount.get(key)
      if (e === undefined) byAccount.set(key, (e = { wiped: false, slots: new Map() }))
      return e
    }
    for (const c of changes) {
      if (c.kind === 'account') entry(c.key)
      else if (c.kind === 'wipe') {
        const e = entry(c.accountKey)
        e.wiped = true
        e.slots.clear()
      } else if (c.kind === 'storage') entry(c.accountKey).slots.set(c.key, c.value)
    }
    const accountTrie = this.trie(this.root)
    const updates: (AccountUpdate & { key: string })[] = []
    for (const [key, e] of byAccount) {
      const a = state.getAccountByKey(key)
      const hashedAddress = hexToBytes(`0x${key}`)
      const gone = a === undefined && e.slots.size === 0
      // A deleted account with no slot changes needs no storage root (and may be one the witness does not reach).
      const base = e.wiped || gone ? KECCAK256_RLP : (this.storageRoots.get(key) ?? (await this.leafStorageRoot(accountTrie, hashedAddress)))
      // After a wipe, every slot the account holds now was written since: the changes listed after it.
      const slots = e.wiped ? [...e.slots].filter(([, v]) => v.length > 0) : [...e.slots]
      updates.push({
        key,
        hashedAddress,
        account: a === undefined ? null : RLP.encode([bigIntToUnpaddedBytes(a.nonce), bigIntToUnpaddedBytes(a.balance), KECCAK256_RLP, a.codeHash]),
        baseStorageRoot: base,
        slots: slots.map(([s, value]) => ({ hashedSlot: hexToBytes(`0x${s}`), value })),
      })
    }
    const r = await applyAccountUpdates(accountTrie, (root) => this.trie(root), updates, { accounts: this.unproven, check: 'all' })
    for (const u of updates) this.storageRoots.set(u.key, r.storageRoots.get(u)!)
    this.root = r.root
    return this.root
  }

  private async leafStorageRoot(trie: MerklePatriciaTrie, hashedAddress: Uint8Array): Promise<Uint8Array> {
    const leaf = await whileReading(() => `reading ${describeAccount(undefined, hashedAddress)}`, () => trie.get(hashedAddress))
    return leaf === null ? KECCAK256_RLP : createAccountFromRLP(leaf).storageRoot
  }

  private trie(root: Uint8Array): MerklePatriciaTrie {
    return new MerklePatriciaTrie({ db: this.store, root, useKeyHashing: false, common: this.common, valueEncoding: ValueEncoding.Bytes })
  }
}
