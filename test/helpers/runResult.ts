import type { BlockRow, EngineResult, RunResult } from '../../src/run/schema.js'
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

/** A small engine result with exact, hand-checkable numbers. */
export function engine(mode: 'live' | 'historical', p: { execution: number; merkleization: number; persistence: number }): EngineResult {
  const ph = phases(p.execution, p.merkleization, p.persistence)
  const processingMs = ph.senderRecovery + ph.execution + ph.stateLoad + ph.merkleization + ph.persistence
  return {
    name: 'baseline',
    label: `baseline/${mode}`,
    description: 'test',
    mode,
    totals: { blocks: 3, verifiedBlocks: 2, txs: 20, gasUsed: 2_000_000, processingMs, wallMs: processingMs + 50, setupMs: 5, phases: ph, txPerSec: 20 / (processingMs / 1000), mgasPerSec: 2 / (processingMs / 1000) },
    blocks: [block(1), block(2), block(3, false)],
    evm: 'ethereumjs',
    senders: 'recover',
    repeats: { passes: 1, processingMs: one(processingMs), txPerSec: one(20 / (processingMs / 1000)), phases: Object.fromEntries(Object.entries(ph).map(([k, v]) => [k, one(v)])) },
    profilerOverhead: { profiledMs: one(processingMs * 1.2), unprofiledMs: one(processingMs), ratio: 1.2 },
    opcodes: {
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
    storage: null,
    mega: null,
  }
}

export function runResult(engines: EngineResult[], failed: RunResult['verification']['failed'] = []): RunResult {
  const h = engines.find((e) => e.mode === 'historical')
  const l = engines.find((e) => e.mode === 'live')
  const noPersist = l ? l.totals.processingMs - l.totals.phases.persistence : 0
  return {
    schemaVersion: 4,
    kind: 'megabench.run',
    createdAt: '2026-11-22T00:00:00.000Z',
    tool: { name: 'megabench', version: '0.1.0', gitCommit: null },
    machine: { cpuModel: 'cpu', cores: 2, memoryBytes: 1, nodeVersion: 'v20', platform: 'linux', arch: 'x64', ecrecover: 'x', ethereumjs: '10.1.3' },
    config: { command: 'replay', source: { kind: 'chain', paths: ['c'], units: 1, from: 1, to: 3 }, engines: ['baseline'], modes: engines.map((e) => e.mode), storage: 'lmdb', opcodes: true, senders: 'recover', protocol: { warmup: 1, repeat: 1, order: engines.map((e) => e.label) }, mega: null },
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
    differential: null,
    verification: { blocks: 3, verified: 2, failed },
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
