import { cp, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

import { bytesToHex } from '@ethereumjs/util'
import { decodeFunctionData, type Hex } from 'viem'
import { describe, expect, test } from 'vitest'

import { FixtureError, UsageError } from '../src/errors/index.js'
import { replay } from '../src/run/replay.js'
import { blockFileName } from '../src/sources/chainFormat.js'
import { createChainSource } from '../src/sources/chain.js'
import { loadArtifact } from '../src/workloads/artifacts.js'
import { openChain } from './helpers/chainState.js'
import { tempDir } from './helpers/fixtures.js'

const CHAINS_DIR = join(import.meta.dirname, '..', 'fixtures', 'chains')
const WORKLOADS = ['eth-transfer', 'erc20-transfer', 'uniswap-swap', 'mixed'] as const

const replayChain = async (dir: string, from?: number, to?: number) =>
  replay({ source: await createChainSource({ dir, from, to }), sourcePaths: [dir], range: { from: from ?? null, to: to ?? null }, warmup: 0 })

describe('bundled chains', () => {
  test.each(WORKLOADS)('default: %s replays with every header root verified', async (workload) => {
    const dir = join(CHAINS_DIR, workload)
    const result = await replayChain(dir)
    expect(result.verification.failed).toEqual([])
    expect(result.verification.verified).toBe(10)
    const e = result.engines[0]!
    expect(e.totals.txs).toBe(400)
    expect(e.blocks.map((b) => b.number)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    expect(e.totals.setupMs).toBeGreaterThan(0) // genesis import, not counted in processingMs
  })

  test('behavior: --from/--to measure a sub-range after executing the blocks before it', async () => {
    const result = await replayChain(join(CHAINS_DIR, 'mixed'), 5, 7)
    expect(result.engines[0]!.blocks.map((b) => b.number)).toEqual([5, 6, 7])
    expect(result.verification).toEqual({ blocks: 3, verified: 3, failed: [] })
    expect(result.config.source).toMatchObject({ kind: 'chain', from: 5, to: 7 })
  })

  test('behavior: an out-of-range --from is refused', async () => {
    await expect(createChainSource({ dir: join(CHAINS_DIR, 'mixed'), from: 11 })).rejects.toBeInstanceOf(UsageError)
  })
})

describe('swaps follow the constant-product formula', () => {
  test('default: reserves after the uniswap-swap chain equal the formula applied to every swap in order', async () => {
    const chain = await openChain(join(CHAINS_DIR, 'uniswap-swap'))
    const pairAbi = loadArtifact('UniswapV2Pair').abi
    const routerAbi = loadArtifact('UniswapV2Router02').abi
    const reserves = new Map<string, [bigint, bigint]>()
    for (const p of chain.manifest.contracts!.pairs) {
      const [r0, r1] = await chain.read<[bigint, bigint, number]>(p.address, pairAbi, 'getReserves')
      reserves.set(p.address, [r0, r1])
    }
    const pairOf = (a: string, b: string) =>
      chain.manifest.contracts!.pairs.find((p) => (p.token0 === a && p.token1 === b) || (p.token0 === b && p.token1 === a))!
    let swaps = 0
    for (let n = 1; n <= chain.manifest.blocks.last; n++) {
      const block = await chain.block(n)
      for (const tx of block.transactions) {
        const { functionName, args } = decodeFunctionData({ abi: routerAbi, data: bytesToHex(tx.data) as Hex })
        const path = (functionName === 'swapExactETHForTokens' ? args![1] : args![2]) as string[]
        const amountIn = functionName === 'swapExactETHForTokens' ? tx.value : (args![0] as bigint)
        const [tokenIn, tokenOut] = path.map((a) => a.toLowerCase()) as [string, string]
        const pair = pairOf(tokenIn, tokenOut)
        const r = reserves.get(pair.address)!
        const inIs0 = pair.token0 === tokenIn
        const [rIn, rOut] = inIs0 ? [r[0], r[1]] : [r[1], r[0]]
        const out = (amountIn * 997n * rOut) / (rIn * 1000n + amountIn * 997n)
        reserves.set(pair.address, inIs0 ? [rIn + amountIn, rOut - out] : [rOut - out, rIn + amountIn])
        swaps++
      }
      const executed = await chain.execute(n)
      expect(bytesToHex(executed.stateRoot!)).toBe(bytesToHex(block.header.stateRoot))
    }
    expect(swaps).toBe(400)
    for (const p of chain.manifest.contracts!.pairs) {
      const [r0, r1] = await chain.read<[bigint, bigint, number]>(p.address, pairAbi, 'getReserves')
      expect([r0, r1]).toEqual(reserves.get(p.address))
    }
  })
})

describe('broken chain directories are rejected', () => {
  const copyOf = async (workload = 'eth-transfer') => {
    const dir = join(await tempDir(), workload)
    await cp(join(CHAINS_DIR, workload), dir, { recursive: true })
    return dir
  }

  test('behavior: a missing block', async () => {
    const dir = await copyOf()
    const file = join(dir, 'blocks', blockFileName(3))
    await rm(file)
    await expect(replayChain(dir)).rejects.toThrowError(`${file}: block 3 is missing (chain.json lists blocks 1…10)`)
  })

  test('behavior: reordered blocks', async () => {
    const dir = await copyOf()
    const [a, b] = [join(dir, 'blocks', blockFileName(3)), join(dir, 'blocks', blockFileName(4))]
    await rename(a, `${a}.tmp`)
    await rename(b, a)
    await rename(`${a}.tmp`, b)
    await expect(replayChain(dir)).rejects.toThrowError(`${a}: holds block 4, expected block 3: blocks are missing or out of order`)
  })

  test('behavior: a block whose parent hash does not link', async () => {
    const dir = await copyOf()
    const other = join(CHAINS_DIR, 'erc20-transfer', 'blocks', blockFileName(3))
    const file = join(dir, 'blocks', blockFileName(3))
    await writeFile(file, await readFile(other))
    await expect(replayChain(dir)).rejects.toThrowError(new RegExp(`^${file}: parent hash 0x[0-9a-f]{64} does not link to block 2`))
  })

  test('behavior: a corrupt manifest and a tampered genesis', async () => {
    const dir = await copyOf()
    const manifest = join(dir, 'chain.json')
    const text = await readFile(manifest, 'utf8')
    await writeFile(manifest, text.slice(0, 100))
    await expect(createChainSource({ dir })).rejects.toThrowError(new RegExp(`^${manifest}: not valid JSON`))
    await writeFile(manifest, text)
    const genesisFile = join(dir, 'genesis.json')
    const genesis = JSON.parse(await readFile(genesisFile, 'utf8'))
    genesis.accounts.senderBalance = '0x1'
    await writeFile(genesisFile, JSON.stringify(genesis))
    await expect(replayChain(dir)).rejects.toThrowError(/genesis expands to state root 0x[0-9a-f]{64}, not the 0x[0-9a-f]{64} it declares/)
    await expect(replayChain(dir)).rejects.toBeInstanceOf(FixtureError)
  })

  test('behavior: not a chain directory', async () => {
    await expect(createChainSource({ dir: '/nonexistent' })).rejects.toThrowError('/nonexistent: not a chain directory (no such directory)')
  })
})
