import { rmSync } from 'node:fs'
import { rm, writeFile, rename } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'

import { createBaselineEngine } from '../engines/baseline/engine.js'
import { createMegaEngine } from '../engines/mega/engine.js'
import type { SenderSource } from '../engines/senders.js'
import { STATE_DIFFS_MAGIC } from '../chain/stateDiff.js'
import type { BaselineOptions, BlockRun, Engine, EngineName, MegaOptions, MegaUnitStats, StorageOptions, SyncMode, UnitStorageStats, VerifyMpt } from '../engines/types.js'
import { BlockExecutionError, UsageError } from '../errors/index.js'
import { compilerStats } from '../evm/compiler.js'
import { DEFAULT_EVM_TIER, type EvmTier } from '../evm/tiers.js'
import { now } from '../probes/clock.js'
import { OpcodeProfiler } from '../probes/opcodeProfiler.js'
import { type PhaseTimes, addPhaseTimes, emptyPhaseTimes, sumPhaseTimes } from '../probes/phases.js'
import { DEFAULT_REPEATS, DEFAULT_WARMUP_PASSES, collectGarbage, schedule, spread } from '../protocol/index.js'
import { L1_SHARE } from '../storage/memory.js'
import { HEAP_CACHE_CAP } from '../storage/stateStore.js'
import type { BlockSource } from '../types.js'
import { onInterrupt } from '../util/interrupt.js'
import { medianRows, mergeOpcodeProfiles, passSpreads, rate } from './aggregate.js'
import { machineInfo, toolInfo } from './environment.js'
import {
  type BlockRow,
  type Decomposition,
  type EngineResult,
  type MegaReport,
  type OpcodeProfileJson,
  RUN_SCHEMA_VERSION,
  type RunResult,
  type StorageReport,
} from './schema.js'
import { storageReport } from './storageReport.js'
import { cgroupBindingReport } from '../storage/cgroup.js'

/** Where state lives and how the caches are bounded. */
export type ReplayStorage =
  | { kind: 'memory' }
  | {
      kind: 'lmdb'
      /** Historical: blocks per state root and persistence (null = once per unit). */
      batch: number | null
      /** Cache budgets in bytes (unbounded when null). */
      memory: { total: number | null; l1: number; l2: number }
      /** Level 1 holds trie nodes (default true; false: `--no-l1-trie-nodes`, trie nodes through level 2 only, as Reth). */
      l1TrieNodes?: boolean | undefined
      /** Keep the DB here (and resume at its head); default a temporary DB per run. */
      dir?: string | undefined
      /**
       * A declared disk model: every level-2 miss (an LMDB read) is charged this many ns in the run's
       * modelled totals (`storage.binding`, kind model), instead of its measured time. Measured numbers stay as measured.
       */
      missLatencyNs?: number | undefined
    }

export type ReplayParameters = {
  source: BlockSource
  /** The paths the source was built from, recorded in the run result. */
  sourcePaths: readonly string[]
  /** For chains: the measured range, recorded in the run result. */
  range?: { from: number | null; to: number | null }
  /** Also run profiled passes and report the opcode profile (timings still come from unprofiled passes). */
  opcodes?: boolean
  /** Default: LMDB with unbounded caches. */
  storage?: ReplayStorage
  /** Sync modes to run, each over the whole source (default live). Both give the decomposition. */
  modes?: readonly SyncMode[]
  /** Engines to run on the same blocks (default baseline); with both, every block's state diff is compared. */
  engines?: readonly EngineName[]
  /** Mega engine settings; `threads` lists the parallel-execution widths to run (0 = in order). */
  mega?: MegaSettings
  /** Baseline engine settings: its EVM(s) (default ethereumjs; several: one baseline variant per EVM) and the fast EVM's tier. */
  baseline?: BaselineSettings
  /** Where senders come from, for every engine (default recover). */
  senders?: SenderSource
  /** Warm-up passes of every variant before the measured ones, not reported (default 1; src/protocol). */
  warmup?: number
  /** Measured passes per variant, interleaved A B B A (default 1); medians and spreads are reported. */
  repeat?: number
  /** Called after every block of every pass (warm-up and profiled passes included: their label says so). */
  onBlock?: (row: BlockRow, index: number, mode: SyncMode, engine: string) => void
  /** Called before every pass. */
  onPass?: (pass: PassInfo) => void
}

