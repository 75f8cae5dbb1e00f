import { type Spread, median, spread } from '../protocol/index.js'
import { rankOpcodeRows } from '../probes/opcodeProfiler.js'
import { PHASES, type PhaseTimes, sumPhaseTimes } from '../probes/phases.js'
import type { BlockRow, EngineResult, OpcodeProfileJson } from './schema.js'

/**
 * Repeated passes of one variant over the same blocks → the numbers reported (src/protocol/ says why):
 * per block, each phase's median over the measured passes; per opcode, the median time with its range.
 * Pure functions over rows and profiles.
 */

/**
 * An engine's tx/s for headlines and ratios: with several passes the median pass's (so a ratio of two lies
 * inside their range over passes), else the run's. The run's totals sum per-block medians, which can be
 * faster than every pass (a pause lands in one pass of a block, and each block drops it).
 */
export function passTxPerSec(e: Pick<EngineResult, 'totals' | 'repeats'>): number {
  return e.repeats.passes > 1 ? e.repeats.txPerSec.median : e.totals.txPerSec
}

/**
 * tx/s, Mgas/s and processing time of the pass `passTxPerSec` takes (every pass replays the same blocks,
 * so its gas is the run's), for tables that show the rates beside that ratio.
 */
export function passRates(e: Pick<EngineResult, 'totals' | 'repeats'>): { txPerSec: number; mgasPerSec: number; processingMs: number } {
  const t = e.totals
  if (e.repeats.passes <= 1 || t.txPerSec <= 0) return { txPerSec: t.txPerSec, mgasPerSec: t.mgasPerSec, processingMs: t.processingMs }
  const txPerSec = e.repeats.txPerSec.median
  const k = txPerSec / t.txPerSec
  return { txPerSec, mgasPerSec: t.mgasPerSec * k, processingMs: t.processingMs / k }
}

/** Milliseconds per second-rate helper: units per second from a count and milliseconds (0 when none). */
export function rate(count: number, ms: number): number {
  return ms > 0 ? count / (ms / 1000) : 0
}

/**
 * Per-block medians over passes. Every pass must have replayed the same blocks in the same order. A block
 * counts as verified only if it verified in every pass; its checks are the first pass's unless a later
 * pass failed one. Deterministic counters (state reads, cache traffic, diffs) come from the first pass.
 */
export function medianRows(passes: readonly (readonly BlockRow[])[]): BlockRow[] {
  const first = passes[0]
  if (first === undefined) return []
  for (const p of passes) {
    if (p.length !== first.length || p.some((r, i) => r.number !== first[i]!.number || r.origin !== first[i]!.origin)) {
      throw new Error('passes replayed different blocks: cannot take per-block medians')
    }
  }
  return first.map((row, i) => {
    const all = passes.map((p) => p[i]!)
    if (all.length === 1) return row
    const phases = Object.fromEntries(PHASES.map((ph) => [ph, median(all.map((r) => r.phases[ph]))])) as PhaseTimes
    const totalMs = sumPhaseTimes(phases)
    const checks = { ...row.checks }
    for (const r of all) for (const [k, c] of Object.entries(r.checks)) if (c.status === 'fail') checks[k] = c
    return {
      ...row,
      phases,
      totalMs,
      setupMs: median(all.map((r) => r.setupMs)),
      mgasPerSec: rate(row.gasUsed / 1e6, totalMs),
      txPerSec: rate(row.txCount, totalMs),
      verified: all.every((r) => r.verified),
      checks,
      passes: { totalMs: all.map((r) => r.totalMs) },
    }
  })
}

/** The spread of each phase and of the processing time over passes (each pass's totals over its verified blocks). */
export function passSpreads(passes: readonly (readonly BlockRow[])[], txs: number): {
  passes: number
  processingMs: Spread
  txPerSec: Spread
  phases: Record<keyof PhaseTimes, Spread>
} {
  const totals = passes.map((rows) => {
    const v = rows.filter((r) => r.verified)
    const phases = Object.fromEntries(PHASES.map((ph) => [ph, v.reduce((s, r) => s + r.phases[ph], 0)])) as PhaseTimes
    return { phases, ms: sumPhaseTimes(phases) }
  })
  const ms = totals.map((t) => t.ms)
  return {
    passes: passes.length,
    processingMs: spread(ms) ?? emptySpread(),
    txPerSec: spread(ms.map((m) => rate(txs, m))) ?? emptySpread(),
    phases: Object.fromEntries(PHASES.map((ph) => [ph, spread(totals.map((t) => t.phases[ph])) ?? emptySpread()])) as Record<keyof PhaseTimes, Spread>,
  }
}

function emptySpread(): Spread {
  return { n: 0, median: 0, min: 0, max: 0, relHalfRange: 0 }
}

/**
 * Opcode profiles of several warm, profiled passes over the same blocks → one profile: per opcode the
 * median exclusive and inclusive time, with the range over passes (`totalNsMin`/`totalNsMax`); counts and
 * gas are deterministic (the median is taken all the same); shares and categories recomputed from the medians.
 */
export function mergeOpcodeProfiles(profiles: readonly OpcodeProfileJson[]): OpcodeProfileJson | null {
  const first = profiles[0]
  if (first === undefined) return null
  type Acc = { row: OpcodeProfileJson['rows'][number]; total: number[]; inclusive: number[]; count: number[] }
  const byOp = new Map<number, Acc>()
  for (const p of profiles) {
    for (const r of p.rows) {
      let a = byOp.get(r.opcode)
      if (a === undefined) byOp.set(r.opcode, (a = { row: r, total: [], inclusive: [], count: [] }))
      a.total.push(r.totalNs)
      a.inclusive.push(r.inclusiveNs)
      a.count.push(r.count)
    }
  }
  const n = profiles.length
  const rows = [...byOp.values()].map(({ row, total, inclusive, count }) => {
    // An opcode absent from a pass executed 0 times there: count its time as 0 for that pass.
    while (total.length < n) total.push(0), inclusive.push(0), count.push(0)
    const totalNs = median(total)
    const c = median(count)
    return {
      ...row,
      count: c,
      totalNs,
      inclusiveNs: median(inclusive),
      avgNs: c > 0 ? totalNs / c : 0,
      totalNsMin: Math.min(...total),
      totalNsMax: Math.max(...total),
      pctTime: 0,
      cumulativePct: 0,
    }
  })
  const { categories } = rankOpcodeRows(rows)
  const pre = new Map<number, { row: OpcodeProfileJson['precompiles'][number]; total: number[] }>()
  for (const p of profiles) {
    for (const r of p.precompiles) {
      const a = pre.get(r.address) ?? { row: r, total: [] }
      a.total.push(r.totalNs)
      pre.set(r.address, a)
    }
  }
  const precompiles = [...pre.values()].map(({ row, total }) => {
    const t = median(total)
    return { ...row, totalNs: t, avgNs: row.count > 0 ? t / row.count : 0 }
  })
  const cov = Object.fromEntries(Object.keys(first.coverage).map((k) => [k, median(profiles.map((p) => p.coverage[k as keyof typeof first.coverage]))])) as OpcodeProfileJson['coverage']
  return { calibration: first.calibration, rows, categories, precompiles, coverage: cov, passes: n }
}
