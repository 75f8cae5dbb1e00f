import { readFile } from 'node:fs/promises'
import { basename } from 'node:path'

import { RunResultError, UsageError } from '../errors/index.js'
import { RUN_SCHEMA_VERSION, type RunResult, runResultSchema } from '../run/schema.js'
import { type CounterSet, type EngineCounters, blockKeys, counterSetSchema, extractCounters } from './counters.js'
import { type Fingerprint, fingerprint, fingerprintDifference, fingerprintDistance, fingerprintKey } from './fingerprint.js'
import { type GatePolicy, type TimingMetric, counterTolerance } from './policy.js'
import { type Call, type Stratum, callChange, hierarchicalChange, median } from './stats.js'
import { verificationSentences } from '../run/verification.js'

export const VERDICT_FORMAT = 'megabench-gate-v2'

/** One run result of a side (one replay process), with its configuration fingerprint. */
export type GateRun = { file: string; run: RunResult; fingerprint: Fingerprint }

/**
 * One side of the comparison: run results (repeats, and possibly several sources: runs are grouped by
 * their fingerprint, each group is a stratum of its own), or one counters file (no timings).
 */
export type GateSide = { files: string[]; runs: GateRun[] } | { files: string[]; runs: null; counters: CounterSet }

export type CounterChange = { engine: string; block: string | null; metric: string; baseline: number | null; current: number | null; tolerance: number }

export type TimingResult = {
  engine: string
  metric: TimingMetric
  floor: number
  /** Paired blocks used (over all sources), and blocks left out (unverified in a run, a time ≤ 0, or a baseline median under minBlockMs). */
  pairs: number
  excluded: number
  /** Runs (replay processes) per side: the fewest any source has. */
  runs: { baseline: number; current: number }
  /** Sources (strata: groups of runs with one fingerprint). */
  sources: number
  /** Sum over the paired blocks of each block's median over the side's runs. */
  baselineMs: number
  currentMs: number
  /** Relative change (0.05 = 5% slower) and its interval; null when there was too little data. */
  estimate: number | null
  lo: number | null
  hi: number | null
  call: Call | 'insufficient-data'
  /** Why the data was insufficient. */
  reason?: string
}

export type GateStatus = 'pass' | 'regression' | 'insufficient-data' | 'inconclusive'

/** Exit codes: 0 pass (no change or improvement), 1 regression, 2 insufficient data (and errors, refusals), 3 inconclusive. */
export const EXIT_CODES = { pass: 0, regression: 1, 'insufficient-data': 2, inconclusive: 3 } as const satisfies Record<GateStatus, number>

export type Verdict = {
  format: typeof VERDICT_FORMAT
  status: GateStatus
  /** 0 pass, 1 regression, 2 insufficient data (the CLI also exits 2 on errors and refusals), 3 inconclusive. */
  exitCode: 0 | 1 | 2 | 3
  createdAt: string
  baseline: { files: string[]; gitCommit: string | null }
  current: { files: string[]; gitCommit: string | null }
  policy: GatePolicy
  engines: string[]
  /** The sources compared (one per fingerprint): name, blocks, runs per side. */
  sources: { name: string; blocks: number; runs: { baseline: number; current: number } }[]
  counters: { enabled: boolean; compared: number; ignored: number; changed: CounterChange[] }
  timings: TimingResult[]
  /** What each side's first run verified, per engine run: built from its per-block check records. */
  verification: { baseline: SideVerification[]; current: SideVerification[] }
  notes: string[]
}

/** One engine run's verification: blocks, verified blocks, and one sentence per check (src/run/verification.ts). */
export type SideVerification = { engine: string; blocks: number; verified: number; checks: string[] }

function sideVerification(s: GateSide, engines: readonly string[]): SideVerification[] {
  const run = s.runs?.[0]?.run
  if (run === undefined) return []
  return run.engines
    .filter((e) => engines.includes(e.label))
    .map((e) => ({ engine: e.label, blocks: e.blocks.length, verified: e.blocks.filter((b) => b.verified).length, checks: verificationSentences(e) }))
}

/**
 * The one place the gate handles run.json schema versions: it reads the version this megabench writes
 * (RUN_SCHEMA_VERSION) and refuses others in one line.
 */
