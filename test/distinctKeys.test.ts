import { randomBytes } from 'node:crypto'

import { describe, expect, it } from 'vitest'

import { DistinctKeys } from '../src/storage/distinctKeys.js'

describe('DistinctKeys', () => {
  it('counts distinct (table, key) pairs exactly as a set of strings does, across growth', () => {
    const d = new DistinctKeys(16)
    const ref = new Set<string>()
    const pool = Array.from({ length: 20_000 }, (_, i) => randomBytes(i % 3 === 0 ? 64 : i % 3 === 1 ? 32 : 7))
    for (let n = 0; n < 60_000; n++) {
      const key = pool[(n * 7919) % pool.length]!
      const tag = n % 5 === 0 ? 1 : 0
      const fresh = d.add(tag, key)
      const k = `${tag}:${Buffer.from(key).toString('hex')}`
      expect(fresh).toBe(!ref.has(k))
      ref.add(k)
    }
    expect(d.size).toBe(ref.size)
    expect(d.bytes).toBeLessThanOrEqual(ref.size * 32)
  })

  it('tells the same key of two tables apart, and keys that differ in one byte or in length', () => {
    const d = new DistinctKeys()
    const k = new Uint8Array(32)
    expect(d.add(0, k)).toBe(true)
    expect(d.add(0, k)).toBe(false)
    expect(d.add(3, k)).toBe(true)
    const k2 = k.slice()
    k2[31] = 1
    expect(d.add(0, k2)).toBe(true)
    expect(d.add(0, new Uint8Array(33))).toBe(true)
    expect(d.add(0, new Uint8Array(0))).toBe(true)
    expect(d.add(0, new Uint8Array(0))).toBe(false)
    expect(d.size).toBe(5)
  })
})
