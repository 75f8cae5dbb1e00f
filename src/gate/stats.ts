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

/**
 * One stratum of a hierarchical comparison: the runs (fresh processes) of one source under one
 * configuration. `base[r][k]` is baseline run r's time of block k (ms, > 0), `cur[r][k]` likewise; block k
 * is the same block on both sides (the pairing).
 */
export type Stratum = { base: readonly (readonly number[])[]; cur: readonly (readonly number[])[] }

/** How a block's times over a side's runs become one value: geometric mean (mean of logs) or median. */
export type RunAggregate = 'mean' | 'median' | 'min'

export type HierarchicalOptions = {
  statistic: Statistic
  runs: RunAggregate
  confidence: number
  resamples: number
  seed: string
  /** Resample runs (stage 1) before blocks (stage 2); false resamples blocks only (ignores run-level noise). */
  resampleRuns?: boolean
  /** Runs drawn per side in stage 1: n (plain) or n − 1 (unbiased run-level variance; the default). */
  runDraws?: 'n' | 'n-1'
}

/**
 * Relative change (current vs baseline) over runs × blocks with a two-stage (hierarchical) bootstrap:
 * each resample draws the baseline runs and the current runs with replacement (stage 1: run-level
 * noise, e.g. a process that ran on a busier machine; n − 1 of a side's n runs, which makes the
 * run-level variance unbiased instead of (n − 1)/n of it; the i-th runs of every stratum together when
 * the strata have as many runs, as runs close in time share the machine's load), then, per stratum, the
 * blocks with replacement (stage 2, the same draw on both sides, which keeps the pairing), and
 * recomputes the statistic.
 * Per block, each side's runs are aggregated (`runs`) in log space; the statistic works on the per-block
 * log ratios d_k = agg(log current_k) − agg(log baseline_k), pooled over strata. Deterministic for a seed.
 */
export function hierarchicalChange(strata: readonly Stratum[], o: HierarchicalOptions): Interval {
  const prepared = strata.map((s) => {
    const k = s.base[0]?.length ?? 0
    if (s.base.length === 0 || s.cur.length === 0 || k === 0) throw new RangeError('hierarchicalChange needs at least one run per side and one block per stratum')
    for (const r of [...s.base, ...s.cur]) if (r.length !== k) throw new RangeError('every run of a stratum must have the same blocks')
    const logs = (runs: readonly (readonly number[])[]) => runs.map((r) => Float64Array.from(r, (x) => Math.log(x)))
    return { k, base: logs(s.base), cur: logs(s.cur) }
  })
  const total = prepared.reduce((a, s) => a + s.k, 0)
  const ab = new Float64Array(total)
  const ac = new Float64Array(total)
  const scratch = new Float64Array(Math.max(...prepared.map((s) => Math.max(s.base.length, s.cur.length))))
  // agg over the runs picked by idx, for every block of the stratum, into out[offset + k]
  const aggregate = (runs: Float64Array[], idx: Uint32Array | null, k: number, out: Float64Array, offset: number) => {
    const n = idx === null ? runs.length : idx.length
    for (let b = 0; b < k; b++) {
      if (o.runs === 'mean') {
        let s = 0
        for (let j = 0; j < n; j++) s += runs[idx === null ? j : idx[j]!]![b]!
        out[offset + b] = s / n
      } else if (o.runs === 'min') {
        let m = Number.POSITIVE_INFINITY
        for (let j = 0; j < n; j++) m = Math.min(m, runs[idx === null ? j : idx[j]!]![b]!)
        out[offset + b] = m
      } else {
        for (let j = 0; j < n; j++) scratch[j] = runs[idx === null ? j : idx[j]!]![b]!
        const v = scratch.subarray(0, n).sort()
        const m = n >> 1
        out[offset + b] = n % 2 === 1 ? v[m]! : (v[m - 1]! + v[m]!) / 2
      }
    }
  }
  const pooledA = new Float64Array(total)
  const pooledC = new Float64Array(total)
  const d = new Float64Array(total)
  const statistic = (a: Float64Array, c: Float64Array): number => {
    if (o.statistic === 'ratio-of-sums') {
      let sa = 0
      let sc = 0
      for (let i = 0; i < a.length; i++) {
        sa += Math.exp(a[i]!)
        sc += Math.exp(c[i]!)
      }
      return sc / sa - 1
    }
    for (let i = 0; i < a.length; i++) d[i] = c[i]! - a[i]!
    d.sort()
    const n = d.length
    if (o.statistic === 'trimmed-geomean') {
      const cut = Math.floor(n * TRIM)
      let s = 0
      for (let i = cut; i < n - cut; i++) s += d[i]!
      return Math.exp(s / (n - 2 * cut)) - 1
    }
    const m = n >> 1
    return Math.exp(n % 2 === 1 ? d[m]! : (d[m - 1]! + d[m]!) / 2) - 1
  }

  let offset = 0
  for (const s of prepared) {
    aggregate(s.base, null, s.k, ab, offset)
    aggregate(s.cur, null, s.k, ac, offset)
    offset += s.k
  }
  const estimate = statistic(ab, ac)

  // Seeded through Rng; the draws come from an inlined mulberry32 (millions per A/A measurement).
  let state = new Rng(o.seed).nextU32()
  const below = (m: number) => {
    state = (state + 0x6d2b79f5) | 0
    let t = Math.imul(state ^ (state >>> 15), 1 | state)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * m)
  }
  const resampleRuns = o.resampleRuns !== false
  const draws = (n: number) => (o.runDraws === 'n' || n < 2 ? n : n - 1)
  // Runs close in time share the machine's load: when every source has as many runs on a side, the i-th
  // runs are drawn together (one draw for all sources), else each source's runs are drawn on their own.
  const shared = (side: 'base' | 'cur') => prepared.every((s) => s[side].length === prepared[0]![side].length)
  const sharedB = shared('base')
  const sharedC = shared('cur')
  const idxB = prepared.map((s) => new Uint32Array(draws(s.base.length)))
  const idxC = prepared.map((s) => new Uint32Array(draws(s.cur.length)))
  const stats = new Float64Array(o.resamples)
  for (let r = 0; r < o.resamples; r++) {
    let pos = 0
    offset = 0
    prepared.forEach((s, i) => {
      const ib = idxB[sharedB ? 0 : i]!
      const ic = idxC[sharedC ? 0 : i]!
      if (resampleRuns) {
        if (i === 0 || !sharedB) for (let j = 0; j < ib.length; j++) ib[j] = below(s.base.length)
        if (i === 0 || !sharedC) for (let j = 0; j < ic.length; j++) ic[j] = below(s.cur.length)
      }
      aggregate(s.base, resampleRuns ? ib : null, s.k, ab, offset)
      aggregate(s.cur, resampleRuns ? ic : null, s.k, ac, offset)
      for (let j = 0; j < s.k; j++) {
        const b = offset + below(s.k)
        pooledA[pos] = ab[b]!
        pooledC[pos] = ac[b]!
        pos++
      }
      offset += s.k
    })
    stats[r] = statistic(pooledA, pooledC)
  }
  stats.sort()
  const alpha = (1 - o.confidence) / 2
  return { estimate, lo: quantileSorted(stats, alpha), hi: quantileSorted(stats, 1 - alpha) }
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
