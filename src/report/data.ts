import type { FlameData } from './flame.js'
import { COMPILABLE_CATEGORIES, JIT_FACTORS, amdahl } from '../analyses/jit.js'
import { PHASES, type PhaseName } from '../probes/phases.js'
import { analysesStudyRows } from './analyses.js'
import type { EngineResult, RunResult } from '../run/schema.js'
import type { SweepResult } from '../run/sweepSchema.js'
import { formatSize } from '../storage/memory.js'
import { STUDY_ROWS } from './study.js'

/**
 * Data shaping behind every chart and table of the report: pure functions from run and sweep
 * results to rows. Failed blocks contribute nothing (rows come from verified blocks, and totals
 * already count verified blocks only).
 */

/** A run to report; `flame`: its CPU profile's flame graph (replay --profile cpu). */
export type LabeledRun = { label: string; result: RunResult; flame?: FlameData | undefined }
export type LabeledSweep = { label: string; result: SweepResult }

/** The name a chart uses for one engine run: `baseline/live`, prefixed by the run's label if there are several runs. */
export function seriesName(runs: readonly LabeledRun[], run: LabeledRun, e: EngineResult): string {
  return runs.length > 1 ? `${run.label}: ${e.label}` : e.label
}

export type ThroughputPoint = { series: string; block: number; txPerSec: number; mgasPerSec: number }

/** Throughput of every verified block, per engine and mode. */
export function throughputSeries(runs: readonly LabeledRun[]): ThroughputPoint[] {
  const out: ThroughputPoint[] = []
  for (const r of runs) {
    for (const e of r.result.engines) {
      const series = seriesName(runs, r, e)
      for (const b of e.blocks) if (b.verified) out.push({ series, block: b.number, txPerSec: b.txPerSec, mgasPerSec: b.mgasPerSec })
    }
  }
  return out
}

export const PHASE_LABELS: Record<PhaseName, string> = {
  senderRecovery: 'sender recovery',
  execution: 'execution',
  stateLoad: 'state load',
  merkleization: 'merkleization',
  persistence: 'persistence',
}

export type PhaseShare = { series: string; phase: string; order: number; ms: number; share: number }

