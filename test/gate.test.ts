import { readFile } from 'node:fs/promises'
import { join } from 'node:path'

import { describe, expect, test } from 'vitest'

import { CI_BASELINE, ciCounters } from '../src/gate/ciBaseline.js'
import { counterSetSchema, extractCounters } from '../src/gate/counters.js'
import { type GateSide, gate, sideFromRuns } from '../src/gate/gate.js'
import { verdictMarkdown } from '../src/gate/markdown.js'
import { readPolicy, resolvePolicy } from '../src/gate/policy.js'
import { mergeRuns } from '../src/run/merge.js'
import { DEFAULT_MEGA_SETTINGS, replay } from '../src/run/replay.js'
import type { RunResult } from '../src/run/schema.js'
import { applyShard, parseShard, shardBounds } from '../src/run/shard.js'
import { createChainSource } from '../src/sources/chain.js'
import { createFixtureSource } from '../src/sources/fixtures.js'
import { FIXTURES_DIR } from './helpers/fixtures.js'

const CHAIN = join(import.meta.dirname, '..', 'fixtures', 'chains', 'eth-transfer')
const SMALL = ['mainnet-97.json', 'mainnet-46147.json', 'mainnet-116524.json', 'mainnet-2463000.json', 'mainnet-2675000.json'].map((f) => join(FIXTURES_DIR, f))

const replayFixtures = async (paths: string[]) => replay({ source: await createFixtureSource({ paths }), sourcePaths: paths, warmup: 0 })
const replayChain = async (from: number | undefined, to: number) =>
  replay({ source: await createChainSource({ dir: CHAIN, from, to }), sourcePaths: [CHAIN], range: { from: from ?? 1, to }, warmup: 0 })
const side = (run: RunResult, name = 'run.json'): GateSide => sideFromRuns([{ file: name, run }])
const sides = (runs: RunResult[], name = 'side'): GateSide => sideFromRuns(runs.map((run, i) => ({ file: `${name}-${i + 1}/run.json`, run })))
const countersOnly = (run: RunResult): GateSide => ({ files: ['counters.json'], runs: null, counters: extractCounters(run) })
const noTimings = resolvePolicy({ timings: { enabled: false } })

describe('the project gates itself on exact counters', () => {
  test('the bundled fixtures reproduce reports/baselines/counters.json exactly', async () => {
    const baseline = counterSetSchema.parse(JSON.parse(await readFile(CI_BASELINE.file, 'utf8')))
    const current = await ciCounters()
    const verdict = gate({ files: [CI_BASELINE.file], runs: null, counters: baseline }, { files: ['bundled fixtures'], runs: null, counters: current }, await readPolicy(CI_BASELINE.policy))
    expect(verdict.counters.changed).toEqual([])
    expect(verdict.counters.compared).toBeGreaterThan(300)
    expect(verdict.status).toBe('pass')
    expect(verdict.exitCode).toBe(0)
    // The budget is small enough that level-2 hits (and so evictions from level 1) happen.
    expect(current.engines[0]!.totals['total.cache.l2.hits']).toBeGreaterThan(0)
  })
})

