import { readFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'

import { createBlockFromRLP } from '@ethereumjs/block'
import { describe, expect, test } from 'vitest'

import { createChainCommon } from '../src/chain/common.js'
import { UsageError } from '../src/errors/index.js'
import { blockFileName, genesisSpecSchema } from '../src/sources/chainFormat.js'
import { AccountSet } from '../src/workloads/accounts.js'
import { generateChain } from '../src/workloads/generate.js'
import { resolveWorkload } from '../src/workloads/options.js'
import { BEACON_ROOTS, PRAGUE_SYSTEM_CONTRACTS, deployWorkloadContracts } from '../src/workloads/setup.js'
import { TX_GAS_LIMIT, TxFactory } from '../src/workloads/transactions.js'
import { runCli } from './helpers/cli.js'
import { tempDir } from './helpers/fixtures.js'

/** `replay --chain <dir> --engine both`: the run's JSON (every engine's blocks, the differential). */
async function replayBoth(dir: string) {
  const r = await runCli(['replay', '--chain', dir, '--engine', 'both', '--warmup', '0', '--no-report', '--out', join(await tempDir(), 'run'), '--json'])
  expect(r.stderr).toBe('')
  expect(r.code).toBe(0)
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as {
    verification: { blocks: number; verified: number; failed: unknown[] }
    differential: { compared: number; mismatches: number }
    engines: { label: string; blocks: { hardfork: string; checks: Record<string, { status: string }> }[] }[]
  }
}

async function filesOf(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>()
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) {
      const path = join(entry.parentPath, entry.name)
      out.set(path.slice(dir.length), await readFile(path))
    }
  }
  return out
}

describe('generateChain', () => {
  test('default: the same seed and options give byte-identical output; another seed does not', async () => {
    const root = await tempDir()
    const opts = { workload: 'mixed', accounts: 500, blocks: 3, txsPerBlock: 8 }
    const a = await generateChain({ ...opts, seed: 'x' }, join(root, 'a'))
    const b = await generateChain({ ...opts, seed: 'x' }, join(root, 'b'))
    const c = await generateChain({ ...opts, seed: 'y' }, join(root, 'c'))
    const fa = await filesOf(join(root, 'a'))
    const fb = await filesOf(join(root, 'b'))
    expect([...fa.keys()].sort()).toEqual(
      ['/.megabench-output', '/chain.json', '/genesis.json', ...[1, 2, 3].flatMap((n) => [`/blocks/${blockFileName(n)}`, `/senders/${blockFileName(n).replace('.rlp', '.bin')}`])].sort(),
    )
    for (const [name, bytes] of fa) expect(bytes.equals(fb.get(name)!), name).toBe(true)
    expect(a.manifest.head.hash).toBe(b.manifest.head.hash)
    expect(c.manifest.head.hash).not.toBe(a.manifest.head.hash)
    expect(c.manifest.genesis.stateRoot).not.toBe(a.manifest.genesis.stateRoot)
    expect(a.txs).toBe(24)
  })

  test('behavior: --gas-per-block fills each block up to the target', async () => {
    const dir = join(await tempDir(), 'g')
    const stats = await generateChain({ workload: 'erc20-transfer', accounts: 300, blocks: 2, gasPerBlock: 1_000_000 }, dir)
    const common = createChainCommon(1337n, stats.manifest.hardfork, { origin: dir, block: 0n })
    for (const n of [1, 2]) {
      const block = createBlockFromRLP(await readFile(join(dir, 'blocks', blockFileName(n))), { common })
      expect(block.header.gasUsed).toBeLessThanOrEqual(1_000_000n)
      // Full: another transaction's gas limit would not have fitted.
      expect(block.header.gasUsed).toBeGreaterThan(1_000_000n - TX_GAS_LIMIT.erc20)
      expect(block.header.gasLimit).toBe(30_000_000n)
    }
    expect(stats.spec.txsPerBlock).toBeNull()
  })

  test('behavior: nothing is written when generation fails', async () => {
    const root = await tempDir()
    await expect(generateChain({ workload: 'mixed', accounts: 0 }, join(root, 'x'))).rejects.toBeInstanceOf(UsageError)
    expect(await readdir(root)).toEqual([])
  })
})

