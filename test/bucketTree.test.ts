import { keccak_256 } from '@noble/hashes/sha3.js'
import { describe, expect, test } from 'vitest'

import { BucketTree } from '../src/engines/mega/bucketTree.js'
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
    expect(p.siblings).toHaveLength(3)
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
})
