import { createBaselineEngine } from '../engines/baseline/engine.js'
import { BlockExecutionError } from '../errors/index.js'
import type { BlockRun, Engine } from '../engines/types.js'
import { now } from '../probes/clock.js'
import { OpcodeProfiler } from '../probes/opcodeProfiler.js'
import { type PhaseTimes, addPhaseTimes, emptyPhaseTimes, sumPhaseTimes } from '../probes/phases.js'
import type { BlockSource } from '../types.js'
import { machineInfo, toolInfo } from './environment.js'
import { type BlockRow, type EngineResult, RUN_SCHEMA_VERSION, type RunResult } from './schema.js'

export type ReplayParameters = {
  source: BlockSource
  /** The paths the source was built from, recorded in the run result. */
  sourcePaths: readonly string[]
  /** For chains: the measured range, recorded in the run result. */
  range?: { from: number | null; to: number | null }
  /** Time every opcode (adds the profiler's overhead to every timing). */
  opcodes?: boolean
  /** Called after every block. */
  onBlock?: (row: BlockRow, index: number) => void
}

/**
 * Replays every unit of the source through the baseline engine, proves every block and returns the
 * run result. Throws a MegabenchError on bad input (nothing is returned then); a block that executes
 * but does not reproduce its header is a verification failure recorded in the result.
 */
export async function replay(p: ReplayParameters): Promise<RunResult> {
  const engine = createBaselineEngine()
  const result = await runEngine(engine, p)
  const failed = result.failures
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
      mode: 'live',
      storage: 'memory',
      opcodes: p.opcodes === true,
    },
    engines: [result.engine],
    verification: {
      blocks: result.engine.totals.blocks,
      verified: result.engine.totals.verifiedBlocks,
      failed,
    },
  }
}

async function runEngine(engine: Engine, p: ReplayParameters) {
  const profiler = p.opcodes === true ? new OpcodeProfiler() : undefined
  const rows: BlockRow[] = []
  const failures: RunResult['verification']['failed'] = []
  const t0 = now()
  for await (const unit of p.source.units()) {
    for await (const run of engine.runUnit(unit, { profiler })) {
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
      for (const m of run.mismatches) failures.push({ engine: engine.name, block: row.number, origin: row.origin, ...m })
      p.onBlock?.(row, rows.length - 1)
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
    description: engine.description,
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
  }
  return { engine: engineResult, failures }
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
  }
}
