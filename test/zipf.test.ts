import { describe, expect, test } from 'vitest'

import { Rng } from '../src/workloads/rng.js'
import { Permutation, ZipfSampler } from '../src/workloads/zipf.js'

describe('Rng', () => {
  test('default: deterministic per seed, different across seeds', () => {
    const a = new Rng('s')
    const b = new Rng('s')
    const c = new Rng('t')
    const xs = Array.from({ length: 5 }, () => a.nextU32())
    expect(Array.from({ length: 5 }, () => b.nextU32())).toEqual(xs)
    expect(Array.from({ length: 5 }, () => c.nextU32())).not.toEqual(xs)
    // Pinned: the stream must never change, or every generated chain would.
    expect(xs).toMatchInlineSnapshot(`
      [
        4254378747,
        1868979367,
        4253642645,
        3875549821,
        3298610887,
      ]
    `)
  })

  test('behavior: nextBelow is in range and roughly uniform', () => {
    const r = new Rng('u')
    const counts = new Array(10).fill(0)
    for (let i = 0; i < 100_000; i++) counts[r.nextBelow(10)]++
    for (const c of counts) expect(c).toBeGreaterThan(9_500)
    for (let i = 0; i < 1000; i++) expect(r.nextFloat()).toBeLessThan(1)
  })
})

describe('ZipfSampler', () => {
  test('default: rank frequencies follow 1/k^s', () => {
    const n = 100
    const s = 1.1
    const z = new ZipfSampler(n, s)
    const r = new Rng('z')
    const counts = new Array(n + 1).fill(0)
    const samples = 200_000
    for (let i = 0; i < samples; i++) counts[z.sample(r)]! += 1
    let h = 0
    for (let k = 1; k <= n; k++) h += 1 / k ** s
    for (const k of [1, 2, 10]) expect(counts[k]! / samples).toBeCloseTo(1 / k ** s / h, 2)
    expect(counts[0]).toBe(0)
  })

  test('behavior: s = 0 is uniform; the population can be 10 million', () => {
    const r = new Rng('z0')
    const z = new ZipfSampler(4, 0)
    const counts = [0, 0, 0, 0, 0]
    for (let i = 0; i < 40_000; i++) counts[z.sample(r)]! += 1
    for (const c of counts.slice(1)) expect(c).toBeGreaterThan(9_500)
    const big = new ZipfSampler(10_000_000, 1)
    for (let i = 0; i < 1000; i++) {
      const k = big.sample(r)
      expect(k >= 1 && k <= 10_000_000).toBe(true)
    }
  })
})

describe('Permutation', () => {
  test('default: a bijection of [0, n)', () => {
    for (const n of [1, 2, 3, 10, 97, 1000]) {
      const p = new Permutation(n, new Rng(`p${n}`))
      const seen = new Set<number>()
      for (let r = 0; r < n; r++) seen.add(p.at(r))
      expect(seen.size).toBe(n)
    }
  })
})
