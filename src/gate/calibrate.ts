import { readFile } from 'node:fs/promises'

import { z } from 'zod'

import { UsageError } from '../errors/index.js'
import type { GatePolicy } from './policy.js'
import { type Call, type Stratum, callChange, hierarchicalChange, median } from './stats.js'

/**
 * Calibrating the gate's timing call on recorded same-code runs (fixtures/noise, scripts/record-noise.mjs):
 * the runs are split into two halves every possible way, one half gated against the other (an A/A test:
 * every call is a false call), and again with the current half's times multiplied by `1 + slowdown`
 * (the power to see a slowdown of that size). Nothing is divided out of the recorded times.
 */

export const noiseSchema = z.object({
  format: z.literal('megabench-noise-v2'),
  date: z.string(),
  load: z.object({ start: z.number(), end: z.number() }),
  sources: z
    .array(
      z.object({
        source: z.string(),
        blocks: z.array(z.string()).min(1),
        /** runs[i]: round i's replay of this source (a fresh process): per block ms, and the load average at its start. */
        runs: z.array(z.object({ load: z.number(), wallMs: z.number(), ms: z.array(z.number()) })).min(2),
      }),
    )
    .min(1),
})
export type Noise = z.infer<typeof noiseSchema>

export async function readNoise(file: string): Promise<Noise> {
  const r = noiseSchema.safeParse(JSON.parse(await readFile(file, 'utf8')))
  if (!r.success) throw new UsageError(`not a megabench-noise-v2 file at ${r.error.issues[0]?.path.join('.')}: ${r.error.issues[0]?.message}`, { where: file })
  return r.data
}

export type CalibrationOptions = {
  timings: Pick<GatePolicy['timings'], 'statistic' | 'runs' | 'confidence' | 'resamples' | 'seed' | 'minBlockMs'>
  floor: number
  /**
   * Groups of recorded rounds (default: one group of all rounds). Each group (an even number of rounds)
   * is split into two equal halves every possible way; each split is gated both ways round.
   */
  groups?: readonly (readonly number[])[]
  /** The sources used as strata of every run (default: all). */
  sources?: readonly string[]
  /** Relative slowdown applied to the current half (0 = A/A). */
  slowdown?: number
  /** Resample runs then blocks (default) or blocks only (ignoring run-level noise, as the gate did before). */
  resampleRuns?: boolean
  runDraws?: 'n' | 'n-1'
}

export type CalibrationResult = {
  /** Ordered comparisons: every split of every group into halves, each half once as the baseline. */
  comparisons: number
  /** Runs per side, paired blocks per comparison. */
  perSide: number
  blocks: number
  calls: Record<Call, number>
}

/** All k-subsets of [0, n) as index arrays, in lexicographic order. */
export function subsets(n: number, k: number): number[][] {
  const out: number[][] = []
  const cur: number[] = []
  const walk = (start: number) => {
    if (cur.length === k) {
      out.push([...cur])
      return
    }
    for (let i = start; i <= n - (k - cur.length); i++) {
      cur.push(i)
      walk(i + 1)
      cur.pop()
    }
  }
  walk(0)
  return out
}

/** Gates every half of each group of rounds against the other half (the slowdown applied to the current half) and counts the calls. */
export function calibrate(noise: Noise, o: CalibrationOptions): CalibrationResult {
  const sources = noise.sources.filter((s) => o.sources === undefined || o.sources.includes(s.source))
  if (sources.length === 0 || (o.sources !== undefined && sources.length !== o.sources.length)) throw new UsageError(`no such source in the noise file: ${o.sources?.join(', ')}`)
  const available = Math.min(...sources.map((s) => s.runs.length))
  const groups = o.groups ?? [Array.from({ length: available - (available % 2) }, (_, i) => i)]
  const factor = 1 + (o.slowdown ?? 0)
  const calls: Record<Call, number> = { regression: 0, improvement: 0, 'no-change': 0, inconclusive: 0 }
  let comparisons = 0
  let blocks = 0
  let perSide = 0
  for (const rounds of groups) {
    if (rounds.length < 2 || rounds.length % 2 !== 0 || rounds.some((r) => r >= available)) throw new UsageError(`a calibration group needs an even number of the ${available} recorded rounds`)
    perSide = rounds.length / 2
    for (const chosen of subsets(rounds.length, perSide)) {
      const inBase = new Set(chosen)
      const base = chosen.map((i) => rounds[i]!)
      const cur = rounds.filter((_, i) => !inBase.has(i))
      const strata: Stratum[] = []
      blocks = 0
      for (const s of sources) {
        const keep = s.blocks.map((_, k) => k).filter((k) => median(base.map((r) => s.runs[r]!.ms[k]!)) >= o.timings.minBlockMs && [...base, ...cur].every((r) => s.runs[r]!.ms[k]! > 0))
        if (keep.length === 0) continue
        blocks += keep.length
        strata.push({ base: base.map((r) => keep.map((k) => s.runs[r]!.ms[k]!)), cur: cur.map((r) => keep.map((k) => s.runs[r]!.ms[k]! * factor)) })
      }
      const ci = hierarchicalChange(strata, { ...o.timings, seed: `${o.timings.seed}/calibrate/${base.join(',')}`, resampleRuns: o.resampleRuns, runDraws: o.runDraws })
      calls[callChange(ci, o.floor)]++
      comparisons++
    }
  }
  return { comparisons, perSide, blocks, calls }
}
