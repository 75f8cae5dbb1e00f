import type { FlameData } from './flame.js'
import { COMPILABLE_CATEGORIES, JIT_FACTORS, amdahl } from '../analyses/jit.js'
import { PHASES, type PhaseName } from '../probes/phases.js'
import type { Spread } from '../protocol/index.js'
import { analysesStudyRows } from './analyses.js'
import { type Difference, conditionDifferences, describeDifference, engineDifferences, rateRatioWords, ratioDirection, runDifferences, tierSentence, timeRatioWords } from '../run/conditions.js'
import { passTxPerSec } from '../run/aggregate.js'
import type { EngineResult, RunResult } from '../run/schema.js'
import type { SweepResult } from '../run/sweepSchema.js'
import { formatSize } from '../storage/memory.js'
import { noData } from './noData.js'
import { STUDY_ROWS } from './study.js'
import { analysesConditions, engineConditions, sweepConditions } from './studyConditions.js'

/**
 * Data shaping behind every chart and table of the report: pure functions from run and sweep
 * results to rows. Failed blocks feed no chart (rows come from verified blocks, totals already count
 * verified blocks only, and counters kept per run rather than per block are drawn only from runs without
 * failed blocks); a chart with no data or only zeros gets a reason instead (`noData`).
 */

export { noData }

/** A run to report; `flame`: its CPU profile's flame graph (replay --profile cpu). */
export type LabeledRun = { label: string; result: RunResult; flame?: FlameData | undefined }
export type LabeledSweep = { label: string; result: SweepResult }

/** An engine run feeds charts only with verified blocks; one that verified none feeds none. */
export const hasVerified = (e: EngineResult): boolean => e.totals.verifiedBlocks > 0

/** The blocks of an engine run that did not verify. */
export const failedBlocks = (e: EngineResult): number => e.blocks.filter((b) => !b.verified).length

const NO_VERIFIED = 'no verified blocks (failed blocks feed no chart)'

/** The name a chart uses for one engine run: `baseline/live`, prefixed by the run's label if there are several runs. */
export function seriesName(runs: readonly LabeledRun[], run: LabeledRun, e: EngineResult): string {
  return runs.length > 1 ? `${run.label}: ${e.label}` : e.label
}

export type ThroughputPoint = { series: string; block: number; blockLabel: string; txPerSec: number; mgasPerSec: number }

/** Throughput of every verified block, per engine and mode. */
export function throughputSeries(runs: readonly LabeledRun[]): ThroughputPoint[] {
  const out: ThroughputPoint[] = []
  for (const r of runs) {
    for (const e of r.result.engines) {
      const series = seriesName(runs, r, e)
      for (const b of e.blocks) if (b.verified) out.push({ series, block: b.number, blockLabel: String(b.number), txPerSec: b.txPerSec, mgasPerSec: b.mgasPerSec })
    }
  }
  return out
}

/**
 * How the throughput charts place blocks: real fixture blocks are far apart (97 … 21,230,867), so each gets
 * a slot of its own on an ordinal axis labelled by number; chains (consecutive blocks) keep a height axis.
 */
export function throughputAxis(runs: readonly LabeledRun[]): 'ordinal' | 'quantitative' {
  return runs.length > 0 && runs.every((r) => r.result.config.source.kind === 'chain') ? 'quantitative' : 'ordinal'
}

/** Block labels in height order (the ordinal axis's order). */
export function blockOrder(points: readonly ThroughputPoint[]): string[] {
  return [...new Map([...points].sort((a, b) => a.block - b.block).map((p) => [p.blockLabel, p.block])).keys()]
}

/** Why a throughput chart has nothing to draw (null when it has). */
export function throughputNoData(points: readonly ThroughputPoint[], field: 'txPerSec' | 'mgasPerSec'): string | null {
  return noData(points.map((p) => p[field]), NO_VERIFIED, field === 'txPerSec' ? 'every verified block has 0 transactions' : 'every verified block used 0 gas')
}

export const PHASE_LABELS: Record<PhaseName, string> = {
  senderRecovery: 'sender recovery',
  execution: 'execution',
  stateLoad: 'state load',
  merkleization: 'merkleization',
  persistence: 'persistence',
}

export type PhaseShare = { series: string; phase: string; order: number; ms: number; share: number }

/** Time per phase (verified blocks) for every engine run that verified a block, with each phase's share of the total. */
export function phaseBreakdown(runs: readonly LabeledRun[]): PhaseShare[] {
  const out: PhaseShare[] = []
  for (const r of runs) {
    for (const e of r.result.engines.filter(hasVerified)) {
      const total = e.totals.processingMs
      PHASES.forEach((p, order) =>
        out.push({ series: seriesName(runs, r, e), phase: PHASE_LABELS[p], order, ms: e.totals.phases[p], share: total > 0 ? e.totals.phases[p] / total : 0 }),
      )
    }
  }
  return out
}

export function phasesNoData(rows: readonly PhaseShare[]): string | null {
  return noData(rows.map((r) => r.ms), NO_VERIFIED, 'every phase of every verified block took 0 ms')
}

export type FactorStep = { step: string; order: number; from: number; to: number; factor: number }

