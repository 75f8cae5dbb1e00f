/**
 * Results → counts per folder, failures, differences between the EVMs; the `--json` document and the
 * terminal tables.
 */
import Table from 'cli-table3'

import type { EvmKind, Outcome, Status } from './types.js'

/** One test's outcome on each EVM that ran it (and how long it took there, ms). */
export type TestResult = {
  folder: string
  /** The file, relative to the path it was found under. */
  file: string
  test: string
  outcomes: Partial<Record<EvmKind, Outcome>>
  /** Wall time per EVM (ms). */
  ms: Partial<Record<EvmKind, number>>
  /** CPU time of the worker thread per EVM (ms; Linux, workers only). */
  cpuMs: Partial<Record<EvmKind, number>>
}

export type Counts = { pass: number; fail: number; skip: number; timeout: number }
export type FolderCounts = Counts & { skipReasons: Record<string, number> }
export type Failure = { folder: string; file: string; test: string; evm: EvmKind; status: 'fail' | 'timeout'; reason: string }
export type Difference = { folder: string; file: string; test: string } & Partial<Record<EvmKind, Outcome>>

export type ConformanceSummary = {
  evms: EvmKind[]
  totals: Record<EvmKind, Counts>
  folders: { folder: string; counts: Partial<Record<EvmKind, FolderCounts>> }[]
  failures: Failure[]
  /** Tests whose status differs between the EVMs (only when more than one ran). */
  differences: Difference[]
}

const zero = (): Counts => ({ pass: 0, fail: 0, skip: 0, timeout: 0 })

export function summarize(results: readonly TestResult[], evms: readonly EvmKind[]): ConformanceSummary {
  const totals = Object.fromEntries(evms.map((e) => [e, zero()])) as Record<EvmKind, Counts>
  const folders = new Map<string, Partial<Record<EvmKind, FolderCounts>>>()
  const failures: Failure[] = []
  const differences: Difference[] = []
  for (const r of results) {
    let f = folders.get(r.folder)
    if (f === undefined) folders.set(r.folder, (f = Object.fromEntries(evms.map((e) => [e, { ...zero(), skipReasons: {} }]))))
    for (const evm of evms) {
      const o = r.outcomes[evm]
      if (o === undefined) continue
      const c = f[evm]!
      totals[evm][o.status]++
      c[o.status]++
      if (o.status === 'skip') c.skipReasons[o.reason] = (c.skipReasons[o.reason] ?? 0) + 1
      if (o.status === 'fail' || o.status === 'timeout') failures.push({ folder: r.folder, file: r.file, test: r.test, evm, status: o.status, reason: o.reason })
    }
    if (evms.length > 1) {
      const statuses = new Set(evms.map((e) => r.outcomes[e]?.status))
      if (statuses.size > 1) differences.push({ folder: r.folder, file: r.file, test: r.test, ...Object.fromEntries(evms.map((e) => [e, r.outcomes[e]])) })
    }
  }
  const byFolder = [...folders].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([folder, counts]) => ({ folder, counts }))
  return { evms: [...evms], totals, folders: byFolder, failures, differences }
}

/** True if every test passed or was skipped on every EVM (exit code 0). */
export function allPassed(s: ConformanceSummary): boolean {
  return s.evms.every((e) => s.totals[e].fail === 0 && s.totals[e].timeout === 0)
}

/**
 * The `--json` document. One EVM:
 *   {"totals": {pass, fail, skip, timeout}, "folders": [{folder, pass, fail, skip, timeout, skipReasons}], "failures": [...]}
 * Several (`--evm both`): totals and each folder's counts keyed by EVM, plus `differences`:
 *   {"totals": {"fast": {...}, "ethereumjs": {...}}, "folders": [{folder, "fast": {...}, "ethereumjs": {...}}],
 *    "failures": [...], "differences": [{folder, file, test, "fast": {status, reason?}, "ethereumjs": {...}}]}
 * A failure: {folder, file, test, evm, status: "fail" | "timeout", reason} (the reason's first line).
 */
