import type { BlockRow, EngineResult, MegaReport, RunResult, StorageReport } from '../../src/run/schema.js'
import type { SweepResult } from '../../src/run/sweepSchema.js'

const phases = (execution: number, merkleization: number, persistence: number) => ({
  senderRecovery: 10,
  execution,
  stateLoad: 5,
  merkleization,
  persistence,
})

export function block(number: number, verified = true, txCount = 10): BlockRow {
  return {
    origin: `b${number}`,
    number,
    hash: '0x00',
    hardfork: 'cancun',
    txCount,
    gasUsed: 1_000_000,
    phases: phases(80, 10, 5),
    totalMs: 110,
    setupMs: 1,
    mgasPerSec: 1e6 / 1e6 / 0.11,
    txPerSec: txCount / 0.11,
    stateReads: { accounts: 0, storageSlots: 0, code: 0, codeBytes: 0 },
    verified,
    cache: null,
    diff: null,
    checks: verified
      ? { gasUsed: { status: 'pass' }, stateRoot: { status: 'pass', method: 'MPT on LMDB, root after every block' } }
      : { gasUsed: { status: 'pass' }, stateRoot: { status: 'fail', method: 'MPT on LMDB, root after every block', field: 'stateRoot', expected: '0x01', actual: '0x02' } },
  }
}

const one = (median: number) => ({ n: 1, median, min: median, max: median, relHalfRange: 0 })

/** A spread over passes with exact numbers: median, min, max. */
export const spreadOf = (median: number, min: number, max: number, n = 2) => ({ n, median, min, max, relHalfRange: (max - min) / 2 / median })

export type EngineOptions = {
  name?: 'baseline' | 'mega'
  label?: string
  evm?: 'ethereumjs' | 'fast'
  senders?: 'recover' | 'cache'
  /** The block rows (default: blocks 1 and 2 verified, 3 failed); with none verified the totals are zero. */
  blocks?: BlockRow[]
  storage?: StorageReport | null
  mega?: MegaReport | null
  /** Without an opcode profile (and probe overhead). */
  unprofiled?: boolean
  repeats?: Partial<EngineResult['repeats']>
}

/** A small engine result with exact, hand-checkable numbers. */
export function engine(mode: 'live' | 'historical', p: { execution: number; merkleization: number; persistence: number }, o: EngineOptions = {}): EngineResult {
  const blocks = o.blocks ?? [block(1), block(2), block(3, false)]
  const verified = blocks.filter((b) => b.verified)
  const none = verified.length === 0
  const ph = none ? { senderRecovery: 0, execution: 0, stateLoad: 0, merkleization: 0, persistence: 0 } : phases(p.execution, p.merkleization, p.persistence)
  const processingMs = ph.senderRecovery + ph.execution + ph.stateLoad + ph.merkleization + ph.persistence
  const txs = none ? 0 : 20
  const rate = (x: number) => (processingMs > 0 ? x / (processingMs / 1000) : 0)
  const name = o.name ?? 'baseline'
  return {
    name,
    label: o.label ?? `${name}/${mode}`,
    description: 'test',
    mode,
    totals: { blocks: blocks.length, verifiedBlocks: verified.length, txs, gasUsed: none ? 0 : 2_000_000, processingMs, wallMs: processingMs + 50, setupMs: 5, phases: ph, txPerSec: rate(txs), mgasPerSec: rate(none ? 0 : 2) },
    blocks,
    evm: o.evm ?? 'ethereumjs',
    senders: o.senders ?? 'recover',
    repeats: { passes: 1, processingMs: one(processingMs), txPerSec: one(rate(txs)), phases: Object.fromEntries(Object.entries(ph).map(([k, v]) => [k, one(v)])), ...o.repeats },
    profilerOverhead: o.unprofiled ? null : { profiledMs: one(processingMs * 1.2), unprofiledMs: one(processingMs), ratio: 1.2 },
    opcodes: o.unprofiled
      ? null
      : {
          calibration: { inRegionMs: 0.00008, perRegionMs: 0.00018, samples: 1 },
          rows: [
            { opcode: 0x54, name: 'SLOAD', category: 'host', count: 10, totalNs: 6e6, inclusiveNs: 6e6, avgNs: 6e5, pctTime: 60, cumulativePct: 60, staticGas: 0, dynamicGas: 21000, childGas: 0 },
            { opcode: 0x60, name: 'PUSH1', category: 'stack', count: 100, totalNs: 3e6, inclusiveNs: 3e6, avgNs: 3e4, pctTime: 30, cumulativePct: 90, staticGas: 300, dynamicGas: 0, childGas: 0 },
            { opcode: 0x01, name: 'ADD', category: 'arithmetic', count: 50, totalNs: 1e6, inclusiveNs: 1e6, avgNs: 2e4, pctTime: 10, cumulativePct: 100, staticGas: 150, dynamicGas: 0, childGas: 0 },
          ],
          categories: [
            { category: 'host', totalNs: 6e6, pct: 60, count: 10 },
            { category: 'stack', totalNs: 3e6, pct: 30, count: 100 },
            { category: 'arithmetic', totalNs: 1e6, pct: 10, count: 50 },
          ],
          precompiles: [],
          coverage: { windowMs: 20, timerOverheadMs: 1, opcodesMs: 10, interpreterMs: 5, callFramesMs: 2, precompilesMs: 0, txSetupMs: 2, blockLevelMs: 1, stateRootsMs: 0, opcodeSharePct: 50 },
        },
    storage: o.storage ?? null,
    mega: o.mega ?? null,
  }
}

