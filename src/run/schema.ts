import { z } from 'zod'

import { analysesSchema } from '../analyses/schema.js'

/**
 * run.json: the contract between producers (engines, probes) and consumers (analyses, report,
 * gate). Versioned; every change that a reader could notice bumps RUN_SCHEMA_VERSION.
 * All times are milliseconds unless a field name says otherwise (…Ns = nanoseconds).
 */
export const RUN_SCHEMA_VERSION = 4

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

const counter = z.object({ hits: z.number(), misses: z.number() })
const cacheKinds = { account: counter, storage: counter, code: counter, trieNode: counter }

/** Cache traffic of one block (LMDB storage). */
const blockCache = z.object({
  l1: z.object(cacheKinds),
  l2: z.object(cacheKinds),
  lmdbReads: z.number(),
  penaltyCount: z.number(),
  penaltyMs: z.number(),
})

const histogram = z.object({
  count: z.number(),
  totalMs: z.number(),
  meanNs: z.number(),
  p50Ns: z.number(),
  p99Ns: z.number(),
  maxNs: z.number(),
  /** Log2 buckets of nanoseconds: [fromNs, toNs). */
  buckets: z.array(z.object({ fromNs: z.number(), toNs: z.number(), count: z.number() })),
})

const perTable = z.object({ accounts: z.number(), storage: z.number(), bytecodes: z.number(), account_trie: z.number(), storage_trie: z.number() })

/** The storage layer's counters over the run (LMDB storage only). */
export const storageReportSchema = z.object({
  config: z.object({
    mode: z.enum(['live', 'historical']),
    /** Historical: blocks per state root and persistence (null = once per unit). */
    batch: z.number().int().nullable(),
    /** The --memory budget and its split (null = unbounded caches). */
    memoryBytes: z.number().nullable(),
    l1Bytes: z.number().nullable(),
    l2Bytes: z.number().nullable(),
    /** Unbounded caches (memoryBytes null): the bytes each level may hold before evicting (a share of V8's heap limit). */
    heapCapBytes: z.number().nullable().optional(),
    /**
     * How cache entries are counted against the budget: `heap` = their measured cost in V8's heap (key + 140 B,
     * + value + 200 B when held). Absent in runs before it: key + value + 64 B, while the keys cost ~1 KB, so
     * those caches held 2.5–7x their budget.
     */
    cacheAccounting: z.literal('heap').optional(),
    /**
     * False: level 1 (the client's cache) held no trie nodes, merkleization read them through level 2 only
     * (`--no-l1-trie-nodes`), as Reth did when the study measured it. Absent: level 1 held them (the default).
     */
    l1TrieNodes: z.literal(false).optional(),
    rule: z.string(),
  }),
  /** Distinct state bytes (keys + values) the range read or wrote: compare with the budget. */
  workingSetBytes: z.number(),
  /** Entries and on-disk bytes per table at the end (summed over units): flat state vs tries. */
  tables: z.object({
    accounts: z.object({ entries: z.number(), bytes: z.number() }),
    storage: z.object({ entries: z.number(), bytes: z.number() }),
    bytecodes: z.object({ entries: z.number(), bytes: z.number() }),
    account_trie: z.object({ entries: z.number(), bytes: z.number() }),
    storage_trie: z.object({ entries: z.number(), bytes: z.number() }),
  }),
  import: z.object({ accounts: z.number(), slots: z.number(), nodes: z.number(), codes: z.number(), ms: z.number(), resumedAt: z.number().nullable() }),
  l1: z.object({ ...cacheKinds, total: counter, missRatio: z.number() }),
  /** Entries each cache level evicted over the run (absent in runs before 2026-12-07). */
  evictions: z.object({ l1: z.number(), l2: z.number() }).optional(),
  l2: z.object({ ...cacheKinds, total: counter, missRatio: z.number() }),
  lmdbReads: perTable,
  /** Time of each level-2 miss (an LMDB read), during execution and during merkleization. */
  missPenalty: z.object({ execution: histogram, merkleization: histogram }),
  merkleization: z.object({
    roots: z.number(),
    updatedAccounts: z.number(),
    updatedSlots: z.number(),
    nodeReads: z.number(),
    nodeWrites: z.number(),
    lmdbReads: z.number(),
    nodeReadsPerKey: z.number(),
    nodeWritesPerKey: z.number(),
    lmdbReadsPerKey: z.number(),
  }),
  persistence: z.object({
    commits: z.number(),
    /** The LMDB write transactions (puts + commit); the persistence phase also builds the writes and updates the caches. */
    ms: z.number(),
    /** Of `ms`, LMDB's commits: dirty pages written out and synced (fsync). Absent in runs before it. */
    syncMs: z.number().optional(),
    bytes: perTable,
    totalBytes: z.number(),
    mbPerSec: z.number(),
    nodesWritten: z.number(),
    garbageNodes: z.number(),
  }),  /**
   * What bound the read path beyond the two caches' byte budgets (absent: only they did, as in runs
   * before this field): a memory cgroup around the process (the OS page cache under LMDB is charged to
   * it), or a declared disk model (every level-2 miss costs `missLatencyNs` instead of its measured time;
   * modelled numbers are labelled as such wherever they are shown).
   */
  binding: z
    .discriminatedUnion('kind', [
      z.object({
        kind: z.literal('cgroup'),
        version: z.union([z.literal(1), z.literal(2)]),
        path: z.string(),
        budgetBytes: z.number(),
        headroomBytes: z.number(),
        limitMinBytes: z.number(),
        limitMaxBytes: z.number(),
        updates: z.number().int(),
        refused: z.number().int(),
        /** Process-wide (every variant of the run): pages read from disk since the binding. */
        majorFaults: z.number().int(),
      }),
      z.object({
        kind: z.literal('model'),
        missLatencyNs: z.number(),
        /** Level-2 misses (LMDB reads) of execution and merkleization. */
        misses: z.number().int(),
        /** Their measured time, and the time the model gives them (misses × missLatencyNs). */
        measuredMs: z.number(),
        modelledMs: z.number(),
        /** processingMs with the measured miss time replaced by the modelled one, and its tx/s. */
        modelledProcessingMs: z.number(),
        modelledTxPerSec: z.number(),
      }),
    ])
    .optional(),
})
export type StorageReport = z.infer<typeof storageReportSchema>

