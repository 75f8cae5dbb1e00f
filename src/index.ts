/**
 * megabench as a library: sources → engine (+ probes) → run result → outputs.
 * The CLI (src/cli/) is a thin layer over these functions.
 */
export * from './errors/index.js'
export type * from './types.js'
export {
  createFixtureSource,
  listFixtureFiles,
  parseFixture,
  readFixtureFile,
  type CreateFixtureSourceParameters,
} from './sources/fixtures.js'
export { REALBLOCK_FORMAT, realBlockSchema, type RealBlockFile } from './sources/realblock.js'
export { createBaselineEngine } from './engines/baseline/engine.js'
export type { BlockRun, Engine, EngineName, RunUnitOptions } from './engines/types.js'
export { verifyComputed, type FieldMismatch } from './engines/verify.js'
export { OpcodeProfiler, type OpcodeProfile, type OpcodeRow, type ExecutionCoverage } from './probes/opcodeProfiler.js'
export { OPCODES, OPCODE_CATEGORIES, type OpcodeCategory, type OpcodeInfo } from './probes/opcodes.js'
export { PHASES, type PhaseName, type PhaseTimes } from './probes/phases.js'
export { calibrateRegionStack, type TimerCalibration } from './probes/clock.js'
export { replay, type ReplayParameters } from './run/replay.js'
export {
  RUN_SCHEMA_VERSION,
  runResultSchema,
  type BlockRow,
  type EngineResult,
  type RunResult,
} from './run/schema.js'
export { runFiles, slowBlockLine } from './output/runFiles.js'
export { writeDirectoryAtomically } from './output/files.js'
export { formatSummary } from './output/summary.js'
export { fetchRange, type FetchParameters, type FetchProgress, type FetchResult } from './fetch/fetch.js'
export { redactUrl } from './fetch/redact.js'