/** Time per phase (verified blocks) for every engine run, with each phase's share of the total. */
export function phaseBreakdown(runs: readonly LabeledRun[]): PhaseShare[] {
  const out: PhaseShare[] = []
  for (const r of runs) {
    for (const e of r.result.engines) {
      const total = e.totals.processingMs
      PHASES.forEach((p, order) =>
        out.push({ series: seriesName(runs, r, e), phase: PHASE_LABELS[p], order, ms: e.totals.phases[p], share: total > 0 ? e.totals.phases[p] / total : 0 }),
      )
    }
  }
  return out
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

/** The first engine run with an opcode profile. */
export function profiledEngine(runs: readonly LabeledRun[]): { run: LabeledRun; engine: EngineResult } | undefined {
  for (const run of runs) for (const engine of run.result.engines) if (engine.opcodes !== null) return { run, engine }
  return undefined
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

export type SweepCurvePoint = { memoryBytes: number; memory: string; curve: string; ms: number }

/** The study's memory-sweep curves: total, execution, miss penalty, merkleization, write time per limit. */
export function sweepCurves(s: SweepResult): SweepCurvePoint[] {
  const curves: [string, Exclude<keyof SweepResult['points'][number]['median'], 'engines'>][] = [
    ['total', 'totalMs'],
    ['execution', 'executionMs'],
    ['miss penalty', 'missPenaltyMs'],
    ['merkleization', 'merkleizationMs'],
    ['write', 'writeMs'],
  ]
  return s.points.flatMap((p) => curves.map(([curve, k]) => ({ memoryBytes: p.memoryBytes, memory: formatSize(p.memoryBytes), curve, ms: p.median[k] })))
}

export type SweepEnginePoint = { memoryBytes: number; memory: string; engine: string; txPerSec: number }

/** Throughput per limit of every engine in the sweep's runs (one line each: the baseline's caches vary, the mega engine keeps its state in memory). */
export function sweepEngines(s: SweepResult): SweepEnginePoint[] {
  return s.points.flatMap((p) => p.median.engines.map((e) => ({ memoryBytes: p.memoryBytes, memory: formatSize(p.memoryBytes), engine: e.label, txPerSec: e.txPerSec })))
}

export type MissRatioPoint = { memoryBytes: number; memory: string; level: string; ratio: number }

export function sweepMissRatios(s: SweepResult): MissRatioPoint[] {
  return s.points.flatMap((p) => [
    { memoryBytes: p.memoryBytes, memory: formatSize(p.memoryBytes), level: 'level 1 (client cache)', ratio: p.median.l1MissRatio },
    { memoryBytes: p.memoryBytes, memory: formatSize(p.memoryBytes), level: 'level 2 (DB cache)', ratio: p.median.l2MissRatio },
  ])
}

export type HistogramBar = { bucket: string; fromNs: number; count: number }

/** Miss-penalty histogram (log2 ns buckets) of a sweep's first run, or of a run's execution penalties. */
export function penaltyHistogram(buckets: readonly { fromNs: number; toNs: number; count: number }[]): HistogramBar[] {
  const fmt = (ns: number) => (ns >= 1e6 ? `${ns / 1e6} ms` : ns >= 1e3 ? `${ns / 1e3} µs` : `${ns} ns`)
  return buckets.map((b) => ({ bucket: `${fmt(b.fromNs)}–${fmt(b.toNs)}`, fromNs: b.fromNs, count: b.count }))
}

export type RecapStep = { step: string; order: number; txPerSec: number; measuredOn: string }

/**
 * The recap waterfall with our numbers: historical → live → live at the smallest memory limit of a
 * live sweep. Steps without data are left out (the report says which run would provide them).
 */
export function recap(runs: readonly LabeledRun[], sweeps: readonly LabeledSweep[]): RecapStep[] {
  const out: RecapStep[] = []
  const engines = runs.flatMap((r) => r.result.engines.filter((e) => e.name === 'baseline').map((e) => ({ r, e })))
  const h = engines.find((x) => x.e.mode === 'historical')
  const l = engines.find((x) => x.e.mode === 'live' && x.e.storage !== null)
  if (h) out.push({ step: 'historical sync', order: 0, txPerSec: h.e.totals.txPerSec, measuredOn: h.r.label })
  if (l) out.push({ step: 'live sync', order: 1, txPerSec: l.e.totals.txPerSec, measuredOn: l.r.label })
  const live = sweeps.find((s) => s.result.config.mode === 'live')
  const smallest = live?.result.points.reduce((a, b) => (a.memoryBytes <= b.memoryBytes ? a : b))
  if (live && smallest) {
    out.push({ step: `live, ${formatSize(smallest.memoryBytes)} memory`, order: 2, txPerSec: smallest.median.txPerSec, measuredOn: live.label })
  }
  return out
}

export type StudyComparison = { id: number; figure: string; study: string; measured: string | null; measuredOn: string }

/**
 * Every row of the study's measurements with our value where these runs measure it, and otherwise
 * the run that would.
 */
export function studyVsMeasured(runs: readonly LabeledRun[], sweeps: readonly LabeledSweep[]): StudyComparison[] {
  // The study measured a conventional client: its rows compare with the baseline engine.
  const engines = runs.flatMap((r) => r.result.engines.filter((e) => e.name === 'baseline').map((e) => ({ label: r.label, r: r.result, e })))
  const hist = engines.find((x) => x.e.mode === 'historical')
  const live = engines.find((x) => x.e.mode === 'live')
  const anyE = hist ?? live ?? engines[0]
  const withStorage = engines.find((x) => x.e.storage !== null)
  const prof = engines.find((x) => x.e.opcodes !== null)
  const decomposition = runs.find((r) => r.result.decomposition !== null)
  const sweep = sweeps[0]
  const f = (x: number, d = 1) => x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d })
  const on = (x: { label: string; e: EngineResult; r: RunResult }) =>
    `${x.label}: ${x.r.config.source.kind} ${x.r.config.source.paths.join(', ')}, ${x.e.label}, ${x.e.totals.verifiedBlocks} verified blocks`
  const row = (id: number, measured: string | null, measuredOn: string) => {
    const s = STUDY_ROWS.find((x) => x.id === id)!
    return { id, figure: s.figure, study: s.study, measured, measuredOn }
  }
  const out: StudyComparison[] = []
  out.push(
    hist
      ? row(1, `${f(hist.e.totals.txPerSec, 0)} tx/s, ${f(hist.e.totals.mgasPerSec, 2)} Mgas/s`, on(hist))
      : anyE
        ? row(1, `${f(anyE.e.totals.txPerSec, 0)} tx/s, ${f(anyE.e.totals.mgasPerSec, 2)} Mgas/s (${anyE.e.mode} sync)`, on(anyE))
        : row(1, null, 'replay --mode historical'),
  )
  if (withStorage?.e.storage) {
    const t = withStorage.e.storage.tables
    const flat = t.accounts.bytes + t.storage.bytes + t.bytecodes.bytes
    const trie = t.account_trie.bytes + t.storage_trie.bytes
    out.push(row(2, `flat state ${formatSize(flat)}, tries ${formatSize(trie)} (+${f((trie / Math.max(flat, 1)) * 100, 0)}%)`, on(withStorage)))
  } else out.push(row(2, null, 'replay with LMDB storage (the default)'))
  if (anyE) {
    const p = anyE.e.totals.phases
    const total = anyE.e.totals.processingMs
    out.push(row(3, `execution ${f(((p.execution + p.stateLoad) / Math.max(total, 1e-9)) * 100)}% of block processing`, on(anyE)))
  } else out.push(row(3, null, 'replay'))
  if (prof?.e.opcodes) {
    const rows = prof.e.opcodes.rows
    const top30 = rows[Math.min(29, rows.length - 1)]?.cumulativePct ?? 0
    const sload = rows.find((x) => x.name === 'SLOAD')?.pctTime ?? 0
    const host = prof.e.opcodes.categories.filter((c) => c.category === 'host' || c.category === 'system').reduce((s, c) => s + c.pct, 0)
    const stack = prof.e.opcodes.categories.find((c) => c.category === 'stack')?.pct ?? 0
    const jit = jitBounds(categoryShares(prof.e))
    out.push(row(4, `${rows.length} opcodes profiled`, on(prof)))
    out.push(row(5, `top 30 = ${f(top30)}%; top five ${rows.slice(0, 5).map((x) => x.name).join(', ')}; SLOAD ${f(sload)}%`, on(prof)))
    out.push(row(6, `host + system ${f(host)}%, stack ${f(stack)}%, the rest ${f(100 - host - stack)}%`, on(prof)))
    out.push(row(7, `≤ ${f(jit.bounds[2]!.bound, 2)}x (compilable share ${f(jit.compilableShare * 100)}% of opcode time)`, on(prof)))
  } else {
    for (const id of [4, 5, 6, 7]) out.push(row(id, null, 'replay --opcodes'))
  }
  if (sweep) {
    const ps = [...sweep.result.points].sort((a, b) => a.memoryBytes - b.memoryBytes)
    const small = ps[0]!
    const big = ps.at(-1)!
    out.push(
      row(8, `${f(small.median.totalMs / Math.max(big.median.totalMs, 1e-9), 2)}x total time from ${formatSize(big.memoryBytes)} to ${formatSize(small.memoryBytes)} (${f(small.median.txPerSec, 0)} tx/s at the smallest)`, `${sweep.label}: sweep, ${sweep.result.config.mode} sync`),
    )
    out.push(
      row(13, `merkleization ${f(small.median.merkleizationMs / Math.max(big.median.merkleizationMs, 1e-9), 2)}x slower at ${formatSize(small.memoryBytes)} vs ${formatSize(big.memoryBytes)}; tx/s ${f(big.median.txPerSec / Math.max(small.median.txPerSec, 1e-9), 2)}x lower`, `${sweep.label}: sweep, ${sweep.result.config.mode} sync`),
    )
  } else {
    out.push(row(8, null, 'megabench sweep --memory … --mode historical'))
    out.push(row(13, null, 'megabench sweep --memory … --mode live'))
  }
  if (withStorage?.e.storage) {
    const s = withStorage.e.storage
    const reach = s.l1.missRatio * s.l2.missRatio
    out.push(row(9, `${f(s.l1.missRatio * 100)}% and ${f(s.l2.missRatio * 100)}% miss (${f(reach * 100, 2)}% of requests reach LMDB); mean penalty ${f(s.missPenalty.execution.meanNs / 1000, 1)} µs`, on(withStorage)))
  } else out.push(row(9, null, 'replay with LMDB storage'))
  if (decomposition?.result.decomposition) {
    const d = decomposition.result.decomposition
    out.push(row(10, `${f(d.liveTxPerSec, 0)} tx/s: ${f(d.slowdown, 2)}x below historical (${f(d.historicalTxPerSec, 0)} tx/s)`, `${decomposition.label}: replay --mode both`))
    out.push(row(11, `${f(d.merkleizationFactor, 2)}x from merkleization, a further ${f(d.persistenceFactor, 2)}x from persistence`, `${decomposition.label}: replay --mode both`))
  } else if (live) {
    out.push(row(10, `${f(live.e.totals.txPerSec, 0)} tx/s`, on(live)))
    out.push(row(11, null, 'replay --mode both'))
  } else {
    out.push(row(10, null, 'replay --mode live'))
    out.push(row(11, null, 'replay --mode both'))
  }
  if (withStorage?.e.storage) {
    const m = withStorage.e.storage.merkleization
    const pen = withStorage.e.storage.missPenalty
    const all = pen.execution.count + pen.merkleization.count
    const mean = all > 0 ? (pen.execution.totalMs + pen.merkleization.totalMs) / all : 0
    out.push(row(12, `${f(mean * 1000, 1)} µs per LMDB read (mean over ${all.toLocaleString('en-US')} level-2 misses)`, on(withStorage)))
    out.push(row(17, `${f(m.lmdbReadsPerKey, 2)} LMDB reads and ${f(m.nodeReadsPerKey, 2)} trie-node reads per updated key`, on(withStorage)))
  } else {
    out.push(row(12, null, 'replay with LMDB storage'))
    out.push(row(17, null, 'replay with LMDB storage'))
  }
  const r = recap(runs, sweeps)
  out.push(row(14, r.length > 0 ? r.map((x) => `${f(x.txPerSec, 0)}`).join(' → ') + ' tx/s' : null, r.length > 0 ? r.map((x) => `${x.step}: ${x.measuredOn}`).join('; ') : 'replay --mode both and sweep --mode live'))
  const an = analysesStudyRows(runs)
  out.push(an[15] ? row(15, an[15].measured, an[15].measuredOn) : row(15, null, 'replay --analyze parallelism (or megabench analyze parallelism)'))
  out.push(an[16] ? row(16, an[16].measured, an[16].measuredOn) : row(16, null, 'replay --analyze statediff (or megabench analyze statediff)'))
  out.push(an[18] ? row(18, an[18].measured, an[18].measuredOn) : row(18, null, 'replay --analyze bounds (or megabench analyze bounds)'))
  return out.sort((a, b) => a.id - b.id)
}