export function parseRunResult(json: unknown, file: string): RunResult {
  const o = (typeof json === 'object' && json !== null ? json : {}) as { kind?: unknown; schemaVersion?: unknown }
  if (o.kind !== 'megabench.run') throw new RunResultError(file, 'not a megabench run result (run.json) or counters file')
  if (o.schemaVersion !== RUN_SCHEMA_VERSION) {
    throw new RunResultError(file, `run.json schema version ${String(o.schemaVersion)}: this megabench reads version ${RUN_SCHEMA_VERSION} (replay both sides with one megabench version)`)
  }
  const r = runResultSchema.safeParse(json)
  if (!r.success) {
    const issue = r.error.issues[0]
    throw new RunResultError(file, `not a valid megabench run result (schema v${RUN_SCHEMA_VERSION}) at ${issue?.path.join('.') || '(root)'}: ${issue?.message}`)
  }
  return r.data
}

/** A side from run results in memory (the fingerprint is taken from `raw` when given: unknown fields count too). */
export function sideFromRuns(runs: readonly { file: string; run: RunResult; raw?: unknown }[]): GateSide {
  if (runs.length === 0) throw new UsageError('no run results given')
  return { files: runs.map((r) => r.file), runs: runs.map((r) => ({ file: r.file, run: r.run, fingerprint: fingerprint((r.raw ?? r.run) as RunResult) })) }
}

/** Reads run.json files (or directories holding one) or one counters file into a side. */
export async function loadGateSide(files: readonly string[]): Promise<GateSide> {
  if (files.length === 0) throw new UsageError('no run results given')
  const runs: { file: string; run: RunResult; raw: unknown }[] = []
  for (const f of files) {
    const { path, json } = await readJson(f)
    if ((json as { format?: unknown } | null)?.format === 'megabench-counters-v1') {
      if (files.length > 1) throw new UsageError('a counters file stands alone: give it as the only file of its side', { where: f })
      const r = counterSetSchema.safeParse(json)
      if (!r.success) throw new RunResultError(f, `not a valid counters file at ${r.error.issues[0]?.path.join('.')}: ${r.error.issues[0]?.message}`)
      return { files: [...files], runs: null, counters: r.data }
    }
    runs.push({ file: f, run: parseRunResult(json, path), raw: json })
  }
  return sideFromRuns(runs)
}

async function readJson(file: string): Promise<{ path: string; json: unknown }> {
  const path = file.endsWith('.json') ? file : `${file.replace(/\/$/, '')}/run.json`
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (cause) {
    throw new RunResultError(path, `cannot read (${(cause as Error).message})`, cause)
  }
  try {
    return { path, json: JSON.parse(text) }
  } catch (cause) {
    throw new RunResultError(path, `not JSON (${(cause as Error).message})`, cause)
  }
}

/** The runs of both sides that share one fingerprint: one source under one configuration. */
type Source = { name: string; fingerprint: Fingerprint | null; baseline: GateRun[]; current: GateRun[]; counters: { baseline: CounterSet; current: CounterSet } }

function sourceName(run: RunResult): string {
  const s = run.config.source
  const range = s.from !== null || s.to !== null ? ` ${s.from ?? ''}…${s.to ?? ''}` : ''
  const names = s.paths.map((p) => basename(p))
  return `${s.kind} ${names.length > 3 ? `${names.slice(0, 2).join(', ')} … (${names.length} paths)` : names.join(', ')}${range}`
}

/** Groups each side's runs by fingerprint; every group must have its match on the other side, else a one-line refusal. */
function matchSources(baseline: GateRun[], current: GateRun[]): Source[] {
  const group = (runs: GateRun[]) => {
    const m = new Map<string, GateRun[]>()
    for (const r of runs) {
      const k = fingerprintKey(r.fingerprint)
      m.set(k, [...(m.get(k) ?? []), r])
    }
    return m
  }
  const b = group(baseline)
  const c = group(current)
  const refuse = (from: GateRun, others: Map<string, GateRun[]>, fromBaseline: boolean): never => {
    const candidates = [...others.values()].map((g) => g[0]!)
    const closest = candidates.sort((x, y) => fingerprintDistance(from.fingerprint, x.fingerprint) - fingerprintDistance(from.fingerprint, y.fingerprint))[0]!
    const [bf, cf] = fromBaseline ? [from, closest] : [closest, from]
    const why = fingerprintDifference(bf.fingerprint, cf.fingerprint)
    throw new UsageError(`the runs are not comparable (${basename(bf.file)} vs ${basename(cf.file)}): ${why}`)
  }
  for (const [k, g] of b) if (!c.has(k)) refuse(g[0]!, c, true)
  for (const [k, g] of c) if (!b.has(k)) refuse(g[0]!, b, false)
  // In time order: the i-th runs of different sources are resampled together (they shared the machine's load).
  const byTime = (runs: GateRun[]) => [...runs].sort((x, y) => x.run.createdAt.localeCompare(y.run.createdAt))
  return [...b].map(([k, g]) => {
    const runs = byTime(g)
    const cur = byTime(c.get(k)!)
    return { name: sourceName(runs[0]!.run), fingerprint: runs[0]!.fingerprint, baseline: runs, current: cur, counters: { baseline: extractCounters(runs[0]!.run), current: extractCounters(cur[0]!.run) } }
  })
}

