import { RLP } from '@ethereumjs/rlp'
import { KECCAK256_NULL, bytesToHex, hexToBytes } from '@ethereumjs/util'

import { keccak256 } from '../util/keccak.js'
import type { PrestateMap, Proof } from './schemas.js'

/** Touched state of one block: address (lower-case) → storage slots (32-byte hex, lower-case). */
export type TouchedKeys = Map<string, Set<string>>

export const BEACON_ROOTS_ADDRESS = '0x000f3df6d732807ef1319fb7b8bb8522d0beac02'
const HISTORY_BUFFER_LENGTH = 8191n
/** EIP-2935 history contract (ring buffer of 8191 parent hashes). */
export const HISTORY_STORAGE_ADDRESS = '0x0000f90827f1c53a10cb7a02335b175320002935'
const HISTORY_SERVE_WINDOW = 8191n
/** EIP-7002 and EIP-7251 request predeploys: excess (slot 0), count (1), queue head (2) and tail (3). */
export const REQUEST_PREDEPLOYS = ['0x00000961ef480eb55e80d19ad83579a64c007002', '0x0000bbddc7ce488642fb579f8b00f3a590007251']

export function slotKey(slot: string | bigint): string {
  const v = typeof slot === 'bigint' ? slot : BigInt(slot)
  return `0x${v.toString(16).padStart(64, '0')}`
}

export function touch(keys: TouchedKeys, addr: string, slots: Iterable<string> = []): void {
  const a = addr.toLowerCase()
  let set = keys.get(a)
  if (set === undefined) keys.set(a, (set = new Set()))
  for (const s of slots) set.add(slotKey(s))
}

/** Adds every account and slot a prestate trace names (default or diff mode). */
export function touchFromPrestate(keys: TouchedKeys, maps: Iterable<PrestateMap>): void {
  for (const m of maps) for (const [addr, acc] of Object.entries(m)) touch(keys, addr, Object.keys(acc.storage ?? {}))
}

/**
 * State the block reads outside any transaction, which prestate traces do not show: the coinbase,
 * withdrawal recipients, the EIP-4788 beacon-roots ring buffer (both of its slots), and from Prague on
 * the EIP-2935 history slot of the parent's hash and the EIP-7002/7251 predeploys' queue counters their
 * post-block system calls read and reset. (Queued requests' own slots, when the queues are not empty,
 * are found by the replay check's rediscovery, which executes the system calls.)
 */
export function touchBlockLevel(keys: TouchedKeys, block: { miner: string; number: bigint; timestamp: bigint; withdrawals: readonly string[]; cancun: boolean; prague: boolean }): void {
  touch(keys, block.miner)
  for (const w of block.withdrawals) touch(keys, w)
  if (block.cancun) {
    const i = block.timestamp % HISTORY_BUFFER_LENGTH
    touch(keys, BEACON_ROOTS_ADDRESS, [slotKey(i), slotKey(i + HISTORY_BUFFER_LENGTH)])
  }
  if (block.prague) {
    touch(keys, HISTORY_STORAGE_ADDRESS, [slotKey((block.number - 1n) % HISTORY_SERVE_WINDOW)])
    for (const a of REQUEST_PREDEPLOYS) touch(keys, a, [0n, 1n, 2n, 3n].map((s) => slotKey(s)))
  }
}

/** Every trie node of a proof (account path and storage paths), as lower-case hex. */
export function proofNodes(p: Proof): string[] {
  const out = p.accountProof.map((n) => n.toLowerCase())
  for (const s of p.storageProof) for (const n of s.proof) out.push(n.toLowerCase())
  return out
}

export function accountHasCode(p: Proof): boolean {
  return p.codeHash.toLowerCase() !== bytesToHex(KECCAK256_NULL)
}

/**
 * Trie nodes of the pre-state that a deletion needs but no proof holds. When a branch loses its
 * next-to-last child, the trie merges the remaining child (the "sibling") into its parent, and must
 * read the sibling's node. A pre-state proof only names it by hash; the post-state proof ends at the
 * merged node, whose key is the sibling's with the branch nibble (and any extension above) in front.
 * Stripping 1…n leading nibbles off every leaf/extension at the end of a post-state proof gives
 * candidates; those whose hash a pre-state node references (and that no proof holds) are the siblings.
 * A sibling that is itself a branch cannot be recovered this way (the post state still references it
 * by hash only); the replay check then reports the missing node.
 */
