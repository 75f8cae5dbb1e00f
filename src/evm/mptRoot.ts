/**
 * A synchronous Merkle-Patricia root over a complete key/value set (the keys hashed by the caller),
 * for the fast EVM's tests and the pre-Byzantium receipts' per-transaction roots of small states.
 */
import { RLP } from '@ethereumjs/rlp'

import { keccak256 } from '../util/keccak.js'
import type { MemoryBackend } from './state.js'
import { fromHex } from './state.js'

type Node = Uint8Array | Node[]
const EMPTY = new Uint8Array(0)
export const EMPTY_TRIE_ROOT = keccak256(RLP.encode(EMPTY))

function nibbles(k: Uint8Array): Uint8Array {
  const out = new Uint8Array(k.length * 2)
  for (let i = 0; i < k.length; i++) {
    out[2 * i] = k[i]! >> 4
    out[2 * i + 1] = k[i]! & 15
  }
  return out
}

function hexPrefix(n: Uint8Array, leaf: boolean): Uint8Array {
  const flag = leaf ? 2 : 0
  const odd = n.length % 2
  const out = new Uint8Array(Math.floor(n.length / 2) + 1)
  let i = 0
  if (odd) {
    out[0] = ((flag + 1) << 4) | n[0]!
    i = 1
  } else out[0] = flag << 4
  for (let j = 1; i < n.length; i += 2, j++) out[j] = (n[i]! << 4) | n[i + 1]!
  return out
}

function ref(node: Node): Node {
  const enc = RLP.encode(node as never)
  return enc.length < 32 ? node : keccak256(enc)
}

function build(items: [Uint8Array, Uint8Array][], depth: number): Node {
  if (items.length === 1) return [hexPrefix(items[0]![0].subarray(depth), true), items[0]![1]]
  const first = items[0]![0]
  const last = items[items.length - 1]![0]
  let cp = depth
  while (cp < first.length && first[cp] === last[cp]) cp++
  if (cp > depth) return [hexPrefix(first.subarray(depth, cp), false), ref(build(items, cp))]
  const branch: Node[] = new Array<Node>(17).fill(EMPTY)
  let start = 0
  while (start < items.length) {
    const nib = items[start]![0][depth]!
    let end = start + 1
    while (end < items.length && items[end]![0][depth] === nib) end++
    branch[nib] = ref(build(items.slice(start, end), depth + 1))
    start = end
  }
  return branch
}

/** The root of a trie of (key, value) pairs (keys already hashed if the trie hashes keys). */
export function trieRoot(entries: [Uint8Array, Uint8Array][]): Uint8Array {
  if (entries.length === 0) return EMPTY_TRIE_ROOT
  const items = entries.map(([k, v]) => [nibbles(k), v] as [Uint8Array, Uint8Array])
  items.sort((a, b) => compare(a[0], b[0]))
  return keccak256(RLP.encode(build(items, 0) as never))
}

function compare(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!
  return a.length - b.length
}

/** The Ethereum state root of an in-memory backend. */
export function stateRoot(b: MemoryBackend): Uint8Array {
  const entries: [Uint8Array, Uint8Array][] = []
  for (const [addr, a] of b.accounts) {
    const slots = b.storage.get(addr)
    const st: [Uint8Array, Uint8Array][] = []
    if (slots !== undefined) for (const [k, v] of slots) if (v !== 0n) st.push([keccak256(fromHex(k.toString(16).padStart(64, '0'))), RLP.encode(v)])
    entries.push([keccak256(fromHex(addr)), RLP.encode([a.nonce, a.balance, trieRoot(st), a.codeHash])])
  }
  return trieRoot(entries)
}
