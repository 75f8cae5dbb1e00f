import { readdirSync } from 'node:fs'
import { join } from 'node:path'

import { readFile } from 'node:fs/promises'

import { describe, expect, test } from 'vitest'

import { enginesFromOptions } from '../src/cli/replay.js'
import { extractCounters } from '../src/gate/counters.js'
import { fingerprint, fingerprintKey } from '../src/gate/fingerprint.js'
import { formatSummary } from '../src/output/summary.js'
import { replay } from '../src/run/replay.js'
import type { RunResult } from '../src/run/schema.js'
import { createChainSource } from '../src/sources/chain.js'
import { createFixtureSource } from '../src/sources/fixtures.js'
import { runCli } from './helpers/cli.js'
import { FIXTURES_DIR, tempDir } from './helpers/fixtures.js'

const MIXED = join(import.meta.dirname, '..', 'fixtures', 'chains', 'mixed')

const ofEvm = (r: RunResult, evm: 'ethereumjs' | 'fast', mode: 'live' | 'historical' = 'live') => r.engines.find((e) => e.name === 'baseline' && e.evm === evm && e.mode === mode)!

describe('baseline --evm fast (the fast EVM over flat state, caches and tries on LMDB)', () => {
  test('default: live and historical verify every block of the mixed chain on both EVMs; same roots, diffs and counters kinds; labels name the EVM', async () => {
    const r = await replay({ source: await createChainSource({ dir: MIXED }), sourcePaths: [MIXED], modes: ['historical', 'live'], engines: ['baseline'], baseline: { evm: ['ethereumjs', 'fast'] }, warmup: 0 })
    expect(r.verification.failed).toEqual([])
    expect(r.engines.map((e) => e.label)).toEqual(['baseline/historical/ethereumjs', 'baseline/historical/fast EVM', 'baseline/live/ethereumjs', 'baseline/live/fast EVM'])
    for (const mode of ['live', 'historical'] as const) {
      const fast = ofEvm(r, 'fast', mode)
      const ejs = ofEvm(r, 'ethereumjs', mode)
      expect(fast.totals.verifiedBlocks).toBe(10)
      expect(fast.baseline!.evm).toEqual({ requested: 'fast', tier: 'tiered', fastBlocks: 10, ethereumjsBlocks: 0 })
      expect(ejs.baseline!.evm).toMatchObject({ requested: 'ethereumjs', fastBlocks: 0, ethereumjsBlocks: 10 })
      expect(fast.blocks.every((b) => b.evm === 'fast' && b.checks.stateRoot !== undefined)).toBe(true)
      // The same merkleization work (the same keys change) and persistence; cache counters of both levels.
      expect(fast.storage!.merkleization.updatedAccounts + fast.storage!.merkleization.updatedSlots).toBe(ejs.storage!.merkleization.updatedAccounts + ejs.storage!.merkleization.updatedSlots)
      expect(fast.storage!.l1.total.hits + fast.storage!.l1.total.misses).toBeGreaterThan(0)
      expect(fast.storage!.l2.total.misses).toBeGreaterThan(0)
      expect(fast.totals.phases.merkleization).toBeGreaterThan(0)
      expect(fast.blocks.every((b) => b.stateReads.accounts + b.stateReads.storageSlots >= 0 && b.cache !== null)).toBe(true)
    }
    expect(ofEvm(r, 'fast', 'live').storage!.persistence.commits).toBe(10)
    expect(r.config.baseline).toEqual({ evm: ['ethereumjs', 'fast'], evmTier: 'tiered' })
    const text = formatSummary(r)
    expect(text).toMatch(/engine baseline\/live\/fast EVM/)
    expect(text).toMatch(/EVM: the fast EVM \(tiered\) executed 10 blocks, @ethereumjs\/evm 0/)
    expect(text).toMatch(/live vs historical sync \(baseline on @ethereumjs\/evm\)/)
  }, 300_000)

  test('behavior: with the mega engine, every mega block diff equals the fast baseline\'s', async () => {
    const r = await replay({ source: await createChainSource({ dir: MIXED }), sourcePaths: [MIXED], engines: ['baseline', 'mega'], baseline: { evm: 'fast' }, mega: { verifyMpt: 'final', senderWorkers: 1, stateDiffs: undefined, threads: [0], evm: 'fast' }, warmup: 0 })
    expect(r.verification.failed).toEqual([])
    expect(r.differential).toMatchObject({ compared: 10, mismatches: 0 })
  }, 300_000)

  test('behavior: every bundled real block verifies on the fast EVM, Frontier on (pre-Byzantium per-transaction roots by merkleization)', async () => {
    const files = readdirSync(FIXTURES_DIR).filter((f) => f.endsWith('.json')).map((f) => join(FIXTURES_DIR, f))
    const r = await replay({ source: await createFixtureSource({ paths: files }), sourcePaths: files, engines: ['baseline'], baseline: { evm: 'fast' }, warmup: 0 })
    expect(r.verification.failed).toEqual([])
    const e = r.engines[0]!
    expect(e.label).toBe('baseline/live/fast EVM')
    expect(e.totals.verifiedBlocks).toBe(files.length)
    expect(e.baseline!.evm).toMatchObject({ fastBlocks: files.length, ethereumjsBlocks: 0 })
    for (const b of e.blocks) {
      expect(b.evm).toBe('fast')
      expect(b.checks.perTxRoots?.status).toBe(b.number >= 4_370_000 ? 'skipped' : 'pass')
    }
  }, 300_000)

  test('behavior: memory storage: the fast EVM over the in-memory trie; every block and every bundled real block verifies', async () => {
    const r = await replay({ source: await createChainSource({ dir: MIXED }), sourcePaths: [MIXED], storage: { kind: 'memory' }, engines: ['baseline'], baseline: { evm: 'fast' }, warmup: 0 })
    expect(r.verification.failed).toEqual([])
    const e = r.engines[0]!
    expect(e.baseline!.evm).toMatchObject({ requested: 'fast', fastBlocks: 10, ethereumjsBlocks: 0 })
    expect(e.blocks.every((b) => b.checks.stateRoot?.status === 'pass')).toBe(true)
    expect(e.totals.phases.merkleization).toBeGreaterThan(0)
    expect(e.blocks.reduce((s, b) => s + b.stateReads.accounts, 0)).toBeGreaterThan(0)
    const files = readdirSync(FIXTURES_DIR).filter((f) => f.endsWith('.json')).map((f) => join(FIXTURES_DIR, f))
    const real = await replay({ source: await createFixtureSource({ paths: files }), sourcePaths: files, storage: { kind: 'memory' }, engines: ['baseline'], baseline: { evm: 'fast' }, warmup: 0 })
    expect(real.verification.failed).toEqual([])
    expect(real.engines[0]!.baseline!.evm).toMatchObject({ fastBlocks: files.length, ethereumjsBlocks: 0 })
  }, 300_000)

  test('behavior: gate counters of the fast baseline are deterministic; the fingerprint tells the baseline EVMs apart', async () => {
    const fast = await replay({ source: await createChainSource({ dir: MIXED, to: 2 }), sourcePaths: [MIXED], engines: ['baseline'], baseline: { evm: 'fast' }, warmup: 0 })
    const again = await replay({ source: await createChainSource({ dir: MIXED, to: 2 }), sourcePaths: [MIXED], engines: ['baseline'], baseline: { evm: 'fast' }, warmup: 0 })
    const [a, b] = [extractCounters(fast).engines[0]!, extractCounters(again).engines[0]!]
    expect(a.config).toMatchObject({ evm: 'fast' })
    expect(a.totals).toEqual(b.totals)
    expect(a.blocks).toEqual(b.blocks)
    expect(a.blocks.every((x) => x.values['block.evm.fast'] === 1 && x.values['block.cache.l2.account.misses'] !== undefined)).toBe(true)
    expect(fingerprintKey(fingerprint(fast))).toBe(fingerprintKey(fingerprint(again)))
    const ejs = await replay({ source: await createChainSource({ dir: MIXED, to: 2 }), sourcePaths: [MIXED], engines: ['baseline'], warmup: 0 })
    expect(fingerprintKey(fingerprint(fast))).not.toBe(fingerprintKey(fingerprint(ejs)))
    // The default run's fingerprint has no baseline EVM fields (earlier runs stay comparable).
    expect(JSON.stringify(fingerprint(ejs))).not.toMatch(/baselineEvm/)
    expect(fingerprint(fast).engines[0]).toMatchObject({ baselineEvm: { evm: 'fast', evmTier: 'tiered' } })
  }, 300_000)

  test('CLI: --evm and --evm-tier apply to the baseline; replay through bin and sweep', async () => {
    expect(enginesFromOptions({ evm: 'fast', evmTier: 'interpreter' }).baseline).toEqual({ evm: 'fast', evmTier: 'interpreter' })
    // With the mega engine, --evm is the mega engine's: the baseline stays the @ethereumjs reference of the differential.
    expect(enginesFromOptions({ engine: 'both', evm: 'fast' }).baseline).toEqual({})
    expect(enginesFromOptions({ engine: 'both', evm: 'fast' }).mega.evm).toBe('fast')
    const dir = await tempDir()
    const r = await runCli(['replay', '--chain', MIXED, '--to', '3', '--evm', 'fast', '--mode', 'historical', '--warmup', '0', '--out', join(dir, 'run'), '--no-report', '--json'])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const run = JSON.parse(r.stdout) as RunResult
    expect(run.engines[0]!.label).toBe('baseline/historical/fast EVM')
    expect(run.engines[0]!.baseline!.evm.fastBlocks).toBe(3)
    const s = await runCli(['sweep', '--memory', '32KB,4MB', '--chain', MIXED, '--to', '3', '--evm', 'fast', '--warmup', '0', '--json', '--no-report', '--out', join(dir, 'sweep')])
    expect(s.code).toBe(0)
    const sweep = JSON.parse(s.stdout) as { points: { runs: { verified: boolean }[]; median: { l1MissRatio: number } }[] }
    expect(sweep.points.every((p) => p.runs.every((x) => x.verified))).toBe(true)
  }, 300_000)

  test('--baseline-evm: mega vs the baseline on the same EVM, and against @ethereumjs, side by side', async () => {
    expect(enginesFromOptions({ engine: 'both', evm: 'fast', baselineEvm: 'fast' }).baseline).toEqual({ evm: 'fast', evmTier: undefined })
    expect(enginesFromOptions({ engine: 'both', evm: 'fast', baselineEvm: 'ethereumjs,fast' }).baseline.evm).toEqual(['ethereumjs', 'fast'])
    expect(() => enginesFromOptions({ evm: 'fast', baselineEvm: 'fast' })).toThrow('--baseline-evm applies with the mega engine (--engine both); the baseline alone takes --evm')
    expect(() => enginesFromOptions({ engine: 'both', baselineEvm: 'revm' })).toThrow('--baseline-evm takes ethereumjs, fast or both comma-separated (got "revm")')
    const dir = await tempDir()
    const r = await runCli(['replay', '--chain', MIXED, '--to', '3', '--engine', 'both', '--evm', 'fast', '--baseline-evm', 'ethereumjs,fast', '--warmup', '0', '--out', join(dir, 'run'), '--no-report'])
    expect(r.code).toBe(0)
    const run = JSON.parse(await readFile(join(dir, 'run', 'run.json'), 'utf8')) as RunResult
    expect(run.engines.map((e) => e.label)).toEqual(['baseline/live/ethereumjs', 'baseline/live/fast EVM', 'mega/live'])
    expect(run.differential?.mismatches).toBe(0)
    // The mega row is compared with both baselines: once with a differing EVM, once with none.
    const rows = r.stdout.split('\n').filter((l) => l.includes('baseline/live/'))
    expect(rows.some((l) => l.includes('mega/live') && l.includes('baseline/live/ethereumjs') && l.includes('EVM: fast EVM'))).toBe(true)
    const sameEvm = rows.find((l) => !l.includes('mega/live') && l.includes('baseline/live/fast EVM') && /\d+\.\d\dx/.test(l) && l.trim().startsWith('│  '))
    expect(sameEvm).toBeDefined()
    expect(sameEvm).not.toContain('EVM:')
  }, 300_000)
})
