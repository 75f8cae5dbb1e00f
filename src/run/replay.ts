import { createBaselineEngine } from '../engines/baseline/engine.js'
import type { BlockRun, Engine, StorageOptions, SyncMode, UnitStorageStats } from '../engines/types.js'
import { BlockExecutionError } from '../errors/index.js'
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
  RUN_SCHEMA_VERSION,
  type RunResult,
} from './schema.js'
import { storageReport } from './storageReport.js'

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
  /** Called after every block. */
  onBlock?: (row: BlockRow, index: number, mode: SyncMode) => void
}

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
  const engine = createBaselineEngine()
  const storage = p.storage ?? DEFAULT_STORAGE
  const modes = p.modes ?? ['live']
  if (storage.kind === 'memory' && modes.includes('historical')) {
    throw new BlockExecutionError({ origin: p.sourcePaths.join(', '), block: 0 }, 'historical sync needs LMDB storage')
  }
  const results: EngineResult[] = []
  const failed: RunResult['verification']['failed'] = []
  for (const mode of modes) {
    const r = await runEngine(engine, mode, storage, p)
    results.push(r.engine)
    failed.push(...r.failures)
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
      engines: [engine.name],
      modes: [...modes],
      storage: storage.kind,
      opcodes: p.opcodes === true,
    },
    engines: results,
    decomposition: decompose(results),
    verification: {
      blocks: first.totals.blocks,
      verified: Math.min(...results.map((e) => e.totals.verifiedBlocks)),
      failed,
    },
  }
}

async function runEngine(engine: Engine, mode: SyncMode, storage: ReplayStorage, p: ReplayParameters) {
  const profiler = p.opcodes === true ? new OpcodeProfiler() : undefined
  const rows: BlockRow[] = []
  const failures: RunResult['verification']['failed'] = []
  const units: UnitStorageStats[] = []
  const options: StorageOptions =
    storage.kind === 'memory'
      ? { kind: 'memory' }
      : { kind: 'lmdb', mode, batch: storage.batch, caches: { l1: storage.memory.l1, l2: storage.memory.l2 }, dir: storage.dir }
  const t0 = now()
  for await (const unit of p.source.units()) {
    for await (const run of engine.runUnit(unit, { profiler, storage: options, onUnitStats: (s) => units.push(s) })) {
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
      for (const m of run.mismatches) failures.push({ engine: `${engine.name}/${mode}`, block: row.number, origin: row.origin, ...m })
      p.onBlock?.(row, rows.length - 1, mode)
    }
  }
  const wallMs = now() - t0
  const verified = rows.filter((r) => r.verified)
  let phases: PhaseTimes = emptyPhaseTimes()
  for (const r of verified) phases = addPhaseTimes(phases, r.phases)
  const processingMs = sumPhaseTimes(phases)
  const txs = verified.reduce((s, r) => s + r.txCount, 0)
  const gasUsed = verified.reduce((s, r) => s + r.gasUsed, 0)
  const engineResult: EngineResult = {
    name: engine.name,
    description: storage.kind === 'memory' ? `${engine.description}, in-memory node store` : `${engine.description}, flat state + tries on LMDB`,
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
    storage:
      storage.kind === 'memory'
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
  }
}