/** One pass of the schedule, as progress reporting sees it. */
export type PassInfo = { label: string; warmup: boolean; profiled: boolean; index: number; of: number }

export type BaselineSettings = {
  evm?: 'ethereumjs' | 'fast' | readonly ('ethereumjs' | 'fast')[] | undefined
  evmTier?: EvmTier | undefined
}

export type MegaSettings = {
  /** When the MPT mirror proves the state root (default final: the range's last block). */
  verifyMpt: VerifyMpt
  senderWorkers: number
  stateDiffs: string | undefined
  threads: readonly number[]
  /** The mega engine's EVM (default ethereumjs); several: one mega variant per EVM, side by side. */
  evm?: 'ethereumjs' | 'fast' | readonly ('ethereumjs' | 'fast')[] | undefined
  /** The fast EVM's tier (default DEFAULT_EVM_TIER); several: one fast-EVM variant per tier, side by side. */
  evmTier?: EvmTier | readonly EvmTier[] | undefined
}

export const DEFAULT_MEGA_SETTINGS: MegaSettings = { verifyMpt: 'final', senderWorkers: 1, stateDiffs: undefined, threads: [0] }

/** One engine configuration; `profiled` passes feed only the opcode profile. */
type Variant = { engine: Engine; mode: SyncMode; threads: number; label: string; evm: 'ethereumjs' | 'fast'; /** The fast EVM's tier (fast variants only). */ tier?: EvmTier; profiled: boolean }

/** What one pass of a variant produced; `compiled`: basic blocks the fast EVM's compiler compiled during it, and the time that took (process-wide counters). */
type Pass = { rows: BlockRow[]; units: UnitStorageStats[]; megaUnits: MegaUnitStats[]; profile: OpcodeProfileJson | null; wallMs: number; compiled: { blocks: number; ms: number } }

const DEFAULT_STORAGE: ReplayStorage = {
  kind: 'lmdb',
  batch: null,
  memory: { total: null, l1: Number.MAX_SAFE_INTEGER, l2: Number.MAX_SAFE_INTEGER },
}

/**
 * Replays the source through every variant (engine × sync mode × EVM × threads) under the measurement
 * protocol (src/protocol: warm-up passes first, then measured passes interleaved A B B A), proves every
 * block and returns the run result: per variant the per-block medians over measured passes and their
 * spreads. With opcodes, each variant also runs profiled passes: the profile comes from them, timings
 * from the unprofiled ones, and their ratio is the probe's measured overhead. With several engines, every
 * mega variant's per-block state diff is compared with the baseline's. Throws a MegabenchError on bad
 * input; a block that executes but does not reproduce its header is a verification failure in the result.
 */
