import { MerklePatriciaTrie } from '@ethereumjs/mpt'
import { RLP } from '@ethereumjs/rlp'
import { MapDB, ValueEncoding, bytesToHex, concatBytes, hexToBytes } from '@ethereumjs/util'
import type { PrefixedHexString } from '@ethereumjs/util'
import { keccak_256 } from '@noble/hashes/sha3.js'
import { describe, expect, test } from 'vitest'

import { StreamingTrieBuilder, sortedKeyOrder } from '../src/trie/streamingTrieBuilder.js'

type Entry = { key: Uint8Array; value: Uint8Array }

const EMPTY_ROOT = '0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421'

/** Deterministic PRNG (mulberry32) so failures reproduce. */
function prng(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function randomBytes(random: () => number, length: number): Uint8Array {
  const bytes = new Uint8Array(length)
  for (let i = 0; i < length; i++) bytes[i] = Math.floor(random() * 256)
  return bytes
}

/** A 32-byte key: `prefix` followed by `suffix`, zero-filled in between. */
function key(prefix: number[], suffix: number[] = []): Uint8Array {
  const bytes = new Uint8Array(32)
  bytes.set(prefix)
  bytes.set(suffix, 32 - suffix.length)
  return bytes
}

function hashedKey(i: number): Uint8Array {
  return keccak_256(new TextEncoder().encode(`key-${i}`))
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) return a[i]! - b[i]!
  }
  return a.length - b.length
}

function sortEntries(entries: Entry[]): Entry[] {
  return [...entries].sort((a, b) => compareBytes(a.key, b.key))
}

async function referenceRoot(entries: Entry[]): Promise<string> {
  const trie = new MerklePatriciaTrie()
  for (const { key, value } of entries) await trie.put(key, value)
  return bytesToHex(trie.root())
}

/** Builds with the streaming builder; returns the root and the emitted nodes keyed by unprefixed hex hash. */
function build(entries: Entry[]): { root: PrefixedHexString; nodes: Map<string, Uint8Array>; emissions: number } {
  const nodes = new Map<string, Uint8Array>()
  let emissions = 0
  const builder = new StreamingTrieBuilder({
    onNode: (hash, node) => {
      emissions++
      nodes.set(bytesToHex(hash).slice(2), node)
    },
  })
  for (const { key, value } of sortEntries(entries)) builder.add(key, value)
  expect(builder.count).toBe(entries.length)
  return { root: bytesToHex(builder.finish()), nodes, emissions }
}

async function expectSameRoot(entries: Entry[]): Promise<void> {
  expect(build(entries).root).toBe(await referenceRoot(entries))
}

/** MapDB that records every key it was asked for but does not hold. */
class RecordingDB extends MapDB<string, string | Uint8Array> {
  readonly misses: string[] = []

  override async get(key: string): Promise<string | Uint8Array | undefined> {
    const value = await super.get(key)
    if (value === undefined) this.misses.push(key)
    return value
  }
}

/** Hashes referenced from `node`, looking through embedded (inline) children. */
function referencedHashes(node: Uint8Array): string[] {
  const hashes: string[] = []
  const visit = (item: Uint8Array | unknown[]): void => {
    if (!Array.isArray(item)) return
    const children = item.length === 17 ? item.slice(0, 16) : item.length === 2 ? [item[1]] : []
    const isLeaf = item.length === 2 && ((item[0] as Uint8Array)[0]! & 0x20) !== 0
    if (isLeaf) return
    for (const child of children as (Uint8Array | unknown[])[]) {
      if (child instanceof Uint8Array && child.length === 32) hashes.push(bytesToHex(child).slice(2))
      else visit(child)
    }
  }
  visit(RLP.decode(node) as unknown[])
  return hashes
}