export function deriveCollapseSiblings(preNodes: Iterable<string>, postProofEnds: Iterable<string>): string[] {
  const known = new Set<string>()
  const referenced = new Set<string>()
  for (const hex of preNodes) {
    const bytes = hexToBytes(hex as `0x${string}`)
    known.add(bytesToHex(keccak256(bytes)))
    collectRefs(RLP.decode(bytes), referenced)
  }
  const missing = new Set([...referenced].filter((h) => !known.has(h)))
  if (missing.size === 0) return []
  const out = new Set<string>()
  for (const hex of postProofEnds) {
    const node = RLP.decode(hexToBytes(hex as `0x${string}`))
    if (!Array.isArray(node) || node.length !== 2) continue
    const [path, value] = node as [Uint8Array, Uint8Array | unknown[]]
    const { nibbles, leaf } = decodeHexPrefix(path)
    for (let strip = 1; strip <= nibbles.length - (leaf ? 0 : 1); strip++) {
      const candidate = RLP.encode([encodeHexPrefix(nibbles.slice(strip), leaf), value as Uint8Array])
      if (candidate.length < 32) continue // embedded in its parent: never looked up by hash
      const h = bytesToHex(keccak256(candidate))
      if (missing.has(h)) out.add(bytesToHex(candidate))
    }
  }
  return [...out]
}

function collectRefs(node: unknown, into: Set<string>): void {
  if (!Array.isArray(node)) return
  const refs = node.length === 17 ? node.slice(0, 16) : node.length === 2 && isExtension(node[0]) ? [node[1]] : []
  for (const r of refs) {
    if (r instanceof Uint8Array && r.length === 32) into.add(bytesToHex(r))
    else if (Array.isArray(r)) collectRefs(r, into) // an embedded node
  }
}

function isExtension(path: unknown): boolean {
  return path instanceof Uint8Array && path.length > 0 && ((path[0] ?? 0) >> 4) < 2
}

function decodeHexPrefix(path: Uint8Array): { nibbles: number[]; leaf: boolean } {
  const flag = (path[0] ?? 0) >> 4
  const nibbles: number[] = []
  if (flag & 1) nibbles.push((path[0] ?? 0) & 0xf)
  for (let i = 1; i < path.length; i++) nibbles.push((path[i] ?? 0) >> 4, (path[i] ?? 0) & 0xf)
  return { nibbles, leaf: flag >= 2 }
}

function encodeHexPrefix(nibbles: number[], leaf: boolean): Uint8Array {
  const odd = nibbles.length % 2 === 1
  const out = new Uint8Array(Math.floor(nibbles.length / 2) + 1)
  out[0] = ((leaf ? 2 : 0) + (odd ? 1 : 0)) << 4
  let i = 0
  if (odd) out[0] |= nibbles[i++] ?? 0
  for (let j = 1; i < nibbles.length; j++, i += 2) out[j] = ((nibbles[i] ?? 0) << 4) | (nibbles[i + 1] ?? 0)
  return out
}

/**
 * Whether an account proof ends in the leaf of its own account (the account exists), rather than in a
 * node showing its absence: the nibbles the branches and extensions on the way consume, plus the leaf's
 * path, spell keccak256(address).
 */
export function proofShowsAccount(p: Proof): boolean {
  const key = bytesToHex(keccak256(hexToBytes(p.address as `0x${string}`))).slice(2)
  let at = 0
  for (const [i, hex] of p.accountProof.entries()) {
    const node = RLP.decode(hexToBytes(hex as `0x${string}`))
    if (!Array.isArray(node)) return false
    if (node.length === 17) {
      at++
      continue
    }
    if (node.length !== 2 || !(node[0] instanceof Uint8Array)) return false
    const encoded = bytesToHex(node[0]).slice(2)
    const flag = parseInt(encoded[0] ?? '0', 16)
    const path = flag % 2 === 1 ? encoded.slice(1) : encoded.slice(2)
    if (key.slice(at, at + path.length) !== path) return false
    at += path.length
    if (flag >= 2) return i === p.accountProof.length - 1 && at === key.length // a leaf
  }
  return false
}

const EMPTY_TRIE_ROOT = '0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421'

/** An account that exists in the proven state and is empty (no nonce, balance, code or storage): what EIP-161 never leaves behind. */
export function provesEmptyAccount(p: Proof): boolean {
  return (
    BigInt(p.nonce) === 0n &&
    BigInt(p.balance) === 0n &&
    p.codeHash.toLowerCase() === bytesToHex(KECCAK256_NULL) &&
    p.storageHash.toLowerCase() === EMPTY_TRIE_ROOT &&
    proofShowsAccount(p)
  )
}
