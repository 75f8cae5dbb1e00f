import { readFile } from 'node:fs/promises'

import { RunResultError, UsageError } from '../errors/index.js'
import { type RunResult, runResultSchema } from '../run/schema.js'
import { type CounterSet, type EngineCounters, blockKeys, counterSetSchema, extractCounters } from './counters.js'
import { type GatePolicy, TIMING_METRICS, type TimingMetric, counterTolerance } from './policy.js'
import { type Call, bootstrapChange, callChange, median } from './stats.js'

export const VERDICT_FORMAT = 'megabench-gate-v1'

/** One side of the comparison: one or more run results (repeats), or a counters file (no timings). */
export type GateSide = {
  files: string[]
  counters: CounterSet
  /** Per engine label: per block key, per timing metric, the median over the side's runs (null: counters only). */
  timings: Map<string, Map<string, Record<TimingMetric, number>>> | null
  /** Counters that differed between the side's repeats (not deterministic: worth a look). */
  unstable?: string[]
}

export type CounterChange = { engine: string; block: string | null; metric: string; baseline: number | null; current: number | null; tolerance: number }

export type TimingResult = {
  engine: string
  metric: TimingMetric
  floor: number
  /** Paired blocks used, and blocks left out (unpaired, unverified, or under minBlockMs). */
  pairs: number
  excluded: number
  baselineMs: number
  currentMs: number
  /** Relative change (0.05 = 5% slower) and its interval; null when there was too little data. */
  estimate: number | null
  lo: number | null
  hi: number | null
  call: Call | 'insufficient-data'
}

export type GateStatus = 'pass' | 'regression' | 'insufficient-data'

export type Verdict = {
  format: typeof VERDICT_FORMAT
  status: GateStatus
  /** 0 pass, 1 regression, 2 insufficient data (the CLI also exits 2 on errors). */
  exitCode: 0 | 1 | 2
  createdAt: string
  baseline: { files: string[]; gitCommit: string | null }
  current: { files: string[]; gitCommit: string | null }
  policy: GatePolicy
  engines: string[]
  counters: { enabled: boolean; compared: number; ignored: number; changed: CounterChange[] }
  timings: TimingResult[]
  notes: string[]
}

/** Reads run.json files (or a directory holding one) / counters files into one side. */
export async function loadGateSide(files: readonly string[]): Promise<GateSide> {
  if (files.length === 0) throw new UsageError('no run results given')
  const runs: RunResult[] = []
  let counters: CounterSet | undefined
  for (const f of files) {
    const json = await readJson(f)
    const kind = (json as { kind?: unknown; format?: unknown } | null) ?? {}
    if (kind.format === 'megabench-counters-v1') {
      if (files.length > 1) throw new UsageError('a counters file stands alone: give it as the only file of its side', { where: f })
      const r = counterSetSchema.safeParse(json)
      if (!r.success) throw new RunResultError(f, `not a valid counters file at ${r.error.issues[0]?.path.join('.')}: ${r.error.issues[0]?.message}`)
      counters = r.data
      continue
    }
    const r = runResultSchema.safeParse(json)
    if (!r.success) {
      const issue = r.error.issues[0]
      throw new RunResultError(f, `not a megabench run result (schema v3) at ${issue?.path.join('.') || '(root)'}: ${issue?.message}`)
    }
    runs.push(r.data)
  }
  if (counters !== undefined) return { files: [...files], counters, timings: null }
  const counters0 = extractCounters(runs[0]!)
  const unstable = new Set<string>()
  for (const run of runs.slice(1)) {
    const other = extractCounters(run)
    for (const e of counters0.engines) {
      const o = other.engines.find((x) => x.label === e.label)
      if (o === undefined) continue
      for (const [k, v] of Object.entries(e.totals)) if (o.totals[k] !== v) unstable.add(`${e.label} ${k}`)
    }
  }
  return { files: [...files], counters: counters0, timings: sideTimings(runs), unstable: [...unstable] }
}

