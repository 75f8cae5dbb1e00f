import { rename, rm, writeFile } from 'node:fs/promises'

import { createBaselineEngine } from '../engines/baseline/engine.js'
import { createMegaEngine } from '../engines/mega/engine.js'
import type { BlockRun, Engine, EngineName, MegaOptions, MegaUnitStats, StorageOptions, SyncMode, UnitStorageStats } from '../engines/types.js'
import type { FieldMismatch } from '../engines/verify.js'
import { BlockExecutionError, UsageError } from '../errors/index.js'
import { now } from '../probes/clock.js'
import { OpcodeProfiler } from '../probes/opcodeProfiler.js'
import { type PhaseTimes, addPhaseTimes, emptyPhaseTimes, sumPhaseTimes } from '../probes/phases.js'
import { L1_SHARE } from '../storage/memory.js'
import type { BlockSource } from '../types.js'
import { machineInfo, toolInfo } from './environment.js'
import {
  type BlockRow,
  type Decomposition,
  type EngineResult,
  type MegaReport,
  RUN_SCHEMA_VERSION,
  type RunResult,
} from './schema.js'
import { storageReport } from './storageReport.js'
import { STATE_DIFFS_MAGIC } from '../engines/stateDiff.js'

/** Where state lives and how the caches are bounded. */
export type ReplayStorage =
  | { kind: 'memory' }
  | {
      kind: 'lmdb'
      /** Historical: blocks per state root and persistence (null = once per unit). */
      batch: number | null
      /** Cache budgets in bytes (unbounded when null). */
      memory: { total: number | null; l1: number; l2: number }
      /** Keep the DB here (and resume at its head); default a temporary DB per run. */
      dir?: string | undefined
    }

export type ReplayParameters = {
  source: BlockSource
  /** The paths the source was built from, recorded in the run result. */
  sourcePaths: readonly string[]
  /** For chains: the measured range, recorded in the run result. */
  range?: { from: number | null; to: number | null }
  /** Time every opcode (adds the profiler's overhead to every timing). */
  opcodes?: boolean
  /** Default: LMDB with unbounded caches. */
  storage?: ReplayStorage
  /** Sync modes to run, each over the whole source (default live). Both give the decomposition. */
  modes?: readonly SyncMode[]
  /** Engines to run on the same blocks (default baseline); with both, every block's state diff is compared. */
  engines?: readonly EngineName[]
  /** Mega engine settings; `threads` lists the parallel-execution widths to run (0 = in order). */
  mega?: MegaSettings
  /** Called after every block. */
  onBlock?: (row: BlockRow, index: number, mode: SyncMode, engine: string) => void
}

export type MegaSettings = {
  verifyMpt: boolean
  senderWorkers: number
  stateDiffs: string | undefined
  threads: readonly number[]
  /** The mega engine's EVM (default ethereumjs); several: one mega variant per EVM, side by side. */
  evm?: 'ethereumjs' | 'fast' | readonly ('ethereumjs' | 'fast')[] | undefined
}

export const DEFAULT_MEGA_SETTINGS: MegaSettings = { verifyMpt: false, senderWorkers: 1, stateDiffs: undefined, threads: [0] }

/** One engine configuration run over the whole source. */
type Variant = { engine: Engine; mode: SyncMode; threads: number; label: string; evm?: 'ethereumjs' | 'fast' | undefined }

const DEFAULT_STORAGE: ReplayStorage = {
  kind: 'lmdb',
  batch: null,
  memory: { total: null, l1: Number.MAX_SAFE_INTEGER, l2: Number.MAX_SAFE_INTEGER },
}

/**
 * Replays every unit of the source through the baseline engine, once per sync mode, proves every
 * block and returns the run result. Throws a MegabenchError on bad input (nothing is returned then);
 * a block that executes but does not reproduce its header is a verification failure in the result.
 */