/** A counters file against a side: one source; same engine configuration and block keys, else a refusal. */
function countersSource(baseline: GateSide, current: GateSide): Source {
  const countersOf = (s: GateSide, name: string): { counters: CounterSet; runs: GateRun[] } => {
    if (s.runs === null) return { counters: s.counters, runs: [] }
    const keys = new Set(s.runs.map((r) => fingerprintKey(r.fingerprint)))
    if (keys.size > 1) throw new UsageError(`the ${name} holds ${keys.size} sources or configurations; a counters file stands for one`)
    return { counters: extractCounters(s.runs[0]!.run), runs: s.runs }
  }
  const b = countersOf(baseline, 'baseline')
  const c = countersOf(current, 'current side')
  for (const be of b.counters.engines) {
    const ce = c.counters.engines.find((e) => e.label === be.label)
    if (ce === undefined) continue
    for (const k of Object.keys({ ...be.config, ...ce.config })) {
      if (be.config[k] !== ce.config[k]) {
        throw new UsageError(`the runs are not comparable: ${be.label}: configuration ${k} (baseline ${String(be.config[k])}, current ${String(ce.config[k])})`)
      }
    }
    const bk = new Set(be.blocks.map((x) => x.key))
    const ck = new Set(ce.blocks.map((x) => x.key))
    const onlyB = [...bk].filter((x) => !ck.has(x))
    const onlyC = [...ck].filter((x) => !bk.has(x))
    if (onlyB.length > 0 || onlyC.length > 0) {
      const list = (xs: string[]) => xs.slice(0, 3).join(', ') + (xs.length > 3 ? ', …' : '')
      throw new UsageError(
        `the runs are not comparable: different blocks: ${[onlyB.length > 0 ? `${onlyB.length} only in the baseline (${list(onlyB)})` : '', onlyC.length > 0 ? `${onlyC.length} only in the current run (${list(onlyC)})` : ''].filter(Boolean).join('; ')}`,
      )
    }
  }
  return { name: `${b.counters.source.kind} ${b.counters.source.paths.map((p) => basename(p)).join(', ')}`, fingerprint: null, baseline: b.runs, current: c.runs, counters: { baseline: b.counters, current: c.counters } }
}

/** Counters that differ between a source's runs on one side (not deterministic: worth a look). */
function unstableCounters(runs: GateRun[], first: CounterSet): string[] {
  const out = new Set<string>()
  for (const r of runs.slice(1)) {
    const other = extractCounters(r.run)
    for (const e of first.engines) {
      const o = other.engines.find((x) => x.label === e.label)
      if (o === undefined) continue
      for (const [k, v] of Object.entries(e.totals)) if (o.totals[k] !== v) out.add(`${e.label} ${k}`)
    }
  }
  return [...out]
}

