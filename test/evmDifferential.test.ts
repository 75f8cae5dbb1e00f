import { readdirSync } from 'node:fs'
import { join } from 'node:path'

import { type Abi, encodeFunctionData, maxUint256 } from 'viem'
import { beforeAll, describe, expect, test } from 'vitest'

import { hex } from '../src/evm/state.js'
import { Workbench, fromHex } from '../src/conformance/workbench.js'
import { megaRows } from '../src/report/data.js'
import { DEFAULT_MEGA_SETTINGS, replay } from '../src/run/replay.js'
import { createChainSource } from '../src/sources/chain.js'
import { createFixtureSource } from '../src/sources/fixtures.js'
import { initKeccak } from '../src/util/keccak.js'
import { Rng } from '../src/workloads/rng.js'
import { loadArtifact } from '../src/workloads/artifacts.js'

const ROOT = join(import.meta.dirname, '..')
const CHAINS = join(ROOT, 'fixtures', 'chains')
const MAINNET = join(ROOT, 'fixtures', 'mainnet')
const FAST = { ...DEFAULT_MEGA_SETTINGS, evm: 'fast' as const, evmTier: ['interpreter', 'compiled'] as const }

const TIERS = ['interpreter', 'compiled', 'tiered'] as const

beforeAll(initKeccak)

describe('fast EVM vs @ethereumjs: bundled blocks', () => {
  // `mixed` holds every generated transaction kind (ETH and ERC20 transfers, swaps); all four chains are
  // checked by `npm run bench:evm`'s verification step and by MEGABENCH_DIFFERENTIAL=all.
  const chains = process.env.MEGABENCH_DIFFERENTIAL === 'all' ? readdirSync(CHAINS).sort() : ['mixed']
  for (const chain of chains) {
    test(`chain ${chain}: every block verified, identical state diffs; both EVMs and every tier side by side`, async () => {
      const dir = join(CHAINS, chain)
      const mega = { ...DEFAULT_MEGA_SETTINGS, evm: ['ethereumjs', 'fast'] as const, evmTier: ['interpreter', 'compiled', 'tiered'] as const }
      const r = await replay({ source: await createChainSource({ dir }), sourcePaths: [dir], modes: ['live'], engines: ['baseline', 'mega'], mega, warmup: 0 })
      expect(r.verification.failed).toEqual([])
      const blocks = r.engines[0]!.totals.blocks
      expect(r.differential).toMatchObject({ compared: 4 * blocks, expected: 4 * blocks, mismatches: 0, notCompared: [] })
      expect(r.engines.map((e) => [e.label, e.mega?.evm])).toEqual([
        ['baseline/live', undefined],
        ['mega/live/ethereumjs', { requested: 'ethereumjs', fastBlocks: 0, ethereumjsBlocks: blocks }],
        ['mega/live/fast EVM/interpreter', { requested: 'fast', tier: 'interpreter', fastBlocks: blocks, ethereumjsBlocks: 0 }],
        ['mega/live/fast EVM/compiled', { requested: 'fast', tier: 'compiled', fastBlocks: blocks, ethereumjsBlocks: 0 }],
        ['mega/live/fast EVM/tiered', { requested: 'fast', tier: 'tiered', fastBlocks: blocks, ethereumjsBlocks: 0 }],
      ])
      // The report's per-workload EVM speedup: execution time of the @ethereumjs variant ÷ the fast one's.
      const rows = megaRows([{ label: chain, result: r }])
      const [ejs, fast] = [r.engines[1]!, r.engines[2]!]
      expect(rows.map((x) => x.evm)).toEqual(['ethereumjs', 'fast, interpreter', 'fast, compiled', 'fast, tiered'])
      expect(rows[0]!.evmExecutionSpeedup).toBeNull()
      expect(rows[1]!.evmExecutionSpeedup).toBeCloseTo(ejs.totals.phases.execution / fast.totals.phases.execution, 6)
    })
  }

  // Every bundled real block, Frontier on (before Byzantium the per-transaction roots come from the MPT mirror).
  test('real blocks (Frontier and later): verified, identical state diffs, interpreter and every block compiled', async () => {
    const files = readdirSync(MAINNET).filter((f) => f.endsWith('.json')).map((f) => join(MAINNET, f))
    const r = await replay({ source: await createFixtureSource({ paths: files }), sourcePaths: files, modes: ['live'], engines: ['baseline', 'mega'], mega: FAST, warmup: 0 })
    expect(r.verification.blocks).toBe(files.length)
    expect(r.verification.failed).toEqual([])
    expect(r.differential).toMatchObject({ compared: 2 * files.length, expected: 2 * files.length, mismatches: 0, notCompared: [] })
    for (const e of r.engines.slice(1)) expect(e.mega!.evm).toMatchObject({ fastBlocks: files.length, ethereumjsBlocks: 0 })
    expect(r.engines.map((e) => [e.label, e.mega?.evm?.tier])).toEqual([
      ['baseline/live', undefined],
      ['mega/live/interpreter', 'interpreter'],
      ['mega/live/compiled', 'compiled'],
    ])
  })
})

