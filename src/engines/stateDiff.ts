import { RLP } from '@ethereumjs/rlp'
import { bigIntToUnpaddedBytes, bytesToHex, hexToBytes } from '@ethereumjs/util'

import { keccak256 } from '../util/keccak.js'

/**
 * The net state change of one block, as a full node would receive it: every account whose fields
 * changed (or that was deleted), every storage slot whose value changed, and every account whose
 * storage was wiped (with all the slots it holds afterwards). Keys are hashed (keccak of the
 * address, of the slot), as in the state itself; storage roots are not part of it (they follow).
 */
export type StateDiff = {
  accounts: { hashedAddress: string; account: { nonce: bigint; balance: bigint; codeHash: string } | null }[]
  storage: { hashedAddress: string; hashedSlot: string; value: string }[]
  wipes: string[]
}

export function emptyDiff(): StateDiff {
  return { accounts: [], storage: [], wipes: [] }
}

/** Number of updated keys in a diff (accounts + slots + wipes). */
export function diffKeys(d: StateDiff): number {
  return d.accounts.length + d.storage.length + d.wipes.length
}

/**
 * The diff's canonical encoding (`megabench-diff-v1`), used for `--state-diffs` files, bandwidth
 * analyses and the engines' differential check:
 *
 *   RLP([ wipes, accounts, storage ])
 *     wipes    = [hashedAddress, …]                                  sorted
 *     accounts = [[hashedAddress, nonce, balance, codeHash] | [hashedAddress], …]   sorted ([h] = deleted)
 *     storage  = [[hashedAddress, [[hashedSlot, value], …]], …]      sorted by address, then slot
 *
 * Integers are RLP's minimal big-endian; values have no leading zeros (empty = zero).
 */
export function encodeDiff(d: StateDiff): Uint8Array {
  const wipes = [...d.wipes].sort().map((h) => hexToBytes(h as `0x${string}`))
  const accounts = [...d.accounts]
    .sort((a, b) => (a.hashedAddress < b.hashedAddress ? -1 : 1))
    .map((a) =>
      a.account === null
        ? [hexToBytes(a.hashedAddress as `0x${string}`)]
        : [
            hexToBytes(a.hashedAddress as `0x${string}`),
            bigIntToUnpaddedBytes(a.account.nonce),
            bigIntToUnpaddedBytes(a.account.balance),
            hexToBytes(a.account.codeHash as `0x${string}`),
          ],
    )
  const byAddress = new Map<string, [string, string][]>()
  for (const s of d.storage) {
    let l = byAddress.get(s.hashedAddress)
    if (l === undefined) byAddress.set(s.hashedAddress, (l = []))
    l.push([s.hashedSlot, s.value])
  }
  const storage = [...byAddress.entries()]
    .sort((a, b) => (a[0] < b[0] ? -1 : 1))
    .map(([h, slots]) => [
      hexToBytes(h as `0x${string}`),
      slots.sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([k, v]) => [hexToBytes(k as `0x${string}`), hexToBytes(v as `0x${string}`)]),
    ])
  return RLP.encode([wipes, accounts, storage] as never)
}

/** keccak256 of the canonical encoding: equal diffs, equal digests. */
export function diffDigest(d: StateDiff): string {
  return bytesToHex(keccak256(encodeDiff(d)))
}

/** Digest, encoded size and key count of a diff: what a BlockRun carries for the engines' comparison. */
export function summarizeDiff(d: StateDiff, encoded: Uint8Array = encodeDiff(d)): { digest: string; bytes: number; keys: number } {
  return { digest: bytesToHex(keccak256(encoded)), bytes: encoded.length, keys: diffKeys(d) }
}
