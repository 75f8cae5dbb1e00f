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
