import { readFile, readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'

import { describe, expect, test, vi } from 'vitest'

import { MegaState } from '../src/engines/mega/megaState.js'
import { diffDigest, readDiffStream } from '../src/chain/stateDiff.js'
import { FixtureError } from '../src/errors/index.js'
import { megaRows } from '../src/report/data.js'
import { DEFAULT_MEGA_SETTINGS, type MegaSettings, replay } from '../src/run/replay.js'
import type { RunResult } from '../src/run/schema.js'
import { createChainSource } from '../src/sources/chain.js'
import { createFixtureSource } from '../src/sources/fixtures.js'
import { generateChain } from '../src/workloads/generate.js'
import { runCli } from './helpers/cli.js'
import { FIXTURES_DIR, tempDir } from './helpers/fixtures.js'

const CHAINS_DIR = join(import.meta.dirname, '..', 'fixtures', 'chains')

const replayBoth = async (dir: string, mega: Partial<MegaSettings> = {}, modes: ('live' | 'historical')[] = ['live'], warmup?: number) =>
  replay({ source: await createChainSource({ dir }), sourcePaths: [dir], modes, engines: ['baseline', 'mega'], mega: { ...DEFAULT_MEGA_SETTINGS, ...mega }, warmup: warmup ?? 0 })

/** Every variant verified every block, and every mega variant's per-block state diff equals the baseline's. */
function expectSameState(r: RunResult, blocks: number): void {
  expect(r.verification.failed).toEqual([])
  for (const e of r.engines) expect(e.totals.verifiedBlocks).toBe(blocks)
  const megaVariants = r.engines.filter((e) => e.name === 'mega').length
  expect(r.differential).toMatchObject({ compared: blocks * megaVariants, expected: blocks * megaVariants, mismatches: 0, notCompared: [] })
}

describe('mega engine: differential against the baseline', () => {
  for (const chain of ['eth-transfer', 'erc20-transfer', 'uniswap-swap', 'mixed']) {
    test(`default: every block of the bundled ${chain} chain leaves the mega state equal to the baseline state`, async () => {
      const r = await replayBoth(join(CHAINS_DIR, chain))
      expectSameState(r, 10)
      const mega = r.engines.find((e) => e.name === 'mega')!
      expect(mega.mega!.keyUpdates).toBeGreaterThan(0)
      expect(mega.mega!.commits).toBe(10) // live: one root per block
      // The memory the loaded state holds is measured, not assumed: at least a 32-byte key per tree entry.
      const m = mega.mega!.memory!
      expect(m.withMirror).toBe(true) // --verify-mpt final (the default) keeps the MPT beside it
      expect(m.bytes).toBeGreaterThan(mega.mega!.treeEntries * 32)
      expect(m.perAccount).toBeCloseTo(m.bytes / mega.mega!.accounts, 6)
    }, 120_000)
  }

  test('default: every bundled real block gives the same state diff on both engines', async () => {
    const r = await replay({ source: await createFixtureSource({ paths: [FIXTURES_DIR] }), sourcePaths: [FIXTURES_DIR], engines: ['baseline', 'mega'], warmup: 0 })
    expectSameState(r, 13)
  }, 120_000)

  test('behavior: a wrong mega state is reported as a mismatch of that block, not hidden', async () => {
    const original = MegaState.prototype.takeBlockDiff
    let calls = 0
    const spy = vi.spyOn(MegaState.prototype, 'takeBlockDiff').mockImplementation(function (this: MegaState) {
      const d = original.call(this)
      // Corrupt the third block's diff as a buggy engine would (one balance off by one wei).
      if (++calls === 3 && d.accounts[0]?.account) d.accounts[0].account.balance += 1n
      return d
    })
    try {
      // No warm-up pass: the spy counts calls from the first measured block.
      const r = await replayBoth(join(CHAINS_DIR, 'eth-transfer'), {}, ['live'], 0)
      expect(r.differential).toMatchObject({ compared: 10, mismatches: 1 })
      expect(r.verification.failed).toHaveLength(1)
      expect(r.verification.failed[0]).toMatchObject({ block: 3, field: 'state diff vs baseline', engine: 'mega/live' })
    } finally {
      spy.mockRestore()
    }
  }, 60_000)

  test('behavior: historical mode (one root per range) also matches block by block', async () => {
    const r = await replayBoth(join(CHAINS_DIR, 'mixed'), {}, ['historical'])
    expectSameState(r, 10)
    expect(r.engines.find((e) => e.name === 'mega')!.mega!.commits).toBe(1)
  }, 120_000)
})

describe('mega engine: --verify-mpt', () => {
  test('default: the MPT kept beside the mega state reproduces every bundled real block header stateRoot', async () => {
    const r = await replay({
      source: await createFixtureSource({ paths: [FIXTURES_DIR] }),
      sourcePaths: [FIXTURES_DIR],
      engines: ['mega'],
      mega: { ...DEFAULT_MEGA_SETTINGS, verifyMpt: 'every' },
      warmup: 0,
    })
    expect(r.verification).toEqual({ blocks: 13, verified: 13, failed: [] })
    expect(r.engines[0]!.mega!.verifyMptMs).toBeGreaterThan(0)
  }, 120_000)
})

describe('mega engine: parallel execution equals sequential execution', () => {
  // Contended workloads: nearly every transfer goes to one hot account (Zipf 4 over recipients), and
  // every swap goes through one pair.
  const contended = [
    { name: 'transfers to one account', workload: 'eth-transfer' as const, extra: { zipf: 4, senders: 20 } },
    { name: 'one hot pair', workload: 'uniswap-swap' as const, extra: { pairs: 1, zipf: 1, senders: 30 } },
  ]
  for (const c of contended) {
    test(`behavior: ${c.name}: 1 and 2 workers give the header's receipts and roots and the baseline's state after every block`, async () => {
      const dir = join(await tempDir(), c.workload)
      await generateChain({ workload: c.workload, accounts: 200, blocks: 4, txsPerBlock: 30, seed: 'contended', ...c.extra }, dir)
      const r = await replayBoth(dir, { threads: [0, 1, 2] })
      expectSameState(r, 4)
      for (const e of r.engines.filter((x) => x.name === 'mega' && x.mega!.threads > 0)) {
        const p = e.mega!.parallel
        expect(p.txs).toBe(120)
        expect(p.accepted + p.conflicts + p.coinbase + p.failed + p.sequential).toBe(p.txs)
        // Contention is really exercised: some transactions were invalidated and re-run in order.
        expect(p.conflicts).toBeGreaterThan(0)
      }
    }, 180_000)
  }

  test('behavior: a low-contention chain is mostly accepted from the workers', async () => {
    const r = await replayBoth(join(CHAINS_DIR, 'erc20-transfer'), { threads: [2] })
    expectSameState(r, 10)
    const p = r.engines.find((e) => e.name === 'mega')!.mega!.parallel
    expect(p.accepted).toBeGreaterThan(0)
    // The report's mega table: ratios to the baseline of the same mode and run, acceptance shares.
    const [row] = megaRows([{ label: 'r', result: r }])
    const base = r.engines.find((e) => e.name === 'baseline')!
    expect(row!.vsBaseline).toBeCloseTo(r.engines[1]!.totals.txPerSec / base.totals.txPerSec, 9)
    expect(row!.acceptedShare).toBeCloseTo(p.accepted / p.txs, 9)
    expect(row!.differential).toBe("10 of 10 per-block state diffs equal the baseline's")
  }, 120_000)
})

describe('mega engine: --state-diffs', () => {
  test('default: the stream holds one record per block, in order, whose digests equal the run\'s diffs', async () => {
    const dir = await tempDir()
    const file = join(dir, 'diffs.bin')
    const chain = join(CHAINS_DIR, 'erc20-transfer')
    const r = await replay({ source: await createChainSource({ dir: chain }), sourcePaths: [chain], engines: ['mega'], mega: { ...DEFAULT_MEGA_SETTINGS, stateDiffs: file, threads: [0, 2] }, warmup: 0 })
    const bytes = new Uint8Array(await readFile(file))
    const records = readDiffStream(bytes, file)
    const e = r.engines[0]!
    // Written once (by the first mega variant), not once per variant.
    expect(records.map((x) => x.number)).toEqual(e.blocks.map((b) => BigInt(b.number)))
    expect(records.map((x) => x.hash)).toEqual(e.blocks.map((b) => b.hash))
    const { keccak256 } = await import('../src/util/keccak.js')
    const { bytesToHex } = await import('@ethereumjs/util')
    expect(records.map((x) => bytesToHex(keccak256(x.diff)))).toEqual(e.blocks.map((b) => b.diff!.digest))
    expect(records.reduce((s, x) => s + x.diff.length, 0)).toBe(e.mega!.stateDiffBytes)
    expect((await stat(file)).size).toBe(bytes.length)
    expect((await readdir(dir)).sort()).toEqual(['diffs.bin']) // no .partial left behind
    expect(() => readDiffStream(bytes.subarray(0, bytes.length - 3), file)).toThrowError(FixtureError)
  }, 60_000)

  test('unit: equal diffs have equal digests; any changed field changes it', () => {
    const d = () => ({
      accounts: [{ hashedAddress: `0x${'11'.repeat(32)}`, account: { nonce: 1n, balance: 5n, codeHash: `0x${'22'.repeat(32)}` } }],
      storage: [{ hashedAddress: `0x${'11'.repeat(32)}`, hashedSlot: `0x${'33'.repeat(32)}`, value: '0x07' }],
      wipes: [],
    })
    expect(diffDigest(d())).toBe(diffDigest(d()))
    const a = d()
    a.accounts[0]!.account.nonce = 2n
    const b = d()
    b.storage[0]!.value = '0x08'
    expect(new Set([diffDigest(d()), diffDigest(a), diffDigest(b)]).size).toBe(3)
  })
})

describe('mega engine: command line', () => {
  test('errors: engine options without the mega engine, and comparing engines on memory storage, are usage errors', async () => {
    const chain = join(CHAINS_DIR, 'eth-transfer')
    const a = await runCli(['replay', '--chain', chain, '--threads', '2'])
    expect(a.code).toBe(2)
    expect(a.stderr).toMatch(/--threads applies to --engine mega or both/)
    const b = await runCli(['replay', '--chain', chain, '--engine', 'both', '--storage', 'memory'])
    expect(b.code).toBe(2)
    expect(b.stderr).toMatch(/comparing engines needs the baseline on LMDB/)
    const c = await runCli(['replay', '--chain', chain, '--engine', 'turbo'])
    expect(c.code).toBe(2)
    expect(c.stderr).toMatch(/--engine must be baseline, mega, both/)
    const d = await runCli(['replay', '--chain', chain, '--engine', 'mega', '--evm', 'fast', '--evm-tier', 'jit'])
    expect(d.code).toBe(2)
    expect(d.stderr).toMatch(/--evm-tier takes interpreter, compiled, tiered or several comma-separated \(got "jit"\)/)
    const e = await runCli(['replay', '--chain', chain, '--engine', 'mega', '--evm-tier', 'compiled'])
    expect(e.code).toBe(2)
    expect(e.stderr).toMatch(/--evm-tier applies to the fast EVM \(--evm fast or ethereumjs,fast\)/)
    // --evm and --evm-tier apply to the baseline too (issue 20).
    const f = await runCli(['replay', '--chain', chain, '--evm-tier', 'compiled'])
    expect(f.code).toBe(2)
    expect(f.stderr).toMatch(/--evm-tier applies to the fast EVM \(--evm fast or ethereumjs,fast\)/)
  }, 60_000)
})

describe('mega engine: sweep', () => {
  test('default: sweep --engine both has one throughput curve per engine, drawn on one chart', async () => {
    const dir = await tempDir()
    const out = join(dir, 'sweep')
    const r = await runCli(['sweep', '--memory', '32KB,4MB', '--chain', join(CHAINS_DIR, 'eth-transfer'), '--engine', 'both', '--out', out])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('mega/live tx/s')
    const { sweepResultSchema } = await import('../src/run/sweepSchema.js')
    const sweep = sweepResultSchema.parse(JSON.parse(await readFile(join(out, 'sweep.json'), 'utf8')))
    for (const p of sweep.points) {
      expect(p.median.engines.map((e) => e.label)).toEqual(['baseline/live', 'mega/live'])
      expect(p.median.engines[0]!.txPerSec).toBe(p.median.txPerSec) // the curves describe the baseline
      expect(p.median.engines[1]!.txPerSec).toBeGreaterThan(0)
    }
    expect(await readFile(join(out, 'report.html'), 'utf8')).toContain('data-chart="sweep-engines"')
    const mega = await runCli(['sweep', '--memory', '4MB', '--chain', join(CHAINS_DIR, 'eth-transfer'), '--engine', 'mega', '--out', join(dir, 'x')])
    expect(mega.code).toBe(2)
    expect(mega.stderr).toMatch(/use --engine both/)
  }, 120_000)
})