/** The live/historical decomposition as a waterfall of factors: 1 → × merkleization → × persistence. */
export function decompositionSteps(run: RunResult): FactorStep[] {
  const d = run.decomposition
  if (d === null) return []
  const m = d.merkleizationFactor
  return [
    { step: 'historical sync', order: 0, from: 0, to: 1, factor: 1 },
    { step: '× merkleization', order: 1, from: 1, to: m, factor: m },
    { step: '× persistence', order: 2, from: m, to: m * d.persistenceFactor, factor: d.persistenceFactor },
    { step: 'live sync', order: 3, from: 0, to: d.slowdown, factor: d.slowdown },
  ]
}

/** The baseline engine run of `mode` the run's decomposition was measured on (its EVM, when recorded). */
export function decomposedBaseline(run: RunResult, mode: 'live' | 'historical'): RunResult['engines'][number] | undefined {
  const evm = run.decomposition?.evm
  return run.engines.find((e) => e.name === 'baseline' && e.mode === mode && (evm === undefined || e.evm === evm))
}

/**
 * The run whose live/historical decomposition the report draws, with what differs between its two modes
 * besides the mode (e.g. the verified blocks), or why there is none to draw.
 */
export function decompositionChoice(runs: readonly LabeledRun[]): { run: LabeledRun; steps: FactorStep[]; besides: string[] } | { none: string } {
  const run = runs.find((r) => r.result.decomposition !== null)
  if (run === undefined) return { none: 'no run of both modes in these runs (megabench replay --mode both)' }
  const h = decomposedBaseline(run.result, 'historical')
  const l = decomposedBaseline(run.result, 'live')
  if (h === undefined || l === undefined) return { none: `${run.label}: no baseline run of both modes` }
  if (!hasVerified(h) || !hasVerified(l)) return { none: `${run.label}: ${hasVerified(h) ? 'live' : 'historical'} sync verified no block` }
  const steps = decompositionSteps(run.result)
  const why = noData(steps.map((x) => x.to), 'no decomposition', 'live and historical took 0 ms')
  if (why !== null) return { none: why }
  return { run, steps, besides: engineDifferences(l, h).filter((d) => d.what !== 'mode').map(describeDifference) }
}

/**
 * The opcode profile the report draws: the first of an engine run whose every block verified (a profile is
 * one sum over its passes, not kept per block, so a failed block's opcodes cannot be taken out) and in
 * which some opcode took time; otherwise why there is none.
 */
export function profileChoice(runs: readonly LabeledRun[]): { run: LabeledRun; engine: EngineResult } | { none: string } {
  const all = runs.flatMap((run) => run.result.engines.filter((e) => e.opcodes !== null).map((engine) => ({ run, engine })))
  if (all.length === 0) return { none: 'no opcode profile in these runs (replay --opcodes)' }
  const ok = all.find((x) => failedBlocks(x.engine) === 0 && x.engine.opcodes!.rows.some((r) => r.totalNs > 0))
  if (ok !== undefined) return ok
  const failed = all.find((x) => failedBlocks(x.engine) > 0)
  if (failed !== undefined && all.every((x) => failedBlocks(x.engine) > 0 || !x.engine.opcodes!.rows.some((r) => r.totalNs > 0))) {
    const n = failedBlocks(failed.engine)
    return { none: `the opcode profile of ${seriesName(runs, failed.run, failed.engine)} also covers its ${n} failed block${n === 1 ? '' : 's'} (a profile is not kept per block), so it feeds no chart` }
  }
  return { none: 'no opcode took time in the profiled passes (the blocks ran no EVM code)' }
}

export type ParetoBar = { rank: number; opcode: string; pct: number; cumulative: number }

/** The top-`n` opcodes by exclusive time: % of opcode time and the cumulative %. */
export function pareto(engine: EngineResult, n = 30): ParetoBar[] {
  return (engine.opcodes?.rows ?? []).slice(0, n).map((r, i) => ({ rank: i + 1, opcode: r.name, pct: r.pctTime, cumulative: r.cumulativePct }))
}

export type CategoryShare = { category: string; pct: number; ms: number; compilable: boolean }

/** Categories a compiler can speed up (everything but host and system work, per the study). */
export const COMPILABLE = new Set<string>(COMPILABLE_CATEGORIES)

export function categoryShares(engine: EngineResult): CategoryShare[] {
  return (engine.opcodes?.categories ?? []).map((c) => ({ category: c.category, pct: c.pct, ms: c.totalNs / 1e6, compilable: COMPILABLE.has(c.category) }))
}

export type JitBound = { speedup: string; k: number | null; bound: number }

/**
 * Amdahl's bound on execution speedup if the compilable opcodes ran k times faster: 1 / ((1 − c) + c/k),
 * c = compilable share of opcode time. The study's argument, applied to our opcode time.
 */
export function jitBounds(categories: readonly CategoryShare[]): { compilableShare: number; bounds: JitBound[] } {
  const c = categories.filter((x) => x.compilable).reduce((s, x) => s + x.pct, 0) / 100
  return {
    compilableShare: c,
    bounds: JIT_FACTORS.map((k) => ({ speedup: k === null ? 'infinitely fast' : `${k}x faster`, k, bound: amdahl(c, k) })),
  }
}

/** The limits of a sweep whose every run verified: only they feed the sweep's charts. */
export function verifiedSweepPoints(s: SweepResult): SweepResult['points'] {
  return s.points.filter((p) => p.runs.every((r) => r.verified))
}

