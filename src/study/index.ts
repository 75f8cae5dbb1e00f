/**
 * `megabench study`: the study-vs-measured table from a reth-like configuration, by a documented recipe.
 *
 * The recipe (every step a fresh `megabench` process, its output and log kept):
 *  1. generate the mainnet-like chains (erc20, uniswap, mixed; ≥ 1M accounts by default), or reuse them
 *     from `--chains` when they match the options;
 *  2. replay each chain and the real blocks on the baseline engine with the fast EVM, historical and live
 *     (`--mode both`: the live/historical decomposition), with the opcode probe and the analyses;
 *  2b. the long range: the first workload again on a chain of `--long-blocks` blocks (default 1,000), historical
 *     and live only: historical's one root per batch is then spread over ten times the blocks, closer to the
 *     study's historical sync (a root every 500k blocks), so its live/historical ratio is the like-for-like one;
 *  3. the binding memory sweep (`sweep --bind auto`: a memory cgroup where one can be made, else the
 *     declared disk model), live and historical, on the sweep chains;
 *  4. one report over all of it, and study.md: one row per figure of the study, the study's value (in a
 *     column labelled as the study's) beside ours per input, and the conditions that differ.
 * Nothing here measures: the numbers come from the replays' run.json and sweep.json files.
 */
import { spawn } from 'node:child_process'
import { createWriteStream, existsSync } from 'node:fs'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { loadavg } from 'node:os'
import { join, resolve } from 'node:path'

import { MegabenchError, UsageError } from '../errors/index.js'
import { buildReserved } from '../output/files.js'
import { OutputReservation } from '../output/guard.js'
import { type LabeledRun, type LabeledSweep, type StudyComparison, studyVsMeasured } from '../report/data.js'
import { renderHtml } from '../report/html.js'
import { cell } from '../report/markdown.js'
import { loadResult } from '../report/load.js'
import { machineInfo, toolInfo } from '../run/environment.js'
import { formatSize } from '../storage/memory.js'
import { commandLine } from '../util/commandLine.js'
import { superviseChild } from '../util/interrupt.js'
import { PACKAGE_ROOT } from '../util/paths.js'

export const STUDY_FORMAT = 'megabench-study-v1'
export const STUDY_WORKLOADS = ['erc20-transfer', 'uniswap-swap', 'mixed'] as const
export type StudyWorkload = (typeof STUDY_WORKLOADS)[number]
export type StudyBind = 'auto' | 'cgroup' | 'model' | 'caches'

export type StudyParameters = {
  /** The study's output directory (built beside it, renamed into place at the end). */
  out: string
  force?: boolean | undefined
  /** Keep generated chains here and reuse the ones that match (default: inside the output). */
  chainsDir?: string | undefined
  accounts: number
  blocks: number
  txsPerBlock: number
  /** Blocks of the long-range chain (the first workload, replayed historical + live only); 0 = none. */
  longBlocks: number
  workloads: readonly StudyWorkload[]
  /** Real-block files or directories (realblock-v1); empty = none. */
  fixtures: readonly string[]
  /** Sweep budgets in bytes; empty = no sweep. */
  memory: readonly number[]
  sweepWorkloads: readonly StudyWorkload[]
  bind: StudyBind
  evm: 'fast' | 'ethereumjs'
  repeat: number
  /** Run the analyses (parallelism, state diff, JIT bound, hardware bounds) with every replay. */
  analyze: boolean
  hardfork?: string | undefined
  seed?: string | undefined
}

export type StudyStep = {
  id: string
  kind: 'generate' | 'replay' | 'sweep'
  /** The input this step measures: a workload name or `real blocks`. */
  input: string
  title: string
  /** Arguments of `megabench` (paths relative to the output where they are inside it). */
  args: string[]
  /** Where its result goes, relative to the output (undefined for a reused chain). */
  out?: string | undefined
  /** A chain reused from --chains: the step does not run. */
  reused?: boolean
}

export type StudyStepRecord = StudyStep & {
  exitCode: number | null
  ms: number
  log: string
  /** Why the step failed (exit ≥ 2 or killed) or was skipped (its chain could not be generated); absent when it ran. */
  failure?: string
  skipped?: boolean
}

export type StudyInput = { name: string; run: string | null; sweeps: string[] }

