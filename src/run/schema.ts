import { z } from 'zod'

/**
 * run.json: the contract between producers (engines, probes) and consumers (analyses, report,
 * gate). Versioned; every change that a reader could notice bumps RUN_SCHEMA_VERSION.
 * All times are milliseconds unless a field name says otherwise (…Ns = nanoseconds).
 */
export const RUN_SCHEMA_VERSION = 1

const phases = z.object({
  senderRecovery: z.number(),
  execution: z.number(),
  stateLoad: z.number(),
  merkleization: z.number(),
  persistence: z.number(),
})

const stateReads = z.object({
  accounts: z.number().int(),
  storageSlots: z.number().int(),
  code: z.number().int(),
  codeBytes: z.number().int(),
})

export const blockRowSchema = z.object({
  origin: z.string(),
  number: z.number().int().nonnegative(),
  hash: z.string(),
  hardfork: z.string(),
  txCount: z.number().int().nonnegative(),
  gasUsed: z.number().int().nonnegative(),
  phases,
  /** Sum of the phases. */
  totalMs: z.number(),
  /** Loading the witness into the node store and building the VM: not part of totalMs. */
  setupMs: z.number(),
  mgasPerSec: z.number(),
  txPerSec: z.number(),
  stateReads,
  verified: z.boolean(),
})

const mismatch = z.object({ field: z.string(), expected: z.string(), actual: z.string() })

const opcodeRow = z.object({
  opcode: z.number().int().min(0).max(255),
  name: z.string(),
  category: z.string(),
  count: z.number(),
  totalNs: z.number(),
  inclusiveNs: z.number(),
  avgNs: z.number(),
  pctTime: z.number(),
  cumulativePct: z.number(),
  staticGas: z.number(),
  dynamicGas: z.number(),
  childGas: z.number(),
})

export const opcodeProfileSchema = z.object({
  /** Opcode times are exclusive of child frames; inclusiveNs adds them for CALL-family/CREATE. */
  calibration: z.object({ inRegionMs: z.number(), perRegionMs: z.number(), samples: z.number() }),
  rows: z.array(opcodeRow),
  categories: z.array(z.object({ category: z.string(), totalNs: z.number(), pct: z.number(), count: z.number() })),
  precompiles: z.array(
    z.object({ address: z.number(), name: z.string(), count: z.number(), totalNs: z.number(), avgNs: z.number() }),
  ),
  coverage: z.object({
    windowMs: z.number(),
    timerOverheadMs: z.number(),
    opcodesMs: z.number(),
    interpreterMs: z.number(),
    callFramesMs: z.number(),
    precompilesMs: z.number(),
    txSetupMs: z.number(),
    blockLevelMs: z.number(),
    stateRootsMs: z.number(),
    opcodeSharePct: z.number(),
  }),
})

export const engineResultSchema = z.object({
  name: z.string(),
  description: z.string(),
  totals: z.object({
    blocks: z.number().int(),
    /** Throughput and phase totals count verified blocks only. */
    verifiedBlocks: z.number().int(),
    txs: z.number().int(),
    gasUsed: z.number(),
    /** Sum of the phases over verified blocks: the time throughput is computed from. */
    processingMs: z.number(),
    /** Wall time of the whole replay for this engine (setup and verification included). */
    wallMs: z.number(),
    setupMs: z.number(),
    phases,
    txPerSec: z.number(),
    mgasPerSec: z.number(),
  }),
  blocks: z.array(blockRowSchema),
  opcodes: opcodeProfileSchema.nullable(),
})

export const runResultSchema = z.object({
  schemaVersion: z.literal(RUN_SCHEMA_VERSION),
  kind: z.literal('megabench.run'),
  createdAt: z.string(),
  tool: z.object({ name: z.literal('megabench'), version: z.string(), gitCommit: z.string().nullable() }),
  machine: z.object({
    cpuModel: z.string(),
    cores: z.number().int(),
    memoryBytes: z.number(),
    nodeVersion: z.string(),
    platform: z.string(),
    arch: z.string(),
    ecrecover: z.string(),
    ethereumjs: z.string(),
  }),
  config: z.object({
    command: z.literal('replay'),
    source: z.object({
      kind: z.enum(['fixtures', 'chain']),
      /** Fixture files/directories, or the chain directory. */
      paths: z.array(z.string()),
      units: z.number().int(),
      /** Chains: the measured block range (blocks before `from` were executed as warm-up). */
      from: z.number().int().nullable(),
      to: z.number().int().nullable(),
    }),
    engines: z.array(z.string()),
    /** live: state root (and its commit) after every block. */
    mode: z.literal('live'),
    storage: z.literal('memory'),
    opcodes: z.boolean(),
  }),
  engines: z.array(engineResultSchema).min(1),
  verification: z.object({
    blocks: z.number().int(),
    verified: z.number().int(),
    failed: z.array(mismatch.extend({ engine: z.string(), block: z.number().int(), origin: z.string() })),
  }),
})

export type RunResult = z.infer<typeof runResultSchema>
export type EngineResult = z.infer<typeof engineResultSchema>
export type BlockRow = z.infer<typeof blockRowSchema>
export type OpcodeProfileJson = z.infer<typeof opcodeProfileSchema>