/** The limits left out of a sweep's charts because a run at that limit did not verify. */
export function sweepExcluded(s: SweepResult): string[] {
  return s.points.filter((p) => !p.runs.every((r) => r.verified)).map((p) => formatSize(p.memoryBytes))
}

/** Why the sweep's charts have nothing to draw (null when they have). */
export function sweepNoData(sweep: LabeledSweep | undefined): string | null {
  if (sweep === undefined) return 'no sweep result in this report (megabench sweep --memory 16MB,64MB,256MB,1GB …)'
  if (verifiedSweepPoints(sweep.result).length === 0) return `no limit of sweep ${sweep.label} at which every run verified`
  return noData(sweepCurves(sweep.result).map((c) => c.ms), 'no limits', 'every time of the sweep is 0 ms')
}

export type SweepCurvePoint = { memoryBytes: number; memory: string; curve: string; ms: number }

/** The study's memory-sweep curves: total, execution, miss penalty, merkleization, write time per limit. */
export function sweepCurves(s: SweepResult): SweepCurvePoint[] {
  const curves: [string, 'totalMs' | 'executionMs' | 'missPenaltyMs' | 'merkleizationMs' | 'writeMs'][] = [
    ['total', 'totalMs'],
    ['execution', 'executionMs'],
    ['miss penalty', 'missPenaltyMs'],
    ['merkleization', 'merkleizationMs'],
    ['write', 'writeMs'],
  ]
  const bind = s.config.bind
  const modelled = bind?.kind === 'model' ? `total, MODELLED disk (${((bind.missLatencyNs ?? 0) / 1000).toFixed(1)} µs per miss)` : null
  return verifiedSweepPoints(s).flatMap((p) => {
    const at = { memoryBytes: p.memoryBytes, memory: formatSize(p.memoryBytes) }
    const measured = curves.map(([curve, k]) => ({ ...at, curve, ms: p.median[k] }))
    return modelled !== null && p.median.modelledTotalMs !== undefined ? [...measured, { ...at, curve: modelled, ms: p.median.modelledTotalMs }] : measured
  })
}

export type SweepEnginePoint = { memoryBytes: number; memory: string; engine: string; txPerSec: number }

/** Throughput per limit of every engine in the sweep's runs (one line each: the baseline's caches vary, the mega engine keeps its state in memory). */
export function sweepEngines(s: SweepResult): SweepEnginePoint[] {
  return verifiedSweepPoints(s).flatMap((p) => p.median.engines.map((e) => ({ memoryBytes: p.memoryBytes, memory: formatSize(p.memoryBytes), engine: e.label, txPerSec: e.txPerSec })))
}

export type MissRatioPoint = { memoryBytes: number; memory: string; level: string; ratio: number }

export function sweepMissRatios(s: SweepResult): MissRatioPoint[] {
  return verifiedSweepPoints(s).flatMap((p) => [
    { memoryBytes: p.memoryBytes, memory: formatSize(p.memoryBytes), level: 'level 1 (client cache)', ratio: p.median.l1MissRatio },
    { memoryBytes: p.memoryBytes, memory: formatSize(p.memoryBytes), level: 'level 2 (DB cache)', ratio: p.median.l2MissRatio },
  ])
}

export type HistogramBar = { bucket: string; fromNs: number; count: number }

/** A duration in ns with three significant digits: 1.02 µs, 2.1 ms, 512 ns. */
export function formatNs(ns: number): string {
  const [v, unit] = ns >= 1e6 ? [ns / 1e6, 'ms'] : ns >= 1e3 ? [ns / 1e3, 'µs'] : [ns, 'ns']
  return `${Number(v.toPrecision(3))} ${unit}`
}

/** Miss-penalty histogram (log2 ns buckets) of a sweep's first run, or of a run's execution penalties. */
export function penaltyHistogram(buckets: readonly { fromNs: number; toNs: number; count: number }[]): HistogramBar[] {
  return buckets.map((b) => ({ bucket: `${formatNs(b.fromNs)}–${formatNs(b.toNs)}`, fromNs: b.fromNs, count: b.count }))
}

type Buckets = readonly { fromNs: number; toNs: number; count: number }[]

/**
 * The miss penalties the report draws: the sweep's first run (when it verified), else the first engine run on
 * LMDB whose every block verified (penalties are one histogram per run, not kept per block); otherwise why none.
 */
export function penaltyChoice(runs: readonly LabeledRun[], sweeps: readonly LabeledSweep[]): { buckets: Buckets; source: string } | { none: string } {
  const sweep = sweeps[0]
  const candidates: { buckets: Buckets; source: string; failed: number }[] = []
  if (sweep !== undefined) candidates.push({ buckets: sweep.result.penaltyHistogram, source: `sweep ${sweep.label}, first run`, failed: sweep.result.points[0]?.runs[0]?.verified === false ? 1 : 0 })
  for (const r of runs) {
    for (const e of r.result.engines) {
      if (e.storage !== null) candidates.push({ buckets: e.storage.missPenalty.execution.buckets, source: seriesName(runs, r, e), failed: failedBlocks(e) })
    }
  }
  if (candidates.length === 0) return { none: 'no miss penalties in these runs (the baseline on LMDB storage records them)' }
  const ok = candidates.find((c) => c.failed === 0 && c.buckets.some((b) => b.count > 0))
  if (ok !== undefined) return { buckets: ok.buckets, source: ok.source }
  const failed = candidates.find((c) => c.failed > 0)
  if (failed !== undefined && candidates.every((c) => c.failed > 0 || !c.buckets.some((b) => b.count > 0))) {
    return { none: `the miss penalties of ${failed.source} also cover failed blocks (not kept per block), so they feed no chart` }
  }
  return { none: 'no level-2 cache miss during execution (no LMDB read was timed)' }
}