/** The storage counters of an engine run on LMDB with a memory budget (null = unbounded) and a 4 MiB working set. */
export function storageReport(mode: 'live' | 'historical', memoryBytes: number | null, batch: number | null = null): StorageReport {
  const c = { hits: 3, misses: 1 }
  const kinds = { account: c, storage: c, code: c, trieNode: c }
  const hist = { count: 4, totalMs: 0.008, meanNs: 2000, p50Ns: 2048, p99Ns: 4096, maxNs: 4096, buckets: [{ fromNs: 1024, toNs: 2048, count: 2 }, { fromNs: 2048, toNs: 4096, count: 2 }] }
  const t = { entries: 10, bytes: 1024 }
  const z = { accounts: 0, storage: 0, bytecodes: 0, account_trie: 0, storage_trie: 0 }
  return {
    config: { mode, batch, memoryBytes, l1Bytes: memoryBytes === null ? null : memoryBytes / 4, l2Bytes: memoryBytes === null ? null : (memoryBytes * 3) / 4, cacheAccounting: 'heap', rule: 'test' },
    workingSetBytes: 4 << 20,
    tables: { accounts: t, storage: t, bytecodes: t, account_trie: t, storage_trie: t },
    import: { accounts: 1, slots: 1, nodes: 1, codes: 1, ms: 1, resumedAt: null },
    l1: { ...kinds, total: { hits: 12, misses: 4 }, missRatio: 0.25 },
    l2: { ...kinds, total: { hits: 0, misses: 4 }, missRatio: 1 },
    lmdbReads: z,
    missPenalty: { execution: hist, merkleization: { ...hist, count: 0, totalMs: 0, buckets: [] } },
    merkleization: { roots: 2, updatedAccounts: 2, updatedSlots: 2, nodeReads: 8, nodeWrites: 8, lmdbReads: 4, nodeReadsPerKey: 2, nodeWritesPerKey: 2, lmdbReadsPerKey: 1 },
    persistence: { commits: 2, ms: 1, bytes: z, totalBytes: 0, mbPerSec: 0, nodesWritten: 0, garbageNodes: 0 },
  }
}

/** The mega engine's counters (in order, or on `threads` workers) with the EVM asked for. */
export function megaReport(evm: 'ethereumjs' | 'fast' = 'ethereumjs', threads = 0): MegaReport {
  return {
    importMs: 1,
    accounts: 10,
    treeEntries: 20,
    bucketBits: 8,
    keyUpdates: 40,
    keyUpdatesPerSec: 4000,
    bucketHashes: 40,
    nodeHashes: 20,
    hashesPerUpdate: 1.5,
    commits: 2,
    verifyMptMs: 0,
    senderWorkers: 1,
    threads,
    parallel: { txs: threads > 0 ? 20 : 0, accepted: threads > 0 ? 15 : 0, conflicts: threads > 0 ? 5 : 0, coinbase: 0, failed: 0, sequential: 0 },
    stateDiffBytes: 2000,
    evm: { requested: evm, fastBlocks: evm === 'fast' ? 2 : 0, ethereumjsBlocks: evm === 'fast' ? 0 : 2 },
  }
}

