import { performance } from 'node:perf_hooks'

/** Milliseconds from an arbitrary origin, sub-microsecond resolution (hrtime-based). */
export const now: () => number = performance.now.bind(performance)

/**
 * A stack of nested timed regions, each with a kind. `exit()` returns the region's exclusive time:
 * its inclusive time minus the inclusive time of the regions nested in it. Regions must nest
 * strictly (they do: execution is single-threaded and nested calls run inside their parent).
 */
export class RegionStack {
  private starts = new Float64Array(256)
  private childMs = new Float64Array(256)
  private children = new Uint32Array(256)
  private kinds = new Int32Array(256)
  private openedAt = new Float64Array(256)
  depth = 0
  /** Regions entered so far (all depths). */
  opened = 0
  /** Set by exit(): the inclusive time of the region just closed. */
  lastInclusive = 0
  /** Set by exit(): how many regions were nested directly in the region just closed. */
  lastChildren = 0
  /** Set by exit(): how many regions were nested at any depth in the region just closed. */
  lastDescendants = 0

  /** `clock` returns milliseconds; tests pass a fake one. */
  constructor(private readonly clock: () => number = now) {}

  enter(kind: number): void {
    const d = this.depth
    if (d === this.starts.length) this.grow()
    this.kinds[d] = kind
    this.childMs[d] = 0
    this.children[d] = 0
    this.openedAt[d] = ++this.opened
    this.depth = d + 1
    this.starts[d] = this.clock()
  }

  /** Closes the innermost region; returns its exclusive time in ms. */
  exit(): number {
    const t = this.clock()
    const d = --this.depth
    const inclusive = t - this.starts[d]!
    this.lastInclusive = inclusive
    this.lastChildren = this.children[d]!
    this.lastDescendants = this.opened - this.openedAt[d]!
    if (d > 0) {
      this.childMs[d - 1]! += inclusive
      this.children[d - 1]! += 1
    }
    return inclusive - this.childMs[d]!
  }

  /**
   * After `exit()`: gives the region just closed back to its parent, whose exclusive time then includes it
   * (a sample a probe drops). The timer's cost of the region stays counted as the parent's child.
   */
  returnLastToParent(): void {
    if (this.depth > 0) this.childMs[this.depth - 1]! -= this.lastInclusive
  }

  /** Kind of the region `levels` below the innermost one (0 = innermost), or -1. */
  kindAt(levels: number): number {
    const i = this.depth - 1 - levels
    return i >= 0 ? this.kinds[i]! : -1
  }

  reset(): void {
    this.depth = 0
  }

  private grow(): void {
    const n = this.starts.length * 2
    const f = (a: Float64Array) => {
      const b = new Float64Array(n)
      b.set(a)
      return b
    }
    this.starts = f(this.starts)
    this.childMs = f(this.childMs)
    this.openedAt = f(this.openedAt)
    const c = new Uint32Array(n)
    c.set(this.children)
    this.children = c
    const k = new Int32Array(n)
    k.set(this.kinds)
    this.kinds = k
  }
}

/** The measured cost of timing one region, used to correct measured times. */
export type TimerCalibration = {
  /** Time an empty region reports as its own (ms): the part of the timer cost inside the region. */
  inRegionMs: number
  /** Total cost of one region as seen by its parent (ms): the enter/exit pair, wherever it lands. */
  perRegionMs: number
  /** Repeats and region count the calibration used. */
  samples: number
}

/**
 * Measures the cost of RegionStack enter/exit on this machine: medians over `batches` batches of
 * `perBatch` empty regions nested in a parent region.
 */
export function calibrateRegionStack(batches = 15, perBatch = 20_000): TimerCalibration {
  const stack = new RegionStack()
  const inRegion: number[] = []
  const perRegion: number[] = []
  for (let b = 0; b < batches; b++) {
    stack.enter(0)
    let sumInner = 0
    for (let i = 0; i < perBatch; i++) {
      stack.enter(1)
      stack.exit()
      sumInner += stack.lastInclusive
    }
    stack.exit()
    inRegion.push(sumInner / perBatch)
    perRegion.push(stack.lastInclusive / perBatch)
  }
  return {
    inRegionMs: median(inRegion.slice(2)),
    perRegionMs: median(perRegion.slice(2)),
    samples: (batches - 2) * perBatch,
  }
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}