export type RecapStep = { step: string; order: number; txPerSec: number; measuredOn: string }

/**
 * The recap waterfall with our numbers: historical → live → live at the smallest memory limit of a
 * live sweep. Steps without data are left out (the report says which run would provide them).
 */
export function recap(runs: readonly LabeledRun[], sweeps: readonly LabeledSweep[]): RecapStep[] {
  const out: RecapStep[] = []
  const engines = runs.flatMap((r) => r.result.engines.filter((e) => e.name === 'baseline' && hasVerified(e) && e.totals.txPerSec > 0).map((e) => ({ r, e })))
  const h = engines.find((x) => x.e.mode === 'historical')
  const l = engines.find((x) => x.e.mode === 'live' && x.e.storage !== null)
  if (h) out.push({ step: 'historical sync', order: 0, txPerSec: h.e.totals.txPerSec, measuredOn: h.r.label })
  if (l) out.push({ step: 'live sync', order: 1, txPerSec: l.e.totals.txPerSec, measuredOn: l.r.label })
  const live = sweeps.find((s) => s.result.config.mode === 'live')
  const points = live === undefined ? [] : verifiedSweepPoints(live.result).filter((p) => p.median.txPerSec > 0)
  const smallest = points.length > 0 ? points.reduce((a, b) => (a.memoryBytes <= b.memoryBytes ? a : b)) : undefined
  if (live && smallest) {
    out.push({ step: `live, ${formatSize(smallest.memoryBytes)} memory`, order: 2, txPerSec: smallest.median.txPerSec, measuredOn: live.label })
  }
  return out
}

/**
 * What differs between the recap's historical and live steps besides the mode, when they come from
 * engine runs (of one run or two); the sweep's step is a run of its own (named in its label).
 */
export function recapDifferences(runs: readonly LabeledRun[]): string[] {
  const engines = runs.flatMap((r) => r.result.engines.filter((e) => e.name === 'baseline' && hasVerified(e) && e.totals.txPerSec > 0).map((engine) => ({ run: r.result, engine })))
  const h = engines.find((x) => x.engine.mode === 'historical')
  const l = engines.find((x) => x.engine.mode === 'live' && x.engine.storage !== null)
  if (h === undefined || l === undefined) return []
  return conditionDifferences(l, h)
    .filter((d) => d.what !== 'mode')
    .map(describeDifference)
}

export type StudyComparison = {
  id: number
  figure: string
  study: string
  measured: string | null
  measuredOn: string
  /** The conditions of our measurement that differ from the study's, "ours vs the study's" (empty when not measured). */
  conditions: string[]
}

/**
 * Every row of the study's measurements with our value where these runs measure it (verified blocks only),
 * the conditions under which ours differs from the study's, and otherwise the run that would measure it.
 */
