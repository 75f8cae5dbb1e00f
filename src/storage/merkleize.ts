import type { MerklePatriciaTrie } from '@ethereumjs/mpt'
import { RLP } from '@ethereumjs/rlp'
import { createAccountFromRLP } from '@ethereumjs/util'

/** One account's changes since the last root, as merkleization applies them. */
export type AccountUpdate = {
  hashedAddress: Uint8Array
  /** The account's RLP (its storage root is ignored and recomputed), or null if it is deleted. */
  account: Uint8Array | null
  /** The storage root to start from: the account's last one, or the empty root after a wipe. */
  baseStorageRoot: Uint8Array
  /** Changed slots (hashed key → value; empty value = deleted). */
  slots: { hashedSlot: Uint8Array; value: Uint8Array }[]
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
): Promise<{ root: Uint8Array; storageRoots: Map<AccountUpdate, Uint8Array>; leaves: Map<AccountUpdate, Uint8Array | null> }> {
  const storageRoots = new Map<AccountUpdate, Uint8Array>()
  const leaves = new Map<AccountUpdate, Uint8Array | null>()
  const sorted = [...updates].sort((a, b) => compareBytes(a.hashedAddress, b.hashedAddress))
  for (const u of sorted) {
    let storageRoot = u.baseStorageRoot
    if (u.slots.length > 0) {
      const trie = openStorageTrie(storageRoot)
      for (const s of [...u.slots].sort((a, b) => compareBytes(a.hashedSlot, b.hashedSlot))) {
        if (s.value.length === 0) await trie.del(s.hashedSlot)
        else await trie.put(s.hashedSlot, RLP.encode(s.value))
      }
      storageRoot = trie.root()
    }
    storageRoots.set(u, storageRoot)
    if (u.account === null) {
      await accountTrie.del(u.hashedAddress)
      leaves.set(u, null)
      continue
    }
    const account = createAccountFromRLP(u.account)
    account.storageRoot = storageRoot
    const leaf = account.serialize()
    await accountTrie.put(u.hashedAddress, leaf)
    leaves.set(u, leaf)
  }
  return { root: accountTrie.root(), storageRoots, leaves }
}

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length && i < b.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!
  return a.length - b.length
}