/** Compares two sides under the policy. Throws a UsageError (exit 2) when they cannot be compared at all. */
export function gate(baseline: GateSide, current: GateSide, policy: GatePolicy): Verdict {
  const notes: string[] = []
  const sources = baseline.runs !== null && current.runs !== null ? matchSources(baseline.runs, current.runs) : [countersSource(baseline, current)]

  const bLabels = [...new Set(sources.flatMap((s) => s.counters.baseline.engines.map((e) => e.label)))]
  const cLabels = new Set(sources.flatMap((s) => s.counters.current.engines.map((e) => e.label)))
  const wanted = policy.engines ?? bLabels.filter((l) => cLabels.has(l))
  for (const l of wanted) {
    if (!bLabels.includes(l)) throw new UsageError(`engine run ${l} is not in the baseline (it has ${bLabels.join(', ')})`)
    if (!cLabels.has(l)) throw new UsageError(`engine run ${l} is not in the current run (it has ${[...cLabels].join(', ')})`)
  }
  if (wanted.length === 0) throw new UsageError(`the runs share no engine run (baseline: ${bLabels.join(', ')}; current: ${[...cLabels].join(', ')})`)
  if (policy.engines === undefined) {
    for (const l of bLabels) if (!wanted.includes(l)) notes.push(`engine run ${l} is only in the baseline: not compared`)
    for (const l of cLabels) if (!wanted.includes(l)) notes.push(`engine run ${l} is only in the current run: not compared`)
  }

  const counters = { enabled: policy.counters.enabled, compared: 0, ignored: 0, changed: [] as CounterChange[] }
  for (const s of sources) {
    const prefix = sources.length > 1 ? `${s.name}: ` : ''
    if (policy.counters.enabled) {
      for (const label of wanted) {
        const b = s.counters.baseline.engines.find((e) => e.label === label)
        const c = s.counters.current.engines.find((e) => e.label === label)
        if (b !== undefined && c !== undefined) compareCounters(label, prefix, b, c, policy, counters)
      }
    }
    for (const [name, runs, first] of [['baseline', s.baseline, s.counters.baseline], ['current', s.current, s.counters.current]] as const) {
      const unstable = unstableCounters(runs, first)
      if (unstable.length > 0) notes.push(`${prefix}${name}: counters differ between its runs (compared: the first run's): ${unstable.slice(0, 5).join(', ')}${unstable.length > 5 ? '…' : ''}`)
    }
  }

  const timings: TimingResult[] = []
  if (policy.timings.enabled) {
    if (baseline.runs === null || current.runs === null) notes.push('a side holds counters only (no run result): timings cannot be compared')
    for (const label of wanted) {
      for (const [metric, { floor }] of Object.entries(policy.timings.metrics) as [TimingMetric, { floor: number }][]) {
        timings.push(compareTimings(label, metric, floor, sources, policy))
      }
    }
  }
  const machines = new Set([...(baseline.runs ?? []), ...(current.runs ?? [])].map((r) => `${r.run.machine.cpuModel}, ${r.run.machine.cores} cores, node ${r.run.machine.nodeVersion}`))
  if (machines.size > 1) notes.push(`the runs come from different machines or Node versions (${[...machines].join(' / ')}): timings compare them too`)
  if (!policy.counters.enabled) notes.push('counters not compared (policy)')
  if (!policy.timings.enabled) notes.push('timings not compared (policy)')

  const regression = counters.changed.length > 0 || timings.some((t) => t.call === 'regression')
  const insufficient = timings.some((t) => t.call === 'insufficient-data')
  const inconclusive = timings.some((t) => t.call === 'inconclusive')
  const status: GateStatus = regression ? 'regression' : insufficient ? 'insufficient-data' : inconclusive ? 'inconclusive' : 'pass'
  const commit = (s: GateSide) => (s.runs === null ? s.counters.tool.gitCommit : (s.runs[0]?.run.tool.gitCommit ?? null))
  return {
    format: VERDICT_FORMAT,
    status,
    exitCode: EXIT_CODES[status],
    createdAt: new Date().toISOString(),
    baseline: { files: baseline.files, gitCommit: commit(baseline) },
    current: { files: current.files, gitCommit: commit(current) },
    policy,
    engines: wanted,
    sources: sources.map((s) => ({
      name: s.name,
      blocks: s.counters.baseline.engines[0]?.blocks.length ?? 0,
      runs: { baseline: baseline.runs === null ? 0 : s.baseline.length, current: current.runs === null ? 0 : s.current.length },
    })),
    counters,
    timings,
    verification: { baseline: sideVerification(baseline, wanted), current: sideVerification(current, wanted) },
    notes,
  }
}

function compareCounters(label: string, prefix: string, b: EngineCounters, c: EngineCounters, policy: GatePolicy, out: Verdict['counters']): void {
  const compareValues = (block: string | null, bv: Record<string, number>, cv: Record<string, number>) => {
    for (const metric of new Set([...Object.keys(bv), ...Object.keys(cv)])) {
      const tolerance = counterTolerance(policy, metric)
      if (tolerance === null) {
        out.ignored++
        continue
      }
      out.compared++
      const x = bv[metric]
      const y = cv[metric]
      const ok = x !== undefined && y !== undefined && Math.abs(y - x) <= tolerance * Math.abs(x)
      if (!ok) out.changed.push({ engine: label, block: block === null ? (prefix === '' ? null : prefix.slice(0, -2)) : `${prefix}${block}`, metric, baseline: x ?? null, current: y ?? null, tolerance })
    }
  }
  compareValues(null, b.totals, c.totals)
  // Both sides hold the same blocks (checked before): pair them by key.
  const cBlocks = new Map(c.blocks.map((x) => [x.key, x]))
  for (const blk of b.blocks) {
    const other = cBlocks.get(blk.key)
    if (other !== undefined) compareValues(blk.key, blk.values, other.values)
  }
}