export async function replay(p: ReplayParameters): Promise<RunResult> {
  const storage = p.storage ?? DEFAULT_STORAGE
  const modes = p.modes ?? ['live']
  const engineNames = p.engines ?? ['baseline']
  const mega = p.mega ?? DEFAULT_MEGA_SETTINGS
  const senders = p.senders ?? 'recover'
  const warmup = p.warmup ?? DEFAULT_WARMUP_PASSES
  const repeat = p.repeat ?? DEFAULT_REPEATS
  const origin = p.sourcePaths.join(', ')
  if (storage.kind === 'memory' && modes.includes('historical') && engineNames.includes('baseline')) {
    throw new BlockExecutionError({ origin, block: 0 }, 'historical sync needs LMDB storage')
  }
  const compare = engineNames.includes('baseline') && engineNames.includes('mega')
  if (compare && storage.kind === 'memory') {
    throw new UsageError('comparing engines needs the baseline on LMDB (--storage lmdb): it computes the per-block state diffs there')
  }
  if (storage.kind === 'lmdb' && storage.dir !== undefined && (repeat > 1 || p.opcodes === true)) {
    throw new UsageError('--db keeps one DB and resumes at its head: use it without --repeat and --opcodes (each pass needs the same blocks)')
  }
  const evms = evmsOf(mega)
  const baselineEvms = baselineEvmsOf(p.baseline)
  const { variants, twins } = buildVariants(modes, engineNames, mega, p.opcodes === true, p.baseline)
  const plan = schedule([...variants, ...twins], repeat, warmup)
  const passes = new Map<Variant, Pass[]>()
  const warmupCompiled = new Map<Variant, number>()
  const diffsPartial = mega.stateDiffs === undefined || !engineNames.includes('mega') ? undefined : join(dirname(mega.stateDiffs), `.${basename(mega.stateDiffs)}.megabench-partial-${process.pid}`)
  const unregister = diffsPartial === undefined ? () => {} : onInterrupt(() => rmSync(diffsPartial, { force: true }))
  if (diffsPartial !== undefined) await writeFile(diffsPartial, STATE_DIFFS_MAGIC)
  let diffsWritten = false
  try {
    try {
      for (const [i, step] of plan.entries()) {
        const v = step.variant
        p.onPass?.({ label: v.label, warmup: step.warmup, profiled: v.profiled, index: i, of: plan.length })
        // A collected heap before the first pass; before later ones only the young generation, so that the
        // optimized code of the passes before stays valid (see collectGarbage).
        collectGarbage(i === 0 ? 'full' : 'young')
        const writeDiffs = !step.warmup && !v.profiled && v.engine.name === 'mega' && !diffsWritten ? diffsPartial : undefined
        if (writeDiffs !== undefined) diffsWritten = true
        // Warm-up passes and profiled twins never touch a --db directory (only the measured pass resumes it).
        const passStorage: ReplayStorage = storage.kind === 'lmdb' && (step.warmup || v.profiled) ? { ...storage, dir: undefined } : storage
        const pass = await runPass(v, passStorage, p, senders, {
          mega: { mode: v.mode, batch: storage.kind === 'lmdb' ? storage.batch : null, verifyMpt: mega.verifyMpt, senderWorkers: mega.senderWorkers, stateDiffs: writeDiffs, threads: v.threads, evm: v.evm, evmTier: v.tier },
          baseline: { evm: v.evm, evmTier: v.tier },
          stateDiffs: compare && v.engine.name === 'baseline',
          label: `${step.warmup ? 'warm-up ' : ''}${v.label}${v.profiled ? ' (profiled)' : ''}`,
        })
        if (!step.warmup) passes.set(v, [...(passes.get(v) ?? []), pass])
        else warmupCompiled.set(v, (warmupCompiled.get(v) ?? 0) + pass.compiled.blocks)
      }
    } finally {
      for (const v of variants) await v.engine.close?.()
    }
    if (diffsPartial !== undefined) await rename(diffsPartial, mega.stateDiffs!)
  } finally {
    if (diffsPartial !== undefined) await rm(diffsPartial, { force: true })
    unregister()
  }

  const results = variants.map((v) => {
    const twin = twins.find((t) => t.engine === v.engine && t.mode === v.mode && t.threads === v.threads && t.evm === v.evm && t.tier === v.tier)
    return engineResult(v, passes.get(v) ?? [], twin === undefined ? undefined : (passes.get(twin) ?? []), storage, senders, warmupCompiled.get(v) ?? 0)
  })
  const differential = compare ? compareDiffs(results) : null
  const failed: RunResult['verification']['failed'] = []
  for (const e of results) {
    for (const row of e.blocks) {
      for (const [name, c] of Object.entries(row.checks)) {
        if (c.status === 'fail' && c.expected !== undefined) failed.push({ engine: e.label, block: row.number, origin: row.origin, field: c.field ?? name, expected: c.expected, actual: c.actual ?? '' })
      }
    }
  }
  const first = results[0]!
  return {
    schemaVersion: RUN_SCHEMA_VERSION,
    kind: 'megabench.run',
    createdAt: new Date().toISOString(),
    tool: toolInfo(),
    machine: machineInfo(),
    config: {
      command: 'replay',
      source: {
        kind: p.source.kind,
        paths: [...p.sourcePaths],
        units: p.source.unitCount,
        from: p.range?.from ?? null,
        to: p.range?.to ?? null,
      },
      engines: [...engineNames],
      modes: [...modes],
      storage: storage.kind,
      opcodes: p.opcodes === true,
      senders,
      protocol: { warmup, repeat, order: plan.map((s) => `${s.warmup ? 'warm-up ' : ''}${s.variant.label}${s.variant.profiled ? ' (profiled)' : ''}`) },
      ...(engineNames.includes('baseline') && baselineEvms.some((e) => e !== 'ethereumjs')
        ? { baseline: { evm: [...baselineEvms], ...(baselineEvms.includes('fast') ? { evmTier: p.baseline?.evmTier ?? DEFAULT_EVM_TIER } : {}) } }
        : {}),
      mega: engineNames.includes('mega')
        ? { verifyMpt: mega.verifyMpt, senderWorkers: mega.senderWorkers, threads: [...mega.threads], stateDiffs: mega.stateDiffs ?? null, evm: [...evms] }
        : null,
    },
    engines: results,
    // With both EVMs on the baseline, the decomposition is the first one's (each engine label names its EVM).
    decomposition: decompose(results.filter((e) => e.name === 'baseline' && e.evm === baselineEvms[0]), baselineEvms.length > 1 || baselineEvms[0] === 'fast'),
    differential,
    verification: {
      blocks: first.totals.blocks,
      verified: Math.min(...results.map((e) => e.totals.verifiedBlocks)),
      failed,
    },
  }
}

