import { readFile } from 'node:fs/promises'
import { join } from 'node:path'

import { createBlockFromRLP } from '@ethereumjs/block'
import { bytesToHex, hexToBytes, setLengthLeft } from '@ethereumjs/util'
import { beforeAll, describe, expect, test } from 'vitest'

import { collectAccessSets } from '../src/analyses/collect.js'
import { keccakHex } from '../src/analyses/hash.js'
import { analyzeParallelism } from '../src/analyses/parallelism.js'
import { analyzeStateDiff, txDiff } from '../src/analyses/statediff.js'
import { createChainCommon } from '../src/chain/common.js'
import { runResultSchema } from '../src/run/schema.js'
import { blockFileName } from '../src/sources/chainFormat.js'
import { createChainSource } from '../src/sources/chain.js'
import { createFixtureSource } from '../src/sources/fixtures.js'
import { mappingSlot } from '../src/workloads/genesis.js'
import { generateChain } from '../src/workloads/generate.js'
import { ERC20_LAYOUT } from '../src/workloads/setup.js'
import { runCli } from './helpers/cli.js'
import { FIXTURES_DIR, tempDir } from './helpers/fixtures.js'

let erc20: string

beforeAll(async () => {
  erc20 = join(await tempDir(), 'erc20')
  await generateChain({ workload: 'erc20-transfer', accounts: 300, blocks: 2, txsPerBlock: 6, tokens: 1 }, erc20)
})

describe('access sets on a generated chain', () => {
  test("default: an ERC20 transfer's diff is the sender's nonce and the sender's and recipient's balance slots", async () => {
    const { blocks, unverified } = await collectAccessSets({ source: await createChainSource({ dir: erc20 }) })
    expect(unverified).toEqual([])
    expect(blocks.map((b) => b.number)).toEqual([1, 2])
    // A generated chain is at bpo2 by default: its system calls are block-level work, not transactions'.
    const common = createChainCommon(1337n, 'bpo2', { origin: erc20, block: 0n })
    let checked = 0
    for (const b of blocks) {
      const history = b.access.prelude.slots.filter((x) => x.address === '0x0000f90827f1c53a10cb7a02335b175320002935')
      expect(history.map((x) => [x.slot, x.written])).toEqual([[`0x${(b.number - 1).toString(16).padStart(64, '0')}`, true]]) // EIP-2935
      expect(b.access.prelude.slots.some((x) => x.address === '0x000f3df6d732807ef1319fb7b8bb8522d0beac02' && x.written)).toBe(true) // EIP-4788
      const postlude = new Set(b.access.postlude.accounts.map((a) => a.address))
      expect(postlude.has('0x00000961ef480eb55e80d19ad83579a64c007002')).toBe(true) // EIP-7002 system call
      expect(postlude.has('0x0000bbddc7ce488642fb579f8b00f3a590007251')).toBe(true) // EIP-7251 system call
      const block = createBlockFromRLP(await readFile(join(erc20, 'blocks', blockFileName(b.number))), { common })
      block.transactions.forEach((tx, i) => {
        const sender = tx.getSenderAddress().toString()
        const token = tx.to!.toString()
        const recipient = bytesToHex(tx.data.subarray(4 + 12, 4 + 32)) // transfer(address,uint256)
        const slot = (holder: string) => bytesToHex(mappingSlot(setLengthLeft(hexToBytes(holder as `0x${string}`), 32), ERC20_LAYOUT.balanceSlot))
        const t = b.access.txs[i]!
        expect(t.coinbase).toBe('fee')
        const d = txDiff(t, b.access.coinbase)
        expect(d.accounts.map((a) => a.hashedAddress)).toEqual([keccakHex(sender)])
        const s = t.accounts.find((a) => a.address === sender)!
        expect(s.after!.nonce).toBe(s.before!.nonce + 1n)
        expect(d.storage.map((x) => x.hashedAddress)).toEqual([keccakHex(token), keccakHex(token)])
        expect(new Set(d.storage.map((x) => x.hashedSlot))).toEqual(new Set([keccakHex(slot(sender)), keccakHex(slot(recipient))]))
        expect(d.wipes).toEqual([])
        checked++
      })
    }
    expect(checked).toBe(12)
    // The probe's block diffs rebuild the engine's own, block by block.
    expect(analyzeStateDiff(blocks).check).toEqual({ compared: 2, matched: 2, mismatched: [] })
  })

  test('behavior: one sender serialises every block (critical path = its transactions) on either engine', async () => {
    const dir = join(await tempDir(), 'one')
    await generateChain({ workload: 'eth-transfer', accounts: 50, senders: 1, blocks: 2, txsPerBlock: 5 }, dir)
    for (const engine of ['baseline', 'mega'] as const) {
      const { blocks } = await collectAccessSets({ source: await createChainSource({ dir }), engine })
      const p = analyzeParallelism(blocks, { windows: [1, 2], cores: [4] })
      for (const b of p.blocks) {
        expect(b.commutative.criticalPathTxs, engine).toBe(5)
        expect(b.commutative.parallelism).toBe(1)
        expect(b.conflict.parallelism).toBe(1)
      }
      expect(p.summaries.find((s) => s.k === 2 && s.treatment === 'commutative')!.parallelism!.median).toBe(1)
      expect(analyzeStateDiff(blocks).check.matched).toBe(2)
    }
  })
})