export function studyVsMeasured(runs: readonly LabeledRun[], sweeps: readonly LabeledSweep[]): StudyComparison[] {
  // The study measured a conventional client: its rows compare with the baseline engine, on verified blocks.
  const engines = runs.flatMap((r) => r.result.engines.filter((e) => e.name === 'baseline' && hasVerified(e)).map((e) => ({ label: r.label, r: r.result, e })))
  const hist = engines.find((x) => x.e.mode === 'historical')
  const live = engines.find((x) => x.e.mode === 'live')
  const anyE = hist ?? live ?? engines[0]
  const withStorage = engines.find((x) => x.e.storage !== null)
  const profile = profileChoice(runs)
  const prof = 'none' in profile ? undefined : { label: profile.run.label, r: profile.run.result, e: profile.engine }
  const decomposition = decompositionChoice(runs)
  const usableSweeps = sweeps.filter((s) => verifiedSweepPoints(s.result).length > 0)
  const f = (x: number, d = 1) => x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d })
  const on = (x: { label: string; e: EngineResult; r: RunResult }) =>
    `${x.label}: ${x.r.config.source.kind} ${x.r.config.source.paths.join(', ')}, ${x.e.label}, ${x.e.totals.verifiedBlocks} verified blocks`
  const row = (id: number, measured: string | null, measuredOn: string, conditions: string[] = []) => {
    const s = STUDY_ROWS.find((x) => x.id === id)!
    return { id, figure: s.figure, study: s.study, measured, measuredOn, conditions: measured === null ? [] : conditions }
  }
  const cond = (x: { r: RunResult; e: EngineResult }, aspects: Parameters<typeof engineConditions>[2], mode: 'historical' | 'live' | null = null) => engineConditions(x.r, x.e, aspects, mode)
  const throughput = ['blocks', 'mode', 'memory', 'probe', 'evm', 'senders'] as const
  const storageAspects = ['blocks', 'memory', 'store', 'failed-counters'] as const
  const out: StudyComparison[] = []
  out.push(
    hist
      ? row(1, `${f(hist.e.totals.txPerSec, 0)} tx/s, ${f(hist.e.totals.mgasPerSec, 2)} Mgas/s`, on(hist), cond(hist, throughput, 'historical'))
      : anyE
        ? row(1, `${f(anyE.e.totals.txPerSec, 0)} tx/s, ${f(anyE.e.totals.mgasPerSec, 2)} Mgas/s (${anyE.e.mode} sync)`, on(anyE), cond(anyE, throughput, 'historical'))
        : row(1, null, 'replay --mode historical'),
  )
  if (withStorage?.e.storage) {
    const t = withStorage.e.storage.tables
    const flat = t.accounts.bytes + t.storage.bytes + t.bytecodes.bytes
    const trie = t.account_trie.bytes + t.storage_trie.bytes
    out.push(row(2, `flat state ${formatSize(flat)}, tries ${formatSize(trie)} (+${f((trie / Math.max(flat, 1)) * 100, 0)}%)`, on(withStorage), [
      `the state the blocks' witnesses (or the chain's genesis) hold vs the study's full mainnet state`,
      ...cond(withStorage, ['blocks', 'store']),
    ]))
  } else out.push(row(2, null, 'replay with LMDB storage (the default)'))
  if (anyE) {
    const p = anyE.e.totals.phases
    const total = anyE.e.totals.processingMs
    out.push(row(3, `execution ${f(((p.execution + p.stateLoad) / Math.max(total, 1e-9)) * 100)}% of block processing`, on(anyE), cond(anyE, throughput, 'historical')))
  } else out.push(row(3, null, 'replay'))
  if (prof?.e.opcodes) {
    const rows = prof.e.opcodes.rows
    const top30 = rows[Math.min(29, rows.length - 1)]?.cumulativePct ?? 0
    const sload = rows.find((x) => x.name === 'SLOAD')?.pctTime ?? 0
    const host = prof.e.opcodes.categories.filter((c) => c.category === 'host' || c.category === 'system').reduce((s, c) => s + c.pct, 0)
    const stack = prof.e.opcodes.categories.find((c) => c.category === 'stack')?.pct ?? 0
    const jit = jitBounds(categoryShares(prof.e))
    const c = cond(prof, ['blocks', 'profile', 'evm'])
    out.push(row(4, `${rows.length} opcodes profiled`, on(prof), c))
    out.push(row(5, `top 30 = ${f(top30)}%; top five ${rows.slice(0, 5).map((x) => x.name).join(', ')}; SLOAD ${f(sload)}%`, on(prof), [...c, ...cond(prof, ['memory'])]))
    out.push(row(6, `host + system ${f(host)}%, stack ${f(stack)}%, the rest ${f(100 - host - stack)}%`, on(prof), c))
    out.push(row(7, `≤ ${f(jit.bounds[2]!.bound, 2)}x (compilable share ${f(jit.compilableShare * 100)}% of opcode time)`, on(prof), c))
  } else {
    const how = 'none' in profile && !profile.none.startsWith('no opcode profile') ? `replay --opcodes (${profile.none})` : 'replay --opcodes'
    for (const id of [4, 5, 6, 7]) out.push(row(id, null, how))
  }
  // Row 8 is the study's historical sweep, row 13 its live one: each takes a sweep of its mode when there is one.
  const sweepFor = (mode: 'historical' | 'live') => usableSweeps.find((s) => s.result.config.mode === mode) ?? usableSweeps[0]
  const sweepRow = (id: 8 | 13, mode: 'historical' | 'live') => {
    const sw = sweepFor(mode)
    if (sw === undefined) {
      const why = sweeps.length > 0 ? ` (no limit of ${sweeps[0]!.label} at which every run verified)` : ''
      return row(id, null, `megabench sweep --memory … --mode ${mode}${why}`)
    }
    const ps = [...verifiedSweepPoints(sw.result)].sort((a, b) => a.memoryBytes - b.memoryBytes)
    const small = ps[0]!
    const big = ps.at(-1)!
    const at = (x: number) => formatSize(x)
    const measured =
      id === 8
        ? `total time at ${at(small.memoryBytes)} was ${f(small.median.totalMs / Math.max(big.median.totalMs, 1e-9), 2)}x that at ${at(big.memoryBytes)} (${ratioDirection(small.median.totalMs / Math.max(big.median.totalMs, 1e-9), 'slower', 'faster')}; ${f(small.median.txPerSec, 0)} tx/s at the smallest)`
        : `merkleization at ${at(small.memoryBytes)} took ${f(small.median.merkleizationMs / Math.max(big.median.merkleizationMs, 1e-9), 2)}x the time it took at ${at(big.memoryBytes)} (${ratioDirection(small.median.merkleizationMs / Math.max(big.median.merkleizationMs, 1e-9), 'slower', 'faster')}); tx/s at ${at(small.memoryBytes)} was ${rateRatioWords(small.median.txPerSec / Math.max(big.median.txPerSec, 1e-9), 'tx/s', `at ${at(big.memoryBytes)}`)}`
    return row(id, measured, `${sw.label}: sweep, ${sw.result.config.mode} sync`, sweepConditions(sw.result, mode))
  }
  out.push(sweepRow(8, 'historical'))
  out.push(sweepRow(13, 'live'))
  if (withStorage?.e.storage) {
    const s = withStorage.e.storage
    const reach = s.l1.missRatio * s.l2.missRatio
    out.push(row(9, `${f(s.l1.missRatio * 100)}% and ${f(s.l2.missRatio * 100)}% miss (${f(reach * 100, 2)}% of requests reach LMDB); mean penalty ${f(s.missPenalty.execution.meanNs / 1000, 1)} µs`, on(withStorage), cond(withStorage, storageAspects)))
  } else out.push(row(9, null, 'replay with LMDB storage'))
  if (!('none' in decomposition)) {
    const d = decomposition.run.result.decomposition!
    const besides = decomposition.besides.map((b) => `live vs historical differ besides the mode: ${b}`)
    const l = decomposedBaseline(decomposition.run.result, 'live')!
    const c = [...besides, ...engineConditions(decomposition.run.result, l, ['blocks', 'memory', 'probe', 'evm'])]
    out.push(row(10, `${f(d.liveTxPerSec, 0)} tx/s: live ${timeRatioWords(d.slowdown, `historical (${f(d.historicalTxPerSec, 0)} tx/s)`)}`, `${decomposition.run.label}: replay --mode both`, c))
    out.push(
      row(
        11,
        `merkleization: live without persistence ${timeRatioWords(d.merkleizationFactor, 'historical')}; persistence: live ${timeRatioWords(d.persistenceFactor, 'live without persistence')}`,
        `${decomposition.run.label}: replay --mode both`,
        c,
      ),
    )
  } else {
    const how = decomposition.none.startsWith('no run of both modes') ? 'replay --mode both' : `replay --mode both (${decomposition.none})`
    out.push(live ? row(10, `${f(live.e.totals.txPerSec, 0)} tx/s`, on(live), cond(live, throughput, 'live')) : row(10, null, 'replay --mode live'))
    out.push(row(11, null, how))
  }
  if (withStorage?.e.storage) {
    const m = withStorage.e.storage.merkleization
    const pen = withStorage.e.storage.missPenalty
    const all = pen.execution.count + pen.merkleization.count
    const mean = all > 0 ? (pen.execution.totalMs + pen.merkleization.totalMs) / all : 0
    out.push(
      all > 0
        ? row(12, `${f(mean * 1000, 1)} µs per LMDB read (mean over ${all.toLocaleString('en-US')} level-2 misses)`, on(withStorage), cond(withStorage, storageAspects))
        : row(12, null, `${on(withStorage)}: no level-2 miss, so no LMDB read was timed (a --memory budget below the working set forces them)`),
    )
    out.push(row(17, `${f(m.lmdbReadsPerKey, 2)} LMDB reads and ${f(m.nodeReadsPerKey, 2)} trie-node reads per updated key`, on(withStorage), cond(withStorage, storageAspects)))
  } else {
    out.push(row(12, null, 'replay with LMDB storage'))
    out.push(row(17, null, 'replay with LMDB storage'))
  }
  const r = recap(runs, sweeps)
  const rd = recapDifferences(runs).map((d) => `historical and live steps differ besides the mode: ${d}`)
  out.push(
    row(
      14,
      r.length > 0 ? r.map((x) => `${f(x.txPerSec, 0)}`).join(' → ') + ' tx/s' : null,
      r.length > 0 ? r.map((x) => `${x.step}: ${x.measuredOn}`).join('; ') : 'replay --mode both and sweep --mode live',
      [...rd, ...(anyE ? cond(anyE, ['blocks', 'evm']) : []), ...(r.some((x) => x.order === 2) ? ["no CPU budget vs the study's 10% CPU budget in its last step"] : [])],
    ),
  )
  const an = analysesStudyRows(runs)
  const arow = (id: 15 | 16 | 18, how: string) => {
    const a = an[id]
    return a ? row(id, a.measured, a.measuredOn, analysesConditions(a.analyses, id)) : row(id, null, how)
  }
  out.push(arow(15, 'replay --analyze parallelism (or megabench analyze parallelism)'))
  out.push(arow(16, 'replay --analyze statediff (or megabench analyze statediff)'))
  out.push(arow(18, 'replay --analyze bounds (or megabench analyze bounds)'))
  return out.sort((a, b) => a.id - b.id)
}

