import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'

import { describe, expect, it } from 'vitest'

const DIST = join(import.meta.dirname, '..', 'dist')

/**
 * Fills a ByteLru in a fresh Node process (V8's heap statistics inside vitest's worker miss the values'
 * ArrayBuffers) with keys as the state store builds them (level 2: tag + 0x-hex; level 1: tag +
 * unprefixed hex, both from @noble's byte-by-byte hex) and a copy of a value per entry, as it stores
 * them; returns the heap growth after a full GC over the bytes the cache accounted, per shape.
 */
const SCRIPT = `
import { randomBytes } from 'node:crypto'
import { getHeapStatistics } from 'node:v8'
import { bytesToHex, bytesToUnprefixedHex } from '@ethereumjs/util'
import { ByteLru } from ${JSON.stringify(join(DIST, 'storage', 'byteLru.js'))}
const heap = () => { gc(); gc(); return getHeapStatistics().used_heap_size + process.memoryUsage().arrayBuffers }
const shapes = [
  ['level-2 trie node', (b) => 'T' + bytesToHex(b), 32, 110],
  ['level-1 account', (b) => 'a' + bytesToUnprefixedHex(b), 20, 76],
  ['level-1 slot', (b) => 's' + bytesToUnprefixedHex(b), 52, 32],
  ['cached absence', (b) => 'A' + bytesToHex(b), 32, null],
  ['large node', (b) => 'U' + bytesToHex(b), 32, 532],
]
const keep = []
const out = {}
for (const [name, key, keyBytes, valueBytes] of shapes) {
  const lru = new ByteLru(Number.MAX_SAFE_INTEGER, 1)
  const raws = Array.from({ length: 50000 }, () => randomBytes(keyBytes))
  const src = valueBytes === null ? null : randomBytes(valueBytes)
  keep.push(lru, raws)
  const before = heap()
  for (const raw of raws) lru.set(key(raw), src === null ? null : new Uint8Array(src))
  out[name] = (heap() - before) / lru.bytesUsed
}
console.log(JSON.stringify(out))
`

describe('ByteLru', () => {
  it("accounts what its entries cost in V8's heap (within 15%), keys built from byte-by-byte hex included", () => {
    if (!existsSync(join(DIST, 'storage', 'byteLru.js'))) throw new Error('dist/ is missing: run `npm run build` (npm test does it)')
    const ratios = JSON.parse(execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', SCRIPT], { encoding: 'utf8', cwd: join(DIST, '..') })) as Record<string, number>
    expect(Object.keys(ratios)).toHaveLength(5)
    for (const [shape, ratio] of Object.entries(ratios)) {
      expect(ratio, shape).toBeGreaterThan(0.85)
      expect(ratio, shape).toBeLessThan(1.15)
    }
  })
})

describe('ByteLru recency', () => {
  const v = (n: number) => new Uint8Array(n)
  it('evicts the least recently used entries first; a hit or a replacement makes an entry the most recent', async () => {
    const { ByteLru, entryBytes } = await import('../src/storage/byteLru.js')
    const per = entryBytes('k0', v(10))
    const lru = new ByteLru(per * 3, 2)
    lru.set('k0', v(10))
    lru.set('k1', v(10))
    lru.set('k2', v(10))
    expect(lru.keysByRecency()).toEqual(['k0', 'k1', 'k2'])
    expect(lru.get(0, 'k0')).toEqual(v(10)) // k0 becomes the most recent
    expect(lru.keysByRecency()).toEqual(['k1', 'k2', 'k0'])
    lru.set('k3', v(10)) // evicts k1
    expect(lru.keysByRecency()).toEqual(['k2', 'k0', 'k3'])
    expect(lru.get(1, 'k1')).toBeUndefined()
    expect([lru.hits, lru.misses, lru.evictions]).toEqual([[1, 0], [0, 1], 1])
    lru.set('k2', null) // replaced by a cached absence: smaller, most recent
    expect(lru.keysByRecency()).toEqual(['k0', 'k3', 'k2'])
    expect(lru.get(0, 'k2')).toBeNull()
    expect(lru.bytesUsed).toBe(per * 2 + entryBytes('k2', null))
    lru.set('k4', v(10)) // evicts k0 only: the smaller k2 left room
    expect(lru.keysByRecency()).toEqual(['k3', 'k2', 'k4'])
    lru.set('k5', v(20 + 2 * per)) // larger than the budget alone: not cached
    lru.set('k3', v(20 + 2 * per)) // nor kept when a value grows past it: its older value goes too
    expect([lru.get(0, 'k5'), lru.get(0, 'k3')]).toEqual([undefined, undefined])
    lru.set('k3', v(10))
    lru.delete('k2')
    lru.deletePrefix('k3')
    expect(lru.keysByRecency()).toEqual(['k4'])
    expect(lru.bytesUsed).toBe(per)
    const key = (i: number) => i.toString(36).padStart(2, '0') // as long as 'k0'
    for (let i = 0; i < 1000; i++) lru.set(key(i), v(10)) // a long stream keeps the last three
    expect(lru.keysByRecency()).toEqual([key(997), key(998), key(999)])
    expect(lru.bytesUsed).toBe(per * 3)
  })

  it('a budget of 0 caches nothing', async () => {
    const { ByteLru } = await import('../src/storage/byteLru.js')
    const lru = new ByteLru(0, 1)
    lru.set('a', v(1))
    expect([lru.get(0, 'a'), lru.size, lru.bytesUsed]).toEqual([undefined, 0, 0])
  })
})