describe('analyses on the bundled real blocks', () => {
  test('default: parallelism lies between 1 and the transaction count; the probe rebuilds every block diff', async () => {
    const { blocks, unverified } = await collectAccessSets({ source: await createFixtureSource({ paths: [FIXTURES_DIR] }) })
    expect(unverified).toEqual([])
    expect(blocks.length).toBe(13)
    const p = analyzeParallelism(blocks, { windows: [1], cores: [2, 16] })
    let withTxs = 0
    for (const b of p.blocks) {
      if (b.txs === 0) continue
      withTxs++
      for (const t of ['commutative', 'conflict'] as const) {
        expect(b[t].parallelism).toBeGreaterThanOrEqual(1)
        expect(b[t].parallelism).toBeLessThanOrEqual(b.txs)
        expect(b[t].speedup['16']!).toBeLessThanOrEqual(b[t].gasParallelism + 1e-9)
      }
      expect(b.commutative.parallelism).toBeGreaterThanOrEqual(b.conflict.parallelism)
    }
    expect(withTxs).toBe(11)
    expect(analyzeStateDiff(blocks).check).toEqual({ compared: 13, matched: 13, mismatched: [] })
  })
})

describe('replay --analyze (spawned binary)', () => {
  test('default: analyses land in a valid run.json; jit without --opcodes is refused', async () => {
    const out = join(await tempDir(), 'run')
    const r = await runCli(['replay', '--chain', erc20, '--storage', 'memory', '--analyze', 'parallelism,statediff,bounds', '--cores', '4', '--out', out])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('Transaction parallelism')
    expect(r.stdout).toContain('State-diff bandwidth at 100,000 tx/s')
    const run = runResultSchema.parse(JSON.parse(await readFile(join(out, 'run.json'), 'utf8')))
    const a = run.analyses!
    expect(a.accessPass).toMatchObject({ blocks: 2, txs: 12, workload: 'erc20-transfer' })
    expect(a.parallelism!.summaries.map((s) => s.k)).toEqual([1, 1, 2, 2, 5, 5, 10, 10])
    expect(a.statediff!.check).toEqual({ compared: 2, matched: 2, mismatched: [] })
    expect(a.bounds!.machine.cores).toBe(4)
    expect(a.jit).toBeNull()
    const html = await readFile(join(out, 'report.html'), 'utf8')
    for (const c of ['parallelism', 'speedup', 'diff-bytes']) expect(html).toContain(`data-chart="${c}"><svg`)

    const refused = await runCli(['replay', '--chain', erc20, '--storage', 'memory', '--analyze', 'jit'])
    expect(refused.code).toBe(2)
    expect(refused.stderr).toContain('--analyze jit needs --opcodes')
  })
})