/** One check made on a block (engines/verify.ts): its outcome, how it was made, or why it was not. */
export const checkSchema = z.object({
  status: z.enum(['pass', 'fail', 'skipped']),
  method: z.string().optional(),
  note: z.string().optional(),
  field: z.string().optional(),
  expected: z.string().optional(),
  actual: z.string().optional(),
})

/** A quantity measured over repeated passes (src/protocol): the median is what is reported. */
export const spreadSchema = z.object({ n: z.number().int(), median: z.number(), min: z.number(), max: z.number(), relHalfRange: z.number() })

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
  /** Cache traffic of this block (LMDB storage). */
  cache: blockCache.nullable(),
  /** The block's net state diff (megabench-diff-v1): digest, encoded bytes, keys (when computed). */
  diff: z.object({ digest: z.string(), bytes: z.number(), keys: z.number() }).nullable(),
  /** Every check made on this block: header fields, per-transaction roots, state root, senders, diff vs the baseline. */
  checks: z.record(z.string(), checkSchema),
  /** With --repeat > 1: the block's total time in each measured pass (the row's phases are per-phase medians). */
  passes: z.object({ totalMs: z.array(z.number()) }).optional(),
  /** The EVM that executed the block (absent in runs from before the baseline's --evm). */
  evm: z.enum(['ethereumjs', 'fast']).optional(),
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
  /** The range of totalNs over the profiled passes (totalNs is their median). */
  totalNsMin: z.number().optional(),
  totalNsMax: z.number().optional(),
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
  /** Warm profiled passes the medians are taken over. */
  passes: z.number().int().optional(),
})

