import { basename, join } from 'node:path'

import { formatSummary } from '../output/summary.js'
import { renderHtml } from '../report/html.js'
import { runFiles } from '../output/runFiles.js'
import { OutputReservation, checkOutputFile } from '../output/guard.js'
import { STATE_DIFFS_MAGIC } from '../chain/stateDiff.js'
import { DEFAULT_FIXTURES } from '../run/environment.js'
import type { EngineName, SyncMode, VerifyMpt } from '../engines/types.js'
import type { SenderSource } from '../engines/senders.js'
import { DEFAULT_REPEATS, DEFAULT_WARMUP_PASSES } from '../protocol/index.js'
import { type BaselineSettings, DEFAULT_MEGA_SETTINGS, type MegaSettings, type ReplayStorage, countPasses, replay } from '../run/replay.js'
import { enforceMemoryLimit } from '../storage/cgroup.js'
import { splitBudget } from '../storage/memory.js'
import { UsageError } from '../errors/index.js'
import { missLatencyNs } from './parse.js'
import { EVM_TIERS, type EvmTier, isEvmTier } from '../evm/tiers.js'
import { createChainSource, measuredBlockCount } from '../sources/chain.js'
import { createFixtureSource } from '../sources/fixtures.js'
import type { BlockSource } from '../types.js'
import { createProgress } from './progress.js'
import { parseProfileKind, runUnderClinic } from './profile.js'
import { applyShard, parseShard } from '../run/shard.js'
import { CPU_PROFILE_FILE, type CpuProfile, startCpuProfile } from '../probes/cpuProfile.js'
import { flameData } from '../report/flame.js'
import { type AnalysisKind, needsProfile, parseAnalysisKinds, runAnalyses } from '../analyses/index.js'
import { DEFAULT_MACHINE, type MachineDescription } from '../analyses/bounds.js'
import { formatAnalyses } from '../analyses/format.js'
import { DEFAULT_TPS } from '../analyses/statediff.js'

export type ReplayCliOptions = {
  fixtures?: string[]
  chain?: string
  from?: number
  to?: number
  opcodes?: boolean
  json?: boolean
  out?: string
  mode?: string
  batch?: number
  storage?: string
  memory?: number
  l1?: number
  l2?: number
  /** `--no-l1-trie-nodes` gives false. */
  l1TrieNodes?: boolean
  db?: string
  cgroup?: boolean
  /** --cgroup-headroom: page cache allowed above the budget (bytes; default CGROUP_HEADROOM_BYTES). */
  cgroupHeadroom?: number
  /** --miss-latency: the disk model's cost per level-2 miss, µs. */
  missLatency?: number
  engine?: string
  threads?: string[]
  /** --verify-mpt [every|final|off]: true when given bare (= every). */
  verifyMpt?: boolean | string
  /** --senders recover|cache */
  senders?: string
  /** Measured passes per variant, and warm-up passes before them (src/protocol). */
  repeat?: number
  warmup?: number
  stateDiffs?: string
  senderWorkers?: number
  evm?: string
  /** --baseline-evm ethereumjs|fast[,…]: with the mega engine, the baseline's EVM (default ethereumjs). */
  baselineEvm?: string
  /** --evm-tier interpreter|compiled|tiered, or a comma list (one fast-EVM variant per tier). */
  evmTier?: string
  /** commander's --no-report sets this false */
  report?: boolean
  /** Replace an earlier megabench output at --out (never anything else). */
  force?: boolean
  /** i/n: replay only this shard of the fixture set or chain range */
  shard?: string
  /** cpu, clinic-flame or clinic-doctor */
  profile?: string
  /** --analyze parallelism,statediff,jit,bounds (or all), with --tps, --cores, --iops, --mbps. */
  analyze?: string[]
  tps?: number
  cores?: number
  iops?: number
  mbps?: number
}

/** --analyze and its parameters (undefined when no analysis is asked for). */
export function analysisOptions(opts: Pick<ReplayCliOptions, 'analyze' | 'tps' | 'cores' | 'iops' | 'mbps'>): { kinds: AnalysisKind[]; tps: number; machine: MachineDescription } | undefined {
  if (opts.analyze === undefined) {
    for (const [flag, v] of [['--tps', opts.tps], ['--cores', opts.cores], ['--iops', opts.iops], ['--mbps', opts.mbps]] as const) {
      if (v !== undefined) throw new UsageError(`${flag} applies to --analyze`)
    }
    return undefined
  }
  const machine = { cores: opts.cores ?? DEFAULT_MACHINE.cores, iops: opts.iops ?? DEFAULT_MACHINE.iops, mbps: opts.mbps ?? DEFAULT_MACHINE.mbps }
  for (const [flag, v] of [['--tps', opts.tps], ['--cores', machine.cores], ['--iops', machine.iops], ['--mbps', machine.mbps]] as const) {
    if (v !== undefined && !(v > 0)) throw new UsageError(`${flag} must be positive (got ${v})`)
  }
  return { kinds: parseAnalysisKinds(opts.analyze), tps: opts.tps ?? DEFAULT_TPS, machine }
}

