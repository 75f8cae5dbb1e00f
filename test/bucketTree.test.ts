import { blake3 } from '@noble/hashes/blake3.js'
import { keccak_256 } from '@noble/hashes/sha3.js'
import { describe, expect, test } from 'vitest'

import { BucketTree, encodeEntries } from '../src/engines/mega/bucketTree.js'
import { createBlake3 } from '../src/util/blake3.js'
import { Rng } from '../src/workloads/rng.js'

const key = (i: number) => keccak_256(new Uint8Array([i & 255, (i >> 8) & 255, (i >> 16) & 255]))
const val = (i: number) => new Uint8Array([i & 255, 1 + ((i >> 8) & 127)])
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

describe('BucketTree', () => {
  test('default: the root changes iff the state changes', async () => {
    const t = await BucketTree.create({ bucketBits: 8 })
    const empty = hex(t.commit())
    for (let i = 0; i < 100; i++) t.set(key(i), val(i))
    const r1 = hex(t.commit())
    expect(r1).not.toBe(empty)
    t.set(key(5), val(5)) // same value
    expect(hex(t.commit())).toBe(r1)
    t.set(key(5), val(6))
    const r2 = hex(t.commit())
    expect(r2).not.toBe(r1)
    t.set(key(5), val(5))
    expect(hex(t.commit())).toBe(r1)
    t.set(key(1000), val(1))
    t.set(key(1000), null)
    expect(hex(t.commit())).toBe(r1)
    for (let i = 0; i < 100; i++) t.set(key(i), null)
    expect(hex(t.commit())).toBe(empty)
    expect(t.size).toBe(0)
  })

  test('behavior: the root is independent of update order and of batching', async () => {
    const rng = new Rng('order')
    const ops = Array.from({ length: 3000 }, () => ({ k: rng.nextBelow(500), v: rng.nextBelow(5) === 0 ? null : rng.nextBelow(200) }))
    const final = new Map<number, number | null>()
    for (const o of ops) final.set(o.k, o.v)
    const a = await BucketTree.create({ bucketBits: 12 })
    ops.forEach((o, i) => {
      a.set(key(o.k), o.v === null ? null : val(o.v))
      if (i % 97 === 0) a.commit()
    })
    const b = await BucketTree.create({ bucketBits: 12 })
    for (const [k, v] of [...final.entries()].reverse()) b.set(key(k), v === null ? null : val(v))
    expect(hex(a.commit())).toBe(hex(b.commit()))
    expect(a.size).toBe([...final.values()].filter((v) => v !== null).length)
  })

  test('behavior: proofs of present and absent keys verify; tampered ones do not', async () => {
    const t = await BucketTree.create({ bucketBits: 12 })
    for (let i = 0; i < 2000; i++) t.set(key(i), val(i))
    const root = t.commit()
    const p = t.proof(key(7))
    expect(p.siblings).toHaveLength(6) // 2^12 buckets, a 4-ary tree: 6 levels of 3 siblings
    expect(p.siblings.every((r) => r.length === 3)).toBe(true)
    expect(t.verify(root, key(7), val(7), p)).toBe(true)
    expect(t.verify(root, key(7), val(8), p)).toBe(false)
    expect(t.verify(root, key(7), null, p)).toBe(false)
    const absent = t.proof(key(99_999))
    expect(t.verify(root, key(99_999), null, absent)).toBe(true)
    const bad = { ...p, siblings: p.siblings.map((r, l) => (l === 1 ? r.map((s, j) => (j === 0 ? s.map((x) => x ^ 1) : s)) : r)) }
    expect(t.verify(root, key(7), val(7), bad)).toBe(false)
    const dropped = { ...p, entries: p.entries.filter((e) => hex(e.key) !== hex(key(7))) }
    expect(t.verify(root, key(7), null, dropped)).toBe(false)
  })

  test('bucket of a key: its first bucketBits bits', async () => {
    const k = new Uint8Array(32)
    k[0] = 0xab
    k[1] = 0xcd
    k[2] = 0xef
    expect((await BucketTree.create({ bucketBits: 8 })).bucketOf(k)).toBe(0xab)
    expect((await BucketTree.create({ bucketBits: 12 })).bucketOf(k)).toBe(0xabc)
    expect((await BucketTree.create({ bucketBits: 20 })).bucketOf(k)).toBe(0xabcde)
    expect((await BucketTree.create({ expectedEntries: 10_000_000 })).bucketBits).toBe(20)
  })

  test('behavior: the root is the definition, computed naively (@noble/hashes blake3, maps, sorting) after random edits', async () => {
    // Buckets of ~12 entries, values of 0–120 bytes: inserts, in-place and resizing overwrites, deletes,
    // slots moving as they grow and the slab compacting.
    const rng = new Rng('reference')
    const t = await BucketTree.create({ bucketBits: 8 })
    const model = new Map<string, Uint8Array>()
    for (let round = 0; round < 6; round++) {
      for (let i = 0; i < 2500; i++) {
        const k = key(rng.nextBelow(3000))
        const v = rng.nextBelow(6) === 0 ? null : new Uint8Array(rng.nextBelow(121)).map(() => rng.nextBelow(256))
        t.set(k, v)
        if (v === null) model.delete(hex(k))
        else model.set(hex(k), v)
      }
      const buckets: { key: Uint8Array; value: Uint8Array }[][] = Array.from({ length: 256 }, () => [])
      for (const [k, value] of [...model.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) buckets[parseInt(k.slice(0, 2), 16)]!.push({ key: Buffer.from(k, 'hex'), value })
      const level = new Uint8Array(256 * 32)
      buckets.forEach((entries, b) => level.set(blake3(encodeEntries(entries)), b * 32))
      // A 4-ary tree above the 256 buckets: 64, 16, 4 nodes, then the root.
      let below = level
      while (below.length > 32) {
        const up = new Uint8Array(below.length / 4)
        for (let p = 0; p < up.length / 32; p++) up.set(blake3(below.subarray(p * 128, p * 128 + 128)), p * 32)
        below = up
      }
      expect(hex(t.commit())).toBe(hex(below))
      expect(t.size).toBe(model.size)
      for (const [k, v] of model) expect(hex(t.get(Buffer.from(k, 'hex'))!)).toBe(hex(v))
      expect([...t.entriesIter()].map((e) => `${hex(e.key)}=${hex(e.value)}`).sort()).toEqual([...model].map(([k, v]) => `${k}=${hex(v)}`).sort())
    }
  })

  test('behavior: a bulk load gives the same root and entries as staged updates, packed, and edits after it keep them equal', async () => {
    const rng = new Rng('bulk')
    const entries = Array.from({ length: 20_000 }, (_, i) => ({ k: key(i), v: new Uint8Array(1 + rng.nextBelow(40)).map(() => rng.nextBelow(256)) }))
    const bulk = await BucketTree.create({ bucketBits: 12, expectedEntries: 1000 }) // a slab too small: it grows while loading
    bulk.beginBulkLoad()
    for (const e of entries) bulk.set(e.k, e.v)
    const root = hex(bulk.endBulkLoad())
    const plain = await BucketTree.create({ bucketBits: 12 })
    for (const e of [...entries].reverse()) plain.set(e.k, e.v)
    expect(root).toBe(hex(plain.commit()))
    // Packed: the slab holds the entries' bytes plus 1/16 and 1 MiB of room, no more.
    let live = 0
    for (const e of entries) live += 33 + e.v.length
    expect(bulk.heldBytes - plain.heldBytes).toBeLessThan(0) // the plain tree's slots kept their doubling slack
    const slab = (bulk as unknown as { slab: Uint8Array }).slab.length
    expect(slab).toBeGreaterThanOrEqual(live)
    expect(slab).toBeLessThanOrEqual(live + (live >> 4) + (1 << 20))
    // Edits after the load (growing buckets move, the last one grows in place) keep both trees equal.
    for (let i = 0; i < 5000; i++) {
      const k = key(rng.nextBelow(25_000))
      const v = rng.nextBelow(5) === 0 ? null : new Uint8Array(1 + rng.nextBelow(60)).map(() => rng.nextBelow(256))
      bulk.set(k, v)
      plain.set(k, v)
      if (i % 1000 === 999) expect(hex(bulk.commit())).toBe(hex(plain.commit()))
    }
    expect(bulk.size).toBe(plain.size)
    expect([...bulk.entriesIter()].map((e) => hex(e.key) + hex(e.value))).toEqual([...plain.entriesIter()].map((e) => hex(e.key) + hex(e.value)))
  })

  test('blake3: one WebAssembly call per hash, equal to @noble/hashes on short, one-buffer and multi-buffer inputs', async () => {
    const h = await createBlake3()
    expect(h.kind).toBe('wasm-direct') // hash-wasm's module found and instantiated directly (else the slower fallback)
    const input = new Uint8Array(40_000).map((_, i) => (i * 7 + 3) & 255)
    const out = new Uint8Array(40)
    for (const [from, to] of [[0, 0], [5, 70], [0, 512], [1, 16_385], [3, 40_000]] as const) {
      h.hashInto(input, from, to, out, 8)
      expect(hex(out.subarray(8))).toBe(hex(blake3(input.subarray(from, to))))
    }
  })
})