describe('StreamingTrieBuilder', () => {
  test('default: empty trie has the empty root and emits nothing', () => {
    const built = build([])
    expect(built.root).toBe(EMPTY_ROOT)
    expect(built.emissions).toBe(0)
  })

  test('default: single key, root node emitted', async () => {
    const entries = [{ key: hashedKey(1), value: randomBytes(prng(1), 70) }]
    await expectSameRoot(entries)
    const built = build(entries)
    expect(built.emissions).toBe(1)
    expect(built.nodes.has(built.root.slice(2))).toBe(true)
  })

  test('default: single key with a 1-byte value (root shorter than 32 bytes is still emitted)', async () => {
    for (const value of [0x01, 0x7f, 0x80, 0xff]) {
      const entries = [{ key: key([], [value]), value: Uint8Array.of(value) }]
      await expectSameRoot(entries)
      const built = build(entries)
      expect(built.emissions).toBe(1)
      expect([...built.nodes.values()][0]!.length).toBeGreaterThan(32) // 64-nibble path
    }
  })

  test('default: two keys diverging at nibble 0 and at nibble 1', async () => {
    await expectSameRoot([
      { key: key([0x10]), value: Uint8Array.of(1) },
      { key: key([0xf0]), value: Uint8Array.of(2) },
    ])
    await expectSameRoot([
      { key: key([0x12]), value: randomBytes(prng(2), 40) },
      { key: key([0x13]), value: randomBytes(prng(3), 40) },
    ])
  })

  test('default: keys sharing long prefixes (extension nodes at several depths)', async () => {
    const random = prng(4)
    const shared = Array.from({ length: 20 }, () => 0xab)
    const entries: Entry[] = [
      { key: key(shared, [0x01]), value: randomBytes(random, 70) },
      { key: key(shared, [0x02]), value: randomBytes(random, 70) },
      { key: key(shared, [0x01, 0x00]), value: randomBytes(random, 70) },
      { key: key([...shared, 0x11]), value: randomBytes(random, 70) },
      { key: key([...shared, 0x12]), value: randomBytes(random, 70) },
      { key: key([...shared, 0x12, 0x34, 0x56]), value: randomBytes(random, 70) },
      { key: key([...shared, 0x12, 0x34, 0x57]), value: randomBytes(random, 70) },
      { key: key([0xab, 0xac]), value: randomBytes(random, 70) },
      { key: key([0x00]), value: randomBytes(random, 70) },
    ]
    await expectSameRoot(entries)
    // Keys identical except in the very last nibble: a branch at depth 63 under a 63-nibble extension.
    await expectSameRoot([
      { key: key(shared, [0x10]), value: randomBytes(random, 70) },
      { key: key(shared, [0x11]), value: randomBytes(random, 70) },
    ])
  })

  test('default: value lengths around every RLP boundary', async () => {
    const random = prng(5)
    const lengths = [1, 2, 30, 31, 32, 33, 54, 55, 56, 57, 70, 255, 256, 300, 1000, 70000]
    const entries = lengths.map((length, i) => ({ key: hashedKey(i), value: randomBytes(random, length) }))
    await expectSameRoot(entries)
    // Same lengths deep in the trie, where leaves have short paths.
    const deep = lengths.map((length, i) => ({
      key: key([0x77, 0x77], [0x10 + i]),
      value: randomBytes(random, length),
    }))
    await expectSameRoot(deep)
  })

  test('default: tiny leaves and branches embedded in their parents', async () => {
    const random = prng(6)
    const prefix = Array.from({ length: 30 }, () => 0x5a)
    const entries: Entry[] = []
    const seen = new Set<number>()
    while (entries.length < 300) {
      const suffix = Math.floor(random() * 65536)
      if (seen.has(suffix)) continue
      seen.add(suffix)
      entries.push({ key: key(prefix, [suffix >> 8, suffix & 0xff]), value: Uint8Array.of(Math.floor(random() * 256)) })
    }
    // A few whole subtrees below 32 bytes: two 1-byte leaves in the last nibble.
    for (const [first, second] of [
      [0x00, 0x01],
      [0x40, 0x4f],
      [0xf3, 0xf7],
    ] as const) {
      const group = [
        { key: key([0x01, 0x02], [first]), value: Uint8Array.of(0x01) },
        { key: key([0x01, 0x02], [second]), value: Uint8Array.of(0x7f) },
      ]
      await expectSameRoot(group)
      entries.push(...group)
    }
    await expectSameRoot(entries)
    const built = build(entries)
    for (const node of built.nodes.values()) {
      if (bytesToHex(keccak_256(node)) !== built.root) expect(node.length).toBeGreaterThanOrEqual(32)
    }
  })

  test('default: a node of exactly 32 bytes is hashed, one of 31 bytes is embedded', async () => {
    // Keys differing only in the last nibble: leaves with an empty path, RLP = c_ 20 (80+n) value.
    const random = prng(14)
    for (const [valueLength, nodeLength] of [
      [29, 32],
      [28, 31],
    ] as const) {
      const entries = [0x30, 0x31, 0x3f].map((last) => ({ key: key([0x99], [last]), value: randomBytes(random, valueLength) }))
      await expectSameRoot(entries)
      const lengths = [...build(entries).nodes.values()].map((node) => node.length)
      expect(lengths.filter((length) => length === nodeLength)).toHaveLength(nodeLength === 32 ? 3 : 0)
    }
  })

  test('default: a few thousand random keys match @ethereumjs/mpt', async () => {
    const random = prng(7)
    const entries = Array.from({ length: 3000 }, (_, i) => ({
      key: hashedKey(i),
      value: randomBytes(random, 1 + Math.floor(random() * 100)),
    }))
    await expectSameRoot(entries)
  })

  test('behavior: emitted nodes form a complete database for reads and writes', async () => {
    const random = prng(8)
    const entries: Entry[] = Array.from({ length: 1500 }, (_, i) => ({
      key: hashedKey(i),
      value: randomBytes(random, 1 + Math.floor(random() * 80)),
    }))
    // Tiny values in a dense corner so embedded nodes must be handled by the opened trie too.
    for (let i = 0; i < 64; i++) entries.push({ key: key([0x42, 0x42], [i * 3]), value: Uint8Array.of(i + 1) })
    const built = build(entries)
    expect(built.root).toBe(await referenceRoot(entries))

    // Every emitted node is keyed by its hash, emitted once, and the set is exactly what the root reaches.
    expect(built.emissions).toBe(built.nodes.size)
    for (const [hash, node] of built.nodes) expect(bytesToHex(keccak_256(node)).slice(2)).toBe(hash)
    const reachable = new Set<string>()
    const pending = [built.root.slice(2)]
    while (pending.length > 0) {
      const hash = pending.pop()!
      if (reachable.has(hash)) continue
      reachable.add(hash)
      const node = built.nodes.get(hash)
      expect(node, `missing node ${hash}`).toBeDefined()
      pending.push(...referencedHashes(node!))
    }
    expect(reachable.size).toBe(built.nodes.size)

    const db = new RecordingDB(new Map<string, string | Uint8Array>(built.nodes))
    const trie = new MerklePatriciaTrie({ db, root: hexToBytes(built.root), valueEncoding: ValueEncoding.Bytes })
    for (const { key, value } of entries) expect(await trie.get(key, true)).toEqual(value)
    expect(db.misses).toEqual([])

    // Deleting keys collapses branches, which needs the remaining sibling nodes.
    const final = new Map(entries.map((entry) => [bytesToHex(entry.key), entry.value]))
    const edits: { key: Uint8Array; value: Uint8Array | null }[] = []
    for (let i = 0; i < 400; i++) edits.push({ key: entries[(i * 7) % entries.length]!.key, value: null })
    for (let i = 0; i < 60; i++) edits.push({ key: entries[1500 + i]!.key, value: null })
    for (let i = 0; i < 100; i++) edits.push({ key: entries[(i * 13 + 1) % 1500]!.key, value: randomBytes(random, 50) })
    for (let i = 0; i < 100; i++) edits.push({ key: hashedKey(100000 + i), value: randomBytes(random, 20) })
    for (const { key, value } of edits) {
      if (value === null) {
        await trie.del(key)
        final.delete(bytesToHex(key))
      } else {
        await trie.put(key, value)
        final.set(bytesToHex(key), value)
      }
    }
    expect(db.misses).toEqual([])
    const expected = [...final].map(([key, value]) => ({ key: hexToBytes(key), value }))
    expect(bytesToHex(trie.root())).toBe(await referenceRoot(expected))
    expect(bytesToHex(trie.root())).toBe(build(expected).root)
  })

  test('behavior: out-of-order, duplicate and malformed input throws', () => {
    const builder = new StreamingTrieBuilder()
    builder.add(key([0x10]), Uint8Array.of(1))
    expect(() => builder.add(key([0x10]), Uint8Array.of(2))).toThrow(/duplicate/)
    expect(() => builder.add(key([0x0f, 0xff]), Uint8Array.of(2))).toThrow(/increasing/)
    expect(() => builder.add(key([0x10], [0x01]).subarray(1), Uint8Array.of(2))).toThrow(/32 bytes/)
    expect(() => builder.add(key([0x11]), new Uint8Array(0))).toThrow(/empty/)
    builder.add(key([0x10], [0x01]), Uint8Array.of(2))
    expect(builder.count).toBe(2)
    builder.finish()
    expect(() => builder.add(key([0x20]), Uint8Array.of(3))).toThrow()
    expect(() => builder.finish()).toThrow()
  })

  test('behavior: the caller may reuse key and value buffers', async () => {
    const random = prng(9)
    const entries = sortEntries(Array.from({ length: 200 }, (_, i) => ({ key: hashedKey(i), value: randomBytes(random, 40) })))
    const builder = new StreamingTrieBuilder()
    const keyBuffer = new Uint8Array(32)
    const valueBuffer = new Uint8Array(40)
    for (const { key, value } of entries) {
      keyBuffer.set(key)
      valueBuffer.set(value)
      builder.add(keyBuffer, valueBuffer)
    }
    expect(bytesToHex(builder.finish())).toBe(await referenceRoot(entries))
  })
})

