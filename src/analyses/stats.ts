/** Summary statistics the analyses share. */

export type Distribution = { n: number; median: number; p10: number; p90: number; mean: number; min: number; max: number }

/** The q-quantile (0…1) of sorted values, linear interpolation between closest ranks (R's type 7). */
export function quantileSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN
  const h = (sorted.length - 1) * q
  const lo = Math.floor(h)
  const hi = Math.ceil(h)
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (h - lo)
}

/** Median, 10th and 90th percentiles, mean, min and max; null for no values. */
export function distribution(values: readonly number[]): Distribution | null {
  if (values.length === 0) return null
  const s = [...values].sort((a, b) => a - b)
  return {
    n: s.length,
    median: quantileSorted(s, 0.5),
    p10: quantileSorted(s, 0.1),
    p90: quantileSorted(s, 0.9),
    mean: s.reduce((x, y) => x + y, 0) / s.length,
    min: s[0]!,
    max: s.at(-1)!,
  }
}

/**
 * Consecutive windows of `k` blocks: blocks are grouped into runs of consecutive numbers of the same
 * chain, and each run is cut into non-overlapping windows of k from its start (a shorter tail is left out).
 */
export function windowsOf<T extends { chain: string; number: number }>(blocks: readonly T[], k: number): T[][] {
  const out: T[][] = []
  let run: T[] = []
  const flush = () => {
    for (let i = 0; i + k <= run.length; i += k) out.push(run.slice(i, i + k))
    run = []
  }
  for (const b of blocks) {
    const prev = run.at(-1)
    if (prev !== undefined && (prev.chain !== b.chain || prev.number + 1 !== b.number)) flush()
    run.push(b)
  }
  flush()
  return out
}