export type RunOptions = { source?: RunResult['config']['source']; repeat?: number; machine?: Partial<RunResult['machine']>; differential?: RunResult['differential'] }

export function runResult(engines: EngineResult[], failed: RunResult['verification']['failed'] = [], o: RunOptions = {}): RunResult {
  const h = engines.find((e) => e.mode === 'historical')
  const l = engines.find((e) => e.mode === 'live')
  const noPersist = l ? l.totals.processingMs - l.totals.phases.persistence : 0
  return {
    schemaVersion: 4,
    kind: 'megabench.run',
    createdAt: '2026-11-22T00:00:00.000Z',
    tool: { name: 'megabench', version: '0.1.0', gitCommit: null },
    machine: { cpuModel: 'cpu', cores: 2, memoryBytes: 1, nodeVersion: 'v20', platform: 'linux', arch: 'x64', ecrecover: 'x', ethereumjs: '10.1.3', ...o.machine },
    config: {
      command: 'replay',
      source: o.source ?? { kind: 'chain', paths: ['c'], units: 1, from: 1, to: 3 },
      engines: [...new Set(engines.map((e) => e.name))],
      modes: [...new Set(engines.map((e) => e.mode))],
      storage: 'lmdb',
      opcodes: engines.some((e) => e.opcodes !== null),
      senders: engines[0]?.senders ?? 'recover',
      protocol: { warmup: 1, repeat: o.repeat ?? 1, order: engines.map((e) => e.label) },
      mega: engines.some((e) => e.name === 'mega') ? { verifyMpt: 'final', senderWorkers: 1, threads: [0], stateDiffs: null, evm: [...new Set(engines.filter((e) => e.name === 'mega').map((e) => e.evm))] } : null,
    },
    engines,
    decomposition:
      h && l
        ? {
            historicalMs: h.totals.processingMs,
            liveMs: l.totals.processingMs,
            liveWithoutPersistenceMs: noPersist,
            historicalTxPerSec: h.totals.txPerSec,
            liveTxPerSec: l.totals.txPerSec,
            slowdown: l.totals.processingMs / h.totals.processingMs,
            merkleizationFactor: noPersist / h.totals.processingMs,
            persistenceFactor: l.totals.processingMs / noPersist,
          }
        : null,
    differential: o.differential ?? null,
    verification: { blocks: engines[0]?.totals.blocks ?? 0, verified: Math.min(...engines.map((e) => e.totals.verifiedBlocks)), failed },
  }
}

export function sweepResult(): SweepResult {
  const point = (memoryBytes: number, totalMs: number, l1: number, l2: number, tps: number) => ({
    memoryBytes,
    runs: [],
    median: { totalMs, executionMs: totalMs * 0.8, missPenaltyMs: totalMs * 0.1, writeMs: 5, merkleizationMs: totalMs * 0.05, txPerSec: tps, l1MissRatio: l1, l2MissRatio: l2, meanPenaltyNs: 2000, engines: [{ label: 'baseline/live', totalMs, txPerSec: tps }, { label: 'mega/live', totalMs: 40, txPerSec: 500 }] },
  })
  return {
    schemaVersion: 2,
    kind: 'megabench.sweep',
    createdAt: '2026-11-22T00:00:00.000Z',
    tool: { name: 'megabench', version: '0.1.0', gitCommit: null },
    machine: {},
    config: { replayArgs: ['--chain', 'c'], limits: [1 << 20, 1 << 30], repeat: 1, mode: 'live', source: {} },
    workingSetBytes: 1 << 22,
    penaltyHistogram: [{ fromNs: 1024, toNs: 2048, count: 7 }],
    points: [point(1 << 20, 300, 0.5, 0.4, 50), point(1 << 30, 200, 0.1, 1, 100)],
  }
}
