import { readFile } from 'node:fs/promises'
import { join } from 'node:path'

import { describe, expect, test } from 'vitest'

import { CI_BASELINE, ciCounters } from '../src/gate/ciBaseline.js'
import { counterSetSchema, extractCounters } from '../src/gate/counters.js'
import { type GateSide, gate, sideTimings } from '../src/gate/gate.js'
import { verdictMarkdown } from '../src/gate/markdown.js'
import { readPolicy, resolvePolicy } from '../src/gate/policy.js'
import { mergeRuns } from '../src/run/merge.js'
import { replay } from '../src/run/replay.js'
import type { RunResult } from '../src/run/schema.js'
import { applyShard, parseShard, shardBounds } from '../src/run/shard.js'
import { createChainSource } from '../src/sources/chain.js'
import { createFixtureSource } from '../src/sources/fixtures.js'
import { FIXTURES_DIR } from './helpers/fixtures.js'

const CHAIN = join(import.meta.dirname, '..', 'fixtures', 'chains', 'eth-transfer')
const SMALL = ['mainnet-97.json', 'mainnet-46147.json', 'mainnet-116524.json', 'mainnet-2463000.json', 'mainnet-2675000.json'].map((f) => join(FIXTURES_DIR, f))

const replayFixtures = async (paths: string[]) => replay({ source: await createFixtureSource({ paths }), sourcePaths: paths })
const replayChain = async (from: number | undefined, to: number) =>
  replay({ source: await createChainSource({ dir: CHAIN, from, to }), sourcePaths: [CHAIN], range: { from: from ?? 1, to } })
const side = (run: RunResult, name = 'run.json'): GateSide => ({ files: [name], counters: extractCounters(run), timings: sideTimings([run]) })
const countersOnly = (run: RunResult): GateSide => ({ files: ['counters.json'], counters: extractCounters(run), timings: null })
const noTimings = resolvePolicy({ timings: { enabled: false } })

describe('the project gates itself on exact counters', () => {
  test('the bundled fixtures reproduce reports/baselines/counters.json exactly', async () => {
    const baseline = counterSetSchema.parse(JSON.parse(await readFile(CI_BASELINE.file, 'utf8')))
    const current = await ciCounters()
    const verdict = gate({ files: [CI_BASELINE.file], counters: baseline, timings: null }, { files: ['bundled fixtures'], counters: current, timings: null }, await readPolicy(CI_BASELINE.policy))
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

  test('too few paired blocks is "insufficient data" (exit 2), never a pass', () => {
    const v = gate(side(run), side(run), resolvePolicy({}))
    expect(v.timings[0]).toMatchObject({ metric: 'total', pairs: 2, call: 'insufficient-data' })
    expect(v.status).toBe('insufficient-data')
    expect(v.exitCode).toBe(2)
    // A counters-only side cannot give timings either.
    expect(gate(countersOnly(run), side(run), resolvePolicy({ timings: { minPairs: 3 } })).status).toBe('insufficient-data')
  })

  test('timings: a slower current run is called a regression when the interval clears the floor', () => {
    // 40 synthetic pairs from the run's two blocks: 10% slower ± 2% (a regression), then identical.
    const synth = structuredClone(run)
    const e = synth.engines[0]!
    e.blocks = Array.from({ length: 40 }, (_, i) => ({ ...e.blocks[i % 2]!, number: 1000 + i, hash: `0x${i}`, totalMs: 5 + (i % 7) }))
    const slower = structuredClone(synth)
    slower.engines[0]!.blocks.forEach((b, i) => (b.totalMs *= 1.1 + 0.02 * Math.sin(i)))
    const policy = resolvePolicy({ counters: { enabled: false } })
    const v = gate(side(synth), side(slower), policy)
    expect(v.timings[0]!.call).toBe('regression')
    expect(v.timings[0]!.lo!).toBeGreaterThan(0.05)
    expect(verdictMarkdown(v)).toContain('geometric mean of the per-block ratios')
    expect(v.exitCode).toBe(1)
    expect(gate(side(synth), side(synth), policy).timings[0]!.call).toBe('no-change')
    expect(gate(side(slower), side(synth), policy).timings[0]!.call).toBe('improvement')
  })

  test('policy: unknown fields and bad values are refused in one line', () => {
    expect(() => resolvePolicy({ timings: { floor: 0.02 } })).toThrow(/invalid gate policy at timings/)
    expect(() => resolvePolicy({ timings: { metrics: { total: { floor: -1 } } } })).toThrow(/timings\.metrics\.total\.floor/)
    expect(resolvePolicy({}).timings).toMatchObject({ statistic: 'trimmed-geomean', confidence: 0.95, minPairs: 20, metrics: { total: { floor: 0.01 } } })
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