export type StudyResult = {
  format: typeof STUDY_FORMAT
  tool: ReturnType<typeof toolInfo>
  machine: ReturnType<typeof machineInfo>
  /** The 1/5/15-minute load averages when the study started and when it finished (the machine may be shared). */
  loadAverage: { start: number[]; end: number[] }
  startedAt: string
  finishedAt: string
  parameters: StudyParameters
  steps: StudyStepRecord[]
  inputs: StudyInput[]
  /** Every step exited 0 (a replay or sweep exits 1 when a block did not verify). */
  verified: boolean
  /** Every step ran to its end (none failed or was skipped): the table has every value the recipe measures. */
  complete: boolean
  /** Why report.html could not be rendered (absent when it was): study.md and study.json are written regardless. */
  reportError?: string
}

const BIN = join(PACKAGE_ROOT, 'bin', 'megabench.js')
const REAL = 'real blocks'

/** A byte count as --memory takes it (1 MB = 2^20 bytes there): 16MB, 1GB, 512KB or bytes. */
export function sizeArg(bytes: number): string {
  for (const [u, f] of [['GB', 2 ** 30], ['MB', 2 ** 20], ['KB', 2 ** 10]] as const) if (bytes % f === 0) return `${bytes / f}${u}`
  return `${bytes}B`
}

const slug = (s: string) => s.replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '').toLowerCase()

/** A generated chain: its workload and length (the study's chains have `--blocks`; the long range `--long-blocks`). */
type ChainSpec = { workload: StudyWorkload; blocks: number; long: boolean }

/** Where a chain lives: in --chains (absolute) or inside the output (relative); the long range's beside the others. */
function chainDir(p: StudyParameters, c: ChainSpec | StudyWorkload): string {
  const name = typeof c === 'string' ? c : c.long ? `${c.workload}-${c.blocks}-blocks` : c.workload
  return p.chainsDir === undefined ? join('chains', name) : resolve(p.chainsDir, name)
}

/** The long-range input's name (a column of the table). */
export function longRangeInput(w: StudyWorkload, blocks: number): string {
  return `${w}, ${blocks.toLocaleString('en-US')} blocks`
}

/** A chain in --chains that can be reused: it must be the workload and size the study asks for. */
async function reusableChain(p: StudyParameters, c: ChainSpec): Promise<boolean> {
  if (p.chainsDir === undefined) return false
  const w = c.workload
  const file = join(chainDir(p, c), 'chain.json')
  if (!existsSync(file)) return false
  let spec: { format?: string; hardfork?: string; workload?: { name?: string; accounts?: number; blocks?: number; txsPerBlock?: number } }
  try {
    spec = JSON.parse(await readFile(file, 'utf8'))
  } catch (cause) {
    throw new UsageError(`--chains: ${file} is not a readable chain.json`, { cause })
  }
  const want: Record<string, string | number> = { name: w, accounts: p.accounts, blocks: c.blocks, txsPerBlock: p.txsPerBlock, ...(p.hardfork ? { hardfork: p.hardfork } : {}) }
  const got: Record<string, unknown> = { ...spec.workload, hardfork: spec.hardfork }
  const differ = Object.keys(want).filter((k) => got[k] !== want[k])
  if (spec.format !== 'megabench-chain-v1' || differ.length > 0) {
    throw new UsageError(
      `--chains: ${chainDir(p, c)} holds ${spec.format === 'megabench-chain-v1' ? `a chain with ${differ.map((k) => `${k} ${String(got[k])}`).join(', ')}` : 'no megabench chain'}; ` +
        `the study asks for ${differ.map((k) => `${k} ${String(want[k])}`).join(', ') || 'a megabench chain'} (use another --chains directory)`,
    )
  }
  return true
}