/** The mega engine's own counters (in-memory state, BucketTree, parallel execution, diffs). */
/** An engine's EVM: the one asked for, and the (measured) blocks each EVM executed (the fast EVM falls back to @ethereumjs/evm where it does not apply). */
export const evmBlocksSchema = z.object({
  requested: z.enum(['ethereumjs', 'fast']),
  /** The fast EVM's tier (--evm-tier; fast only; absent in runs from before the compiler tier: the interpreter). */
  tier: z.enum(['interpreter', 'compiled', 'tiered']).optional(),
  fastBlocks: z.number(),
  ethereumjsBlocks: z.number(),
})

export const megaReportSchema = z.object({
  /** Loading the state into memory and building the tree (setup, not counted). */
  importMs: z.number(),
  /**
   * Memory the loaded state and tree hold (V8 heap + external, after settled full GCs; the largest unit's), per
   * account and per tree entry (accounts + slots); `withMirror`: it includes the MPT mirror's node store
   * (--verify-mpt; `off` measures the state and tree alone); `treeBytes`: of it, the BucketTree's arrays, which
   * are the state's store; `slotIndex`: stored slot keys indexed for wipes (before Cancun, witnesses). Absent
   * in runs from before it was measured.
   */
  memory: z.object({ bytes: z.number(), perAccount: z.number(), perEntry: z.number(), withMirror: z.boolean(), treeBytes: z.number().optional(), slotIndex: z.boolean().optional() }).optional(),
  accounts: z.number(),
  treeEntries: z.number(),
  bucketBits: z.number(),
  /** Key updates applied to the tree, and per second of merkleization. */
  keyUpdates: z.number(),
  keyUpdatesPerSec: z.number(),
  bucketHashes: z.number(),
  nodeHashes: z.number(),
  /** Hashes computed per key update (bucket + node): the tree's work per key; it reads no storage. */
  hashesPerUpdate: z.number(),
  commits: z.number(),
  /** Maintaining the MPT beside it and checking headers (--verify-mpt): verification, not counted. */
  verifyMptMs: z.number(),
  senderWorkers: z.number(),
  threads: z.number(),
  parallel: z.object({
    txs: z.number(),
    accepted: z.number(),
    conflicts: z.number(),
    coinbase: z.number(),
    failed: z.number(),
    sequential: z.number(),
  }),
  stateDiffBytes: z.number(),
  /** The EVM asked for, and the (measured) blocks each EVM executed: the fast EVM falls back to @ethereumjs/evm where it does not apply. */
  evm: evmBlocksSchema.optional(),
})
export type MegaReport = z.infer<typeof megaReportSchema>

export const engineResultSchema = z.object({
  name: z.string(),
  /** How summaries and charts name this run: engine/mode[/threads]. */
  label: z.string(),
  description: z.string(),
  /** Sync mode of this run of the engine. */
  mode: z.enum(['live', 'historical']),
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
  /** The EVM this variant asked for (fallbacks to @ethereumjs/evm are counted under mega.evm and baseline.evm). */
  evm: z.enum(['ethereumjs', 'fast']),
  /** Where senders came from: recovered from signatures, or the source's cache (--senders). */
  senders: z.enum(['recover', 'cache']),
  /** Measured passes: the totals above are medians; these are their spreads (each pass's verified blocks). */
  repeats: z.object({
    passes: z.number().int(),
    processingMs: spreadSchema,
    txPerSec: spreadSchema,
    phases: z.record(z.string(), spreadSchema),
    /**
     * Fast-EVM variants: basic blocks its compiler compiled during the warm-up passes, and during each measured
     * pass in the order they ran, with the time spent compiling (ms, inside execution). Counters are per
     * process: a measured pass that compiles ran different tiers than the passes before it. Absent in runs
     * from before 2026-12-07 and for @ethereumjs variants.
     */
    compiled: z.object({ warmupBlocks: z.number().int(), blocks: z.array(z.number().int()), ms: z.array(z.number()) }).optional(),
  }),
  /**
   * With --opcodes: the profile comes from separate profiled passes; timings from unprofiled ones. The
   * probe's cost on the same warm blocks: profiled over unprofiled processing time (medians).
   */
  profilerOverhead: z.object({ profiledMs: spreadSchema, unprofiledMs: spreadSchema, ratio: z.number() }).nullable(),
  /** Opcode profile of warm profiled passes (null unprofiled, and for parallel workers). */
  opcodes: opcodeProfileSchema.nullable(),
  storage: storageReportSchema.nullable(),
  mega: megaReportSchema.nullable(),
  /** The baseline engine's EVM and its blocks per EVM (absent in runs from before the baseline's --evm, and for the mega engine). */
  baseline: z.object({ evm: evmBlocksSchema }).optional(),
})

