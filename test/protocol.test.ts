import { describe, expect, test } from 'vitest'

import { formatSpread, median, ratioSpread, schedule, spread } from '../src/protocol/index.js'

describe('measurement protocol', () => {
  test('default: warm-up passes first, then A B B A', () => {
    const s = schedule(['A', 'B'], 2, 1)
    expect(s.map((p) => `${p.warmup ? 'w' : ''}${p.variant}`)).toEqual(['wA', 'wB', 'A', 'B', 'B', 'A'])
    expect(s.filter((p) => !p.warmup && p.variant === 'A').map((p) => p.pass)).toEqual([0, 1])
  })
  test('behavior: three variants, three repeats, no warm-up', () => {
    expect(schedule(['A', 'B', 'C'], 3, 0).map((p) => p.variant).join('')).toBe('ABCCBAABC')
  })
  test('behavior: bad counts are refused', () => {
    expect(() => schedule(['A'], 0, 1)).toThrow(/repeats/)
    expect(() => schedule(['A'], 1, -1)).toThrow(/warmup/)
  })
  test('spread: median, range and relative half-range', () => {
    expect(median([3, 1, 2, 10])).toBe(2.5)
    expect(spread([10, 12, 8])).toEqual({ n: 3, median: 10, min: 8, max: 12, relHalfRange: 0.2 })
    expect(spread([])).toBeNull()
    expect(formatSpread(spread([10, 12, 8])!, 1)).toBe('10.0 ±20.0%')
    expect(formatSpread(spread([5])!, 0)).toBe('5 (1 pass)')
    const r = ratioSpread(spread([10, 12, 8])!, spread([5, 4, 6])!)
    expect(r).toEqual({ ratio: 2, lo: 8 / 6, hi: 3 })
  })
})