/** The EVMs the mega variants run. */
function evmsOf(mega: MegaSettings): readonly ('ethereumjs' | 'fast')[] {
  return mega.evm === undefined ? ['ethereumjs'] : typeof mega.evm === 'string' ? [mega.evm] : mega.evm
}

/** The EVMs the baseline variants run. */
function baselineEvmsOf(b: BaselineSettings | undefined): readonly ('ethereumjs' | 'fast')[] {
  return b?.evm === undefined ? ['ethereumjs'] : typeof b.evm === 'string' ? [b.evm] : b.evm
}

/** The tiers the fast-EVM variants run. */
function tiersOf(mega: MegaSettings): readonly EvmTier[] {
  return mega.evmTier === undefined ? [DEFAULT_EVM_TIER] : typeof mega.evmTier === 'string' ? [mega.evmTier] : mega.evmTier
}

/**
 * The variants of a run (engine × mode × EVM × threads) and, with opcodes, their profiled twins (those of
 * the fast EVM run its instrumented interpreter, whatever the tier); parallel workers run unprofiled, so those
 * variants have none.
 */
function buildVariants(modes: readonly SyncMode[], engineNames: readonly EngineName[], mega: MegaSettings, opcodes: boolean, baseline?: BaselineSettings): { variants: Variant[]; twins: Variant[] } {
  const evms = evmsOf(mega)
  const tiers = tiersOf(mega)
  const baselineEvms = baselineEvmsOf(baseline)
  const variants: Variant[] = []
  for (const mode of modes) {
    for (const name of engineNames) {
      if (name === 'baseline') {
        // The label names the EVM whenever it is not the default alone: baseline/live/fast EVM.
        for (const evm of baselineEvms) {
          const named = baselineEvms.length > 1 || evm !== 'ethereumjs'
          const label = `baseline/${mode}${named ? `/${evm === 'fast' ? 'fast EVM' : 'ethereumjs'}` : ''}`
          variants.push({ engine: createBaselineEngine(), mode, threads: 0, label, evm, ...(evm === 'fast' ? { tier: baseline?.evmTier ?? DEFAULT_EVM_TIER } : {}), profiled: false })
        }
      } else {
        for (const evm of evms) {
          for (const tier of evm === 'fast' ? tiers : [undefined]) {
            for (const threads of mega.threads) {
              const label = `mega/${mode}${threads > 0 ? `/${threads} threads` : ''}${evms.length > 1 ? `/${evm === 'fast' ? 'fast EVM' : 'ethereumjs'}` : ''}${tier !== undefined && tiers.length > 1 ? `/${tier}` : ''}`
              variants.push({ engine: createMegaEngine(), mode, threads, label, evm, ...(tier === undefined ? {} : { tier }), profiled: false })
            }
          }
        }
      }
    }
  }
  const twins = opcodes ? variants.filter((v) => !(v.engine.name === 'mega' && v.threads > 0)).map((v) => ({ ...v, profiled: true })) : []
  return { variants, twins }
}