export type ComparisonRow = { metric: string; values: number[]; ratios: (number | null)[] }

/** Side-by-side values of every engine run, and each one's ratio to the first. */
export function comparisons(runs: readonly LabeledRun[]): { series: string[]; rows: ComparisonRow[] } {
  const entries = runs.flatMap((r) => r.result.engines.map((e) => ({ name: seriesName(runs, r, e), e })))
  const metric = (name: string, f: (e: EngineResult) => number) => {
    const values = entries.map((x) => f(x.e))
    return { metric: name, values, ratios: values.map((v) => (values[0]! > 0 ? v / values[0]! : null)) }
  }
  return {
    series: entries.map((x) => x.name),
    rows: [
      metric('tx/s', (e) => e.totals.txPerSec),
      metric('Mgas/s', (e) => e.totals.mgasPerSec),
      metric('block processing ms', (e) => e.totals.processingMs),
      ...PHASES.map((p) => metric(`${PHASE_LABELS[p]} ms`, (e) => e.totals.phases[p])),
      metric('verified blocks', (e) => e.totals.verifiedBlocks),
    ],
  }
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
        const ejs = comparable ? r.result.engines.find((o) => o.mega?.evm?.requested === 'ethereumjs' && o.mode === e.mode && o.mega.threads === m.threads) : undefined
        return {
          series: seriesName(runs, r, e),
          mode: e.mode,
          txPerSec: e.totals.txPerSec,
          vsBaseline: base && base.totals.txPerSec > 0 ? e.totals.txPerSec / base.totals.txPerSec : null,
          threads: m.threads,
          acceptedShare: m.threads > 0 && m.parallel.txs > 0 ? m.parallel.accepted / m.parallel.txs : null,
          conflictShare: m.threads > 0 && m.parallel.txs > 0 ? m.parallel.conflicts / m.parallel.txs : null,
          keyUpdatesPerSec: m.keyUpdatesPerSec,
          hashesPerUpdate: m.hashesPerUpdate,
          mptKeyUpdatesPerSec: mk && base!.totals.phases.merkleization > 0 ? keys / (base!.totals.phases.merkleization / 1000) : null,
          mptLmdbReadsPerKey: mk ? mk.lmdbReadsPerKey : null,
          diffBytesPerTx: e.totals.txs > 0 ? m.stateDiffBytes / e.totals.txs : null,
          differential: d === null || d === undefined ? null : `${d.compared - d.mismatches} of ${d.compared} per-block state diffs equal the baseline's`,
          evm: ev === undefined || ev.requested === 'ethereumjs' ? 'ethereumjs' : ev.ethereumjsBlocks > 0 ? `fast (${ev.fastBlocks} blocks; ethereumjs ${ev.ethereumjsBlocks})` : 'fast',
          evmExecutionSpeedup: ejs !== undefined && e.totals.phases.execution > 0 ? ejs.totals.phases.execution / e.totals.phases.execution : null,
          evmThroughputRatio: ejs !== undefined && ejs.totals.txPerSec > 0 ? e.totals.txPerSec / ejs.totals.txPerSec : null,
        }
      }),
  )
}
