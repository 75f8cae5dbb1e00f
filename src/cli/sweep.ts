import { basename, join } from 'node:path'

import Table from 'cli-table3'

import { UsageError } from '../errors/index.js'
import { missLatencyNs } from './parse.js'
import { buildReserved } from '../output/files.js'
import { OutputReservation, inputPathsOfArgs } from '../output/guard.js'
import { type SweepBind, sweep } from '../run/sweep.js'
import { cgroupAvailable } from '../storage/cgroup.js'
import type { SweepResult } from '../run/sweepSchema.js'
import { formatSize, parseSize } from '../storage/memory.js'
import { commandLine, optionValue } from '../util/commandLine.js'
import { renderHtml } from '../report/html.js'
import { loadResult } from '../report/load.js'
import { timestampForPath } from './replay.js'
import { writeFile } from 'node:fs/promises'

export type SweepCliOptions = { memory: string; repeat?: number; out?: string; json?: boolean; report?: boolean; force?: boolean; bind?: string; missLatency?: number }

const RESERVED = ['--memory', '--l1', '--l2', '--json', '--out', '--db', '--cgroup', '--miss-latency', '--mode']

/** The study's mean miss penalty (µs): the disk model's default latency. */
export const STUDY_MISS_PENALTY_US = 18

/**
 * --bind auto|cgroup|model|caches → what each run binds beside the caches. auto: a memory cgroup where
 * this machine lets megabench make one (the page cache is then really bounded), else the disk model.
 */
export function sweepBind(opts: Pick<SweepCliOptions, 'bind' | 'missLatency'>): SweepBind {
  const kind = opts.bind ?? 'auto'
  if (!['auto', 'cgroup', 'model', 'caches'].includes(kind)) throw new UsageError(`--bind must be auto, cgroup, model or caches (got ${JSON.stringify(kind)})`)
  const lat = opts.missLatency
  const latencyNs = missLatencyNs(lat)
  if (lat !== undefined && kind !== 'model' && kind !== 'auto') throw new UsageError(`--miss-latency applies to --bind model (got --bind ${kind})`)
  const model = (why: string): SweepBind => ({ kind: 'model', missLatencyNs: latencyNs ?? STUDY_MISS_PENALTY_US * 1000, why })
  if (kind === 'model') return model(`declared: ${lat ?? STUDY_MISS_PENALTY_US} µs per level-2 miss${lat === undefined ? ' (the study\'s mean miss penalty)' : ''}`)
  if (kind === 'caches') return { kind: 'caches', why: 'the caches\' byte budgets only (--bind caches): the OS page cache is not bounded' }
  const cg = cgroupAvailable()
  if (kind === 'cgroup') {
    if (!cg.ok) throw new UsageError(`--bind cgroup: no memory cgroup can be made here (${cg.why}); use --bind model`)
    return { kind: 'cgroup', why: cg.why }
  }
  return cg.ok && lat === undefined ? { kind: 'cgroup', why: `auto: ${cg.why}` } : model(lat !== undefined ? `auto with --miss-latency: ${lat} µs per level-2 miss` : `auto: no memory cgroup here (${cg.why}); ${STUDY_MISS_PENALTY_US} µs per level-2 miss, the study's mean penalty`)
}