export function summaryJson(s: ConformanceSummary): unknown {
  if (s.evms.length === 1) {
    const e = s.evms[0]!
    return {
      totals: s.totals[e],
      folders: s.folders.map((f) => ({ folder: f.folder, ...f.counts[e] })),
      failures: s.failures,
    }
  }
  return {
    totals: s.totals,
    folders: s.folders.map((f) => ({ folder: f.folder, ...f.counts })),
    failures: s.failures,
    differences: s.differences,
  }
}

const STATUS_COLUMNS: readonly Status[] = ['pass', 'fail', 'skip', 'timeout']

function outcomeText(o: Outcome | undefined): string {
  if (o === undefined) return 'not run'
  return o.status === 'pass' ? 'pass' : `${o.status} (${o.reason})`
}

/** The terminal report: a table of counts per folder, then every failure, difference and skip reason. */
export function formatSummary(s: ConformanceSummary, opts: { wallMs?: number; slowest?: readonly TestResult[] } = {}): string {
  const several = s.evms.length > 1
  const compact = { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' }
  const colAligns = ['left' as const, ...s.evms.flatMap(() => STATUS_COLUMNS.map(() => 'right' as const))]
  // One EVM: pass fail skip timeout; several: `fast pass` fail skip timeout `ethereumjs pass` ….
  const head = ['folder', ...s.evms.flatMap((e) => STATUS_COLUMNS.map((k, i) => (several && i === 0 ? `${e} ${k}` : k)))]
  const table = new Table({ head, chars: compact, colAligns, style: { head: [], border: [] } })
  const row = (name: string, counts: (e: EvmKind) => Counts | undefined) => [name, ...s.evms.flatMap((e) => STATUS_COLUMNS.map((k) => String(counts(e)?.[k] ?? 0)))]
  for (const f of s.folders) table.push(row(f.folder, (e) => f.counts[e]) as never)
  table.push(row('total', (e) => s.totals[e]) as never)
  const lines = [table.toString()]

  lines.push('', `failures (${s.failures.length}):`)
  for (const f of s.failures) lines.push(`  ${several ? `[${f.evm}] ` : ''}${f.file} ${f.test}: ${f.status === 'timeout' ? 'timeout: ' : ''}${f.reason}`)
  if (several) {
    lines.push('', `outcomes that differ between ${s.evms.join(' and ')} (${s.differences.length}):`)
    for (const d of s.differences) lines.push(`  ${d.file} ${d.test}: ${s.evms.map((e) => `${e} ${outcomeText(d[e])}`).join(', ')}`)
  }
  const reasons = new Map<string, number>()
  for (const f of s.folders) for (const e of s.evms.slice(0, 1)) for (const [r, n] of Object.entries(f.counts[e]?.skipReasons ?? {})) reasons.set(r, (reasons.get(r) ?? 0) + n)
  if (reasons.size > 0) {
    lines.push('', `skip reasons${several ? ` (${s.evms[0]}; the same tests are skipped on every EVM)` : ''}:`)
    for (const [r, n] of [...reasons].sort((a, b) => b[1] - a[1])) lines.push(`  ${String(n).padStart(5)}  ${r}`)
  }
  if (opts.slowest !== undefined && opts.slowest.length > 0) {
    lines.push('', 'slowest tests (wall time, and CPU time of the worker thread where known):')
    for (const e of s.evms) {
      const top = [...opts.slowest].filter((r) => r.ms[e] !== undefined).sort((a, b) => b.ms[e]! - a.ms[e]!).slice(0, 8)
      for (const r of top) {
        const cpu = r.cpuMs[e] === undefined ? '' : `, ${(r.cpuMs[e]! / 1000).toFixed(1)} s CPU`
        lines.push(`  ${e.padEnd(10)} ${(r.ms[e]! / 1000).toFixed(1).padStart(7)} s${cpu}  ${r.file} ${r.test} (${r.outcomes[e]?.status})`)
      }
    }
  }
  const totals = s.evms.map((e) => `${several ? `${e}: ` : ''}${STATUS_COLUMNS.map((k) => `${s.totals[e][k]} ${k}`).join(', ')}`).join('; ')
  lines.push('', `${totals}${opts.wallMs === undefined ? '' : ` (${(opts.wallMs / 1000).toFixed(1)} s)`}`)
  return `${lines.join('\n')}\n`
}
