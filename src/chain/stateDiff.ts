import { RLP } from '@ethereumjs/rlp'
import { bigIntToUnpaddedBytes, bytesToHex, hexToBytes } from '@ethereumjs/util'

import { FixtureError } from '../errors/index.js'
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

/** The first bytes of a `--state-diffs` file. */
export const STATE_DIFFS_MAGIC = new TextEncoder().encode('megabench-diff-v1\n')

/**
 * One record of a `--state-diffs` stream: u32 big-endian length of the diff, u64 block number,
 * the 32-byte block hash, then the diff's canonical encoding (`encodeDiff`).
 */
export function encodeDiffRecord(number: bigint, hash: Uint8Array, encoded: Uint8Array): Uint8Array {
  const out = new Uint8Array(44 + encoded.length)
  const view = new DataView(out.buffer)
  view.setUint32(0, encoded.length)
  view.setBigUint64(4, number)
  out.set(hash, 12)
  out.set(encoded, 44)
  return out
}

/** Reads a `--state-diffs` file's records back (block number, hash, encoded diff); throws on a damaged stream. */
export function readDiffStream(bytes: Uint8Array, file = 'state-diffs'): { number: bigint; hash: string; diff: Uint8Array }[] {
  const magic = STATE_DIFFS_MAGIC
  if (bytes.length < magic.length || !magic.every((b, i) => bytes[i] === b)) throw new FixtureError(file, 'not a megabench-diff-v1 stream')
  const out: { number: bigint; hash: string; diff: Uint8Array }[] = []
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  let at = magic.length
  while (at < bytes.length) {
    if (at + 44 > bytes.length) throw new FixtureError(file, `truncated record header at byte ${at}`)
    const length = view.getUint32(at)
    if (at + 44 + length > bytes.length) throw new FixtureError(file, `truncated record at byte ${at}`)
    out.push({ number: view.getBigUint64(at + 4), hash: bytesToHex(bytes.subarray(at + 12, at + 44)), diff: bytes.subarray(at + 44, at + 44 + length) })
    at += 44 + length
  }
  return out
}