/** How many passes a replay with these parameters runs (for progress bars): (variants + profiled twins) × (warm-up + repeat). */
export function countPasses(p: Pick<ReplayParameters, 'modes' | 'engines' | 'mega' | 'baseline' | 'opcodes' | 'warmup' | 'repeat'>): number {
  const { variants, twins } = buildVariants(p.modes ?? ['live'], p.engines ?? ['baseline'], p.mega ?? DEFAULT_MEGA_SETTINGS, p.opcodes === true, p.baseline)
  return (variants.length + twins.length) * ((p.warmup ?? DEFAULT_WARMUP_PASSES) + (p.repeat ?? DEFAULT_REPEATS))
}

async function runPass(
  v: Variant,
  storage: ReplayStorage,
  p: ReplayParameters,
  senders: SenderSource,
  extra: { mega: MegaOptions; baseline: BaselineOptions; stateDiffs: boolean; label: string },
): Promise<Pass> {
  const { engine, mode } = v
  const profiler = v.profiled ? new OpcodeProfiler() : undefined
  const rows: BlockRow[] = []
  const units: UnitStorageStats[] = []
  const megaUnits: MegaUnitStats[] = []
  const options: StorageOptions =
    storage.kind === 'memory'
      ? { kind: 'memory' }
      : { kind: 'lmdb', mode, batch: storage.batch, caches: { l1: storage.memory.l1, l2: storage.memory.l2, l1TrieNodes: storage.l1TrieNodes }, dir: storage.dir }
  const t0 = now()
  const c0 = { blocks: compilerStats.blocksCompiled, ms: compilerStats.compileMs }
  for await (const unit of p.source.units()) {
    const runs = engine.runUnit(unit, {
      profiler,
      storage: options,
      onUnitStats: (s) => units.push(s),
      mega: extra.mega,
      baseline: extra.baseline,
      onMegaStats: (s) => megaUnits.push(s),
      stateDiffs: extra.stateDiffs,
      senders,
    })
    for await (const run of runs) {
      if (run.warmup) {
        const m = run.mismatches[0]
        if (m !== undefined) {
          throw new BlockExecutionError(
            { origin: run.origin, block: run.number },
            `does not verify (${m.field}: expected ${m.expected}, computed ${m.actual}); it precedes the measured range`,
          )
        }
        continue
      }
      const row = toRow(run)
      rows.push(row)
      p.onBlock?.(row, rows.length - 1, mode, extra.label)
    }
  }
  const compiled = { blocks: compilerStats.blocksCompiled - c0.blocks, ms: compilerStats.compileMs - c0.ms }
  return { rows, units, megaUnits, profile: profiler?.profile() ?? null, wallMs: now() - t0, compiled }
}