/** The recipe's steps for these parameters, in order (no side effects besides reading --chains). */
export async function planStudy(p: StudyParameters): Promise<StudyStep[]> {
  if (p.workloads.length === 0 && p.fixtures.length === 0) throw new UsageError('the study needs at least one workload or --fixtures')
  for (const w of p.sweepWorkloads) if (!p.workloads.includes(w)) throw new UsageError(`--sweep-workloads: ${w} is not among --workloads (${p.workloads.join(', ')})`)
  const steps: StudyStep[] = []
  const evmArgs = ['--evm', p.evm]
  const repeat = p.repeat > 1 ? ['--repeat', String(p.repeat)] : []
  const analyze = p.analyze ? ['--analyze', 'all'] : []
  const long = p.longBlocks > 0 && p.workloads[0] !== undefined ? { workload: p.workloads[0], blocks: p.longBlocks, long: true } : undefined
  const chains: ChainSpec[] = [...p.workloads.map((w) => ({ workload: w, blocks: p.blocks, long: false })), ...(long ? [long] : [])]
  const inputOf = (c: ChainSpec) => (c.long ? longRangeInput(c.workload, c.blocks) : c.workload)
  for (const c of chains) {
    const w = c.workload
    const reused = await reusableChain(p, c)
    const input = inputOf(c)
    steps.push({
      id: `generate-${slug(input)}`,
      kind: 'generate',
      input,
      title: `${reused ? 'reuse' : 'generate'} ${w}: ${p.accounts.toLocaleString('en-US')} accounts, ${c.blocks} blocks × ${p.txsPerBlock} txs`,
      args: ['generate', w, '--out', chainDir(p, c), '--accounts', String(p.accounts), '--blocks', String(c.blocks), '--txs-per-block', String(p.txsPerBlock), ...(p.hardfork ? ['--hardfork', p.hardfork] : []), ...(p.seed ? ['--seed', p.seed] : [])],
      ...(reused ? { reused: true } : { out: p.chainsDir === undefined ? chainDir(p, c) : undefined }),
    })
  }
  /** `longBlocks`: the long range, historical and live only (the opcode profile and the analyses are its short chain's). */
  const replay = (input: string, source: string[], longBlocks?: number) => {
    const out = join('runs', slug(input))
    const full = longBlocks === undefined
    steps.push({
      id: `replay-${slug(input)}`,
      kind: 'replay',
      input,
      title:
        `replay ${input}: baseline, ${p.evm === 'fast' ? 'fast EVM' : '@ethereumjs/evm'}, historical + live` +
        (full ? `, opcodes${p.analyze ? ', analyses' : ''}` : ` (the long range: one historical root over ${longBlocks} blocks)`),
      args: ['replay', ...source, '--engine', 'baseline', ...evmArgs, '--mode', 'both', ...(full ? ['--opcodes'] : []), ...repeat, ...(full ? analyze : []), '--out', out, '--no-report'],
      out,
    })
  }
  for (const c of chains) replay(inputOf(c), ['--chain', chainDir(p, c)], c.long ? c.blocks : undefined)
  if (p.fixtures.length > 0) replay(REAL, ['--fixtures', ...p.fixtures.map((f) => resolve(f))])
  if (p.memory.length > 0) {
    const limits = [...p.memory].sort((a, b) => b - a)
    for (const w of p.sweepWorkloads) {
      for (const mode of ['live', 'historical'] as const) {
        const out = join('sweeps', `${w}-${mode}`)
        steps.push({
          id: `sweep-${w}-${mode}`,
          kind: 'sweep',
          input: w,
          title: `sweep ${w}, ${mode}: ${limits.map(formatSize).join(', ')} (bind ${p.bind})`,
          args: ['sweep', '--memory', limits.map(sizeArg).join(','), '--bind', p.bind, ...repeat, '--out', out, '--no-report', '--chain', chainDir(p, w), '--mode', mode, ...evmArgs],
          out,
        })
      }
    }
  }
  return steps
}

/** The command line of a step as a user would type it (paths inside the output shown relative to it). */
export function stepCommand(s: StudyStep): string {
  return `megabench ${commandLine(s.args)}`
}

