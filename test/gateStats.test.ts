import { join } from 'node:path'

import { beforeAll, describe, expect, test } from 'vitest'

import { type CalibrationResult, type Noise, calibrate, readNoise, subsets } from '../src/gate/calibrate.js'
import { resolvePolicy } from '../src/gate/policy.js'
import { bootstrapChange, callChange, hierarchicalChange, relativeChange } from '../src/gate/stats.js'
import { Rng } from '../src/workloads/rng.js'

describe('gate statistics', () => {
  test('statistics on exact numbers', () => {
    expect(relativeChange([1, 2, 4], [1.1, 2.2, 4.4], 'median-ratio')).toBeCloseTo(0.1, 12)
    expect(relativeChange([1, 1, 8], [2, 1, 8], 'ratio-of-sums')).toBeCloseTo(0.1, 12)
    expect(relativeChange([1, 1, 1, 1, 1], [0.5, 1.1, 1.1, 1.1, 9], 'trimmed-geomean')).toBeCloseTo(0.1, 12)
    expect(callChange({ estimate: 0.05, lo: 0.02, hi: 0.08 }, 0.01)).toBe('regression')
    expect(callChange({ estimate: 0.05, lo: 0.005, hi: 0.08 }, 0.01)).toBe('inconclusive')
    expect(callChange({ estimate: 0, lo: -0.008, hi: 0.009 }, 0.01)).toBe('no-change')
    expect(callChange({ estimate: -0.05, lo: -0.08, hi: -0.02 }, 0.01)).toBe('improvement')
  })

  test('the bootstraps are deterministic for a seed', () => {
    const rng = new Rng('x')
    const b = Array.from({ length: 30 }, () => 1 + rng.nextFloat())
    const c = b.map((x) => x * (1 + 0.1 * (rng.nextFloat() - 0.5)))
    const o = { statistic: 'median-ratio' as const, confidence: 0.95, resamples: 500, seed: 's' }
    expect(bootstrapChange(b, c, o)).toEqual(bootstrapChange(b, c, o))
    expect(bootstrapChange(b, c, o)).not.toEqual(bootstrapChange(b, c, { ...o, seed: 't' }))
    const strata = [{ base: [b, b.map((x) => x * 1.1)], cur: [c, c.map((x) => x * 0.9)] }]
    const h = { statistic: 'trimmed-geomean' as const, runs: 'median' as const, confidence: 0.95, resamples: 500, seed: 's' }
    expect(hierarchicalChange(strata, h)).toEqual(hierarchicalChange(strata, h))
    expect(hierarchicalChange(strata, h)).not.toEqual(hierarchicalChange(strata, { ...h, seed: 't' }))
  })

  test('hierarchical: the estimate aggregates each block over runs, then pools the blocks of every source', () => {
    // Source 1: two blocks, baseline runs 1× and 4×, current runs 2× and 2× → geometric means 2 and 2: no change.
    // Source 2: one block 10% slower in every run.
    const strata = [
      { base: [[1, 2], [4, 8]], cur: [[2, 4], [2, 4]] },
      { base: [[5], [5]], cur: [[5.5], [5.5]] },
    ]
    const o = { statistic: 'median-ratio' as const, runs: 'mean' as const, confidence: 0.95, resamples: 200, seed: 's' }
    expect(hierarchicalChange(strata, o).estimate).toBeCloseTo(0, 12)
    expect(hierarchicalChange(strata, { ...o, statistic: 'ratio-of-sums' }).estimate).toBeCloseTo((2 + 4 + 5.5) / (2 + 4 + 5) - 1, 12)
    // Median over three runs: the slow process (×3) does not move the estimate.
    expect(hierarchicalChange([{ base: [[1], [1], [3]], cur: [[1.1], [1.1], [1.1]] }], { ...o, runs: 'median' }).estimate).toBeCloseTo(0.1, 12)
    expect(() => hierarchicalChange([{ base: [[1, 2], [1]], cur: [[1, 2]] }], o)).toThrow(/same blocks/)
  })

  test('hierarchical: run-level noise widens the interval; resampling blocks only does not see it', () => {
    // Every block moves with its run: runs 1.0×, 1.2×, 0.9× (baseline) and 1.1×, 0.95×, 1.25× (current).
    const rng = new Rng('runs')
    const blocks = Array.from({ length: 40 }, () => 5 + 20 * rng.nextFloat())
    const side = (factors: number[]) => factors.map((f) => blocks.map((x) => x * f * (1 + 0.01 * (rng.nextFloat() - 0.5))))
    const strata = [{ base: side([1, 1.2, 0.9]), cur: side([1.1, 0.95, 1.25]) }]
    const o = { statistic: 'trimmed-geomean' as const, runs: 'mean' as const, confidence: 0.95, resamples: 2000, seed: 's' }
    const both = hierarchicalChange(strata, o)
    const blocksOnly = hierarchicalChange(strata, { ...o, resampleRuns: false })
    expect(both.estimate).toBe(blocksOnly.estimate)
    expect(blocksOnly.hi - blocksOnly.lo).toBeLessThan(0.01)
    expect(both.hi - both.lo).toBeGreaterThan(0.1)
    expect(callChange(blocksOnly, 0.01)).toBe('regression')
    expect(callChange(both, 0.01)).toBe('inconclusive')
  })

  test('subsets', () => {
    expect(subsets(4, 2)).toEqual([[0, 1], [0, 2], [0, 3], [1, 2], [1, 3], [2, 3]])
    expect(subsets(8, 4)).toHaveLength(70)
  })
})