export async function replay(p: ReplayParameters): Promise<RunResult> {
  const storage = p.storage ?? DEFAULT_STORAGE
  const modes = p.modes ?? ['live']
  const engineNames = p.engines ?? ['baseline']
  const mega = p.mega ?? DEFAULT_MEGA_SETTINGS
  const origin = p.sourcePaths.join(', ')
  if (storage.kind === 'memory' && modes.includes('historical') && engineNames.includes('baseline')) {
    throw new BlockExecutionError({ origin, block: 0 }, 'historical sync needs LMDB storage')
  }
  const compare = engineNames.includes('baseline') && engineNames.includes('mega')
  if (compare && storage.kind === 'memory') {
    throw new UsageError('comparing engines needs the baseline on LMDB (--storage lmdb): it computes the per-block state diffs there')
  }
  const variants: Variant[] = []
  for (const mode of modes) {
    for (const name of engineNames) {
      if (name === 'baseline') variants.push({ engine: createBaselineEngine(), mode, threads: 0, label: `baseline/${mode}` })
      else {
        const evms = mega.evm === undefined ? [undefined] : typeof mega.evm === 'string' ? [mega.evm] : mega.evm
        for (const evm of evms) {
          for (const threads of mega.threads) {
            const label = `mega/${mode}${threads > 0 ? `/${threads} threads` : ''}${evms.length > 1 ? `/${evm === 'fast' ? 'fast EVM' : 'ethereumjs'}` : ''}`
            variants.push({ engine: createMegaEngine(), mode, threads, label, evm })
          }
        }
      }
    }
  }
  const results: EngineResult[] = []
  const failed: RunResult['verification']['failed'] = []
  /** The baseline's diff digest per block, for the differential check. */
  const reference = new Map<string, string>()
  const differential = { compared: 0, mismatches: 0 }
  let diffsWritten = false
  // The diff stream is written beside its final name and renamed when the run completes.
  const diffsPartial = mega.stateDiffs === undefined || !engineNames.includes('mega') ? undefined : `${mega.stateDiffs}.partial`
  if (diffsPartial !== undefined) await writeFile(diffsPartial, STATE_DIFFS_MAGIC)
  try {
  for (const v of variants) {
    const stateDiffs = v.engine.name === 'mega' && !diffsWritten ? diffsPartial : undefined
    if (stateDiffs !== undefined) diffsWritten = true
    const r = await runEngine(v, storage, p, {
      mega: { mode: v.mode, batch: storage.kind === 'lmdb' ? storage.batch : null, verifyMpt: mega.verifyMpt, senderWorkers: mega.senderWorkers, stateDiffs, threads: v.threads, evm: v.evm },
      stateDiffs: compare,
      checkDiff: (run) => {
        const key = `${run.origin}#${run.number}`
        if (v.engine.name === 'baseline') {
          if (run.diff !== undefined && !reference.has(key)) reference.set(key, run.diff.digest)
          return undefined
        }
        const expected = reference.get(key)
        if (expected === undefined || run.diff === undefined) return undefined
        differential.compared++
        if (expected === run.diff.digest) return undefined
        differential.mismatches++
        return { field: 'state diff vs baseline', expected, actual: run.diff.digest }
      },
    })
    results.push(r.engine)
    failed.push(...r.failures)
  }
  if (diffsPartial !== undefined) await rename(diffsPartial, mega.stateDiffs!)
  } finally {
    if (diffsPartial !== undefined) await rm(diffsPartial, { force: true })
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
      mega: engineNames.includes('mega') ? { verifyMpt: mega.verifyMpt, senderWorkers: mega.senderWorkers, threads: [...mega.threads], stateDiffs: mega.stateDiffs ?? null } : null,
    },
    engines: results,
    decomposition: decompose(results.filter((e) => e.name === 'baseline')),
    differential: compare ? differential : null,
    verification: {
      blocks: first.totals.blocks,
      verified: Math.min(...results.map((e) => e.totals.verifiedBlocks)),
      failed,
    },
  }
}