describe('gate verdicts', () => {
  let run: RunResult
  test('a check no longer made (or failing) is a counter change; the verdict states what each side verified', async () => {
    const r = await replayFixtures(SMALL.slice(2, 4))
    const v0 = gate(side(r), side(r), noTimings)
    expect(v0.verification.baseline[0]).toMatchObject({ engine: 'baseline/live', blocks: 2, verified: 2 })
    expect(v0.verification.baseline[0]!.checks.join('; ')).toContain('state root 2/2 match (MPT on LMDB, root after every block)')
    expect(verdictMarkdown(v0)).toContain('### Verification')
    const unchecked = structuredClone(r)
    unchecked.engines[0]!.blocks[0]!.checks.stateRoot = { status: 'skipped', note: 'not computed' }
    const v = gate(side(r), side(unchecked), noTimings)
    expect(v.status).toBe('regression')
    expect(v.counters.changed).toEqual([expect.objectContaining({ metric: 'block.check.stateRoot', baseline: 1, current: 0 })])
    expect(v.verification.current[0]!.checks.join('; ')).toContain('1 block not checked: not computed')
  })

  test('a changed counter fails, exactly that counter; a tolerance rule lets it pass', async () => {
    run = await replayFixtures(SMALL.slice(2, 4))
    expect(gate(side(run), side(run), noTimings).status).toBe('pass')
    const changed = structuredClone(run)
    changed.engines[0]!.blocks[1]!.cache!.l2.trieNode.misses += 1
    const v = gate(side(run), side(changed), noTimings)
    expect(v.status).toBe('regression')
    expect(v.exitCode).toBe(1)
    const block = String(run.engines[0]!.blocks[1]!.number)
    expect(v.counters.changed).toEqual([{ engine: 'baseline/live', block, metric: 'block.cache.l2.trieNode.misses', baseline: expect.any(Number), current: expect.any(Number), tolerance: 0 }])
    expect(v.counters.changed[0]!.current! - v.counters.changed[0]!.baseline!).toBe(1)
    expect(verdictMarkdown(v)).toContain('block.cache.l2.trieNode.misses')
    const lenient = resolvePolicy({ timings: { enabled: false }, counters: { rules: [{ match: 'block.cache.*', tolerance: 0.5 }] } })
    expect(gate(side(run), side(changed), lenient).status).toBe('pass')
    const ignoring = resolvePolicy({ timings: { enabled: false }, counters: { rules: [{ match: 'block.cache.l2.*', ignore: true }] } })
    expect(gate(side(run), side(changed), ignoring).counters.ignored).toBeGreaterThan(0)
  })

  test('too few runs or paired blocks is "insufficient data" (exit 2), never a pass', () => {
    // minBlockMs 0: a tiny fixture block can take under the default 1 ms on an idle machine (then it is left out).
    const v = gate(side(run), side(run), resolvePolicy({ timings: { minBlockMs: 0 } }))
    expect(v.timings[0]).toMatchObject({ metric: 'total', pairs: 2, runs: { baseline: 1, current: 1 }, call: 'insufficient-data' })
    expect(v.timings[0]!.reason).toMatch(/1 run\(s\) on a side, fewer than minRuns 4; 2 paired blocks, fewer than minPairs 10/)
    expect(v.status).toBe('insufficient-data')
    expect(v.exitCode).toBe(2)
    // A counters-only side cannot give timings either.
    expect(gate(countersOnly(run), side(run), resolvePolicy({ timings: { minPairs: 3 } })).status).toBe('insufficient-data')
  })

  // 40 synthetic blocks from the run's two, `runs` runs per side; run r's times × factors[r] (run-level noise).
  const synthetic = (factors: number[], change: (i: number) => number = () => 1): RunResult[] =>
    factors.map((f) => {
      const r = structuredClone(run)
      const e = r.engines[0]!
      e.blocks = Array.from({ length: 40 }, (_, i) => ({ ...e.blocks[i % 2]!, number: 1000 + i, hash: `0x${i}`, totalMs: (5 + (i % 7)) * f * change(i) * (1 + 0.01 * Math.sin(i * f * 7)) }))
      return r
    })

  test('timings: a slower current version is called a regression when the whole interval clears the floor', () => {
    const base = synthetic([1, 1.002, 0.998, 1.001])
    const slower = synthetic([1.003, 0.998, 1.001, 0.999], (i) => 1.1 + 0.02 * Math.sin(i))
    const policy = resolvePolicy({ counters: { enabled: false } })
    const v = gate(sides(base), sides(slower), policy)
    expect(v.timings[0]).toMatchObject({ call: 'regression', runs: { baseline: 4, current: 4 }, pairs: 40, sources: 1 })
    expect(v.timings[0]!.lo!).toBeGreaterThan(0.05)
    expect(verdictMarkdown(v)).toContain('geometric mean of the per-block ratios')
    expect(verdictMarkdown(v)).toContain('two-stage bootstrap')
    expect(v.exitCode).toBe(1)
    expect(gate(sides(base), sides(base), policy).timings[0]!.call).toBe('no-change')
    expect(gate(sides(slower), sides(base), policy)).toMatchObject({ status: 'pass', exitCode: 0, timings: [{ call: 'improvement' }] })
  })

  test('inconclusive is its own outcome: exit 3, not a pass', () => {
    // Run-level noise (one process 30% slower on each side): the interval straddles the floor.
    const policy = resolvePolicy({ counters: { enabled: false } })
    const v = gate(sides(synthetic([1, 1.3, 0.95, 1.05])), sides(synthetic([1.02, 0.97, 1.32, 1.0])), policy)
    expect(v.timings[0]!.call).toBe('inconclusive')
    expect(v.timings[0]!.lo!).toBeLessThan(-policy.timings.metrics.total!.floor)
    expect(v.timings[0]!.hi!).toBeGreaterThan(policy.timings.metrics.total!.floor)
    expect(v).toMatchObject({ status: 'inconclusive', exitCode: 3 })
    expect(verdictMarkdown(v)).toContain('INCONCLUSIVE (exit 3)')
  })

  test('several runs per side keep their structure: one slow process widens the interval instead of moving every block', () => {
    // Per-block medians over runs (the old way) hid which run a time came from: a run 30% slower on one side
    // moved the median of every block alike and was called a change.
    const policy = resolvePolicy({ counters: { enabled: false }, timings: { minRuns: 3 } })
    const b = synthetic([1, 1, 1])
    const c = synthetic([1, 1.3, 1.3])
    const v = gate(sides(b), sides(c), policy)
    expect(v.timings[0]!.estimate!).toBeGreaterThan(0.15)
    expect(v.timings[0]!.call).toBe('inconclusive')
    expect(v.timings[0]!.hi! - v.timings[0]!.lo!).toBeGreaterThan(0.1)
  })

  test('policy: unknown fields and bad values are refused in one line', () => {
    expect(() => resolvePolicy({ timings: { floor: 0.02 } })).toThrow(/invalid gate policy at timings/)
    expect(() => resolvePolicy({ timings: { metrics: { total: { floor: -1 } } } })).toThrow(/timings\.metrics\.total\.floor/)
    expect(() => resolvePolicy({ timings: { minRuns: 0 } })).toThrow(/timings\.minRuns/)
  })
})

