import type { EvmTier } from '../evm/tiers.js'
import type { PhaseTimes } from '../probes/phases.js'
import type { AccessSetProbe } from '../probes/accessSets.js'
import type { OpcodeProfiler } from '../probes/opcodeProfiler.js'
import type { MerkleStats, PersistStats } from '../storage/flatStateManager.js'
import type { ImportStats } from '../storage/import.js'
import type { CacheConfig, StoreStats } from '../storage/stateStore.js'
import type { ReplayUnit } from '../types.js'
import type { StateReadCounts } from './baseline/stateManager.js'
import type { Checks, FieldMismatch } from './verify.js'
import type { SenderSource } from './senders.js'

export type EngineName = 'baseline' | 'mega'

/** When the mega engine proves the state root through its MPT mirror. */
export type VerifyMpt = 'every' | 'final' | 'off'

/** When the state root is computed and the state persisted. */
export type SyncMode = 'live' | 'historical'

/**
 * Where the engine keeps state:
 * - `memory`: the trie in an in-memory node store (MerkleStateManager); root and commit per block;
 * - `lmdb`: flat state and trie tables on LMDB behind two byte-bounded caches (FlatStateManager);
 *   `live` = root, verification and one LMDB commit per block; `historical` = every `batch` blocks
 *   (null = once at the end of each unit).
 */
export type StorageOptions =
  | { kind: 'memory' }
  | {
      kind: 'lmdb'
      mode: SyncMode
      batch: number | null
      caches: CacheConfig
      /** A DB directory to use and keep (resuming at its head); default a temporary one, removed after. */
      dir?: string | undefined
    }

/** Cache traffic of one block (level-1 and level-2 hits/misses per kind, LMDB reads, penalties). */
export type BlockStorageDelta = {
  l1: Record<'account' | 'storage' | 'code' | 'trieNode', { hits: number; misses: number }>
  l2: Record<'account' | 'storage' | 'code' | 'trieNode', { hits: number; misses: number }>
  lmdbReads: number
  /** Execution-side level-2 misses: count and total time (ms). */
  penaltyCount: number
  penaltyMs: number
}

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
  /** Every check made on the block and its outcome (verification as data; see engines/verify.ts). */
  checks: Checks
  /** Setup outside the timed phases (state import: witness or genesis; VM creation; decoding), ms. */
  setupMs: number
  /** Executed only to reach the measured range (`--from`). */
  warmup: boolean
  storage?: BlockStorageDelta | undefined
  /** The block's net state change (when state diffs are requested, and always for the mega engine). */
  diff?: BlockDiffSummary | undefined
  /** The EVM that executed the block (the fast EVM falls back to @ethereumjs/evm where it does not apply). */
  evm?: 'ethereumjs' | 'fast' | undefined
}

/** Options of the baseline engine. */
export type BaselineOptions = {
  /**
   * The EVM executing transactions: @ethereumjs/evm (default) or the fast EVM (src/evm/) over the same
   * flat state, caches and tries on LMDB, or over the in-memory trie (every fork from Frontier on; before
   * Byzantium the receipts' per-transaction roots by the same merkleization; the access-set pass stays on
   * @ethereumjs/evm).
   */
  evm?: 'ethereumjs' | 'fast' | undefined
  /** The fast EVM's tier (default DEFAULT_EVM_TIER). */
  evmTier?: EvmTier | undefined
}

/** Digest and size of a block's net state diff (megabench-diff-v1), compared across engines. */
export type BlockDiffSummary = { digest: string; bytes: number; keys: number }

