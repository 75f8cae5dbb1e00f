import type { PhaseTimes } from '../probes/phases.js'
import type { OpcodeProfiler } from '../probes/opcodeProfiler.js'
import type { ReplayUnit } from '../types.js'
import type { StateReadCounts } from './baseline/stateManager.js'
import type { FieldMismatch } from './verify.js'

export type EngineName = 'baseline'

/** What an engine reports for one executed block. */
export type BlockRun = {
  origin: string
  number: bigint
  hash: string
  hardfork: string
  txCount: number
  gasUsed: bigint
  /** Exclusive time per phase, ms. */
  phases: PhaseTimes
  stateReads: StateReadCounts
  /** Empty when every field matched. */
  mismatches: FieldMismatch[]
  /** Setup outside the timed phases (state import: witness or genesis; VM creation; decoding), ms. */
  setupMs: number
  /** Executed only to reach the measured range (`--from`). */
  warmup: boolean
}

export type RunUnitOptions = {
  /** Per-opcode timing probe; attached to the engine's EVM for the duration of the unit. */
  profiler?: OpcodeProfiler | undefined
}

/** An execution engine: executes replay units and proves each block. */
export interface Engine {
  readonly name: EngineName
  readonly description: string
  runUnit(unit: ReplayUnit, opts: RunUnitOptions): AsyncGenerator<BlockRun>
}