/** --engine, --threads, --verify-mpt, --state-diffs, --sender-workers → engines and mega settings. */
export function enginesFromOptions(opts: ReplayCliOptions): { engines: EngineName[]; mega: MegaSettings; baseline: BaselineSettings } {
  const e = opts.engine ?? 'baseline'
  // both = baseline,mega; a comma list names the engines in the order their variants run (src/protocol).
  const list = e === 'both' ? ['baseline', 'mega'] : e.split(',')
  if (list.length === 0 || list.some((x) => x !== 'baseline' && x !== 'mega') || new Set(list).size !== list.length) {
    throw new UsageError(`--engine must be baseline, mega, both, or both in an order (baseline,mega or mega,baseline) (got ${JSON.stringify(e)})`)
  }
  const engines = list as EngineName[]
  const threads = (opts.threads ?? ['0']).flatMap((t) => t.split(',')).filter((t) => t !== '').map((t) => {
    if (!/^\d+$/.test(t) || Number(t) > 64) throw new UsageError(`--threads takes worker counts 0…64 (got ${JSON.stringify(t)})`)
    return Number(t)
  })
  const evmList = (flag: string, text: string | undefined) => {
    const xs = text === undefined ? undefined : [...new Set(text.split(',').filter((x) => x !== ''))]
    if (xs !== undefined && (xs.length === 0 || xs.some((x) => x !== 'ethereumjs' && x !== 'fast'))) {
      throw new UsageError(`${flag} takes ethereumjs, fast or both comma-separated (got ${JSON.stringify(text)})`)
    }
    return xs
  }
  const evms = evmList('--evm', opts.evm)
  const baselineEvms = evmList('--baseline-evm', opts.baselineEvm)
  if (baselineEvms !== undefined && !engines.includes('mega')) throw new UsageError('--baseline-evm applies with the mega engine (--engine both); the baseline alone takes --evm')
  const tiers = opts.evmTier === undefined ? undefined : [...new Set(opts.evmTier.split(',').filter((x) => x !== ''))]
  if (tiers !== undefined && (tiers.length === 0 || !tiers.every(isEvmTier))) {
    throw new UsageError(`--evm-tier takes ${EVM_TIERS.join(', ')} or several comma-separated (got ${JSON.stringify(opts.evmTier)})`)
  }
  if (!engines.includes('mega')) {
    for (const [flag, set] of [['--threads', opts.threads !== undefined], ['--verify-mpt', opts.verifyMpt !== undefined], ['--state-diffs', opts.stateDiffs !== undefined], ['--sender-workers', opts.senderWorkers !== undefined]] as const) {
      if (set) throw new UsageError(`${flag} applies to --engine mega or both`)
    }
  }
  if (tiers !== undefined && !(evms ?? []).includes('fast')) throw new UsageError('--evm-tier applies to the fast EVM (--evm fast or ethereumjs,fast)')
  // --evm and --evm-tier choose the EVM of the engine being measured: the baseline's when it runs alone; with
  // the mega engine, the mega engine's, while the baseline stays on @ethereumjs/evm, the differential's
  // reference, unless --baseline-evm says otherwise (e.g. fast: the state architecture alone compared).
  const setting = (xs: string[] | undefined) => (xs === undefined ? undefined : xs.length === 1 ? (xs[0] as 'ethereumjs' | 'fast') : (xs as ('ethereumjs' | 'fast')[]))
  const baselineTier = (xs: string[] | undefined) => (xs?.includes('fast') ? (tiers?.[0] as EvmTier | undefined) : undefined)
  return {
    engines,
    baseline: engines.includes('mega') ? (baselineEvms === undefined ? {} : { evm: setting(baselineEvms), evmTier: baselineTier(baselineEvms) }) : { evm: setting(evms), evmTier: tiers?.[0] as EvmTier | undefined },
    mega: {
      verifyMpt: parseVerifyMpt(opts.verifyMpt),
      senderWorkers: opts.senderWorkers ?? DEFAULT_MEGA_SETTINGS.senderWorkers,
      stateDiffs: opts.stateDiffs,
      threads: [...new Set(threads.length > 0 ? threads : [0])],
      evm: setting(evms),
      evmTier: tiers === undefined ? undefined : tiers.length === 1 ? (tiers[0] as EvmTier) : (tiers as EvmTier[]),
    },
  }
}