export type ComparisonRow = { metric: string; values: number[]; ratios: (number | null)[]; spreads: (Spread | null)[] }

export type Comparisons = {
  series: string[]
  rows: ComparisonRow[]
  /** Per series: what differs from the first series besides the engine (and the run), e.g. the blocks. */
  differs: string[][]
}

/**
 * Side-by-side values of every engine run that verified a block, each one's ratio to the first, the spread
 * over measured passes where there were several, and what differs from the first besides the engine.
 */
export function comparisons(runs: readonly LabeledRun[]): Comparisons {
  const entries = runs.flatMap((r) => r.result.engines.filter(hasVerified).map((e) => ({ name: seriesName(runs, r, e), run: r.result, e })))
  const metric = (name: string, f: (e: EngineResult) => number, spreadOf: (e: EngineResult) => Spread | undefined = () => undefined) => {
    // With several passes, each row's value is its median pass (inside the range shown beside it).
    const values = entries.map((x) => {
      const sp = spreadOf(x.e)
      return sp !== undefined && sp.n > 1 ? sp.median : f(x.e)
    })
    return {
      metric: name,
      values,
      ratios: values.map((v) => (values[0]! > 0 ? v / values[0]! : null)),
      spreads: entries.map((x) => {
        const sp = spreadOf(x.e)
        return sp !== undefined && sp.n > 1 ? sp : null
      }),
    }
  }
  const first = entries[0]
  return {
    series: entries.map((x) => x.name),
    rows: [
      metric('tx/s', (e) => e.totals.txPerSec, (e) => e.repeats.txPerSec),
      metric('Mgas/s', (e) => e.totals.mgasPerSec),
      metric('block processing ms', (e) => e.totals.processingMs, (e) => e.repeats.processingMs),
      ...PHASES.map((p) => metric(`${PHASE_LABELS[p]} ms`, (e) => e.totals.phases[p], (e) => e.repeats.phases[p])),
      metric('verified blocks', (e) => e.totals.verifiedBlocks),
    ],
    differs: entries.map((x, i) => (i === 0 || first === undefined ? [] : conditionDifferences({ run: x.run, engine: x.e }, { run: first.run, engine: first.e }).map(describeDifference))),
  }
}