describe('generate on the forks: the latest mainnet fork by default, --hardfork for an older one', () => {
  const PRAGUE_FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'prague', 'mainnet-24647140.json')

  test('default: bpo2, with the Prague system contracts (mainnet\'s code) in the genesis, requestsHash in every header; both engines verify every block and diff', async () => {
    const dir = join(await tempDir(), 'bpo2')
    const stats = await generateChain({ workload: 'mixed', accounts: 300, blocks: 3, txsPerBlock: 8 }, dir)
    expect(stats.manifest.hardfork).toBe('bpo2')
    const chain = JSON.parse(await readFile(join(dir, 'chain.json'), 'utf8'))
    expect(chain.hardfork).toBe('bpo2')
    const genesis = genesisSpecSchema.parse(JSON.parse(await readFile(join(dir, 'genesis.json'), 'utf8')))
    expect(genesis.hardfork).toBe('bpo2')
    // The system contracts carry the code mainnet runs (the witness of mainnet block 24,647,140 holds it).
    const mainnetCodes = new Set((JSON.parse(await readFile(PRAGUE_FIXTURE, 'utf8')).witness.codes as string[]).map((c) => c.toLowerCase()))
    for (const c of [BEACON_ROOTS, ...Object.values(PRAGUE_SYSTEM_CONTRACTS)]) {
      expect(genesis.alloc[c.address]).toEqual({ nonce: '0x1', balance: '0x0', code: c.code })
      expect(mainnetCodes.has(c.code), c.address).toBe(true)
    }
    const common = createChainCommon(1337n, 'bpo2', { origin: dir, block: 0n })
    for (const n of [1, 2, 3]) {
      const block = createBlockFromRLP(await readFile(join(dir, 'blocks', blockFileName(n))), { common })
      // No requests: the hash of nothing (sha256 of the empty string).
      expect(Buffer.from(block.header.requestsHash!).toString('hex')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855')
      expect(block.header.parentBeaconBlockRoot).toBeDefined()
    }
    const run = await replayBoth(dir)
    expect(run.verification).toMatchObject({ blocks: 3, verified: 3, failed: [] })
    expect(run.differential).toMatchObject({ compared: 3, mismatches: 0 })
    for (const e of run.engines) {
      for (const b of e.blocks) {
        expect(b.hardfork).toBe('bpo2')
        expect(b.checks.requestsHash!.status).toBe('pass')
      }
    }
  })

  test('behavior: --hardfork cancun gives a cancun chain (no Prague system contracts, no requestsHash), verified on both engines', async () => {
    const dir = join(await tempDir(), 'cancun')
    const stats = await generateChain({ workload: 'erc20-transfer', accounts: 300, blocks: 2, txsPerBlock: 6, hardfork: 'cancun' }, dir)
    expect(stats.manifest.hardfork).toBe('cancun')
    const genesis = genesisSpecSchema.parse(JSON.parse(await readFile(join(dir, 'genesis.json'), 'utf8')))
    expect(genesis.alloc[BEACON_ROOTS.address]).toBeDefined()
    for (const c of Object.values(PRAGUE_SYSTEM_CONTRACTS)) expect(genesis.alloc[c.address]).toBeUndefined()
    const common = createChainCommon(1337n, 'cancun', { origin: dir, block: 0n })
    expect(createBlockFromRLP(await readFile(join(dir, 'blocks', blockFileName(1))), { common }).header.requestsHash).toBeUndefined()
    const run = await replayBoth(dir)
    expect(run.verification).toMatchObject({ blocks: 2, verified: 2, failed: [] })
    expect(run.differential).toMatchObject({ compared: 2, mismatches: 0 })
    expect(run.engines[0]!.blocks.map((b) => [b.hardfork, b.checks.requestsHash!.status])).toEqual([
      ['cancun', 'skipped'],
      ['cancun', 'skipped'],
    ])
  })

  test('behavior: a fork generate does not build at, and shanghai with tokens, are refused in one line', async () => {
    const root = await tempDir()
    await expect(generateChain({ workload: 'eth-transfer', hardfork: 'london' }, join(root, 'x'))).rejects.toThrowError(
      new UsageError('--hardfork london: generate builds chains at shanghai, cancun, prague, osaka, bpo1, bpo2 (default bpo2)'),
    )
    await expect(generateChain({ workload: 'mixed', hardfork: 'shanghai' }, join(root, 'y'))).rejects.toThrowError(
      new UsageError("--hardfork shanghai: the workload's ERC20 is compiled for cancun (MCOPY), so a shanghai chain has no tokens (eth-transfer, or --tokens 0)"),
    )
    expect(await readdir(root)).toEqual([])
  })
})