/** Options of the mega engine. */
export type MegaOptions = {
  /** live: the authenticated tree committed every block; historical: every `batch` blocks (null = per unit). */
  mode: SyncMode
  batch: number | null
  /**
   * Ethereum's MPT kept beside the mega state proves the state root: `every` block's header, the
   * range's `final` one (the default: the range's net changes applied at its end), or `off`.
   */
  verifyMpt: VerifyMpt
  /** Worker threads recovering senders ahead of execution (0 = recover during execution). */
  senderWorkers: number
  /** Append every block's state diff to this file (length-prefixed megabench-diff-v1), fsync per commit. */
  stateDiffs: string | undefined
  /** Parallel-execution worker threads (0 = execute on the main thread, in order). */
  threads: number
  /**
   * The EVM executing transactions: @ethereumjs/evm (default) or the fast EVM (src/evm/), which runs
   * every block executed in order, Frontier on (before Byzantium the receipts' per-transaction roots from
   * the MPT mirror); parallel workers (`threads` > 0) stay on @ethereumjs/evm.
   */
  evm?: 'ethereumjs' | 'fast' | undefined
  /** The fast EVM's tier (interpreter, compiled, tiered; default DEFAULT_EVM_TIER in src/evm/compiler.ts). */
  evmTier?: EvmTier | undefined
}

/** Statistics of one mega-engine unit. */
export type MegaUnitStats = {
  importMs: number
  accounts: number
  treeEntries: number
  bucketBits: number
  tree: Record<string, number>
  verifyMptMs: number
  senderWorkers: number
  threads: number
  /**
   * Parallel execution: transactions run on workers, accepted in block order, and run again in order
   * because of a read conflict, a coinbase dependency or a failure on the worker; `sequential` ran in
   * order from the start (pre-Byzantium blocks, blocks of one transaction).
   */
  parallel: { txs: number; accepted: number; conflicts: number; coinbase: number; failed: number; sequential: number }
  /** Encoded state-diff bytes over the unit (megabench-diff-v1). */
  stateDiffBytes: number
  /** Blocks executed by the fast EVM (src/evm/) and by @ethereumjs/evm. */
  evmBlocks: { fast: number; ethereumjs: number }
  /**
   * What loading the state and building the tree added to this process's memory (V8 heap + external
   * memory such as array buffers, each after settled full GCs: `settledHeldBytes`); `withMirror`: the MPT mirror's node store is in it;
   * `treeBytes`: the BucketTree's own arrays (the state's store: slab, bookkeeping, digests); `slotIndex`:
   * the stored slot keys are indexed (for wipes: before Cancun, witnesses).
   */
  memory?: { bytes: number; treeBytes: number; withMirror: boolean; slotIndex: boolean } | undefined
}

/** Storage statistics of one unit (LMDB backend). */
export type UnitStorageStats = {
  store: StoreStats
  merkle: MerkleStats
  /** The unit's persistences summed, and how many there were. */
  persist: PersistStats & { commits: number }
  import: ImportStats & { ms: number; resumedAt: number | null }
  /** Entries and on-disk bytes per table when the unit ended. */
  tables: Record<'accounts' | 'storage' | 'bytecodes' | 'account_trie' | 'storage_trie', { entries: number; bytes: number }>
}

export type RunUnitOptions = {
  /** Per-opcode timing probe; attached to the engine's EVM for the duration of the unit. */
  profiler?: OpcodeProfiler | undefined
  storage: StorageOptions
  /** Receives the unit's storage statistics when it ends (LMDB backend). */
  onUnitStats?: ((stats: UnitStorageStats) => void) | undefined
  /** Baseline engine options (ignored by the mega engine). */
  baseline?: BaselineOptions | undefined
  /** Mega engine options (ignored by the baseline). */
  mega?: MegaOptions | undefined
  /** Receives the mega engine's statistics when a unit ends. */
  onMegaStats?: ((stats: MegaUnitStats) => void) | undefined
  /** Baseline: compute each block's net state diff (for comparison with the mega engine). */
  stateDiffs?: boolean | undefined
  /**
   * Access-set probe (per-transaction reads and writes): installed on the engine's state manager and EVM
   * for the unit, told about every measured block's transactions. The mega engine then runs in order.
   */
  accessSets?: AccessSetProbe | undefined
  /** Where senders come from (default recover): the same for every engine of a run. */
  senders?: SenderSource | undefined
}

/** An execution engine: executes replay units and proves each block. */
export interface Engine {
  readonly name: EngineName
  readonly description: string
  runUnit(unit: ReplayUnit, opts: RunUnitOptions): AsyncGenerator<BlockRun>
  /** Releases what the engine keeps across units (worker threads); called once after the last unit. */
  close?(): Promise<void>
}
