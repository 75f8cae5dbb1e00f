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
export { createChainSource } from './sources/chain.js'
export { createBaselineEngine } from './engines/baseline/engine.js'
export type { BlockRun, Engine, EngineName, RunUnitOptions } from './engines/types.js'
export { verifyComputed, type FieldMismatch } from './engines/verify.js'
export { OpcodeProfiler, type OpcodeProfile, type OpcodeRow, type ExecutionCoverage } from './probes/opcodeProfiler.js'
export { OPCODES, OPCODE_CATEGORIES, type OpcodeCategory, type OpcodeInfo } from './probes/opcodes.js'
export { PHASES, type PhaseName, type PhaseTimes } from './probes/phases.js'
export { calibrateRegionStack, type TimerCalibration } from './probes/clock.js'
export { replay, countPasses, type ReplayParameters, type PassInfo } from './run/replay.js'
export { schedule, spread, median, ratioSpread, formatSpread, type Spread, type ScheduledPass } from './protocol/index.js'
export { tallyChecks, verificationSentences, type CheckTally } from './run/verification.js'
export { CheckRecorder, CHECK_NAMES, type Check, type Checks, type CheckStatus } from './engines/verify.js'
export { OutputReservation, checkOutputDir, checkOutputFile, isMegabenchOutputDir, OUTPUT_MARKER } from './output/guard.js'
export { onInterrupt, runInterruptTasks, installInterruptHandlers, superviseChild } from './util/interrupt.js'
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
export { EXIT_CODES, gate, loadGateSide, parseRunResult, sideFromRuns, type GateSide, type Verdict } from './gate/gate.js'
export { FINGERPRINT_EXCLUDED, FINGERPRINT_NORMALIZED, fingerprint, fingerprintDifference, type Fingerprint } from './gate/fingerprint.js'
export { calibrate, readNoise, type CalibrationResult, type Noise } from './gate/calibrate.js'
export { extractCounters, counterSetSchema, type CounterSet } from './gate/counters.js'
export { policySchema, resolvePolicy, readPolicy, type GatePolicy } from './gate/policy.js'
export { bootstrapChange, callChange, hierarchicalChange, relativeChange, type Statistic, type Stratum } from './gate/stats.js'
export { verdictMarkdown } from './gate/markdown.js'
export { mergeRuns } from './run/merge.js'
export { applyShard, parseShard, shardBounds, type Shard } from './run/shard.js'
export { compareVersions, locateVersion, type Version } from './run/compare.js'
export { startCpuProfile, type CpuProfile } from './probes/cpuProfile.js'
export { AccessSetProbe, type AccountAccess, type BlockAccess, type SlotAccess, type TxAccess } from './probes/accessSets.js'
export { ANALYSIS_KINDS, type AnalysisKind, type AnalysisParameters, type Analyses, analysesSchema, parseAnalysisKinds, runAnalyses } from './analyses/index.js'
export { collectAccessSets } from './analyses/collect.js'
export { analyzeParallelism, criticalPath, dependencies, listSchedule } from './analyses/parallelism.js'
export { analyzeStateDiff } from './analyses/statediff.js'
export { analyzeJit } from './analyses/jit.js'
export { analyzeBounds, type MachineDescription } from './analyses/bounds.js'
export { formatAnalyses } from './analyses/format.js'
export { fetchRange, type FetchParameters, type FetchProgress, type FetchResult } from './fetch/fetch.js'
export { redactUrl } from './fetch/redact.js'
export { assembleChain, partsDirFor, type AssembleChainParameters, type AssembledChain } from './fetch/chain.js'
export {
  runConformance,
  runBlockchainTest,
  expectedException,
  forkSchedule,
  summaryJson as conformanceJson,
  formatSummary as formatConformanceSummary,
  type ConformanceParameters,
  type ConformanceRun,
  type BlockchainTest,
  type EvmKind,
  type Outcome as ConformanceOutcome,
} from './conformance/index.js'
export { NETWORKS, describeNetworks, networkName, rulesFor, type NetworkName } from './networks.js'
export { SUPPORTED_HARDFORKS, CHAIN_HARDFORKS } from './chain/common.js'
export { KZG_BACKEND, KzgUnavailable, kzgBackend, kzgStatus } from './chain/crypto.js'