/**
 * The gate's calibration on raw recorded runs (fixtures/noise/replay-timings.json: 12 rounds of fresh
 * `megabench replay` processes of 3 bundled sources, 33 blocks ≥ 1 ms per round, on the shared 2-core
 * machine under load; nothing divided out). The rounds are split into two halves every way; each half is
 * gated against the other (A/A: every call is false), and again with the current half 5% slower.
 */
describe('A/A on raw recorded runs, with the default policy', () => {
  let noise: Noise
  const t = resolvePolicy({}).timings
  const floor = t.metrics.total!.floor
  const rate = (r: CalibrationResult, call: 'regression' | 'improvement') => r.calls[call] / r.comparisons
  beforeAll(async () => {
    noise = await readNoise(join(import.meta.dirname, '..', 'fixtures', 'noise', 'replay-timings.json'))
  })

  const designs = [
    // The case: 8 same-code runs split 4 against 4 every way (35 splits, each gated both ways), twice.
    { name: '4 v 4', groups: [[0, 1, 2, 3, 4, 5, 6, 7], [4, 5, 6, 7, 8, 9, 10, 11]] },
    // compare's default --repeat 5: 10 runs split 5 against 5 every way.
    { name: '5 v 5', groups: [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]] },
  ]
  for (const d of designs) {
    test(`${d.name} runs, 3 sources: ≤ 5% false calls (regressions + improvements); the old per-block medians gave many more`, () => {
      const aa = calibrate(noise, { timings: t, floor, groups: d.groups })
      const slow = calibrate(noise, { timings: t, floor, groups: d.groups, slowdown: 0.05 })
      const old = calibrate(noise, { timings: t, floor, groups: d.groups, resampleRuns: false })
      const pct = (x: number) => `${(x * 100).toFixed(1)}%`
      console.log(
        `${d.name} (${aa.comparisons} comparisons, ${aa.blocks} blocks): false regressions ${pct(rate(aa, 'regression'))}, false improvements ${pct(rate(aa, 'improvement'))}, inconclusive ${pct(aa.calls.inconclusive / aa.comparisons)}; 5% slowdown called ${pct(rate(slow, 'regression'))}; blocks-only bootstrap: ${pct(rate(old, 'regression'))} / ${pct(rate(old, 'improvement'))}`,
      )
      expect(aa.blocks).toBeGreaterThanOrEqual(20)
      expect(aa.comparisons).toBe(d.groups.length * subsets(d.groups[0]!.length, d.groups[0]!.length / 2).length)
      expect(rate(aa, 'regression') + rate(aa, 'improvement')).toBeLessThanOrEqual(0.05)
      // Without the run level (blocks resampled within pooled runs), the same data gives false calls far above 5%.
      expect(rate(old, 'regression') + rate(old, 'improvement')).toBeGreaterThan(0.2)
      // A 5% slowdown is called at least as often as a false regression (power is reported, not promised: README).
      expect(rate(slow, 'regression')).toBeGreaterThanOrEqual(rate(aa, 'regression'))
    })
  }

  test('one source of ≥ minPairs blocks per run is calibrated too (minPairs)', () => {
    for (const s of noise.sources) {
      const aa = calibrate(noise, { timings: t, floor, groups: [[0, 1, 2, 3, 4, 5, 6, 7]], sources: [s.source] })
      expect(aa.blocks).toBeGreaterThanOrEqual(t.minPairs)
      expect(rate(aa, 'regression') + rate(aa, 'improvement')).toBeLessThanOrEqual(0.05)
    }
  })
})