async function readJson(file: string): Promise<unknown> {
  const path = file.endsWith('.json') ? file : `${file.replace(/\/$/, '')}/run.json`
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (cause) {
    throw new RunResultError(path, `cannot read (${(cause as Error).message})`, cause)
  }
  try {
    return JSON.parse(text)
  } catch (cause) {
    throw new RunResultError(path, `not JSON (${(cause as Error).message})`, cause)
  }
}

/** Per block, the median over repeated runs of each timing metric (verified blocks only). */
export function sideTimings(runs: readonly RunResult[]): Map<string, Map<string, Record<TimingMetric, number>>> {
  const samples = new Map<string, Map<string, Record<TimingMetric, number[]>>>()
  for (const run of runs) {
    for (const e of run.engines) {
      const keys = blockKeys(e.blocks)
      const byBlock = samples.get(e.label) ?? new Map<string, Record<TimingMetric, number[]>>()
      samples.set(e.label, byBlock)
      e.blocks.forEach((b, i) => {
        if (!b.verified) return
        const key = keys[i]!
        const s = byBlock.get(key) ?? (Object.fromEntries(TIMING_METRICS.map((m) => [m, []])) as unknown as Record<TimingMetric, number[]>)
        byBlock.set(key, s)
        s.total.push(b.totalMs)
        for (const m of TIMING_METRICS) if (m !== 'total') s[m].push(b.phases[m])
      })
    }
  }
  const out = new Map<string, Map<string, Record<TimingMetric, number>>>()
  for (const [label, byBlock] of samples) {
    const m = new Map<string, Record<TimingMetric, number>>()
    for (const [key, s] of byBlock) m.set(key, Object.fromEntries(TIMING_METRICS.map((k) => [k, median(s[k])])) as Record<TimingMetric, number>)
    out.set(label, m)
  }
  return out
}

/** Compares two sides under the policy. Throws a UsageError when they cannot be compared at all. */
export function gate(baseline: GateSide, current: GateSide, policy: GatePolicy): Verdict {
  const notes: string[] = []
  const bLabels = baseline.counters.engines.map((e) => e.label)
  const cLabels = new Set(current.counters.engines.map((e) => e.label))
  const wanted = policy.engines ?? bLabels.filter((l) => cLabels.has(l))
  for (const l of wanted) {
    if (!bLabels.includes(l)) throw new UsageError(`engine run ${l} is not in the baseline (it has ${bLabels.join(', ')})`)
    if (!cLabels.has(l)) throw new UsageError(`engine run ${l} is not in the current run (it has ${[...cLabels].join(', ')})`)
  }
  if (wanted.length === 0) throw new UsageError(`the runs share no engine run (baseline: ${bLabels.join(', ')}; current: ${[...cLabels].join(', ')})`)
  for (const l of bLabels) if (!wanted.includes(l) && policy.engines === undefined) notes.push(`engine run ${l} is only in the baseline: not compared`)
  for (const l of cLabels) if (!wanted.includes(l) && policy.engines === undefined) notes.push(`engine run ${l} is only in the current run: not compared`)

  const counters = { enabled: policy.counters.enabled, compared: 0, ignored: 0, changed: [] as CounterChange[] }
  const timings: TimingResult[] = []
  for (const label of wanted) {
    const b = baseline.counters.engines.find((e) => e.label === label)!
    const c = current.counters.engines.find((e) => e.label === label)!
    for (const k of Object.keys({ ...b.config, ...c.config })) {
      if (b.config[k] !== c.config[k]) {
        throw new UsageError(`${label}: the runs differ in configuration (${k}: baseline ${String(b.config[k])}, current ${String(c.config[k])}); counters and timings are not comparable`)
      }
    }
    if (policy.counters.enabled) compareCounters(label, b, c, policy, counters)
    if (!policy.timings.enabled) continue
    for (const [metric, { floor }] of Object.entries(policy.timings.metrics) as [TimingMetric, { floor: number }][]) {
      timings.push(compareTimings(label, metric, floor, baseline, current, policy))
    }
  }
  for (const [name, s] of [['baseline', baseline], ['current', current]] as const) {
    if (s.unstable !== undefined && s.unstable.length > 0) notes.push(`${name}: counters differ between its repeats (compared: the first run's): ${s.unstable.slice(0, 5).join(', ')}${s.unstable.length > 5 ? '…' : ''}`)
  }
  if (!policy.counters.enabled) notes.push('counters not compared (policy)')
  if (!policy.timings.enabled) notes.push('timings not compared (policy)')
  if (baseline.timings === null || current.timings === null) {
    if (policy.timings.enabled) notes.push('a side holds counters only (no run result): timings cannot be compared')
  }
  const regression = counters.changed.length > 0 || timings.some((t) => t.call === 'regression')
  const insufficient = timings.some((t) => t.call === 'insufficient-data')
  const status: GateStatus = regression ? 'regression' : insufficient ? 'insufficient-data' : 'pass'
  return {
    format: VERDICT_FORMAT,
    status,
    exitCode: status === 'pass' ? 0 : status === 'regression' ? 1 : 2,
    createdAt: new Date().toISOString(),
    baseline: { files: baseline.files, gitCommit: baseline.counters.tool.gitCommit },
    current: { files: current.files, gitCommit: current.counters.tool.gitCommit },
    policy,
    engines: wanted,
    counters,
    timings,
    notes,
  }
}

