/**
 * A synchronous Merkle-Patricia root over a complete key/value set (the keys hashed by the caller),
 * for the fast EVM's tests and the pre-Byzantium receipts' per-transaction roots of small states.
 */
import { RLP } from '@ethereumjs/rlp'

import { keccak256 } from '../util/keccak.js'
import { rlpListLength, rlpStringLength, writeRlpListHeader, writeRlpString } from '../util/rlpHeader.js'
import type { MemoryBackend } from './state.js'
import { fromHex } from './state.js'

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

/**
 * Node encodings are written into one scratch buffer and hashed there: only references (a hash as an RLP
 * string, or an encoding shorter than 32 bytes) outlive a node. Children are finished before their parent
 * is written, so one buffer serves the whole recursion.
 */
let scratch = new Uint8Array(4096)

function scratchOf(size: number): Uint8Array {
  if (scratch.length < size) scratch = new Uint8Array(Math.max(size, 2 * scratch.length))
  return scratch
}

/** The reference to the node encoded in scratch[0, len): itself if shorter than 32 bytes, else its hash as an RLP string. */
function ref(len: number): Uint8Array {
  if (len < 32) return scratch.slice(0, len)
  const out = new Uint8Array(33)
  out[0] = 0x80 + 32
  out.set(keccak256(scratch.subarray(0, len)), 1)
  return out
}

/** Encodes a two-item node [path, item] into scratch (a leaf: `item` the value, RLP-encoded here; an extension: `item` its child's reference, already encoded); returns its length. */
function pair(path: Uint8Array, item: Uint8Array, itemEncoded: boolean): number {
  const payload = rlpStringLength(path) + (itemEncoded ? item.length : rlpStringLength(item))
  const out = scratchOf(rlpListLength(payload))
  let o = writeRlpListHeader(out, 0, payload)
  o = writeRlpString(out, o, path)
  if (itemEncoded) {
    out.set(item, o)
    return o + item.length
  }
  return writeRlpString(out, o, item)
}

/** Encodes the node over items[lo, hi) (sorted by nibble key, sharing the first `depth` nibbles) into scratch; returns its length. */
function build(items: [Uint8Array, Uint8Array][], lo: number, hi: number, depth: number): number {
  if (hi - lo === 1) return pair(hexPrefix(items[lo]![0].subarray(depth), true), items[lo]![1], false)
  const first = items[lo]![0]
  const last = items[hi - 1]![0]
  let cp = depth
  while (cp < first.length && first[cp] === last[cp]) cp++
  if (cp > depth) return pair(hexPrefix(first.subarray(depth, cp), false), ref(build(items, lo, hi, cp)), true)
  const children: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(16).fill(undefined)
  let payload = 1 // the branch's empty value
  let start = lo
  while (start < hi) {
    const nib = items[start]![0][depth]!
    let end = start + 1
    while (end < hi && items[end]![0][depth] === nib) end++
    const r = ref(build(items, start, end, depth + 1))
    children[nib] = r
    payload += r.length - 1
    start = end
  }
  payload += 16
  const out = scratchOf(rlpListLength(payload))
  let o = writeRlpListHeader(out, 0, payload)
  for (const c of children) {
    if (c === undefined) out[o++] = 0x80
    else {
      out.set(c, o)
      o += c.length
    }
  }
  out[o] = 0x80
  return o + 1
}

/** The root of a trie of (key, value) pairs (keys already hashed if the trie hashes keys). */
export function trieRoot(entries: [Uint8Array, Uint8Array][]): Uint8Array {
  if (entries.length === 0) return EMPTY_TRIE_ROOT
  const items = entries.map(([k, v]) => [nibbles(k), v] as [Uint8Array, Uint8Array])
  items.sort((a, b) => compare(a[0], b[0]))
  const len = build(items, 0, items.length, 0) // first: building may replace `scratch` with a larger one
  return keccak256(scratch.subarray(0, len))
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
