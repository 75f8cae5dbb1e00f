/**
 * The measurement protocol: one place that decides in which order variants run, which passes are
 * reported, and how repeated passes become one number with its spread. replay (in one process),
 * sweep and compare (fresh processes) and the bench scripts all use it, so every number megabench
 * prints was measured the same way:
 *
 * 1. a warm-up pass of every variant over the same blocks first (V8 compiles the hot paths during the
 *    first pass: first-pass opcode costs were seen 3-40x above later passes), never reported;
 * 2. the measured passes interleaved A B B A (then A B, B A … for more repeats), so that a slow drift of
 *    the machine (other jobs, frequency, GC heap growth) falls on every variant alike;
 * 3. each number reported as the median over the measured passes, with its spread (min, max, and the
 *    relative half-range), so a reader can tell a difference from noise;
 * 4. a full garbage collection before every pass (`collectGarbage`), so that no variant pays for the
 *    garbage of the one before it.
 */

/** Default warm-up passes per variant (a pass = the variant over every block of the source). */
export const DEFAULT_WARMUP_PASSES = 1

/** Default measured passes per variant. */
export const DEFAULT_REPEATS = 1

/** One step of a schedule: which variant runs, and whether the pass is measured. */
export type ScheduledPass<T> = { variant: T; index: number; warmup: boolean; pass: number }

/**
 * The order of passes: `warmup` rounds of every variant in order (not measured), then `repeats` measured
 * rounds alternating forward and backward (A B, B A, A B …: A B B A for two repeats), so that each
 * variant's passes sit symmetrically around the middle of the run. `pass` numbers the variant's measured
 * passes from 0 (warm-up passes count from −warmup).
 */
export function schedule<T>(variants: readonly T[], repeats: number, warmup: number): ScheduledPass<T>[] {
  if (!Number.isInteger(repeats) || repeats < 1) throw new RangeError(`repeats must be an integer >= 1 (got ${repeats})`)
  if (!Number.isInteger(warmup) || warmup < 0) throw new RangeError(`warmup must be an integer >= 0 (got ${warmup})`)
  const out: ScheduledPass<T>[] = []
  for (let w = 0; w < warmup; w++) variants.forEach((variant, index) => out.push({ variant, index, warmup: true, pass: w - warmup }))
  for (let r = 0; r < repeats; r++) {
    const order = variants.map((variant, index) => ({ variant, index }))
    if (r % 2 === 1) order.reverse()
    for (const { variant, index } of order) out.push({ variant, index, warmup: false, pass: r })
  }
  return out
}

/** A measured quantity over passes: the median is what is reported; the rest says how much it moved. */
export type Spread = {
  n: number
  median: number
  min: number
  max: number
  /** (max − min) / 2 / median: the half-range relative to the median (0 for one pass). */
  relHalfRange: number
}

/** Median of finite values (NaN for none). */
export function median(values: readonly number[]): number {
  const s = values.filter(Number.isFinite).sort((a, b) => a - b)
  if (s.length === 0) return Number.NaN
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

/** The spread of one quantity over passes (null for no values). */
export function spread(values: readonly number[]): Spread | null {
  const s = values.filter(Number.isFinite).sort((a, b) => a - b)
  if (s.length === 0) return null
  const med = median(s)
  const min = s[0]!
  const max = s.at(-1)!
  return { n: s.length, median: med, min, max, relHalfRange: med !== 0 ? (max - min) / 2 / Math.abs(med) : 0 }
}

/**
 * The ratio of two medians with the range the passes allow: [min(a)/max(b), max(a)/min(b)]. Two orders of
 * the same variants agree when each one's ratio lies in the other's range.
 */
export function ratioSpread(a: Spread, b: Spread): { ratio: number; lo: number; hi: number } {
  return { ratio: a.median / b.median, lo: a.min / b.max, hi: a.max / b.min }
}

/** "1.23 ±4.5%" or "1.23 (1 pass)": a median with its relative half-range. */
export function formatSpread(s: Spread, digits = 2, unit = ''): string {
  const v = `${s.median.toFixed(digits)}${unit}`
  return s.n < 2 ? `${v} (1 pass)` : `${v} ±${(s.relHalfRange * 100).toFixed(1)}%`
}

import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

let gcFn: ((options?: { type: 'minor' | 'major' }) => void) | null | undefined

/**
 * Collections asked for by `collectGarbage` and `settledHeldBytes`, per kind, in this process; `settleRounds`
 * counts the extra full collections `settledHeldBytes` needed before the totals stopped falling.
 */
export const gcCounts = { full: 0, young: 0, settleRounds: 0 }

/**
 * A garbage collection between passes (V8's gc(), exposed at run time; a no-op where V8 refuses).
 * `full` (a forced major GC) starts a pass from a collected heap whatever ran before it; it also drops the
 * hidden classes of every kind of object that is not alive at that moment (V8 keeps them across its own
 * collections, not across a forced one), and every optimized function that depended on them is thrown away
 * and optimized again inside the next pass: on the mega engine 109 functions at each pass start, the first
 * ~30 blocks of a 100-block pass at twice the steady cost (measured 2026-12-07, README "measurement
 * protocol"). `young` (a minor GC) collects the short-lived garbage only and keeps them; older garbage is left
 * to V8's own collections, which may land in the next pass. The replay does a full one before its first pass
 * only, a young one before every later pass.
 */
export function collectGarbage(kind: 'full' | 'young' = 'full'): void {
  gcCounts[kind]++
  if (gcFn === undefined) {
    try {
      setFlagsFromString('--expose-gc')
      gcFn = runInNewContext('gc') as (options?: { type: 'minor' | 'major' }) => void
    } catch {
      gcFn = null
    }
  }
  if (kind === 'young') gcFn?.({ type: 'minor' })
  else gcFn?.()
}

/** Heap and off-heap bytes (array buffers, WASM memory) this process holds right now. */
function heldNow(): number {
  const m = process.memoryUsage()
  return m.heapUsed + m.external
}

/** A fall smaller than this between two full collections counts as settled (V8's own bookkeeping moves by KiBs). */
const SETTLED_BYTES = 256 * 1024
const MAX_SETTLE_ROUNDS = 6

/**
 * Bytes this process holds in V8's heap and outside it after a full collection that has settled: one full
 * collection (counted once in `gcCounts.full`), then more, a macrotask apart, while the totals keep falling.
 * One collection is not enough: V8 releases array-buffer and WebAssembly backing stores, and runs finalizers,
 * after the forced collection returns, so garbage that earlier work left can be freed between two readings and
 * make a difference of totals negative (seen once in a full test run: -4 MB around a load).
 */
export async function settledHeldBytes(): Promise<number> {
  collectGarbage('full')
  let held = heldNow()
  for (let round = 0; round < MAX_SETTLE_ROUNDS; round++) {
    await new Promise<void>((resolve) => setImmediate(resolve))
    gcCounts.settleRounds++
    gcFn?.()
    const next = heldNow()
    const fell = held - next
    held = Math.min(held, next)
    if (fell < SETTLED_BYTES) break
  }
  return held
}
