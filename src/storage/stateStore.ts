import { existsSync, mkdirSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { getHeapStatistics } from 'node:v8'

import { type Database, type RootDatabase, open } from 'lmdb'

import { MegabenchError } from '../errors/index.js'
import { now } from '../probes/clock.js'
import { Phase, type PhaseClock } from '../probes/phases.js'
import { ByteLru } from './byteLru.js'
import { DistinctKeys } from './distinctKeys.js'
import { rebindMemoryLimit, releaseMemoryLimit } from './cgroup.js'
import { EtlCollector } from './etl.js'
import { LogHistogram } from './histogram.js'
import { hexOf } from '../util/hex.js'

/**
 * The on-disk state: LMDB (the B+tree design reth's MDBX forked from), laid out like a client that
 * keeps flat state for execution and trie tables for merkleization:
 *
 *   accounts       keccak(address) → account RLP [nonce, balance, storageRoot, codeHash]
 *   storage        keccak(address) ‖ keccak(slot) → value (big-endian, no leading zeros)
 *   bytecodes      codeHash → code
 *   account_trie   node hash → node RLP (the account trie)
 *   storage_trie   node hash → node RLP (all storage tries)
 *   meta           schema version, what the DB holds (chain), head block, completeness
 *
 * Execution reads the flat tables (one DB read per account or slot); merkleization reads and writes
 * the trie tables. Flat keys are hashed, as in geth's snapshot and reth's Hashed* tables: a witness
 * carries hashed keys only, so address-keyed "plain" tables could not be built from one.
 *
 * Reads go through two byte-bounded caches: level 1, the client's own state cache (accounts, slots,
 * code, trie nodes, keyed as the client knows them), and level 2, a cache of DB reads standing in for
 * the OS page cache under MDBX. A level-2 miss reads LMDB; its time is the miss penalty.
 */
export const STORAGE_SCHEMA_VERSION = 1

export const TABLES = ['accounts', 'storage', 'bytecodes', 'account_trie', 'storage_trie'] as const
export type TableName = (typeof TABLES)[number]

/** What a cached entry is, for per-kind hit/miss counts. */
export const CacheKind = { account: 0, storage: 1, code: 2, trieNode: 3 } as const
export type CacheKind = (typeof CacheKind)[keyof typeof CacheKind]
export const CACHE_KINDS = ['account', 'storage', 'code', 'trieNode'] as const
const TABLE_TAG: Record<TableName, string> = { accounts: 'A', storage: 'S', bytecodes: 'C', account_trie: 'T', storage_trie: 'U' }
const TABLE_INDEX = Object.fromEntries(TABLES.map((t, i) => [t, i])) as Record<TableName, number>

export type StoreMeta = {
  schemaVersion: number
  /** What the state belongs to: `chain:<chainId>:<genesisHash>` or `witness:<blockHash>`. */
  chainKey: string
  /** Flat tables hold every account and slot (a genesis import) or only a witness's (partial). */
  complete: boolean
  head: { number: number; hash: string; stateRoot: string } | null
}

/**
 * A write to one table; `value: null` deletes. `prefix` deletes every key starting with it (and every
 * cached entry: level-2 by the table key, level 1 by `l1Prefix`).
 */
export type WriteOp =
  | { table: TableName; key: Uint8Array; value: Uint8Array | null }
  | { table: 'storage'; prefix: Uint8Array; l1Prefix: string }

export type CacheCounters = { hits: number; misses: number }
export type StoreStats = {
  l1: Record<(typeof CACHE_KINDS)[number], CacheCounters> & { bytesUsed: number; capacity: number; evictions: number }
  l2: Record<(typeof CACHE_KINDS)[number], CacheCounters> & { bytesUsed: number; capacity: number; evictions: number }
  lmdbReads: Record<TableName, number>
  /** Level-2 misses during execution: reads of LMDB, timed (ns). */
  executionPenalty: LogHistogram
  /** Its count and sum at the time of the snapshot (the histogram object keeps counting). */
  executionPenaltyCount: number
  executionPenaltySumNs: number
  /** Level-2 misses during merkleization. */
  merkleizationPenalty: LogHistogram
  /** Distinct state bytes read or written (keys and values), the range's working set. */
  workingSetBytes: number
  writes: { bytes: Record<TableName, number>; entries: Record<TableName, number>; deletes: number; commitMs: number; syncMs: number }
}

const KINDS = CACHE_KINDS.length

/**
 * Fault injection for the crash test: with MEGABENCH_FAULT_KILL_IN_COMMIT=<block>, the process kills
 * itself (SIGKILL) inside the write transaction that would persist that block, before it commits.
 */
const KILL_IN_COMMIT = process.env.MEGABENCH_FAULT_KILL_IN_COMMIT

/**
 * The bytes each cache level may account for when its budget is unbounded (no --memory): an eighth of V8's
 * heap limit, so both levels with their JavaScript overhead stay well inside the heap. A run that reaches
 * it counts evictions (the report says so).
 */
export const HEAP_CACHE_CAP = Math.floor(getHeapStatistics().heap_size_limit / 8)

/** The two cache levels' budgets in bytes, and whether level 1 holds trie nodes (default true). */
export type CacheConfig = { l1: number; l2: number; l1TrieNodes?: boolean | undefined }

export class StateStore {
  readonly l1: ByteLru<CacheKind>
  readonly l2: ByteLru<CacheKind>
  readonly lmdbReads: Record<TableName, number> = { accounts: 0, storage: 0, bytecodes: 0, account_trie: 0, storage_trie: 0 }
  readonly executionPenalty = new LogHistogram()
  readonly merkleizationPenalty = new LogHistogram()
  /** Every (table, key) read or written, as fingerprints (bounded memory over long ranges). */
  private readonly touched = new DistinctKeys()
  workingSetBytes = 0
  readonly writes = {
    bytes: { accounts: 0, storage: 0, bytecodes: 0, account_trie: 0, storage_trie: 0 } as Record<TableName, number>,
    entries: { accounts: 0, storage: 0, bytecodes: 0, account_trie: 0, storage_trie: 0 } as Record<TableName, number>,
    deletes: 0,
    commitMs: 0,
    syncMs: 0,
  }
  /** Which phase a level-2 miss belongs to (the state manager switches it around merkleization). */
  context: 'execution' | 'merkleization' = 'execution'
  /**
   * State reads of execution that missed level 1 (the client's state cache) and went to the database
   * (level 2, then LMDB): the `state_reads` of a slow-block line. Trie-node reads of merkleization are not state reads.
   */
  readonly stateReads = { accounts: 0, storageSlots: 0, code: 0, codeBytes: 0 }
  /** Receives execution-side miss penalties as the `stateLoad` phase. */
  clock: PhaseClock | undefined

  /**
   * Level 1 holds trie nodes too (default). Off (`--no-l1-trie-nodes`): merkleization reads trie nodes through
   * level 2 (the DB's cache) only, as Reth did when the study measured it (its trie tables read through MDBX,
   * no trie-node cache in the client).
   */
  readonly l1TrieNodes: boolean

  private constructor(
    readonly path: string,
    private readonly root: RootDatabase,
    private readonly tables: Record<TableName, Database<Uint8Array, Uint8Array>>,
    private readonly metaDb: Database<unknown, string>,
    caches: CacheConfig,
  ) {
    this.l1TrieNodes = caches.l1TrieNodes ?? true
    // Unbounded caches (no --memory) stop at the heap's cap: a long live range writes every trie node into
    // both levels, and 5,000 blocks of the 1M-account ERC20 chain ran out of V8's heap without it.
    const cap = (budget: number) => (budget >= Number.MAX_SAFE_INTEGER ? HEAP_CACHE_CAP : budget)
    this.l1 = new ByteLru<CacheKind>(cap(caches.l1), KINDS)
    this.l2 = new ByteLru<CacheKind>(cap(caches.l2), KINDS)
  }

  /**
   * Opens (creating if needed) the DB at `path`. An existing DB must have this schema version and,
   * if `chainKey` is given, hold that chain; otherwise it is refused with a one-line error.
   */
  static open(path: string, p: { chainKey?: string; caches: CacheConfig }): StateStore {
    // A DB directory that exists must be megabench's LMDB (or empty): LMDB would otherwise add its files
    // to any directory it is pointed at.
    if (existsSync(path)) {
      const names = readdirSync(path)
      if (names.length > 0 && !names.includes('data.mdb')) {
        throw new MegabenchError(`is a non-empty directory without a megabench state DB (no data.mdb); choose a new --db path`, { where: path })
      }
    }
    mkdirSync(path, { recursive: true })
    // No read-ahead (MDB_NORDAHEAD: MADV_RANDOM on the map): the tables are keyed by hashes, so reads are
    // random, and a page fault that reads ahead fills the page cache with neighbours no one asks for. With
    // this VM's 8 MiB read_ahead_kb, every major fault read up to 8 MiB: under a 64 MiB cgroup budget a
    // historical replay of 50 blocks of the 1M-account ERC20 chain took 43.1 s with read-ahead and 3.4 s
    // without (mean level-2 miss penalty 437 → 58 µs; 2026-12-07). libmdbx, reth's store, likewise weighs
    // read-ahead against the DB's size and the memory there is (mdbx_is_readahead_reasonable). (lmdb-js
    // supports the option; its typings omit it.)
    const root = open({ path, maxDbs: 8, ...({ noReadAhead: true } as object) })
    const table = (name: string) => root.openDB<Uint8Array, Uint8Array>({ name, keyEncoding: 'binary', encoding: 'binary' })
    const tables = Object.fromEntries(TABLES.map((t) => [t, table(t)])) as Record<TableName, Database<Uint8Array, Uint8Array>>
    const metaDb = root.openDB<unknown, string>({ name: 'meta', encoding: 'json' })
    const store = new StateStore(path, root, tables, metaDb, p.caches)
    const meta = store.meta()
    if (meta !== undefined) {
      if (meta.schemaVersion !== STORAGE_SCHEMA_VERSION) {
        root.close()
        throw new MegabenchError(`state DB has schema version ${meta.schemaVersion}; this megabench reads version ${STORAGE_SCHEMA_VERSION}`, { where: path })
      }
      if (p.chainKey !== undefined && meta.chainKey !== p.chainKey) {
        root.close()
        throw new MegabenchError(`state DB holds ${meta.chainKey}, not ${p.chainKey}`, { where: path })
      }
    }
    return store
  }

  meta(): StoreMeta | undefined {
    return this.metaDb.get('meta') as StoreMeta | undefined
  }

  /** True if nothing has been imported yet. */
  get empty(): boolean {
    return this.meta() === undefined
  }

  /**
   * While set, reads go straight to LMDB: no cache is consulted or filled and no counter moves. For
   * verification work (the block diffs the differential compares), which must not change what is measured.
   */
  uncounted = false

  /** Whether level 1 holds entries of this kind (all but trie nodes under `--no-l1-trie-nodes`). */
  private inL1(kind: CacheKind): boolean {
    return this.l1TrieNodes || kind !== CacheKind.trieNode
  }

  /**
   * A state read through both caches. `l1Key` is how the client names the entry (e.g. the address);
   * `dbKey` computes the table key only on a level-1 miss. Returns null for an absent key.
   * Kinds level 1 does not hold go to level 2 directly.
   */
  read(kind: CacheKind, l1Key: string, table: TableName, dbKey: () => Uint8Array): Uint8Array | null {
    if (this.uncounted) return this.readRaw(table, dbKey())
    if (!this.inL1(kind)) return this.readL2(kind, table, dbKey())
    const cached = this.l1.get(kind, l1Key)
    if (cached !== undefined) return cached
    const value = this.readL2(kind, table, dbKey())
    if (this.context === 'execution') {
      if (kind === CacheKind.account) this.stateReads.accounts++
      else if (kind === CacheKind.storage) this.stateReads.storageSlots++
      else if (kind === CacheKind.code) {
        this.stateReads.code++
        this.stateReads.codeBytes += value?.length ?? 0
      }
    }
    this.l1.set(l1Key, value)
    return value
  }

  /** A read below level 1: level 2, then LMDB (timed). */
  private readRaw(table: TableName, key: Uint8Array): Uint8Array | null {
    const raw = this.tables[table].getBinary(key)
    return raw === undefined ? null : new Uint8Array(raw)
  }

  readL2(kind: CacheKind, table: TableName, key: Uint8Array): Uint8Array | null {
    if (this.uncounted) return this.readRaw(table, key)
    const l2Key = TABLE_TAG[table] + hexOf(key)
    const cached = this.l2.get(kind, l2Key)
    if (cached !== undefined) return cached
    const inExecution = this.context === 'execution'
    if (inExecution) this.clock?.enter(Phase.stateLoad)
    const t0 = now()
    const raw = this.tables[table].getBinary(key)
    const dt = now() - t0
    if (inExecution) this.clock?.exit()
    ;(inExecution ? this.executionPenalty : this.merkleizationPenalty).addMs(dt)
    this.lmdbReads[table]++
    const value = raw === undefined ? null : new Uint8Array(raw)
    this.l2.set(l2Key, value)
    if (this.touched.add(TABLE_INDEX[table], key)) this.workingSetBytes += key.length + (value?.length ?? 0)
    return value
  }

  /**
   * Writes `ops` and the new head in one LMDB write transaction (atomic: a crash leaves the previous
   * head). Written values also enter both caches (they are in the page cache after a write, and
   * the client keeps what it just wrote).
   */
  write(ops: readonly WriteOp[], meta: StoreMeta, cacheUpdates: readonly { kind: CacheKind; l1Key: string | null; table: TableName; key: Uint8Array; value: Uint8Array | null }[] = []): void {
    const t0 = now()
    let tPut = t0
    this.root.transactionSync(() => {
      for (const op of ops) {
        const db = this.tables[op.table]
        if ('prefix' in op) {
          const end = prefixEnd(op.prefix)
          for (const { key } of db.getRange({ start: op.prefix, end })) {
            db.removeSync(key as Uint8Array)
            this.writes.deletes++
          }
        } else if (op.value === null) {
          db.removeSync(op.key)
          this.writes.deletes++
        } else {
          db.putSync(op.key, op.value)
          this.writes.bytes[op.table] += op.key.length + op.value.length
          this.writes.entries[op.table]++
        }
      }
      this.metaDb.putSync('meta', meta)
      if (KILL_IN_COMMIT !== undefined && String(meta.head?.number) === KILL_IN_COMMIT) process.kill(process.pid, 'SIGKILL')
      tPut = now()
    })
    const t1 = now()
    this.writes.commitMs += t1 - t0
    this.writes.syncMs += t1 - tPut
    for (const op of ops) {
      if (!('prefix' in op)) continue
      this.l2.deletePrefix(TABLE_TAG[op.table] + hexOf(op.prefix))
      this.l1.deletePrefix(op.l1Prefix)
    }
    for (const u of cacheUpdates) {
      const l2Key = TABLE_TAG[u.table] + hexOf(u.key)
      this.l2.set(l2Key, u.value)
      if (u.l1Key !== null && this.inL1(u.kind)) this.l1.set(u.l1Key, u.value)
      if (this.touched.add(TABLE_INDEX[u.table], u.key)) this.workingSetBytes += u.key.length + (u.value?.length ?? 0)
    }
  }

  /**
   * Bulk import into an empty store: entries are collected, sorted by an external sort (ETL, spilled
   * beside the DB) and appended table by table in key order, in transactions of `chunk` entries.
   */
  importer(opts: { chunk?: number; bufferBytes?: number } = {}) {
    const chunk = opts.chunk ?? 200_000
    const etl = new EtlCollector(join(this.path, 'etl-tmp'), opts.bufferBytes)
    return {
      put: (table: TableName, key: Uint8Array, value: Uint8Array) => etl.put(TABLES.indexOf(table), key, value),
      finish: (meta: StoreMeta) => {
        const it = etl.sorted()
        try {
          let done = false
          while (!done) {
            this.root.transactionSync(() => {
              for (let n = 0; n < chunk; n++) {
                const r = it.next()
                if (r.done === true) {
                  done = true
                  this.metaDb.putSync('meta', meta)
                  return
                }
                const { table, key, value } = r.value
                this.tables[TABLES[table]!].putSync(key, value, { append: true })
              }
            })
          }
        } finally {
          it.return(undefined)
          etl.cleanup()
        }
        return { entries: etl.count, spilledBytes: etl.spilledBytes }
      },
      abort: () => etl.cleanup(),
    }
  }

  /** Entries and on-disk bytes (B+tree pages × page size) per table, from LMDB's own statistics. */
  tableSizes(): Record<TableName, { entries: number; bytes: number }> {
    const out = {} as Record<TableName, { entries: number; bytes: number }>
    for (const t of TABLES) {
      const st = this.tables[t].getStats() as {
        entryCount: number
        pageSize: number
        treeBranchPageCount: number
        treeLeafPageCount: number
        overflowPages: number
      }
      out[t] = { entries: st.entryCount, bytes: (st.treeBranchPageCount + st.treeLeafPageCount + st.overflowPages) * st.pageSize }
    }
    return out
  }

  /**
   * Before each block: a memory cgroup in force (--cgroup) is re-limited to the anonymous memory charged
   * to it less what the two caches hold, plus the budget, so the page cache LMDB's reads fill stays bound.
   */
  beginBlock(): void {
    rebindMemoryLimit(this.l1.bytesUsed + this.l2.bytesUsed)
  }

  stats(): StoreStats {
    const level = (c: ByteLru<CacheKind>) => {
      const o = { bytesUsed: c.bytesUsed, capacity: c.capacity, evictions: c.evictions } as StoreStats['l1']
      CACHE_KINDS.forEach((k, i) => {
        o[k] = { hits: c.hits[i]!, misses: c.misses[i]! }
      })
      return o
    }
    return {
      l1: level(this.l1),
      l2: level(this.l2),
      lmdbReads: { ...this.lmdbReads },
      executionPenalty: this.executionPenalty,
      executionPenaltyCount: this.executionPenalty.count,
      executionPenaltySumNs: this.executionPenalty.sumNs,
      merkleizationPenalty: this.merkleizationPenalty,
      workingSetBytes: this.workingSetBytes,
      writes: { bytes: { ...this.writes.bytes }, entries: { ...this.writes.entries }, deletes: this.writes.deletes, commitMs: this.writes.commitMs, syncMs: this.writes.syncMs },
    }
  }

  /** Closes the DB; a memory cgroup in force is lifted (the measured blocks are over). */
  async close(): Promise<void> {
    releaseMemoryLimit()
    await this.root.close()
  }
}

/** The smallest key greater than every key with this prefix (for range deletes). */
function prefixEnd(prefix: Uint8Array): Uint8Array {
  const end = prefix.slice()
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]! += 1
      return end.subarray(0, i + 1)
    }
  }
  return new Uint8Array([0xff, ...prefix])
}