describe('configuration fingerprint: runs that cannot be compared are refused', () => {
  let a: RunResult
  test('different blocks are refused in one line naming them (also against a counters file)', async () => {
    a = await replayFixtures(SMALL.slice(2, 4))
    const b = await replayFixtures(SMALL.slice(1, 3))
    expect(() => gate(side(a), side(b), noTimings)).toThrow(/^the runs are not comparable \(run\.json vs run\.json\): different blocks: 1 only in the baseline \(mainnet-2463000\.json#2463000:0x[0-9a-f]{8}\); 1 only in the current run \(mainnet-46147\.json#46147:0x[0-9a-f]{8}\)$/)
    expect(() => gate(countersOnly(a), side(b), noTimings)).toThrow(/different blocks: 1 only in the baseline \(2463000\); 1 only in the current run \(46147\)/)
    // The same blocks under another path (another checkout) are the same source.
    const moved = structuredClone(a)
    moved.config.source.paths = moved.config.source.paths.map((p) => `/elsewhere/checkout/${p.split('/').pop()}`)
    for (const blk of moved.engines[0]!.blocks) blk.origin = `/elsewhere/checkout/${blk.origin.split('/').pop()}`
    expect(gate(side(a), side(moved), noTimings).status).toBe('pass')
  })

  test('the EVM, --verify-mpt, sender workers, cache budgets and config fields a later schema adds are compared', async () => {
    const mega = async (o: { evm?: 'ethereumjs' | 'fast'; verifyMpt?: 'every' | 'final' | 'off' }) =>
      replay({ source: await createFixtureSource({ paths: SMALL.slice(2, 3) }), sourcePaths: SMALL.slice(2, 3), engines: ['mega'], mega: { ...DEFAULT_MEGA_SETTINGS, evm: o.evm, verifyMpt: o.verifyMpt ?? 'final' } })
    const js = await mega({ evm: 'ethereumjs' })
    expect(gate(side(js), side(await mega({ evm: 'ethereumjs' })), noTimings).status).toBe('pass')
    const fast = await mega({ evm: 'fast' })
    const verified = await mega({ evm: 'ethereumjs', verifyMpt: 'every' })
    expect(() => gate(side(js), side(fast), noTimings)).toThrow(/config\.mega\.evm|engines\[0\]\.mega\.evm/)
    expect(() => gate(side(js), side(verified), noTimings)).toThrow(/configuration: config\.mega\.verifyMpt \(baseline "final", current "every"\)/)
    const workers = structuredClone(js)
    workers.config.mega!.senderWorkers = 0
    expect(() => gate(side(js), side(workers), noTimings)).toThrow(/config\.mega\.senderWorkers \(baseline 1, current 0\)/)
    // A field this version's schema does not know (e.g. a later schema's sender source) still counts:
    // the fingerprint is taken from the raw JSON, the whole config minus a documented exclusion list.
    const raw = (senders: string) => sideFromRuns([{ file: 'run.json', run: js, raw: { ...js, config: { ...js.config, senders } } }])
    expect(() => gate(raw('recovered'), raw('from-file'), noTimings)).toThrow(/config\.senders \(baseline "recovered", current "from-file"\)/)
    // The diff stream's path is an output: only whether it is written counts.
    const diffs = (p: string | null) => {
      const r = structuredClone(js)
      r.config.mega!.stateDiffs = p
      return side(r)
    }
    expect(gate(diffs('/a/diffs.bin'), diffs('/b/diffs.bin'), noTimings).status).toBe('pass')
    expect(() => gate(diffs(null), diffs('/b/diffs.bin'), noTimings)).toThrow(/config\.mega\.stateDiffs \(baseline null, current "written"\)/)
    const budget = structuredClone(a)
    budget.engines[0]!.storage!.config.l1Bytes = 1024
    expect(() => gate(side(a), side(budget), noTimings)).toThrow(/engines\[0\]\.storage\.l1Bytes/)
  })

  test('several sources on a side are strata matched by fingerprint; a source missing on one side is refused', async () => {
    const other = await replayFixtures(SMALL.slice(0, 2))
    const v = gate(sides([a, other, a, other]), sides([other, a, other, a]), noTimings)
    expect(v.sources.map((s) => s.runs)).toEqual([{ baseline: 2, current: 2 }, { baseline: 2, current: 2 }])
    expect(v.status).toBe('pass')
    expect(() => gate(sides([a, other]), sides([a, a]), noTimings)).toThrow(/not comparable.*different blocks: 2 only in the baseline \(mainnet-46147/)
  })
})

describe('shards', () => {
  test('contiguous, deterministic split', () => {
    expect([1, 2, 3].map((i) => shardBounds(10, { index: i, count: 3 }))).toEqual([
      { start: 0, end: 4 },
      { start: 4, end: 7 },
      { start: 7, end: 10 },
    ])
    expect(() => parseShard('0/2')).toThrow(/--shard/)
    expect(() => shardBounds(1, parseShard('1/2'))).toThrow(/fewer than 2 shards/)
  })

  test('merged fixture shards have the unsharded run\'s counters', async () => {
    const full = await replayFixtures(SMALL)
    const shards: { file: string; run: RunResult }[] = []
    for (const i of [2, 1]) {
      const { fixtures } = await applyShard({ fixtures: SMALL }, { index: i, count: 2 }, FIXTURES_DIR)
      shards.push({ file: `shard-${i}`, run: await replayFixtures(fixtures!) })
    }
    expect(shards.map((s) => s.run.engines[0]!.blocks.length)).toEqual([2, 3])
    const merged = mergeRuns(shards)
    expect(merged.engines[0]!.blocks.map((b) => b.number)).toEqual(full.engines[0]!.blocks.map((b) => b.number))
    const v = gate(side(full), side(merged), noTimings)
    expect(v.counters.changed).toEqual([])
    expect(merged.engines[0]!.totals.processingMs).toBeCloseTo(merged.engines[0]!.blocks.reduce((s, b) => s + b.totalMs, 0), 6)
    expect(() => mergeRuns([shards[0]!, shards[0]!])).toThrow(/shards must not overlap/)
  })

  test('chain shards start from their own imported state: per-block counters equal the unsharded run\'s', async () => {
    const full = await replayChain(undefined, 4)
    const s1 = await applyShard({ chain: CHAIN, to: 4 }, { index: 1, count: 2 }, FIXTURES_DIR)
    const s2 = await applyShard({ chain: CHAIN, to: 4 }, { index: 2, count: 2 }, FIXTURES_DIR)
    expect([s1, s2]).toEqual([{ from: 1, to: 2 }, { from: 3, to: 4 }])
    const merged = mergeRuns([
      { file: 'b', run: await replayChain(s2.from, s2.to!) },
      { file: 'a', run: await replayChain(s1.from, s1.to!) },
    ])
    expect(merged.config.source).toMatchObject({ from: 1, to: 4 })
    const a = extractCounters(full).engines[0]!
    const b = extractCounters(merged).engines[0]!
    expect(b.blocks).toEqual(a.blocks)
    for (const k of ['total.blocks', 'total.txs', 'total.gasUsed', 'total.verifiedBlocks']) expect(b.totals[k]).toBe(a.totals[k])
  })
})