/** A variant's measured passes (and its profiled twin's) → its engine result. */
function engineResult(v: Variant, measured: readonly Pass[], profiled: readonly Pass[] | undefined, storage: ReplayStorage, senders: SenderSource, warmupCompiled: number): EngineResult {
  const rows = medianRows(measured.map((x) => x.rows))
  const verified = rows.filter((r) => r.verified)
  let phases: PhaseTimes = emptyPhaseTimes()
  for (const r of verified) phases = addPhaseTimes(phases, r.phases)
  const processingMs = sumPhaseTimes(phases)
  const txs = verified.reduce((s, r) => s + r.txCount, 0)
  const gasUsed = verified.reduce((s, r) => s + r.gasUsed, 0)
  const spreads: EngineResult['repeats'] = passSpreads(
    measured.map((x) => x.rows),
    txs,
  )
  // The fast EVM's tiers: blocks compiled in the warm-up and in each measured pass (a pass that compiles ran other tiers than the others).
  if (v.evm === 'fast') spreads.compiled = { warmupBlocks: warmupCompiled, blocks: measured.map((x) => x.compiled.blocks), ms: measured.map((x) => x.compiled.ms) }
  // Storage and mega counters of the median pass (counters are equal across passes; its times are typical).
  const order = measured.map((x, i) => ({ i, ms: x.rows.reduce((s, r) => s + (r.verified ? r.totalMs : 0), 0) })).sort((a, b) => a.ms - b.ms)
  const median = measured[order[Math.floor((order.length - 1) / 2)]?.i ?? 0]
  const isMega = v.engine.name === 'mega'
  let profilerOverhead: EngineResult['profilerOverhead'] = null
  let opcodes: OpcodeProfileJson | null = null
  if (profiled !== undefined && profiled.length > 0) {
    opcodes = mergeOpcodeProfiles(profiled.map((x) => x.profile).filter((x): x is OpcodeProfileJson => x !== null))
    // Over the blocks that verified in both kinds of pass.
    const ok = new Set(rows.filter((r) => r.verified).map((r) => `${r.origin}#${r.number}`))
    const msOf = (x: Pass) => x.rows.reduce((s, r) => s + (ok.has(`${r.origin}#${r.number}`) && r.verified ? r.totalMs : 0), 0)
    const pr = spread(profiled.map(msOf))
    const un = spread(measured.map(msOf))
    if (pr !== null && un !== null) profilerOverhead = { profiledMs: pr, unprofiledMs: un, ratio: un.median > 0 ? pr.median / un.median : 0 }
  }
  return {
    name: v.engine.name,
    label: v.label,
    description: isMega
      ? `${v.engine.description}, ${evmDescription(v.evm, v.threads, v.tier)}${v.threads > 0 ? `, ${v.threads} parallel-execution workers` : ', transactions in order on one thread'}`
      : storage.kind === 'memory'
        ? `${v.engine.description}, in-memory node store${v.evm === 'fast' ? `, ${evmDescription('fast', 0, v.tier)}` : ''}`
        : `${v.engine.description}, flat state + tries on LMDB${v.evm === 'fast' ? `, ${evmDescription('fast', 0, v.tier)}` : ''}`,
    mode: v.mode,
    totals: {
      blocks: rows.length,
      verifiedBlocks: verified.length,
      txs,
      gasUsed,
      processingMs,
      wallMs: median?.wallMs ?? 0,
      setupMs: rows.reduce((s, r) => s + r.setupMs, 0),
      phases,
      txPerSec: rate(txs, processingMs),
      mgasPerSec: rate(gasUsed / 1e6, processingMs),
    },
    blocks: rows,
    evm: v.evm,
    senders,
    repeats: spreads,
    profilerOverhead,
    opcodes,
    mega: isMega ? megaReport(median?.megaUnits ?? [], phases.merkleization, v.evm, v.tier) : null,
    ...(isMega ? {} : { baseline: { evm: { requested: v.evm, ...(v.evm === 'fast' ? { tier: v.tier ?? DEFAULT_EVM_TIER } : {}), fastBlocks: rows.filter((r) => r.evm === 'fast').length, ethereumjsBlocks: rows.filter((r) => r.evm !== 'fast').length } } }),
    storage:
      storage.kind === 'memory' || isMega
        ? null
        : withBinding(storageReport(median?.units ?? [], {
            mode: v.mode,
            batch: storage.batch,
            memoryBytes: storage.memory.total,
            l1Bytes: storage.memory.total === null ? null : storage.memory.l1,
            l2Bytes: storage.memory.total === null ? null : storage.memory.l2,
            heapCapBytes: storage.memory.total === null ? HEAP_CACHE_CAP : null,
            cacheAccounting: 'heap',
            // Recorded only when off: runs before it (level 1 held trie nodes) keep equal gate fingerprints.
            ...(storage.l1TrieNodes === false ? { l1TrieNodes: false } : {}),
            rule: `level 1 (client state cache) ${L1_SHARE * 100}% of --memory, level 2 (DB read cache) the rest; --l1/--l2 override`,
          }), storage.missLatencyNs, processingMs, txs),
  }
}

/**
 * The storage report with what bound the read path beyond the caches: the declared disk model (its
 * modelled totals), or the process's memory cgroup (--cgroup), or neither (field absent).
 */
function withBinding(report: StorageReport, missLatencyNs: number | undefined, processingMs: number, txs: number): StorageReport {
  if (missLatencyNs !== undefined) {
    const { execution, merkleization } = report.missPenalty
    const misses = execution.count + merkleization.count
    const measuredMs = execution.totalMs + merkleization.totalMs
    const modelledMs = (misses * missLatencyNs) / 1e6
    const modelledProcessingMs = processingMs - measuredMs + modelledMs
    return { ...report, binding: { kind: 'model', missLatencyNs, misses, measuredMs, modelledMs, modelledProcessingMs, modelledTxPerSec: rate(txs, modelledProcessingMs) } }
  }
  const cgroup = cgroupBindingReport()
  return cgroup === null ? report : { ...report, binding: cgroup }
}

