/**
 * `megabench conformance`: BlockchainTests (ethereum/tests, legacytests, execution-spec-tests
 * fixtures) on the fast EVM and/or @ethereumjs/vm, on worker threads.
 */
import { availableParallelism } from 'node:os'

import { initKeccak } from '../util/keccak.js'
import { collectTestFiles, readTestFile } from './files.js'
import { type Unit, runOnWorkers } from './pool.js'
import { type ConformanceSummary, type TestResult, summarize } from './report.js'
import { safeRunBlockchainTest, skipReason } from './runTest.js'
import type { EvmTier } from '../evm/tiers.js'
import type { BlockchainTest, EvmKind } from './types.js'

export type ConformanceParameters = {
  /** Test files (.json, .json.gz) or directories searched recursively. */
  paths: readonly string[]
  evms: readonly EvmKind[]
  /** The fast EVM's tier: interpreter, compiled or tiered (default DEFAULT_EVM_TIER). */
  evmTier?: EvmTier | undefined
  /** Worker threads (default: the number of cores); 0 runs every test in this thread (no time limit). */
  workers?: number | undefined
  /** Per-test limit on each EVM, CPU time of the worker thread (workers only; see pool.ts); a test stopped by it is a `timeout`. */
  timeoutMs?: number | undefined
  /** Folder grouping: the first `depth` levels of a file's directory (default: see files.ts `folderOf`). */
  depth?: number | undefined
  /** Runs only the tests whose name this accepts. */
  filter?: ((test: string) => boolean) | undefined
  /** Called after every finished test unit (a test on one EVM). */
  onProgress?: ((done: number, total: number) => void) | undefined
}

export type ConformanceRun = ConformanceSummary & {
  results: TestResult[]
  wallMs: number
  workers: number
}

/**
 * A rough cost of a test on an EVM (ms), used only to order the units, largest first: a fixed part,
 * a part per block and per byte of JSON (decoding, loading the pre-state), and the gas its blocks
 * used at a typical rate of each EVM (VMTests/vmPerformance: ~100 Mgas/s fast, ~10 Mgas/s @ethereumjs).
 */
export function estimateCost(t: BlockchainTest, bytes: number, evm: EvmKind): number {
  let gas = 0
  for (const b of t.blocks) {
    const g = b.blockHeader?.gasUsed
    if (typeof g === 'string') gas += Number(g)
  }
  gas = Math.min(gas, 1e12)
  return evm === 'fast' ? 1 + t.blocks.length + bytes * 5e-5 + gas / 1e5 : 5 + 8 * t.blocks.length + bytes * 2e-4 + gas / 1e4
}

/** Runs every test under `paths` on every EVM in `evms`; unreadable files throw before anything runs. */
export async function runConformance(p: ConformanceParameters): Promise<ConformanceRun> {
  const started = performance.now()
  const files = collectTestFiles(p.paths, { depth: p.depth })
  const results: TestResult[] = []
  const units: (Unit & { result: TestResult; cost: number })[] = []
  for (const f of files) {
    const tests = readTestFile(f.path)
    for (const [name, t] of Object.entries(tests)) {
      if (p.filter !== undefined && !p.filter(name)) continue
      const r: TestResult = { folder: f.folder, file: f.relative, test: name, outcomes: {}, ms: {}, cpuMs: {} }
      results.push(r)
      const skip = skipReason(t)
      if (skip !== undefined) {
        for (const e of p.evms) r.outcomes[e] = { status: 'skip', reason: skip }
        continue
      }
      const text = JSON.stringify(t)
      for (const evm of p.evms) units.push({ id: units.length, evm, test: text, tier: p.evmTier, result: r, cost: estimateCost(t, text.length, evm) })
    }
  }
  units.sort((a, b) => b.cost - a.cost)
  const workers = p.workers ?? availableParallelism()
  let done = 0
  const record = (u: (typeof units)[number], outcome: TestResult['outcomes'][EvmKind], ms: number, cpuMs?: number) => {
    u.result.outcomes[u.evm] = outcome
    u.result.ms[u.evm] = ms
    if (cpuMs !== undefined) u.result.cpuMs[u.evm] = cpuMs
    p.onProgress?.(++done, units.length)
  }
  if (workers <= 0) {
    await initKeccak()
    for (const u of units) {
      const t0 = performance.now()
      const outcome = await safeRunBlockchainTest(JSON.parse(u.test) as BlockchainTest, u.evm, u.tier)
      record(u, outcome, performance.now() - t0)
    }
  } else {
    const byId = new Map(units.map((u) => [u.id, u]))
    await runOnWorkers(units, { workers, timeoutMs: p.timeoutMs, onResult: (r) => record(byId.get(r.id)!, r.outcome, r.ms, r.cpuMs) })
  }
  return { ...summarize(results, p.evms), results, wallMs: performance.now() - started, workers: Math.max(0, workers) }
}

export { summarize, summaryJson, formatSummary, allPassed, type ConformanceSummary, type TestResult, type Counts, type Failure, type Difference } from './report.js'
export { runBlockchainTest, safeRunBlockchainTest, skipReason } from './runTest.js'
export { expectedException } from './expect.js'
export { forkSchedule } from './networks.js'
export { collectTestFiles, folderOf, listTestFiles, readTestFile, type TestFile } from './files.js'
export { genesisBlock } from './genesis.js'
export type { BlockchainTest, EvmKind, JsonAccount, JsonBlock, Outcome, Status } from './types.js'
export { EVM_KINDS } from './types.js'
