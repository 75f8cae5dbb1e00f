import { readFileSync } from 'node:fs'
import { join } from 'node:path'

import { describe, expect, test } from 'vitest'

import { resolvePolicy } from '../src/gate/policy.js'
import { bootstrapChange, callChange, median, relativeChange } from '../src/gate/stats.js'
import { Rng } from '../src/workloads/rng.js'

type Noise = { sources: { source: string; runs: [number, number][][] }[] }

/**
 * The gate's noise model, from real timings (fixtures/noise/replay-timings.json: 8 fresh-process
 * replays of 3 bundled sources on this shared 2-core machine, scripts/record-noise.mjs):
 * a block's time in one replay = its median over the 8 replays × the replay's process-wide speed
 * factor × a per-block residual. The process factor (0.78…2.68 here: other jobs on the machine) is
 * what interleaving A B A B and a dedicated runner control; it is divided out. The per-block
 * residuals (robust sd ≈ 10%) are pooled and resampled.
 */
function noiseModel() {
  const noise = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'noise', 'replay-timings.json'), 'utf8')) as Noise
  const medians: number[] = []
  const residuals: number[] = []
  for (const s of noise.sources) {
    const blocks = s.runs[0]!.length
    const m = Array.from({ length: blocks }, (_, i) => median(s.runs.map((r) => r[i]![1])))
    const factors = s.runs.map((r) => median(r.map(([, ms], i) => ms / m[i]!)))
    s.runs.forEach((r, k) =>
      r.forEach(([, ms], i) => {
        if (m[i]! >= 1) residuals.push(Math.log(ms / m[i]! / factors[k]!))
      }),
    )
    medians.push(...m.filter((x) => x >= 1))
  }
  return { medians, residuals }
}

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

  test('the bootstrap is deterministic for a seed', () => {
    const rng = new Rng('x')
    const b = Array.from({ length: 30 }, () => 1 + rng.nextFloat())
    const c = b.map((x) => x * (1 + 0.1 * (rng.nextFloat() - 0.5)))
    const o = { statistic: 'median-ratio' as const, confidence: 0.95, resamples: 500, seed: 's' }
    expect(bootstrapChange(b, c, o)).toEqual(bootstrapChange(b, c, o))
    expect(bootstrapChange(b, c, o)).not.toEqual(bootstrapChange(b, c, { ...o, seed: 't' }))
  })

  // The A/A test of the defaults: 200 simulated pairs of runs, each side the per-block medians of 5
  // replays (compare --repeat 5) over 100 paired blocks (the 33 recorded blocks' medians, cycled).
  test('A/A: ≤ 1% false regressions; a 5% slowdown is called in ≥ 95% of pairs', () => {
    const { medians, residuals } = noiseModel()
    const t = resolvePolicy({}).timings
    const floor = t.metrics.total!.floor
    const rng = new Rng('megabench-aa')
    const repeats = 5
    const blocks = 100
    const side = (slowdown: number) =>
      Array.from({ length: blocks }, (_, j) => medians[j % medians.length]! * slowdown * Math.exp(median(Array.from({ length: repeats }, () => residuals[rng.nextBelow(residuals.length)]!))))
    const calls = (slowdown: number) => {
      const out = { regression: 0, improvement: 0, 'no-change': 0, inconclusive: 0 }
      for (let i = 0; i < 200; i++) {
        const ci = bootstrapChange(side(1), side(slowdown), { statistic: t.statistic, confidence: t.confidence, resamples: t.resamples, seed: `${t.seed}/${slowdown}/${i}` })
        out[callChange(ci, floor)]++
      }
      return out
    }
    const aa = calls(1)
    const slow = calls(1.05)
    console.log(`A/A (${t.statistic}, floor ${floor * 100}%): ${JSON.stringify(aa)}; 5% slower: ${JSON.stringify(slow)}`)
    expect(aa.regression).toBeLessThanOrEqual(2)
    expect(aa.improvement).toBeLessThanOrEqual(2)
    expect(slow.regression).toBeGreaterThanOrEqual(190)
  })
})
