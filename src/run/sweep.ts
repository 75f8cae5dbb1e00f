import { spawn } from 'node:child_process'
import { join } from 'node:path'

import { MegabenchError } from '../errors/index.js'
import { CGROUP_HEADROOM_BYTES, removeCgroupOf } from '../storage/cgroup.js'
import { formatSize } from '../storage/memory.js'
import { optionValue } from '../util/commandLine.js'
import { machineInfo, PACKAGE_ROOT, toolInfo } from './environment.js'
import { type RunResult, runResultSchema } from './schema.js'
import { superviseChild } from '../util/interrupt.js'
import { schedule } from '../protocol/index.js'
import { SWEEP_SCHEMA_VERSION, type SweepPoint, type SweepResult, type SweepRunSummary } from './sweepSchema.js'

export type SweepParameters = {
  /** Memory budgets (bytes), in the order every repetition visits them. */
  limits: readonly number[]
  repeat: number
  /** `megabench replay` options shared by every run (source, mode, batch…), without --memory/--json/--out. */
  replayArgs: readonly string[]
  /** Where each run writes its run directory: `<runsDir>/<limit>-<repetition>`. */
  runsDir: string
  onRun?: (limit: number, repetition: number, summary: SweepRunSummary) => void
  /** What binds the read path beside the caches (default caches only); see sweepSchema `config.bind`. */
  bind?: SweepBind
}

export type SweepBind = { kind: 'cgroup' | 'model' | 'caches'; missLatencyNs?: number; why: string }

/** The replay flags that apply a binding to one run. */
function bindArgs(b: SweepBind | undefined): string[] {
  if (b?.kind === 'cgroup') return ['--cgroup']
  if (b?.kind === 'model') return ['--miss-latency', String((b.missLatencyNs ?? 0) / 1000)]
  return []
}

const BIN = join(PACKAGE_ROOT, 'bin', 'megabench.js')

/**
 * Runs `megabench replay` once per memory limit and repetition, each in a fresh process (which runs its
 * own warm-up pass first), in the order of the measurement protocol (src/protocol: repetition 1 visits
 * every limit, repetition 2 visits them backwards: A B B A …), so that drift on a shared machine spreads
 * over all limits. Returns the study's curves per limit: medians of total time,
 * execution, miss penalty (state load), write time (persistence), merkleization, and miss ratios.
 */
export async function sweep(p: SweepParameters): Promise<SweepResult> {
  if (p.limits.length === 0) throw new MegabenchError('sweep needs at least one --memory limit')
  const runs = new Map<number, SweepRunSummary[]>()
  let first: RunResult | undefined
  for (const step of schedule(p.limits, p.repeat, 0)) {
    {
      const limit = step.variant
      const r = step.pass + 1
      const out = join(p.runsDir, `${limit}-${r}`)
      const result = await runReplay([...p.replayArgs, ...bindArgs(p.bind), '--memory', String(limit), '--json', '--no-report', '--out', out], limit)
      if (p.bind?.kind === 'cgroup' && storageEngine(result).storage?.binding?.kind !== 'cgroup') {
        throw new MegabenchError(`replay at --memory ${formatSize(limit)} could not bind a memory cgroup (see \`megabench replay --cgroup\`); use --bind model or caches`)
      }
      first ??= result
      const summary = summarize(result, out)
      runs.set(limit, [...(runs.get(limit) ?? []), summary])
      p.onRun?.(limit, r, summary)
    }
  }
  const points: SweepPoint[] = p.limits.map((limit) => {
    const rs = runs.get(limit)!
    const med = (f: (s: SweepRunSummary) => number) => median(rs.map(f))
    return {
      memoryBytes: limit,
      runs: rs,
      median: {
        totalMs: med((s) => s.totalMs),
        executionMs: med((s) => s.executionMs),
        missPenaltyMs: med((s) => s.missPenaltyMs),
        writeMs: med((s) => s.writeMs),
        merkleizationMs: med((s) => s.merkleizationMs),
        txPerSec: med((s) => s.txPerSec),
        l1MissRatio: med((s) => s.l1MissRatio),
        l2MissRatio: med((s) => s.l2MissRatio),
        meanPenaltyNs: med((s) => s.meanPenaltyNs),
        ...optionalMedian('modelledTotalMs', rs),
        ...optionalMedian('modelledTxPerSec', rs),
        ...optionalMedian('majorFaults', rs),
        engines: rs[0]!.engines.map((e, i) => ({
          label: e.label,
          totalMs: med((s) => s.engines[i]?.totalMs ?? Number.NaN),
          txPerSec: med((s) => s.engines[i]?.txPerSec ?? Number.NaN),
        })),
      },
    }
  })
  const f = first!
  return {
    schemaVersion: SWEEP_SCHEMA_VERSION,
    kind: 'megabench.sweep',
    createdAt: new Date().toISOString(),
    tool: toolInfo(),
    machine: machineInfo(),
    config: { replayArgs: [...p.replayArgs], limits: [...p.limits], repeat: p.repeat, mode: storageEngine(f).mode, source: f.config.source, bind: p.bind ?? { kind: 'caches', why: 'the caches\' byte budgets only' } },
    workingSetBytes: Math.max(...[...runs.values()].flat().map((s) => s.workingSetBytes)),
    penaltyHistogram: storageEngine(f).storage?.missPenalty.execution.buckets ?? [],
    points,
  }
}