export type RunWarning = { label: string; reference: string; differences: Difference[] }

/**
 * Runs given together that differ besides the engines being compared: each run's differences from the first
 * (blocks, EVM, senders, storage, memory budget, modes, opcode profiling, protocol, machine).
 */
export function runWarnings(runs: readonly LabeledRun[]): RunWarning[] {
  const first = runs[0]
  if (first === undefined) return []
  return runs
    .slice(1)
    .map((r) => ({ label: r.label, reference: first.label, differences: runDifferences(r.result, first.result) }))
    .filter((w) => w.differences.length > 0)
}

/** A median with its spread over passes: "118 ±32.8% (79–156, 2 passes)", or the value alone for one pass. */
export function withSpread(value: number, spread: Spread | null | undefined, digits = 0): string {
  const f = (x: number) => x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
  if (spread === null || spread === undefined || spread.n < 2 || (spread.min === 0 && spread.max === 0)) return f(value)
  return `${f(value)} ±${(spread.relHalfRange * 100).toFixed(1)}% (${f(spread.min)}–${f(spread.max)}, ${spread.n} passes)`
}

export type SummaryRow = {
  series: string
  /** Which EVM executed the blocks: @ethereumjs/evm, or the fast EVM (its tier) with any fallbacks counted. */
  evm: string
  verified: number
  blocks: number
  txs: number
  /** Null when the engine run verified no block (nothing to report). */
  txPerSec: string | null
  mgasPerSec: string | null
  processingMs: string | null
  phases: { phase: string; ms: number; share: number }[] | null
}

/** The summary table's rows: medians with their spread over passes (when more than one), verified blocks only. */
export function summaryRows(runs: readonly LabeledRun[]): SummaryRow[] {
  return runs.flatMap((r) =>
    r.result.engines.map((e) => {
      const ok = hasVerified(e)
      const t = e.totals
      const ev = e.mega?.evm ?? e.baseline?.evm
      return {
        series: seriesName(runs, r, e),
        evm:
          e.evm !== 'fast' || ev === undefined
            ? '@ethereumjs/evm'
            : `fast EVM${ev.tier === undefined ? '' : ` (${ev.tier})`}${ev.ethereumjsBlocks > 0 ? `: ${ev.fastBlocks} blocks; @ethereumjs/evm ${ev.ethereumjsBlocks}` : ''}`,
        verified: t.verifiedBlocks,
        blocks: t.blocks,
        txs: t.txs,
        txPerSec: ok ? withSpread(t.txPerSec, e.repeats.txPerSec) : null,
        mgasPerSec: ok ? withSpread(t.mgasPerSec, null, 2) : null,
        processingMs: ok ? `${withSpread(t.processingMs, e.repeats.processingMs)} ms` : null,
        phases: ok ? PHASES.map((p) => ({ phase: PHASE_LABELS[p], ms: t.phases[p], share: t.processingMs > 0 ? t.phases[p] / t.processingMs : 0 })) : null,
      }
    }),
  )
}

/** The measurement protocol of a run in one sentence (warm-up passes, measured passes, their order). */
export function protocolSentence(r: RunResult): string {
  const p = r.config.protocol
  const measured = p.order.filter((o) => !o.startsWith('warm-up '))
  return (
    `${p.warmup} warm-up pass${p.warmup === 1 ? '' : 'es'} of every variant (not reported), then ${p.repeat} measured pass${p.repeat === 1 ? '' : 'es'}` +
    `${p.repeat > 1 ? ' interleaved A B B A (medians, ± half the range over passes)' : ''}` +
    `${r.config.opcodes ? '; timings from unprofiled passes, the opcode profile from separate profiled ones' : ''}; measured order: ${measured.join(', ')}`
  )
}

/** Per fast-EVM engine run whose measured passes compiled code (its tiers changed while measuring), the sentence saying so. */
export function tierNotes(runs: readonly LabeledRun[]): string[] {
  return runs.flatMap((r) =>
    r.result.engines.flatMap((e) => {
      const t = tierSentence(e)
      return t === undefined ? [] : [`${seriesName(runs, r, e)}: ${t}`]
    }),
  )
}

/** The opcode probe's measured overhead per profiled engine run, as sentences. */
export function probeOverheads(runs: readonly LabeledRun[]): string[] {
  return runs.flatMap((r) =>
    r.result.engines.flatMap((e) => {
      const o = e.profilerOverhead
      if (o === null) return []
      const passes = o.profiledMs.n > 1 ? `, medians of ${o.profiledMs.n} passes` : ''
      return [
        `${seriesName(runs, r, e)}: profiled passes ${timeRatioWords(o.ratio, 'unprofiled ones')} (${o.profiledMs.median.toFixed(0)} ms vs ${o.unprofiledMs.median.toFixed(0)} ms of block processing on the same warm blocks${passes})`,
      ]
    }),
  )
}