/** --verify-mpt [every|final|off] (bare: every; absent: final, the default). */
export function parseVerifyMpt(v: boolean | string | undefined): VerifyMpt {
  if (v === undefined || v === false) return DEFAULT_MEGA_SETTINGS.verifyMpt
  if (v === true) return 'every'
  if (v === 'every' || v === 'final' || v === 'off') return v
  throw new UsageError(`--verify-mpt takes every, final or off (got ${JSON.stringify(v)})`)
}

/** --senders recover|cache (default recover). */
export function parseSenders(v: string | undefined): SenderSource {
  if (v === undefined || v === 'recover' || v === 'cache') return v ?? 'recover'
  throw new UsageError(`--senders must be recover or cache (got ${JSON.stringify(v)})`)
}

/** --repeat and --warmup (src/protocol). */
export function protocolFromOptions(opts: Pick<ReplayCliOptions, 'repeat' | 'warmup'>): { repeat: number; warmup: number } {
  const repeat = opts.repeat ?? DEFAULT_REPEATS
  const warmup = opts.warmup ?? DEFAULT_WARMUP_PASSES
  if (!(Number.isInteger(repeat) && repeat >= 1)) throw new UsageError(`--repeat must be a whole number >= 1 (got ${repeat})`)
  if (!(Number.isInteger(warmup) && warmup >= 0)) throw new UsageError(`--warmup must be a whole number >= 0 (got ${warmup})`)
  return { repeat, warmup }
}

/** --mode, --storage, --batch, --memory/--l1/--l2, --db → replay storage parameters. */
export function storageFromOptions(opts: ReplayCliOptions): { storage: ReplayStorage; modes: SyncMode[] } {
  const mode = opts.mode ?? 'live'
  if (!['live', 'historical', 'both'].includes(mode)) throw new UsageError(`--mode must be live, historical or both (got ${JSON.stringify(mode)})`)
  const modes: SyncMode[] = mode === 'both' ? ['historical', 'live'] : [mode as SyncMode]
  const kind = opts.storage ?? 'lmdb'
  if (kind !== 'lmdb' && kind !== 'memory') throw new UsageError(`--storage must be lmdb or memory (got ${JSON.stringify(kind)})`)
  if (kind === 'memory') {
    if (mode !== 'live') throw new UsageError('--storage memory supports --mode live only (historical sync needs LMDB)')
    for (const [flag, v] of [['--memory', opts.memory], ['--l1', opts.l1], ['--l2', opts.l2], ['--db', opts.db], ['--batch', opts.batch], ['--miss-latency', opts.missLatency]] as const) {
      if (v !== undefined) throw new UsageError(`${flag} applies to --storage lmdb`)
    }
    if (opts.l1TrieNodes === false) throw new UsageError('--no-l1-trie-nodes applies to --storage lmdb')
    return { storage: { kind: 'memory' }, modes }
  }
  if (opts.batch !== undefined && !modes.includes('historical')) throw new UsageError('--batch applies to --mode historical (or both)')
  if (opts.db !== undefined && modes.length > 1) throw new UsageError('--db keeps one DB: use it with a single --mode')
  const memory = splitBudget({ memory: opts.memory, l1: opts.l1, l2: opts.l2 })
  const latencyNs = missLatencyNs(opts.missLatency)
  if (latencyNs !== undefined && opts.cgroup === true) throw new UsageError('give --cgroup (bind the real page cache) or --miss-latency (a declared disk model), not both')
  return { storage: { kind: 'lmdb', batch: opts.batch ?? null, memory, dir: opts.db, missLatencyNs: latencyNs, l1TrieNodes: opts.l1TrieNodes ?? true }, modes }
}

/** --fixtures | --chain [--from --to] → the block source, its paths, block count, range and workload name. */
export async function sourceFromOptions(opts: Pick<ReplayCliOptions, 'fixtures' | 'chain' | 'from' | 'to'>): Promise<{
  source: BlockSource
  paths: string[]
  total: number
  range: { from: number; to: number } | undefined
  workload: string
}> {
  if (opts.chain !== undefined && opts.fixtures !== undefined) throw new UsageError('give --fixtures or --chain, not both')
  if (opts.chain === undefined && (opts.from !== undefined || opts.to !== undefined)) {
    throw new UsageError('--from and --to apply to --chain')
  }
  if (opts.chain !== undefined) {
    const chain = await createChainSource({ dir: opts.chain, from: opts.from, to: opts.to })
    return {
      source: chain,
      paths: [opts.chain],
      range: { from: opts.from ?? chain.manifest.blocks.first, to: opts.to ?? chain.manifest.blocks.last },
      total: measuredBlockCount(chain.manifest, opts.from, opts.to),
      workload: chain.manifest.workload?.name ?? `blocks fetched from chain ${chain.manifest.chainId}`,
    }
  }
  const paths = opts.fixtures && opts.fixtures.length > 0 ? opts.fixtures : [DEFAULT_FIXTURES]
  const source = await createFixtureSource({ paths })
  return { source, paths, total: source.unitCount, range: undefined, workload: `real blocks (${paths.map((p) => basename(p)).join(', ')})` }
}