describe('resolveWorkload: impossible options are refused', () => {
  test.each([
    [{ workload: 'swap' }, 'unknown workload "swap" (choose eth-transfer, erc20-transfer, uniswap-swap, mixed)'],
    [{ workload: 'mixed', accounts: 0 }, '--accounts must be a whole number >= 1 (got 0)'],
    [{ workload: 'mixed', accounts: 10, senders: 11 }, '--senders (11) cannot exceed --accounts (10)'],
    [{ workload: 'erc20-transfer', tokens: 0 }, 'ERC20 transfers need --tokens >= 1'],
    [{ workload: 'uniswap-swap', pairs: 0 }, 'swaps need --pairs >= 1 (and --tokens >= 1)'],
    [{ workload: 'uniswap-swap', tokens: 2, pairs: 4 }, '--pairs 4 needs more tokens: 2 tokens and WETH make 3 pairs'],
    [{ workload: 'mixed', txsPerBlock: 10, gasPerBlock: 1_000_000 }, 'give --txs-per-block or --gas-per-block, not both'],
    [{ workload: 'eth-transfer', gasPerBlock: 20_000 }, '--gas-per-block 20000 is below one transaction\'s gas limit (21000)'],
    [{ workload: 'mixed', mix: { eth: 50, erc20: 20, swap: 20 } }, '--mix must add up to 100 (got 90)'],
    [{ workload: 'eth-transfer', zipf: -1 }, '--zipf must be a number >= 0 (got -1)'],
  ])('%o', (opts, message) => {
    expect(() => resolveWorkload(opts)).toThrowError(new UsageError(message))
  })

  test('more transactions than the gas limit allows', () => {
    expect(() => resolveWorkload({ workload: 'uniswap-swap', txsPerBlock: 500 })).toThrowError(
      /--txs-per-block 500 needs up to 125,000,000 gas \(250,000 per transaction\) but the block gas limit is 30,000,000/,
    )
  })

  test('defaults', () => {
    expect(resolveWorkload({ workload: 'mixed' })).toEqual({
      name: 'mixed',
      accounts: 10_000,
      senders: 100,
      tokens: 4,
      pairs: 4,
      zipf: 1,
      blocks: 100,
      txsPerBlock: 100,
      gasPerBlock: null,
      blockGasLimit: 30_000_000,
      seed: '1',
      mix: { eth: 30, erc20: 25, swap: 45 },
    })
    expect(resolveWorkload({ workload: 'eth-transfer', accounts: 10_000_000 }).senders).toBe(100_000)
  })
})

describe('zipf popularity', () => {
  test('behavior: a higher --zipf lowers the number of distinct accounts touched per 1,000 transactions', async () => {
    const common = createChainCommon(1337n, 'cancun', { origin: 'test', block: 0n })
    const contracts = { deployer: '0x00', weth: null, factory: null, router: null, tokens: [], pairs: [] }
    const distinct = (zipf: number) => {
      const spec = resolveWorkload({ workload: 'eth-transfer', accounts: 20_000, senders: 2_000, zipf })
      const factory = new TxFactory(spec, contracts, new AccountSet(spec.accounts, spec.senders, spec.seed), common)
      const touched = new Set<string>()
      for (let i = 0; i < 1000; i++) {
        const { tx, accept } = factory.propose('eth', 7n)
        accept()
        touched.add(tx.getSenderAddress().toString())
        touched.add(tx.to!.toString())
      }
      return touched.size
    }
    const uniform = distinct(0)
    const skewed = distinct(1.2)
    expect(uniform).toBeGreaterThan(1500) // 2,000 endpoints, few repeats
    expect(skewed).toBeLessThan(uniform * 0.6)
  })
})

describe('deployWorkloadContracts', () => {
  test('behavior: more pairs than tokens allow is refused', async () => {
    const common = createChainCommon(1337n, 'cancun', { origin: 'test', block: 0n })
    const { createBlock } = await import('@ethereumjs/block')
    const block = createBlock({ header: { timestamp: 1n } }, { common })
    await expect(deployWorkloadContracts({ common, block, seed: '1', tokens: 1, pairs: 2 })).rejects.toThrowError(
      '2 pairs need more tokens: 1 tokens and WETH make 1 pairs',
    )
  })
})