/** An opcode's average ns over the profiled passes' range of its total time (null for one pass). */
export function avgNsRange(row: { count: number; totalNsMin?: number | undefined; totalNsMax?: number | undefined }, passes: number | undefined): [number, number] | null {
  if ((passes ?? 1) < 2 || row.count === 0 || row.totalNsMin === undefined || row.totalNsMax === undefined) return null
  return [row.totalNsMin / row.count, row.totalNsMax / row.count]
}

/** One mega-engine run beside the baseline run of the same mode and source (when the run has one). */
export type MegaRow = {
  series: string
  mode: string
  txPerSec: number
  /** tx/s ÷ the baseline's tx/s in the same mode, same run (null without a baseline). */
  vsBaseline: number | null
  threads: number
  /** Parallel: share of transactions taken from the workers (null when in order). */
  acceptedShare: number | null
  conflictShare: number | null
  keyUpdatesPerSec: number
  hashesPerUpdate: number
  /** The baseline's MPT on LMDB in the same mode: key updates per second of merkleization, LMDB reads per updated key. */
  mptKeyUpdatesPerSec: number | null
  mptLmdbReadsPerKey: number | null
  diffBytesPerTx: number | null
  /** "N of M per-block state diffs equal the baseline's" from the run's differential, or null when engines were not compared. */
  differential: string | null
  /** The EVM that executed the blocks: "fast" (with the blocks @ethereumjs/evm ran where it does not apply) or "ethereumjs". */
  evm: string
  /**
   * With the same run's mega variant on @ethereumjs/evm (same mode and workers): its execution time ÷ this
   * one's (the EVM's speedup on this workload, execution phase only) and its tx/s ratio. Null otherwise.
   */
  evmExecutionSpeedup: number | null
  evmThroughputRatio: number | null
  /** What differs from the baseline run besides the engine (named beside × baseline). */
  besides: string[]
  /** What differs from the @ethereumjs/evm variant besides the EVM (named beside the fast EVM's ratios). */
  evmBesides: string[]
}

export function megaRows(runs: readonly LabeledRun[]): MegaRow[] {
  return runs.flatMap((r) =>
    r.result.engines
      .filter((e) => e.mega !== null && e.mega !== undefined)
      .map((e) => {
        const m = e.mega!
        const base = r.result.engines.find((b) => b.name === 'baseline' && b.mode === e.mode)
        const mk = base?.storage?.merkleization
        const keys = mk ? mk.updatedAccounts + mk.updatedSlots : 0
        const d = r.result.differential
        const ev = m.evm
        // Compared only when the fast EVM ran blocks and nothing was opcode-profiled (profiling slows @ethereumjs only).
        const comparable = ev?.requested === 'fast' && ev.fastBlocks > 0 && r.result.config.opcodes !== true
        const ejs = comparable && hasVerified(e) ? r.result.engines.find((o) => o.mega?.evm?.requested === 'ethereumjs' && o.mode === e.mode && o.mega.threads === m.threads) : undefined
        return {
          series: seriesName(runs, r, e),
          mode: e.mode,
          txPerSec: passTxPerSec(e),
          vsBaseline: base && hasVerified(base) && hasVerified(e) && passTxPerSec(base) > 0 ? passTxPerSec(e) / passTxPerSec(base) : null,
          threads: m.threads,
          acceptedShare: m.threads > 0 && m.parallel.txs > 0 ? m.parallel.accepted / m.parallel.txs : null,
          conflictShare: m.threads > 0 && m.parallel.txs > 0 ? m.parallel.conflicts / m.parallel.txs : null,
          keyUpdatesPerSec: m.keyUpdatesPerSec,
          hashesPerUpdate: m.hashesPerUpdate,
          mptKeyUpdatesPerSec: mk && base!.totals.phases.merkleization > 0 ? keys / (base!.totals.phases.merkleization / 1000) : null,
          mptLmdbReadsPerKey: mk ? mk.lmdbReadsPerKey : null,
          diffBytesPerTx: e.totals.txs > 0 ? m.stateDiffBytes / e.totals.txs : null,
          differential: d === null || d === undefined ? null : `${d.compared - d.mismatches} of ${d.compared} per-block state diffs equal the baseline's`,
          evm: ev === undefined || ev.requested === 'ethereumjs' ? 'ethereumjs' : `fast${ev.tier === undefined ? '' : `, ${ev.tier}`}${ev.ethereumjsBlocks > 0 ? ` (${ev.fastBlocks} blocks; ethereumjs ${ev.ethereumjsBlocks})` : ''}`,
          evmExecutionSpeedup: ejs !== undefined && hasVerified(ejs) && e.totals.phases.execution > 0 ? ejs.totals.phases.execution / e.totals.phases.execution : null,
          evmThroughputRatio: ejs !== undefined && hasVerified(ejs) && passTxPerSec(ejs) > 0 ? passTxPerSec(e) / passTxPerSec(ejs) : null,
          besides: base === undefined ? [] : engineDifferences(e, base).map(describeDifference),
          evmBesides: ejs === undefined ? [] : engineDifferences(e, ejs).filter((d) => d.what !== 'EVM').map(describeDifference),
        }
      }),
  )
}