describe('fast EVM vs @ethereumjs: randomized transactions against the bundled contracts', () => {
  test('random gas limits and calldata: same status, gas, logs, output and state root', async () => {
    const wb = await Workbench.create()
    const c = wb.setup.contracts
    const token = loadArtifact('MegabenchToken').abi as Abi
    const router = loadArtifact('UniswapV2Router02').abi as Abi
    const pair = loadArtifact('UniswapV2Pair').abi as Abi
    const r = new Rng('evm-differential')
    const rng = () => r.nextFloat()
    const int = (n: number) => Math.floor(rng() * n)
    const someAddress = () => {
      const all = [c.deployer, ...c.tokens, c.router!, c.weth!, c.pairs[0]!.address, `0x${int(1 << 30).toString(16).padStart(40, '0')}`]
      return all[int(all.length)]! as `0x${string}`
    }
    const amount = () => [0n, 1n, BigInt(int(1e9)), 10n ** 21n, maxUint256][int(5)]!
    const path = () => (rng() < 0.5 ? [c.pairs[0]!.token0, c.pairs[0]!.token1] : [c.pairs[0]!.token1, c.pairs[0]!.token0]) as `0x${string}`[]
    const calls: (() => [string, Uint8Array])[] = [
      () => [c.tokens[int(2)]!, fromHex(encodeFunctionData({ abi: token, functionName: 'transfer', args: [someAddress(), amount()] }))],
      () => [c.tokens[int(2)]!, fromHex(encodeFunctionData({ abi: token, functionName: 'approve', args: [someAddress(), amount()] }))],
      () => [c.tokens[int(2)]!, fromHex(encodeFunctionData({ abi: token, functionName: 'transferFrom', args: [someAddress(), someAddress(), amount()] }))],
      () => [c.router!, fromHex(encodeFunctionData({ abi: router, functionName: 'swapExactTokensForTokens', args: [amount() % 10n ** 22n, 0n, path(), someAddress(), 2_000_000_000n] }))],
      () => [c.pairs[0]!.address, fromHex(encodeFunctionData({ abi: pair, functionName: 'sync', args: [] }))],
      () => [someAddress(), Uint8Array.from({ length: int(100) }, () => int(256))],
    ]
    let compared = 0
    let failures = 0
    for (let i = 0; i < 160; i++) {
      // The fast EVM's tiers in turn on the one state (ERC20 and Uniswap code gets hot: the tiered tier compiles it).
      wb.tier = TIERS[i % TIERS.length]!
      const [to, data] = calls[int(calls.length)]!()
      const gasLimit = BigInt(21_000 + data.length * 16 + int(250_000))
      const tx = wb.tx({ to, data, gasLimit, nonce: wb.nextNonce() })
      const ejs = await wb.txEjs(tx)
      const fast = wb.txFast(tx)
      expect({ i, status: fast.status, gas: fast.gasUsed, out: hex(fast.output), logs: fast.logs.map((l) => [l.address, l.topics.map(hex), hex(l.data)]) }).toEqual({
        i,
        status: ejs.status,
        gas: ejs.gasUsed,
        out: hex(ejs.output),
        logs: ejs.logs.map((l) => [l.address, l.topics.map(hex), hex(l.data)]),
      })
      if (fast.status === 0) failures++
      compared++
      if (i % 40 === 39) {
        const roots = await wb.roots()
        expect(roots.fast).toBe(roots.ejs)
      }
    }
    expect(compared).toBe(160)
    // The mix must exercise both outcomes (out-of-gas and reverts as well as successes).
    expect(failures).toBeGreaterThan(10)
    expect(failures).toBeLessThan(150)
  })
})