/** Per run: block key → the metric's time (verified blocks only). */
function runTimes(run: RunResult, label: string, metric: TimingMetric): Map<string, number> | null {
  const e = run.engines.find((x) => x.label === label)
  if (e === undefined) return null
  const keys = blockKeys(e.blocks)
  const m = new Map<string, number>()
  e.blocks.forEach((b, i) => {
    if (b.verified) m.set(keys[i]!, metric === 'total' ? b.totalMs : b.phases[metric])
  })
  return m
}

function compareTimings(label: string, metric: TimingMetric, floor: number, sources: Source[], policy: GatePolicy): TimingResult {
  const t = policy.timings
  const strata: Stratum[] = []
  let excluded = 0
  let pairs = 0
  let baselineMs = 0
  let currentMs = 0
  let runsB = Number.POSITIVE_INFINITY
  let runsC = Number.POSITIVE_INFINITY
  let used = 0
  for (const s of sources) {
    const bt = s.baseline.map((r) => runTimes(r.run, label, metric))
    const ct = s.current.map((r) => runTimes(r.run, label, metric))
    if (bt.length === 0 || ct.length === 0 || bt.some((x) => x === null) || ct.some((x) => x === null)) {
      const e = s.counters.baseline.engines.find((x) => x.label === label)
      excluded += e?.blocks.length ?? 0
      if (e !== undefined) {
        runsB = Math.min(runsB, bt.length)
        runsC = Math.min(runsC, ct.length)
      }
      continue
    }
    const all = [...bt, ...ct] as Map<string, number>[]
    const keys = [...new Set(all.flatMap((m) => [...m.keys()]))]
    const kept: string[] = []
    for (const k of keys) {
      const vals = all.map((m) => m.get(k))
      const baseMedian = median(bt.map((m) => m!.get(k) ?? Number.NaN))
      if (vals.every((v) => v !== undefined && v > 0) && baseMedian >= t.minBlockMs) kept.push(k)
      else excluded++
    }
    // Blocks unverified in every run are not in any map: count them as excluded too.
    const e = s.counters.baseline.engines.find((x) => x.label === label)
    if (e !== undefined) excluded += Math.max(0, e.blocks.length - keys.length)
    runsB = Math.min(runsB, bt.length)
    runsC = Math.min(runsC, ct.length)
    if (kept.length === 0) continue
    used++
    const base = bt.map((m) => kept.map((k) => m!.get(k)!))
    const cur = ct.map((m) => kept.map((k) => m!.get(k)!))
    for (let j = 0; j < kept.length; j++) {
      baselineMs += median(base.map((r) => r[j]!))
      currentMs += median(cur.map((r) => r[j]!))
    }
    pairs += kept.length
    strata.push({ base, cur })
  }
  const runs = { baseline: Number.isFinite(runsB) ? runsB : 0, current: Number.isFinite(runsC) ? runsC : 0 }
  const result = { engine: label, metric, floor, pairs, excluded, runs, sources: used, baselineMs, currentMs }
  const short: string[] = []
  if (runs.baseline < t.minRuns || runs.current < t.minRuns) short.push(`${Math.min(runs.baseline, runs.current)} run(s) on a side, fewer than minRuns ${t.minRuns}`)
  if (pairs < t.minPairs) short.push(`${pairs} paired blocks, fewer than minPairs ${t.minPairs}`)
  if (short.length > 0) return { ...result, estimate: null, lo: null, hi: null, call: 'insufficient-data', reason: short.join('; ') }
  const ci = hierarchicalChange(strata, {
    statistic: t.statistic,
    runs: t.runs,
    confidence: t.confidence,
    resamples: t.resamples,
    seed: `${t.seed}/${label}/${metric}`,
  })
  return { ...result, estimate: ci.estimate, lo: ci.lo, hi: ci.hi, call: callChange(ci, floor) }
}