function runStep(step: StudyStep, cwd: string, logFile: string): Promise<number | null> {
  return new Promise((res, rej) => {
    const log = createWriteStream(logFile)
    log.write(`$ ${stepCommand(step)}\n`)
    const child = spawn(process.execPath, [BIN, ...step.args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
    superviseChild(child)
    child.stdout.pipe(log, { end: false })
    child.stderr.pipe(log, { end: false })
    child.on('error', rej)
    child.on('close', (code, signal) => {
      log.end(signal === null ? '' : `\nkilled by ${signal}\n`)
      res(code)
    })
  })
}

export type StudyHooks = { onStep?: (step: StudyStep, index: number, of: number, done?: StudyStepRecord) => void }

/**
 * Runs the recipe into `p.out` (reserved first: new, empty, or an earlier megabench output with
 * --force; built beside it and renamed into place when every step has run). A step that fails (exit ≥ 2,
 * or killed) is recorded with its reason and the others still run (the steps of a chain that could not be
 * generated are skipped); the result is then `complete: false` and study.md says INCOMPLETE. A replay
 * whose block did not verify (exit 1) is recorded as not verified. Only when every step failed is
 * nothing written. An interrupt removes the half-built output.
 */
export async function runStudy(p: StudyParameters, hooks: StudyHooks = {}): Promise<StudyResult> {
  const steps = await planStudy(p)
  const reservation = await OutputReservation.reserve(p.out, 'study', { force: p.force, inputs: [...p.fixtures, ...(p.chainsDir ? [p.chainsDir] : [])] })
  const startedAt = new Date().toISOString()
  const loadStart = loadavg()
  let result: StudyResult | undefined
  await buildReserved(reservation, async (tmp) => {
    await mkdir(join(tmp, 'logs'), { recursive: true })
    const records: StudyStepRecord[] = []
    for (const [i, step] of steps.entries()) {
      hooks.onStep?.(step, i, steps.length)
      const log = join('logs', `${step.id}.log`)
      if (step.reused) {
        records.push({ ...step, exitCode: 0, ms: 0, log: '' })
        hooks.onStep?.(step, i, steps.length, records.at(-1))
        continue
      }
      // A step whose chain could not be generated does not run; a failed step does not stop the others
      // (an hour of measurements is not thrown away for one of them): the study is then marked incomplete.
      const noChain = records.find((r) => r.kind === 'generate' && r.input === step.input && r.failure !== undefined)
      if (noChain !== undefined) {
        const rec = { ...step, exitCode: null, ms: 0, log: '', skipped: true, failure: `not run: the chain was not generated (${noChain.id})` }
        records.push(rec)
        hooks.onStep?.(step, i, steps.length, rec)
        continue
      }
      const t0 = performance.now()
      const code = await runStep(step, tmp, join(tmp, log))
      const rec: StudyStepRecord = { ...step, exitCode: code, ms: performance.now() - t0, log }
      if (code !== 0 && !(code === 1 && step.kind !== 'generate')) {
        const tail = (await readFile(join(tmp, log), 'utf8')).trim().split('\n').filter((l) => l.startsWith('megabench:')).at(-1)
        rec.failure = `${code === null ? 'killed' : `exit ${code}`}${tail ? `: ${tail.replace(/^megabench:\s*/, '')}` : ''}`
      }
      records.push(rec)
      hooks.onStep?.(step, i, steps.length, rec)
    }
    if (records.every((r) => r.failure !== undefined)) {
      const first = records.find((r) => r.failure !== undefined)
      throw new MegabenchError(`every study step failed; the first, ${first?.id ?? '?'}: ${first?.failure ?? '?'}`, { details: first ? `command: ${stepCommand(first)}` : undefined })
    }
    const inputs = studyInputs(records)
    const loaded = await loadInputs(tmp, inputs)
    // The report is rendered last of the measurements' products and may fail on its own (a chart vega cannot
    // compile): the table and the runs are kept then, and the study says what is missing.
    let reportError: string | undefined
    try {
      await writeFile(join(tmp, 'report.html'), await renderHtml(loaded.flatMap((x) => x.runs), loaded.flatMap((x) => x.sweeps)))
    } catch (err) {
      reportError = `report.html could not be rendered: ${(err as Error).message ?? String(err)}`
    }
    result = {
      format: STUDY_FORMAT,
      tool: toolInfo(),
      machine: machineInfo(),
      loadAverage: { start: loadStart, end: loadavg() },
      startedAt,
      finishedAt: new Date().toISOString(),
      parameters: p,
      steps: records,
      inputs,
      verified: records.every((r) => r.exitCode === 0),
      complete: records.every((r) => r.failure === undefined) && reportError === undefined,
      ...(reportError === undefined ? {} : { reportError }),
    }
    await writeFile(join(tmp, 'study.md'), studyMarkdown(result, loaded.map((x) => ({ name: x.name, rows: studyVsMeasured(x.runs, x.sweeps) }))))
    await writeFile(join(tmp, 'study.json'), `${JSON.stringify(result, null, 1)}\n`)
  })
  return result!
}

/** Each input's run and sweeps (directories relative to the output). */
export function studyInputs(records: readonly StudyStepRecord[]): StudyInput[] {
  const names = [...new Set(records.filter((r) => r.kind !== 'generate' && r.failure === undefined).map((r) => r.input))]
  return names.map((name) => ({
    name,
    run: records.find((r) => r.kind === 'replay' && r.input === name && r.failure === undefined)?.out ?? null,
    sweeps: records.filter((r) => r.kind === 'sweep' && r.input === name && r.failure === undefined).map((r) => r.out!),
  }))
}

async function loadInputs(dir: string, inputs: readonly StudyInput[]): Promise<{ name: string; runs: LabeledRun[]; sweeps: LabeledSweep[] }[]> {
  const out = []
  for (const i of inputs) {
    const runs: LabeledRun[] = []
    const sweeps: LabeledSweep[] = []
    if (i.run !== null) {
      const r = await loadResult(join(dir, i.run))
      if (r.kind === 'run') runs.push({ label: i.name, result: r.run })
    }
    for (const s of i.sweeps) {
      const r = await loadResult(join(dir, s))
      if (r.kind === 'sweep') sweeps.push({ label: `${i.name} ${s.endsWith('-live') ? 'live' : 'historical'} sweep`, result: r.sweep })
    }
    out.push({ name: i.name, runs, sweeps })
  }
  return out
}


/** study.md: the study's value and ours per input for every figure, then each input's conditions and the commands. */
export function studyMarkdown(r: StudyResult, tables: readonly { name: string; rows: readonly StudyComparison[] }[]): string {
  const p = r.parameters
  const m = r.machine
  const load = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(' / ')
  const out: string[] = []
  out.push('# The study vs measured (megabench study)', '')
  out.push(
    `Reth-like configuration: the baseline engine (MPT on LMDB behind two caches; root and commit per block in live sync) executing with ${p.evm === 'fast' ? "megabench's fast EVM" : '@ethereumjs/evm'}. ` +
      `Inputs: ${p.workloads.map((w) => `${w} (${p.accounts.toLocaleString('en-US')} accounts, ${p.blocks} blocks × ${p.txsPerBlock} txs)`).join(', ')}` +
      `${p.longBlocks > 0 && p.workloads[0] !== undefined ? `, the long range ${longRangeInput(p.workloads[0], p.longBlocks)} (historical + live only: one historical root over the whole range, nearer the study's root every 500k blocks)` : ''}${p.fixtures.length > 0 ? `, real blocks (${p.fixtures.join(', ')})` : ''}. ` +
      `The study's values are MegaETH's measurements of Reth (../shared/docs/measurements.md) and appear only in the column labelled as the study's; every other value was measured by the steps below. ` +
      `${r.verified ? 'Every step exited 0: every replayed block verified.' : '⚠ Not every step exited 0 (see the steps); the values come from verified blocks only.'}`,
    '',
  )
  const failed = r.steps.filter((s) => s.failure !== undefined)
  if (failed.length > 0) {
    out.push(`**⚠ INCOMPLETE**: ${failed.map((s) => `${s.id} ${s.skipped ? 'skipped' : 'failed'} (${s.failure})`).join('; ')}. Rows those steps measure show — or come from the steps that ran.`, '')
  }
  if (r.reportError !== undefined) out.push(`**⚠ INCOMPLETE**: ${r.reportError} (the table below and the runs are complete).`, '')
  out.push(
    `Machine: ${m.cpuModel}, ${m.cores} cores, ${formatSize(m.memoryBytes)}, Node ${m.nodeVersion}; load average (1/5/15 min) ${load(r.loadAverage.start)} at the start, ${load(r.loadAverage.end)} at the end; ` +
      `${r.tool.name} ${r.tool.version}${r.tool.gitCommit ? ` (${r.tool.gitCommit.slice(0, 10)})` : ''}; ${r.startedAt} → ${r.finishedAt}.`,
    '',
  )
  const ids = tables[0]?.rows.map((x) => x.id) ?? []
  out.push(`| # | figure | the study's value (Reth) | ${tables.map((t) => cell(t.name)).join(' | ')} |`, `|---|---|---|${tables.map(() => '---|').join('')}`)
  for (const id of ids) {
    const first = tables[0]!.rows.find((x) => x.id === id)!
    out.push(`| ${id} | ${cell(first.figure)} | ${cell(first.study)} | ${tables.map((t) => cell(t.rows.find((x) => x.id === id)?.measured ?? '—')).join(' | ')} |`)
  }
  out.push('', '— = not measured by this study run (the row names what would measure it).', '')
  for (const t of tables) {
    out.push(`## ${t.name}: where each value comes from, and the conditions that differ from the study's`, '')
    for (const row of t.rows) out.push(`- **${row.id}. ${row.figure}** — ${row.measured === null ? `not measured (${row.measuredOn})` : `${row.measuredOn}; ${row.conditions.join('; ') || 'no differing condition recorded'}`}`)
    out.push('')
  }
  out.push('## Steps', '', '| step | command | exit | seconds |', '|---|---|---|---|')
  for (const s of r.steps) out.push(`| ${s.id} | \`${cell(stepCommand(s))}\`${s.reused ? ' (reused)' : ''}${s.failure ? ` — ${cell(s.failure)}` : ''} | ${s.skipped ? 'not run' : (s.exitCode ?? 'killed')} | ${(s.ms / 1000).toFixed(1)} |`)
  out.push('')
  return out.join('\n')
}
