import type { MerklePatriciaTrie } from '@ethereumjs/mpt'
import { RLP } from '@ethereumjs/rlp'
import { createAccountFromRLP } from '@ethereumjs/util'

import { type UnprovenAccounts, describeAccount, describeSlot, unlessUnproven, whileReading } from '../trie/nodeStore.js'

/** One account's changes since the last root, as merkleization applies them. */
export type AccountUpdate = {
  hashedAddress: Uint8Array
  /** The address, when known (names the account if a trie node is missing). */
  address?: Uint8Array | undefined
  /** The account's RLP (its storage root is ignored and recomputed), or null if it is deleted. */
  account: Uint8Array | null
  /** The storage root to start from: the account's last one, or the empty root after a wipe. */
  baseStorageRoot: Uint8Array
  /** Changed slots (hashed key → value; empty value = deleted; `slot`, when known, names it in errors). */
  slots: { hashedSlot: Uint8Array; slot?: Uint8Array | undefined; value: Uint8Array }[]
}

/**
 * Applies account updates to the Merkle Patricia tries: each account's changed slots to its storage
 * trie (sorted by hashed key), then its leaf, with the new storage root, to the account trie (sorted
 * by hashed address). Returns the new state root, the new storage roots and the leaves written.
 * Shared by the LMDB state manager and the mega engine's MPT mirror.
 */
export async function applyAccountUpdates(
  accountTrie: MerklePatriciaTrie,
  openStorageTrie: (root: Uint8Array) => MerklePatriciaTrie,
  updates: AccountUpdate[],
  /**
   * Where a deletion of an account the witness holds no path to is recorded (and skipped): with `'read'`
   * only accounts already read as absent without a proof are checked first (the LMDB state manager; every
   * other deletion walks its path once, as before); with `'all'` every deletion is (the mega engine's
   * mirror, whose state reads unknown accounts as absent without recording them).
   */
  unproven?: { accounts: UnprovenAccounts; check: 'read' | 'all' },
): Promise<{ root: Uint8Array; storageRoots: Map<AccountUpdate, Uint8Array>; leaves: Map<AccountUpdate, Uint8Array | null> }> {
  const storageRoots = new Map<AccountUpdate, Uint8Array>()
  const leaves = new Map<AccountUpdate, Uint8Array | null>()
  const sorted = [...updates].sort((a, b) => compareBytes(a.hashedAddress, b.hashedAddress))
  for (const u of sorted) {
    const who = () => describeAccount(u.address, u.hashedAddress)
    let storageRoot = u.baseStorageRoot
    if (u.slots.length > 0) {
      const trie = openStorageTrie(storageRoot)
      for (const s of [...u.slots].sort((a, b) => compareBytes(a.hashedSlot, b.hashedSlot))) {
        await whileReading(
          () => `${s.value.length === 0 ? 'deleting' : 'updating'} ${describeSlot(s.slot, s.hashedSlot, who())} in its storage trie`,
          () => (s.value.length === 0 ? trie.del(s.hashedSlot) : trie.put(s.hashedSlot, RLP.encode(s.value))),
        )
      }
      storageRoot = trie.root()
    }
    storageRoots.set(u, storageRoot)
    if (u.account === null) {
      const label = () => `deleting ${who()} from the account trie`
      // The path is proven first: a failed del would leave @ethereumjs/mpt's write lock held.
      const check = unproven !== undefined && u.slots.length === 0 && (unproven.check === 'all' || unproven.accounts.has(u.hashedAddress))
      const present = check ? await unlessUnproven(unproven.accounts, label, null, () => accountTrie.get(u.hashedAddress, true)) : true
      if (present !== null) await whileReading(label, () => accountTrie.del(u.hashedAddress))
      leaves.set(u, null)
      continue
    }
    const account = createAccountFromRLP(u.account)
    account.storageRoot = storageRoot
    const leaf = account.serialize()
    await whileReading(() => `updating ${who()} in the account trie`, () => accountTrie.put(u.hashedAddress, leaf))
    leaves.set(u, leaf)
  }
  return { root: accountTrie.root(), storageRoots, leaves }
}

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length && i < b.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!
  return a.length - b.length
}
