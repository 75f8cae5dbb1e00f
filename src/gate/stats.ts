import { Rng } from '../workloads/rng.js'

/**
 * Paired timing statistics for the gate: a relative change between two runs' per-block times, with a
 * seeded bootstrap confidence interval (percentile method, resampling block pairs with replacement).
 */

/** How per-block pairs (baseline b_i, current c_i) become one relative change. */
export type Statistic =
  /** median_i(c_i / b_i) − 1: every block counts the same, robust to a few noisy blocks (the default). */
  | 'median-ratio'
  /** Σc_i / Σb_i − 1: the change of the total time, dominated by the heaviest blocks. */
  | 'ratio-of-sums'
  /** exp(20%-trimmed mean of ln(c_i / b_i)) − 1: a robust geometric mean of the per-block ratios. */
  | 'trimmed-geomean'

/** Share of the per-block ratios trimmed at each end by 'trimmed-geomean'. */
export const TRIM = 0.2

export type Interval = { estimate: number; lo: number; hi: number }

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN
  const s = Float64Array.from(xs).sort()
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

/** The value below which `q` (0…1) of the sorted values lie (linear interpolation between ranks). */
export function quantileSorted(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN
  const pos = (sorted.length - 1) * q
  const i = Math.floor(pos)
  const f = pos - i
  const a = sorted[i]!
  const b = sorted[Math.min(i + 1, sorted.length - 1)]!
  return a + (b - a) * f
}

/** The statistic over the pairs picked by `idx` (all pairs when omitted). */
export function relativeChange(base: readonly number[], cur: readonly number[], statistic: Statistic, idx?: Uint32Array): number {
  const n = idx?.length ?? base.length
  if (statistic === 'ratio-of-sums') {
    let sb = 0
    let sc = 0
    for (let k = 0; k < n; k++) {
      const i = idx === undefined ? k : idx[k]!
      sb += base[i]!
      sc += cur[i]!
    }
    return sc / sb - 1
  }
  const r = new Float64Array(n)
  for (let k = 0; k < n; k++) {
    const i = idx === undefined ? k : idx[k]!
    r[k] = cur[i]! / base[i]!
  }
  r.sort()
  if (statistic === 'trimmed-geomean') {
    const cut = Math.floor(n * TRIM)
    let s = 0
    for (let k = cut; k < n - cut; k++) s += Math.log(r[k]!)
    return Math.exp(s / (n - 2 * cut)) - 1
  }
  const m = n >> 1
  return (n % 2 === 1 ? r[m]! : (r[m - 1]! + r[m]!) / 2) - 1
}

/**
 * Point estimate and bootstrap percentile interval of the relative change (current vs baseline) over
 * paired per-block times. Deterministic for a given seed. `base` values must be > 0.
 */
export function bootstrapChange(
  base: readonly number[],
  cur: readonly number[],
  o: { statistic: Statistic; confidence: number; resamples: number; seed: string },
): Interval {
  const n = base.length
  if (n !== cur.length || n === 0) throw new RangeError('bootstrapChange needs equally many pairs, at least one')
  // Seeded through Rng; resampling indices come from an inlined mulberry32 (tens of millions per A/A test).
  let state = new Rng(o.seed).nextU32()
  const below = (m: number) => {
    state = (state + 0x6d2b79f5) | 0
    let t = Math.imul(state ^ (state >>> 15), 1 | state)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * m)
  }
  const stats = new Float64Array(o.resamples)
  if (o.statistic === 'ratio-of-sums') {
    const idx = new Uint32Array(n)
    for (let b = 0; b < o.resamples; b++) {
      for (let k = 0; k < n; k++) idx[k] = below(n)
      stats[b] = relativeChange(base, cur, o.statistic, idx)
    }
  } else {
    // Order statistics of a resample need no sort: sort the pairs' log ratios once, draw how many
    // times each is picked, and walk the counts in order.
    const sorted = Float64Array.from(base, (x, i) => Math.log(cur[i]! / x)).sort()
    const counts = new Uint32Array(n)
    const cut = Math.floor(n * TRIM)
    const mid = n >> 1
    for (let b = 0; b < o.resamples; b++) {
      counts.fill(0)
      let st = state
      for (let k = 0; k < n; k++) {
        st = (st + 0x6d2b79f5) | 0 // mulberry32, inlined
        let t = Math.imul(st ^ (st >>> 15), 1 | st)
        t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
        counts[Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n)]!++
      }
      state = st
      if (o.statistic === 'trimmed-geomean') {
        let rank = 0
        let sum = 0
        for (let j = 0; j < n; j++) {
          const c = counts[j]!
          if (c === 0) continue
          // ranks [rank, rank + c) hold sorted[j]; keep those in [cut, n − cut)
          const kept = Math.max(0, Math.min(rank + c, n - cut) - Math.max(rank, cut))
          sum += kept * sorted[j]!
          rank += c
        }
        stats[b] = Math.exp(sum / (n - 2 * cut)) - 1
      } else {
        // median of ratios: the value(s) at rank mid (and mid − 1 when n is even)
        let rank = 0
        let lower = Number.NaN
        let upper = Number.NaN
        for (let j = 0; j < n && Number.isNaN(upper); j++) {
          const c = counts[j]!
          if (c === 0) continue
          if (Number.isNaN(lower) && rank + c > mid - 1) lower = sorted[j]!
          if (rank + c > mid) upper = sorted[j]!
          rank += c
        }
        stats[b] = (n % 2 === 1 ? Math.exp(upper) : (Math.exp(lower) + Math.exp(upper)) / 2) - 1
      }
    }
  }
  stats.sort()
  const alpha = (1 - o.confidence) / 2
  return { estimate: relativeChange(base, cur, o.statistic), lo: quantileSorted(stats, alpha), hi: quantileSorted(stats, 1 - alpha) }
}

/** What the interval says against a practical floor (a relative change, e.g. 0.02 = 2%). */
export type Call = 'regression' | 'improvement' | 'no-change' | 'inconclusive'

/**
 * A change is called only when the whole interval clears the floor: lo > floor is a regression,
 * hi < −floor an improvement; an interval inside [−floor, floor] is no change; anything else is
 * inconclusive (no change is called, and the gate says so).
 */
export function callChange(ci: Interval, floor: number): Call {
  if (ci.lo > floor) return 'regression'
  if (ci.hi < -floor) return 'improvement'
  if (ci.lo >= -floor && ci.hi <= floor) return 'no-change'
  return 'inconclusive'
}