/** `megabench replay`: flags → parameters → replay → files + summary. Returns the exit code. */
export async function replayCommand(opts: ReplayCliOptions): Promise<number> {
  if (opts.chain !== undefined && opts.fixtures !== undefined) throw new UsageError('give --fixtures or --chain, not both')
  const profile = parseProfileKind(opts.profile)
  if (profile === 'clinic-flame' || profile === 'clinic-doctor') return runUnderClinic(profile, opts.out)
  if (opts.shard !== undefined) Object.assign(opts, await applyShard(opts, parseShard(opts.shard), DEFAULT_FIXTURES))
  const { source, paths, total, range, workload } = await sourceFromOptions(opts)
  const { storage, modes } = storageFromOptions(opts)
  const { engines, mega, baseline } = enginesFromOptions(opts)
  const analyses = analysisOptions(opts)
  const senders = parseSenders(opts.senders)
  const protocol = protocolFromOptions(opts)
  if (analyses !== undefined && needsProfile(analyses.kinds) && opts.opcodes !== true) {
    throw new UsageError('--analyze jit needs --opcodes (the JIT bound comes from the opcode profile)')
  }
  if (opts.cgroupHeadroom !== undefined && opts.cgroup !== true) throw new UsageError('--cgroup-headroom applies to --cgroup')
  if (opts.cgroup === true) {
    const limit = storage.kind === 'lmdb' ? storage.memory.total : null
    if (limit === null) throw new UsageError('--cgroup needs --memory (the limit to enforce)')
    const applied = enforceMemoryLimit(limit, opts.cgroupHeadroom)
    process.stderr.write(`megabench: ${applied.message}\n`)
  }
  // The output is checked and reserved before any work: a path megabench must not replace, or one it
  // cannot write, is refused now, not after the replay.
  const outDir = opts.out ?? join('reports', timestampForPath(new Date()))
  if (mega.stateDiffs !== undefined) {
    await checkOutputFile(mega.stateDiffs, (head) => head.startsWith(new TextDecoder().decode(STATE_DIFFS_MAGIC)), { force: opts.force, option: '--state-diffs', inputs: paths })
  }
  const reservation = await OutputReservation.reserve(outDir, 'replay', { force: opts.force, inputs: paths })
  let result
  try {
    const passes = countPasses({ modes, engines, mega, baseline, opcodes: opts.opcodes === true, ...protocol })
    const progress = createProgress(total * passes, opts.json !== true)
    const cpu = profile === 'cpu' ? await startCpuProfile() : undefined
    let cpuProfile: CpuProfile | undefined
    try {
      result = await replay({
        source,
        sourcePaths: paths,
        range,
        storage,
        modes,
        engines,
        mega,
        baseline,
        opcodes: opts.opcodes === true,
        senders,
        ...protocol,
        onBlock: (row, _i, _mode, label) => progress.tick(`${label} block ${row.number}`),
      })
    } finally {
      cpuProfile = await cpu?.stop()
      progress.stop()
    }
    if (analyses !== undefined) {
      if (opts.json !== true) process.stderr.write(`megabench: analyses (${analyses.kinds.join(', ')}): access pass over the same blocks…\n`)
      result.analyses = await runAnalyses({ ...analyses, source, workload, run: result })
    }
    const files: Map<string, string | Uint8Array> = runFiles(result)
    if (cpuProfile !== undefined) files.set(CPU_PROFILE_FILE, JSON.stringify(cpuProfile))
    const flame = cpuProfile === undefined ? undefined : flameData(cpuProfile)
    if (opts.report !== false) files.set('report.html', await renderHtml([{ label: basename(outDir), result, flame }], []))
    await reservation.write(files)
  } catch (err) {
    await reservation.abort()
    throw err
  }
  await reservation.commit()
  if (opts.json === true) process.stdout.write(`${JSON.stringify(result)}\n`)
  else {
    process.stdout.write(`${formatSummary(result, { outDir, report: opts.report })}\n`)
    if (result.analyses) process.stdout.write(`\n${formatAnalyses(result.analyses)}\n`)
  }
  return result.verification.failed.length === 0 ? 0 : 1
}

/** 2026-11-22T02:13:31.123Z → 2026-11-22T02-13-31Z (safe in file names everywhere). */
export function timestampForPath(d: Date): string {
  return d.toISOString().replace(/\.\d+Z$/, 'Z').replaceAll(':', '-')
}