describe('sortedKeyOrder', () => {
  function referenceOrder(keys: Uint8Array, count: number): number[] {
    const keyAt = (i: number) => keys.subarray(i * 32, i * 32 + 32)
    return Array.from({ length: count }, (_, i) => i).sort((a, b) => compareBytes(keyAt(a), keyAt(b)) || a - b)
  }

  function expectSorted(list: Uint8Array[]): void {
    const keys = concatBytes(...list)
    expect([...sortedKeyOrder(keys, list.length)]).toEqual(referenceOrder(keys, list.length))
  }

  test('default: random keys', () => {
    const random = prng(10)
    expectSorted(Array.from({ length: 5000 }, () => randomBytes(random, 32)))
    expectSorted([])
    expectSorted([randomBytes(random, 32)])
  })

  test('default: keys sharing 4-byte and 31-byte prefixes, and duplicates', () => {
    const random = prng(11)
    const list: Uint8Array[] = []
    for (let i = 0; i < 2000; i++) {
      const bytes = randomBytes(random, 32)
      const kind = i % 4
      if (kind === 0) bytes.set([1, 2, 3, 4]) // shared 4-byte prefix
      if (kind === 1) bytes.fill(0xee, 0, 31) // shared 31-byte prefix
      if (kind === 2) bytes.fill(0x00, 0, 8 + (i % 20)) // shared prefixes of assorted lengths
      list.push(bytes)
    }
    list.push(list[5]!.slice(), list[9]!.slice(), list[9]!.slice())
    expectSorted(list)
    expectSorted(Array.from({ length: 300 }, () => new Uint8Array(32).fill(0xff)))
  })

  test('default: already sorted and reverse sorted input', () => {
    const random = prng(12)
    const sorted = Array.from({ length: 3000 }, () => randomBytes(random, 32)).sort(compareBytes)
    expectSorted(sorted)
    expectSorted([...sorted].reverse())
  })

  test('behavior: rejects a buffer shorter than count keys', () => {
    expect(() => sortedKeyOrder(new Uint8Array(63), 2)).toThrow()
    expect(() => sortedKeyOrder(new Uint8Array(64), -1)).toThrow()
  })

  test('behavior: sorted order feeds the builder', async () => {
    const random = prng(13)
    const count = 500
    const keys = randomBytes(random, count * 32)
    const values = Array.from({ length: count }, () => randomBytes(random, 70))
    const builder = new StreamingTrieBuilder()
    for (const index of sortedKeyOrder(keys, count)) {
      builder.add(keys.subarray(index * 32, index * 32 + 32), values[index]!)
    }
    const entries = values.map((value, i) => ({ key: keys.slice(i * 32, i * 32 + 32), value }))
    expect(bytesToHex(builder.finish())).toBe(await referenceRoot(entries))
  })
})