/**
 * The differential: every mega variant's per-block net state diff against the baseline's (any baseline
 * variant: the diff does not depend on the sync mode). A difference fails that block of that variant; a
 * block without a baseline diff (the baseline did not verify it) is listed as not compared, with why.
 */
function compareDiffs(results: EngineResult[]): NonNullable<RunResult['differential']> {
  const reference = new Map<string, string>()
  const baselineFailed = new Set<string>()
  for (const e of results.filter((x) => x.name === 'baseline')) {
    for (const r of e.blocks) {
      const key = `${r.origin}#${r.number}`
      if (!r.verified) baselineFailed.add(key)
      else if (r.diff !== null && !reference.has(key)) reference.set(key, r.diff.digest)
    }
  }
  const out: NonNullable<RunResult['differential']> = { compared: 0, mismatches: 0, expected: 0, notCompared: [] }
  for (const e of results.filter((x) => x.name === 'mega')) {
    for (const r of e.blocks) {
      out.expected++
      const key = `${r.origin}#${r.number}`
      const expected = reference.get(key)
      if (expected === undefined || r.diff === null) {
        const reason = baselineFailed.has(key) ? 'the baseline did not verify this block' : r.diff === null ? 'the mega engine computed no diff' : 'no baseline diff for this block'
        out.notCompared.push({ engine: e.label, block: r.number, origin: r.origin, reason })
        r.checks.diffVsBaseline = { status: 'skipped', note: reason }
        continue
      }
      out.compared++
      if (expected === r.diff.digest) {
        r.checks.diffVsBaseline = { status: 'pass', method: "net state diff (every account field and slot, megabench-diff-v1 digest) equals the baseline's" }
        continue
      }
      out.mismatches++
      r.checks.diffVsBaseline = { status: 'fail', method: 'net state diff digest', field: 'state diff vs baseline', expected, actual: r.diff.digest }
      r.verified = false
    }
    // A block that failed the differential counts for no throughput: recompute the totals.
    refreshTotals(e)
  }
  return out
}

/** Totals from the (possibly changed) verified rows. */
function refreshTotals(e: EngineResult): void {
  const verified = e.blocks.filter((r) => r.verified)
  let phases: PhaseTimes = emptyPhaseTimes()
  for (const r of verified) phases = addPhaseTimes(phases, r.phases)
  const processingMs = sumPhaseTimes(phases)
  const txs = verified.reduce((s, r) => s + r.txCount, 0)
  const gasUsed = verified.reduce((s, r) => s + r.gasUsed, 0)
  Object.assign(e.totals, { verifiedBlocks: verified.length, txs, gasUsed, processingMs, phases, txPerSec: rate(txs, processingMs), mgasPerSec: rate(gasUsed / 1e6, processingMs) })
}

/** Which EVM the mega engine runs (the fast EVM does not run on parallel workers). */
function evmDescription(evm: 'ethereumjs' | 'fast', threads: number, tier: EvmTier | undefined): string {
  if (evm === 'ethereumjs') return '@ethereumjs/evm'
  return threads > 0 ? '@ethereumjs/evm (the fast EVM does not run with parallel workers)' : `fast EVM (src/evm, ${tier ?? DEFAULT_EVM_TIER}; @ethereumjs/evm for blocks it does not cover)`
}