/** `megabench sweep`: one fresh replay process per memory limit and repetition; sweep.json + table. */
export async function sweepCommand(opts: SweepCliOptions, replayArgs: string[]): Promise<number> {
  const limits = opts.memory.split(',').map((s) => parseSize('--memory')(s))
  for (const a of replayArgs) {
    const flag = a.split('=')[0]!
    if (RESERVED.includes(flag) && flag !== '--mode') throw new UsageError(`${flag} is set by sweep for every run; remove it`)
  }
  const engine = optionValue(replayArgs, '--engine') ?? 'baseline'
  if (engine === 'mega') throw new UsageError('sweep varies the baseline\'s cache budgets: use --engine both to see the mega engine beside it')
  if (optionValue(replayArgs, '--mode') === 'both') throw new UsageError('sweep runs one --mode (live or historical)')
  const bind = sweepBind(opts)
  if (opts.json !== true) process.stderr.write(`sweep: binding ${bind.kind} (${bind.why})\n`)
  const repeat = opts.repeat ?? 1
  if (!(Number.isInteger(repeat) && repeat >= 1)) throw new UsageError('--repeat must be a whole number >= 1')
  const outDir = opts.out ?? join('reports', `sweep-${timestampForPath(new Date())}`)
  let result: SweepResult | undefined
  const reservation = await OutputReservation.reserve(outDir, 'sweep', { force: opts.force, inputs: inputPathsOfArgs(replayArgs) })
  await buildReserved(reservation, async (tmp) => {
    result = await sweep({
      limits,
      repeat,
      replayArgs,
      runsDir: join(tmp, 'runs'),
      bind,
      onRun: (limit, r, s) => {
        if (opts.json !== true) {
          process.stderr.write(
            `sweep: --memory ${formatSize(limit)} run ${r}/${repeat}: ${s.totalMs.toFixed(0)} ms, ${s.txPerSec.toFixed(0)} tx/s, ` +
              `L1 miss ${(s.l1MissRatio * 100).toFixed(1)}%, L2 miss ${(s.l2MissRatio * 100).toFixed(1)}%` +
              `${s.majorFaults !== undefined ? `, ${s.majorFaults} major faults` : ''}${s.modelledTotalMs !== undefined ? `, MODELLED ${s.modelledTotalMs.toFixed(0)} ms` : ''}` +
              `${s.verified ? '' : ' (VERIFICATION FAILED)'}\n`,
          )
        }
      },
    })
    // Run directories are recorded relative to the sweep directory.
    for (const p of result.points) for (const r of p.runs) r.dir = r.dir.replace(`${tmp}/`, '')
    await writeFile(join(tmp, 'sweep.json'), `${JSON.stringify(result, null, 1)}\n`)
    if (opts.report !== false) {
      // The sweep and its run at the largest limit (for the opcode and cache details).
      const largest = result.points.reduce((a, b) => (a.memoryBytes >= b.memoryBytes ? a : b))
      const run = await loadResult(join(tmp, largest.runs[0]!.dir))
      const runs = run.kind === 'run' ? [{ label: `run at ${formatSize(largest.memoryBytes)}`, result: run.run }] : []
      await writeFile(join(tmp, 'report.html'), await renderHtml(runs, [{ label: basename(outDir), result }]))
    }
  })
  const r = result!
  if (opts.json === true) process.stdout.write(`${JSON.stringify(r)}\n`)
  else process.stdout.write(`${formatSweep(r)}\nwrote ${outDir}/ (sweep.json, runs/${opts.report === false ? '' : ', report.html'})\n`)
  return r.points.every((p) => p.runs.every((x) => x.verified)) ? 0 : 1
}

export function formatSweep(r: SweepResult): string {
  // Engines beside the one whose caches vary (e.g. mega/live with --engine both): their tx/s per limit.
  const others = (r.points[0]?.median.engines ?? []).slice(1).map((e) => e.label)
  const bind = r.config.bind
  const extra = bind?.kind === 'model' ? ['MODELLED total ms', 'MODELLED tx/s'] : bind?.kind === 'cgroup' ? ['major faults'] : []
  const t = new Table({
    head: ['memory', 'total ms', 'execution', 'miss penalty', 'merkleization', 'write', 'tx/s', 'L1 miss', 'L2 miss', 'mean penalty', ...extra, ...others.map((l) => `${l} tx/s`)],
    style: { head: [], border: [] },
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
    colAligns: Array(10 + extra.length + others.length).fill('right'),
  })
  for (const p of r.points) {
    const m = p.median
    t.push([
      formatSize(p.memoryBytes),
      m.totalMs.toFixed(0),
      m.executionMs.toFixed(0),
      m.missPenaltyMs.toFixed(1),
      m.merkleizationMs.toFixed(0),
      m.writeMs.toFixed(0),
      m.txPerSec.toFixed(0),
      `${(m.l1MissRatio * 100).toFixed(1)}%`,
      `${(m.l2MissRatio * 100).toFixed(1)}%`,
      `${(m.meanPenaltyNs / 1000).toFixed(1)} µs`,
      ...(bind?.kind === 'model' ? [(m.modelledTotalMs ?? Number.NaN).toFixed(0), (m.modelledTxPerSec ?? Number.NaN).toFixed(0)] : []),
      ...(bind?.kind === 'cgroup' ? [(m.majorFaults ?? Number.NaN).toFixed(0)] : []),
      ...others.map((l) => (m.engines.find((e) => e.label === l)?.txPerSec ?? Number.NaN).toFixed(0)),
    ])
  }
  return [
    `megabench sweep · ${r.config.mode} sync, ${r.config.limits.length} limits × ${r.config.repeat} repetitions (medians), working set ${formatSize(r.workingSetBytes)}; ` +
      `bound by ${bind === undefined ? 'the caches only' : `${bind.kind}: ${bind.why}`}`,
    // What every run was given besides its limit (e.g. --evm fast, --no-l1-trie-nodes): part of what was measured.
    `each run: megabench replay ${commandLine(r.config.replayArgs)} --memory <limit>`,
    t.toString(),
  ].join('\n')
}