/**
 * The study's live-sync decomposition, when a run replays the same blocks in both modes:
 * live/historical time = merkleization factor × persistence factor, where the merkleization factor
 * is live time without persistence over historical time, and the persistence factor is live time over
 * live time without persistence.
 */
export const decompositionSchema = z.object({
  historicalMs: z.number(),
  liveMs: z.number(),
  liveWithoutPersistenceMs: z.number(),
  historicalTxPerSec: z.number(),
  liveTxPerSec: z.number(),
  slowdown: z.number(),
  merkleizationFactor: z.number(),
  persistenceFactor: z.number(),
  /**
   * Historical sync's state root and commit (merkleization + persistence), paid once per batch, and live's
   * time over historical's without them: at the study's scale (a root every 500k blocks) that cost per block
   * vanishes, on a range of 100 blocks it does not. Derived from measured phases; absent in older runs.
   */
  historicalBatchRootMs: z.number().optional(),
  slowdownVsHistoricalWithoutBatchRoot: z.number().optional(),
  /** The baseline EVM it was measured on, when not @ethereumjs/evm alone (with several, the first given). */
  evm: z.enum(['ethereumjs', 'fast']).optional(),
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
    /** Sync modes run: live (root + persistence per block), historical (per batch), or both. */
    modes: z.array(z.enum(['live', 'historical'])),
    storage: z.enum(['memory', 'lmdb']),
    opcodes: z.boolean(),
    /** Where senders come from, for every engine (--senders). */
    senders: z.enum(['recover', 'cache']),
    /** The measurement protocol (src/protocol): warm-up passes per variant, measured passes, and their order. */
    protocol: z.object({ warmup: z.number().int(), repeat: z.number().int(), order: z.array(z.string()) }),
    /** The baseline's EVMs when not the default @ethereumjs/evm alone (--evm with the baseline). */
    baseline: z.object({ evm: z.array(z.enum(['ethereumjs', 'fast'])), evmTier: z.enum(['interpreter', 'compiled', 'tiered']).optional() }).optional(),
    mega: z
      .object({
        verifyMpt: z.enum(['every', 'final', 'off']),
        senderWorkers: z.number(),
        threads: z.array(z.number()),
        stateDiffs: z.string().nullable(),
        evm: z.array(z.enum(['ethereumjs', 'fast'])),
      })
      .nullable(),
  }),
  engines: z.array(engineResultSchema).min(1),
  decomposition: decompositionSchema.nullable(),
  /** With several engines: blocks whose state diff was compared with the baseline's, and how many differed. */
  differential: z
    .object({
      compared: z.number(),
      mismatches: z.number(),
      /** Blocks × mega variants: what would be compared if every block had a baseline diff. */
      expected: z.number(),
      /** Blocks of a variant not compared, and why (e.g. the baseline did not verify the block). */
      notCompared: z.array(z.object({ engine: z.string(), block: z.number().int(), origin: z.string(), reason: z.string() })),
    })
    .nullable(),
  verification: z.object({
    blocks: z.number().int(),
    verified: z.number().int(),
    failed: z.array(mismatch.extend({ engine: z.string(), block: z.number().int(), origin: z.string() })),
  }),
  /** `replay --analyze …`: parallelism, state-diff bandwidth, JIT bound, hardware ceilings (src/analyses/). */
  analyses: analysesSchema.nullable().optional(),
})

export type RunResult = z.infer<typeof runResultSchema>
export type EngineResult = z.infer<typeof engineResultSchema>
export type BlockRow = z.infer<typeof blockRowSchema>
export type OpcodeProfileJson = z.infer<typeof opcodeProfileSchema>
export type Decomposition = z.infer<typeof decompositionSchema>