/** The mega engine's counters summed over units. */
function megaReport(units: readonly MegaUnitStats[], merkleizationMs: number, evm: 'ethereumjs' | 'fast', tier: EvmTier | undefined): MegaReport {
  const sum = (f: (u: MegaUnitStats) => number) => units.reduce((s, u) => s + f(u), 0)
  const tree = (k: string) => sum((u) => u.tree[k] ?? 0)
  const updates = tree('updates')
  const par = (k: keyof MegaUnitStats['parallel']) => sum((u) => u.parallel[k])
  const withMemory = units.filter((u) => u.memory !== undefined)
  const largest = withMemory.length === 0 ? undefined : withMemory.reduce((a, b) => (a.memory!.bytes >= b.memory!.bytes ? a : b))
  return {
    importMs: sum((u) => u.importMs),
    ...(largest === undefined
      ? {}
      : { memory: { bytes: largest.memory!.bytes, perAccount: largest.memory!.bytes / Math.max(largest.accounts, 1), perEntry: largest.memory!.bytes / Math.max(largest.treeEntries, 1), withMirror: largest.memory!.withMirror, treeBytes: largest.memory!.treeBytes, slotIndex: largest.memory!.slotIndex } }),
    accounts: sum((u) => u.accounts),
    treeEntries: sum((u) => u.treeEntries),
    bucketBits: Math.max(0, ...units.map((u) => u.bucketBits)),
    keyUpdates: updates,
    keyUpdatesPerSec: rate(updates, merkleizationMs),
    bucketHashes: tree('bucketHashes'),
    nodeHashes: tree('nodeHashes'),
    hashesPerUpdate: updates > 0 ? (tree('bucketHashes') + tree('nodeHashes')) / updates : 0,
    commits: tree('commits'),
    verifyMptMs: sum((u) => u.verifyMptMs),
    senderWorkers: Math.max(0, ...units.map((u) => u.senderWorkers)),
    threads: Math.max(0, ...units.map((u) => u.threads)),
    parallel: { txs: par('txs'), accepted: par('accepted'), conflicts: par('conflicts'), coinbase: par('coinbase'), failed: par('failed'), sequential: par('sequential') },
    stateDiffBytes: sum((u) => u.stateDiffBytes),
    evm: { requested: evm, ...(evm === 'fast' ? { tier: tier ?? DEFAULT_EVM_TIER } : {}), fastBlocks: sum((u) => u.evmBlocks.fast), ethereumjsBlocks: sum((u) => u.evmBlocks.ethereumjs) },
  }
}

/** The study's decomposition of live vs historical sync, when both ran on the same blocks. */
/** `namedEvm`: record the baseline EVM it was measured on (when not @ethereumjs/evm alone). */
function decompose(results: readonly EngineResult[], namedEvm = false): Decomposition | null {
  const h = results.find((e) => e.mode === 'historical')
  const l = results.find((e) => e.mode === 'live')
  if (h === undefined || l === undefined || h.totals.processingMs === 0) return null
  const liveNoPersist = l.totals.processingMs - l.totals.phases.persistence
  // Historical sync's root and commit, paid once per batch (the study's Reth: every 500k blocks, so per block ~0).
  const batchRoot = h.totals.phases.merkleization + h.totals.phases.persistence
  return {
    historicalMs: h.totals.processingMs,
    liveMs: l.totals.processingMs,
    liveWithoutPersistenceMs: liveNoPersist,
    historicalTxPerSec: h.totals.txPerSec,
    liveTxPerSec: l.totals.txPerSec,
    slowdown: l.totals.processingMs / h.totals.processingMs,
    merkleizationFactor: liveNoPersist / h.totals.processingMs,
    persistenceFactor: liveNoPersist > 0 ? l.totals.processingMs / liveNoPersist : 0,
    historicalBatchRootMs: batchRoot,
    slowdownVsHistoricalWithoutBatchRoot: h.totals.processingMs - batchRoot > 0 ? l.totals.processingMs / (h.totals.processingMs - batchRoot) : 0,
    ...(namedEvm ? { evm: l.evm } : {}),
  }
}

function toRow(run: BlockRun): BlockRow {
  const totalMs = sumPhaseTimes(run.phases)
  const gasUsed = Number(run.gasUsed)
  return {
    origin: run.origin,
    number: Number(run.number),
    hash: run.hash,
    hardfork: run.hardfork,
    txCount: run.txCount,
    gasUsed,
    phases: run.phases,
    totalMs,
    setupMs: run.setupMs,
    mgasPerSec: rate(gasUsed / 1e6, totalMs),
    txPerSec: rate(run.txCount, totalMs),
    stateReads: run.stateReads,
    verified: run.mismatches.length === 0,
    cache: run.storage ?? null,
    diff: run.diff ?? null,
    checks: run.checks,
    ...(run.evm === undefined ? {} : { evm: run.evm }),
  }
}
