import type { UnitStorageStats } from '../engines/types.js'
import { LogHistogram } from '../storage/histogram.js'
import { CACHE_KINDS } from '../storage/stateStore.js'
import type { StorageReport } from './schema.js'

type Counter = { hits: number; misses: number }
type Level = Record<(typeof CACHE_KINDS)[number], Counter>

/** Sums the storage statistics of several units (fixture files each have their own DB) into the report. */
export function storageReport(units: readonly UnitStorageStats[], config: StorageReport['config']): StorageReport {
  const zeroLevel = (): Level => Object.fromEntries(CACHE_KINDS.map((k) => [k, { hits: 0, misses: 0 }])) as Level
  const l1 = zeroLevel()
  const l2 = zeroLevel()
  const lmdbReads = { accounts: 0, storage: 0, bytecodes: 0, account_trie: 0, storage_trie: 0 }
  const exec = new LogHistogram()
  const merk = new LogHistogram()
  let workingSetBytes = 0
  let importMs = 0
  const imported = { accounts: 0, slots: 0, nodes: 0, codes: 0 }
  const merkle = { roots: 0, updatedAccounts: 0, updatedSlots: 0, nodeReads: 0, nodeWrites: 0, lmdbReads: 0 }
  const persist = { commits: 0, ms: 0, syncMs: 0, bytes: { ...lmdbReads }, nodesWritten: 0, garbageNodes: 0 }
  let resumedAt: number | null = null
  const evictions = { l1: 0, l2: 0 }
  const tables = Object.fromEntries(Object.keys(lmdbReads).map((t) => [t, { entries: 0, bytes: 0 }])) as StorageReport['tables']
  for (const u of units) {
    for (const [t, v] of Object.entries(u.tables)) {
      tables[t as keyof typeof tables].entries += v.entries
      tables[t as keyof typeof tables].bytes += v.bytes
    }
    for (const k of CACHE_KINDS) {
      l1[k].hits += u.store.l1[k].hits
      l1[k].misses += u.store.l1[k].misses
      l2[k].hits += u.store.l2[k].hits
      l2[k].misses += u.store.l2[k].misses
    }
    evictions.l1 += u.store.l1.evictions
    evictions.l2 += u.store.l2.evictions
    for (const [t, n] of Object.entries(u.store.lmdbReads)) lmdbReads[t as keyof typeof lmdbReads] += n
    exec.merge(u.store.executionPenalty)
    merk.merge(u.store.merkleizationPenalty)
    workingSetBytes += u.store.workingSetBytes
    importMs += u.import.ms
    for (const k of Object.keys(imported) as (keyof typeof imported)[]) imported[k] += u.import[k]
    for (const k of Object.keys(merkle) as (keyof typeof merkle)[]) merkle[k] += u.merkle[k]
    persist.commits += u.persist.commits
    persist.ms += u.persist.ms
    persist.syncMs += u.persist.syncMs
    persist.nodesWritten += u.persist.nodesWritten
    persist.garbageNodes += u.persist.garbageNodes
    for (const [t, n] of Object.entries(u.persist.bytes)) persist.bytes[t as keyof typeof lmdbReads] += n
    resumedAt ??= u.import.resumedAt
  }
  const ratio = (c: Counter) => (c.hits + c.misses > 0 ? c.misses / (c.hits + c.misses) : 0)
  const total = (l: Level): Counter => ({
    hits: CACHE_KINDS.reduce((s, k) => s + l[k].hits, 0),
    misses: CACHE_KINDS.reduce((s, k) => s + l[k].misses, 0),
  })
  const keys = merkle.updatedAccounts + merkle.updatedSlots
  const persistBytes = Object.values(persist.bytes).reduce((a, b) => a + b, 0)
  return {
    config,
    workingSetBytes,
    tables,
    import: { ...imported, ms: importMs, resumedAt },
    l1: { ...l1, total: total(l1), missRatio: ratio(total(l1)) },
    l2: { ...l2, total: total(l2), missRatio: ratio(total(l2)) },
    evictions,
    lmdbReads,
    missPenalty: { execution: exec.summary(), merkleization: merk.summary() },
    merkleization: {
      ...merkle,
      nodeReadsPerKey: keys > 0 ? merkle.nodeReads / keys : 0,
      nodeWritesPerKey: keys > 0 ? merkle.nodeWrites / keys : 0,
      lmdbReadsPerKey: keys > 0 ? merkle.lmdbReads / keys : 0,
    },
    persistence: { ...persist, totalBytes: persistBytes, mbPerSec: persist.ms > 0 ? persistBytes / 1e6 / (persist.ms / 1000) : 0 },
  }
}