async function runEngine(
  v: Variant,
  storage: ReplayStorage,
  p: ReplayParameters,
  extra: { mega: MegaOptions; stateDiffs: boolean; checkDiff: (run: BlockRun) => FieldMismatch | undefined },
) {
  const { engine, mode } = v
  const profiler = p.opcodes === true ? new OpcodeProfiler() : undefined
  const rows: BlockRow[] = []
  const failures: RunResult['verification']['failed'] = []
  const units: UnitStorageStats[] = []
  const megaUnits: MegaUnitStats[] = []
  const options: StorageOptions =
    storage.kind === 'memory'
      ? { kind: 'memory' }
      : { kind: 'lmdb', mode, batch: storage.batch, caches: { l1: storage.memory.l1, l2: storage.memory.l2 }, dir: storage.dir }
  const t0 = now()
  try {
    for await (const unit of p.source.units()) {
      const runs = engine.runUnit(unit, {
        // The fast EVM has no opcode probe: its variant runs unprofiled (the profile comes from @ethereumjs runs).
        profiler: extra.mega.evm === 'fast' && engine.name === 'mega' ? undefined : profiler,
        storage: options,
        onUnitStats: (s) => units.push(s),
        mega: extra.mega,
        onMegaStats: (s) => megaUnits.push(s),
        stateDiffs: extra.stateDiffs,
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
        const diffMismatch = extra.checkDiff(run)
        if (diffMismatch !== undefined) run.mismatches.push(diffMismatch)
        const row = toRow(run)
        rows.push(row)
        for (const m of run.mismatches) failures.push({ engine: v.label, block: row.number, origin: row.origin, ...m })
        p.onBlock?.(row, rows.length - 1, mode, v.label)
      }
    }
  } finally {
    await engine.close?.()
  }
  const wallMs = now() - t0
  const verified = rows.filter((r) => r.verified)
  let phases: PhaseTimes = emptyPhaseTimes()
  for (const r of verified) phases = addPhaseTimes(phases, r.phases)
  const processingMs = sumPhaseTimes(phases)
  const txs = verified.reduce((s, r) => s + r.txCount, 0)
  const gasUsed = verified.reduce((s, r) => s + r.gasUsed, 0)
  const isMega = engine.name === 'mega'
  const engineResult: EngineResult = {
    name: engine.name,
    label: v.label,
    description: isMega
      ? `${engine.description}, ${evmDescription(extra.mega.evm ?? 'ethereumjs', v.threads)}${v.threads > 0 ? `, ${v.threads} parallel-execution workers` : ', transactions in order on one thread'}`
      : storage.kind === 'memory'
        ? `${engine.description}, in-memory node store`
        : `${engine.description}, flat state + tries on LMDB`,
    mode,
    totals: {
      blocks: rows.length,
      verifiedBlocks: verified.length,
      txs,
      gasUsed,
      processingMs,
      wallMs,
      setupMs: rows.reduce((s, r) => s + r.setupMs, 0),
      phases,
      txPerSec: rate(txs, processingMs),
      mgasPerSec: rate(gasUsed / 1e6, processingMs),
    },
    blocks: rows,
    opcodes: profiler ? profiler.profile() : null,
    mega: isMega ? megaReport(megaUnits, phases.merkleization, extra.mega.evm ?? 'ethereumjs') : null,
    storage:
      storage.kind === 'memory' || isMega
        ? null
        : storageReport(units, {
            mode,
            batch: storage.batch,
            memoryBytes: storage.memory.total,
            l1Bytes: storage.memory.total === null ? null : storage.memory.l1,
            l2Bytes: storage.memory.total === null ? null : storage.memory.l2,
            rule: `level 1 (client state cache) ${L1_SHARE * 100}% of --memory, level 2 (DB read cache) the rest; --l1/--l2 override`,
          }),
  }
  return { engine: engineResult, failures }
}

/** Which EVM the mega engine runs (the fast EVM does not run on parallel workers, nor before Byzantium). */
function evmDescription(evm: 'ethereumjs' | 'fast', threads: number): string {
  if (evm === 'ethereumjs') return '@ethereumjs/evm'
  return threads > 0 ? '@ethereumjs/evm (the fast EVM does not run with parallel workers)' : 'fast EVM (src/evm; @ethereumjs/evm for blocks it does not cover)'
}

/** The mega engine's counters summed over units. */
function megaReport(units: readonly MegaUnitStats[], merkleizationMs: number, evm: 'ethereumjs' | 'fast'): MegaReport {
  const sum = (f: (u: MegaUnitStats) => number) => units.reduce((s, u) => s + f(u), 0)
  const tree = (k: string) => sum((u) => u.tree[k] ?? 0)
  const updates = tree('updates')
  const par = (k: keyof MegaUnitStats['parallel']) => sum((u) => u.parallel[k])
  return {
    importMs: sum((u) => u.importMs),
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
    evm: { requested: evm, fastBlocks: sum((u) => u.evmBlocks.fast), ethereumjsBlocks: sum((u) => u.evmBlocks.ethereumjs) },
  }
}

/** The study's decomposition of live vs historical sync, when both ran on the same blocks. */
function decompose(results: readonly EngineResult[]): Decomposition | null {
  const h = results.find((e) => e.mode === 'historical')
  const l = results.find((e) => e.mode === 'live')
  if (h === undefined || l === undefined || h.totals.processingMs === 0) return null
  const liveNoPersist = l.totals.processingMs - l.totals.phases.persistence
  return {
    historicalMs: h.totals.processingMs,
    liveMs: l.totals.processingMs,
    liveWithoutPersistenceMs: liveNoPersist,
    historicalTxPerSec: h.totals.txPerSec,
    liveTxPerSec: l.totals.txPerSec,
    slowdown: l.totals.processingMs / h.totals.processingMs,
    merkleizationFactor: liveNoPersist / h.totals.processingMs,
    persistenceFactor: liveNoPersist > 0 ? l.totals.processingMs / liveNoPersist : 0,
  }
}

/** Units per second from a count and milliseconds (0 when no time was spent). */
function rate(count: number, ms: number): number {
  return ms > 0 ? count / (ms / 1000) : 0
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
  }
}