function compareCounters(label: string, b: EngineCounters, c: EngineCounters, policy: GatePolicy, out: Verdict['counters']): void {
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
      if (!ok) out.changed.push({ engine: label, block, metric, baseline: x ?? null, current: y ?? null, tolerance })
    }
  }
  compareValues(null, b.totals, c.totals)
  const cBlocks = new Map(c.blocks.map((x) => [x.key, x]))
  const bKeys = new Set(b.blocks.map((x) => x.key))
  for (const blk of b.blocks) {
    const other = cBlocks.get(blk.key)
    if (other === undefined) {
      out.compared++
      out.changed.push({ engine: label, block: blk.key, metric: 'block present', baseline: 1, current: null, tolerance: 0 })
    } else compareValues(blk.key, blk.values, other.values)
  }
  for (const blk of c.blocks) {
    if (bKeys.has(blk.key)) continue
    out.compared++
    out.changed.push({ engine: label, block: blk.key, metric: 'block present', baseline: null, current: 1, tolerance: 0 })
  }
}

function compareTimings(label: string, metric: TimingMetric, floor: number, baseline: GateSide, current: GateSide, policy: GatePolicy): TimingResult {
  const bt = baseline.timings?.get(label)
  const ct = current.timings?.get(label)
  const base: number[] = []
  const cur: number[] = []
  let excluded = 0
  const keys = new Set([...(bt?.keys() ?? []), ...(ct?.keys() ?? [])])
  for (const key of keys) {
    const x = bt?.get(key)?.[metric]
    const y = ct?.get(key)?.[metric]
    if (x === undefined || y === undefined || !(x > 0) || x < policy.timings.minBlockMs || !(y >= 0)) {
      excluded++
      continue
    }
    base.push(x)
    cur.push(y)
  }
  const sum = (xs: number[]) => xs.reduce((a, v) => a + v, 0)
  const result = { engine: label, metric, floor, pairs: base.length, excluded, baselineMs: sum(base), currentMs: sum(cur) }
  if (base.length < policy.timings.minPairs) return { ...result, estimate: null, lo: null, hi: null, call: 'insufficient-data' }
  const ci = bootstrapChange(base, cur, {
    statistic: policy.timings.statistic,
    confidence: policy.timings.confidence,
    resamples: policy.timings.resamples,
    seed: `${policy.timings.seed}/${label}/${metric}`,
  })
  return { ...result, estimate: ci.estimate, lo: ci.lo, hi: ci.hi, call: callChange(ci, floor) }
}