/** The engine whose caches the sweep varies: the first one on LMDB (the baseline). */
function storageEngine(r: RunResult): RunResult['engines'][number] {
  const e = r.engines.find((x) => x.storage !== null)
  if (e === undefined) throw new MegabenchError('sweep needs the baseline engine on LMDB storage (the caches are what it varies)')
  return e
}

function summarize(r: RunResult, dir: string): SweepRunSummary {
  const e = storageEngine(r)
  const st = e.storage!
  const ph = e.totals.phases
  return {
    dir,
    verified: r.verification.failed.length === 0,
    totalMs: e.totals.processingMs,
    executionMs: ph.execution,
    missPenaltyMs: ph.stateLoad,
    writeMs: ph.persistence,
    merkleizationMs: ph.merkleization,
    txPerSec: e.totals.txPerSec,
    l1MissRatio: st.l1.missRatio,
    l2MissRatio: st.l2.missRatio,
    meanPenaltyNs: st.missPenalty.execution.meanNs,
    lmdbReads: Object.values(st.lmdbReads).reduce((a, b) => a + b, 0),
    workingSetBytes: st.workingSetBytes,
    ...(st.binding?.kind === 'model' ? { modelledTotalMs: st.binding.modelledProcessingMs, modelledTxPerSec: st.binding.modelledTxPerSec } : {}),
    ...(st.binding?.kind === 'cgroup' ? { majorFaults: st.binding.majorFaults } : {}),
    engines: r.engines.map((x) => ({
      label: x.label,
      totalMs: x.totals.processingMs,
      txPerSec: x.totals.txPerSec,
      executionMs: x.totals.phases.execution,
      merkleizationMs: x.totals.phases.merkleization,
      writeMs: x.totals.phases.persistence,
    })),
  }
}

/**
 * Why a run's process was SIGKILLed, as far as its arguments tell. Under `--cgroup` the limit follows the
 * process's anonymous memory before every block and every 20 ms; between two updates it may grow only by what
 * the kernel can take back from the page cache plus the headroom, and growing more gets it OOM-killed.
 */
export function killedReason(args: readonly string[]): string {
  if (!args.includes('--cgroup')) return 'SIGKILL'
  const given = optionValue(args, '--cgroup-headroom')
  const headroom = given === undefined ? `the default ${formatSize(CGROUP_HEADROOM_BYTES)} headroom` : `--cgroup-headroom ${given}`
  return `SIGKILL: the memory cgroup's OOM killer, most likely: between two updates of its limit the replay allocated more than the page cache within the budget and ${headroom} could make room for; a larger --cgroup-headroom or --memory gives it more`
}

function runReplay(args: string[], limit: number): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'replay', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    superviseChild(child)
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('error', reject)
    child.on('close', (code, signal) => {
      if (child.pid !== undefined) removeCgroupOf(child.pid)
      if (signal === 'SIGKILL') {
        reject(new MegabenchError(`replay at --memory ${formatSize(limit)} was killed (${killedReason(args)})`))
        return
      }
      if (code !== 0 && code !== 1) {
        reject(new MegabenchError(`replay at --memory ${formatSize(limit)} failed: ${stderr.trim().split('\n')[0] ?? `exit ${code}`}`))
        return
      }
      try {
        resolve(runResultSchema.parse(JSON.parse(stdout)))
      } catch (cause) {
        reject(new MegabenchError(`replay at --memory ${formatSize(limit)} printed no run result`, { cause }))
      }
    })
  })
}

/** The median of an optional summary field, present only when every run has it. */
function optionalMedian<K extends 'modelledTotalMs' | 'modelledTxPerSec' | 'majorFaults'>(k: K, rs: readonly SweepRunSummary[]): Partial<Record<K, number>> {
  const xs = rs.map((r) => r[k])
  return xs.every((x): x is number => x !== undefined) ? ({ [k]: median(xs) } as Partial<Record<K, number>>) : {}
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}
