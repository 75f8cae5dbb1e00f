/**
 * A histogram of durations with logarithmic buckets: bucket i holds values in [2^i, 2^(i+1)) ns
 * (bucket 0 also holds anything below 2 ns). Constant memory, O(1) per sample.
 */
export class LogHistogram {
  readonly counts = new Array<number>(40).fill(0)
  count = 0
  sumNs = 0
  maxNs = 0

  addMs(ms: number): void {
    const ns = ms * 1e6
    this.count++
    this.sumNs += ns
    if (ns > this.maxNs) this.maxNs = ns
    const i = ns < 2 ? 0 : Math.min(this.counts.length - 1, Math.floor(Math.log2(ns)))
    this.counts[i]! += 1
  }

  get meanNs(): number {
    return this.count > 0 ? this.sumNs / this.count : 0
  }

  /** The value below which `q` (0..1) of the samples fall, at bucket resolution (upper bucket bound). */
  quantileNs(q: number): number {
    if (this.count === 0) return 0
    let seen = 0
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i]!
      if (seen >= q * this.count) return 2 ** (i + 1)
    }
    return this.maxNs
  }

  /** Adds another histogram's samples to this one. */
  merge(other: LogHistogram): void {
    other.counts.forEach((c, i) => {
      this.counts[i]! += c
    })
    this.count += other.count
    this.sumNs += other.sumNs
    this.maxNs = Math.max(this.maxNs, other.maxNs)
  }

  /** Summary for a report. */
  summary() {
    return {
      count: this.count,
      totalMs: this.sumNs / 1e6,
      meanNs: this.meanNs,
      p50Ns: this.quantileNs(0.5),
      p99Ns: this.quantileNs(0.99),
      maxNs: this.maxNs,
      buckets: this.buckets(),
    }
  }

  /** Non-empty buckets as {fromNs, toNs, count}. */
  buckets(): { fromNs: number; toNs: number; count: number }[] {
    const out: { fromNs: number; toNs: number; count: number }[] = []
    this.counts.forEach((c, i) => {
      if (c > 0) out.push({ fromNs: i === 0 ? 0 : 2 ** i, toNs: 2 ** (i + 1), count: c })
    })
    return out
  }
}
