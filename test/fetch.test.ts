import { spawn } from 'node:child_process'
import { copyFile, mkdir, readFile, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

import { createBlockFromRLP } from '@ethereumjs/block'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'

import { createChainCommon } from '../src/chain/common.js'
import { FetchError, NonCanonicalStateError, RpcError } from '../src/errors/index.js'
import {
  type Anvil,
  type PragueWorkloadResult,
  type WorkloadResult,
  clearStorage,
  runDevnetWorkload,
  runPragueWorkload,
  startAnvil,
  touchEmptyAccount,
} from '../src/fetch/devnet.js'
import { fetchRange } from '../src/fetch/fetch.js'
import { parseFixture } from '../src/sources/fixtures.js'
import { type Fault, startChaosProxy } from './helpers/chaosProxy.js'
import { BIN, runCli } from './helpers/cli.js'
import { tempDir } from './helpers/fixtures.js'

/** The fixture files in a directory, and anything else (temporary files of a killed run…). */
async function listing(dir: string): Promise<{ fixtures: string[]; other: string[] }> {
  const names = await readdir(dir)
  return {
    fixtures: names.filter((n) => /^chain31337-\d+\.json$/.test(n)).sort((a, b) => a.localeCompare(b, 'en', { numeric: true })),
    other: names.filter((n) => !/^chain31337-\d+\.json$/.test(n)),
  }
}

/** Every fixture file parses and holds the block its name says. */
async function expectWholeFixtures(dir: string): Promise<number[]> {
  const { fixtures } = await listing(dir)
  const numbers: number[] = []
  for (const name of fixtures) {
    const text = await readFile(join(dir, name), 'utf8')
    const unit = parseFixture(name, text)
    const [block] = [...(unit.blocks as Iterable<{ number: bigint }>)]
    expect(block?.number).toBe(BigInt(name.match(/-(\d+)\.json$/)?.[1] ?? -1))
    numbers.push(Number(block?.number))
  }
  return numbers
}

/** The file without its `_info` (which names the endpoint the file came from). */
async function content(file: string): Promise<string> {
  const json = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>
  delete json._info
  return JSON.stringify(json)
}

describe('megabench fetch against a real node (anvil on 127.0.0.1)', () => {
  let anvil: Anvil
  let w: WorkloadResult
  let reference: string // a complete fetch of the workload, to compare others with

  beforeAll(async () => {
    anvil = await startAnvil()
    w = await runDevnetWorkload(anvil.url, 2)
  })
  afterAll(async () => {
    await anvil?.stop()
  })

  test('fetches deployments, transfers and swaps; `megabench replay` verifies every block', async () => {
    reference = await tempDir('megabench-fetch-')
    const r = await runCli(['fetch', '--rpc', anvil.url, '--from', '1', '--to', String(w.last), '--out', reference, '--json'])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const result = JSON.parse(r.stdout)
    expect(result).toMatchObject({ chainId: 31337, fetched: w.last, resumed: 0, witnessMethod: 'prestate' })
    expect(await expectWholeFixtures(reference)).toEqual(Array.from({ length: w.last }, (_, i) => i + 1))
    const files = (await listing(reference)).fixtures.map((n) => JSON.parse(JSON.stringify(n)))
    expect(files).toHaveLength(w.last)
    // The multi-transaction blocks are there (15 transfers; swaps of 5 users).
    const txCounts = await Promise.all(files.map(async (n) => JSON.parse(await readFile(join(reference, n), 'utf8')).expected.txCount as number))
    expect(Math.max(...txCounts)).toBeGreaterThanOrEqual(15)
    expect(txCounts.reduce((a, b) => a + b, 0)).toBe(w.txs)

    const replay = await runCli(['replay', '--fixtures', reference, '--out', join(await tempDir('megabench-fetch-run-'), 'run'), '--no-report'])
    expect(replay.code).toBe(0)
    expect(replay.stdout).toContain(`verified ${w.last}/${w.last} blocks`)
  })

  test('--chain: one chain directory (resuming from parts), replayed by both engines in both modes with every root verified', async () => {
    const base = await tempDir('megabench-fetch-chain-')
    const out = join(base, 'devnet')
    // Half the blocks are already fetched (a killed --chain fetch leaves them in <out>.blocks): kept, the rest fetched.
    await mkdir(`${out}.blocks`)
    const half = Math.floor(w.last / 2)
    for (let n = 1; n <= half; n++) await copyFile(join(reference, `chain31337-${n}.json`), join(`${out}.blocks`, `chain31337-${n}.json`))
    const r = await runCli(['fetch', '--rpc', anvil.url, '--from', '1', '--to', String(w.last), '--out', out, '--chain', '--json'])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const result = JSON.parse(r.stdout)
    expect(result).toMatchObject({ resumed: half, fetched: w.last - half, chain: { blocks: w.last, txs: w.txs } })
    expect(result.chain.nodes).toBeGreaterThan(0)
    expect((await readdir(base)).sort()).toEqual(['devnet']) // parts removed, no temporary directory left
    expect((await readdir(join(out, 'blocks'))).length).toBe(w.last)

    const replay = await runCli(['replay', '--chain', out, '--engine', 'both', '--mode', 'both', '--evm', 'fast', '--out', join(base, 'run'), '--no-report', '--json'])
    expect(replay.stderr).toBe('')
    expect(replay.code).toBe(0)
    const run = JSON.parse(replay.stdout.trim().split('\n').at(-1)!)
    expect(run.verification).toMatchObject({ blocks: w.last, verified: w.last, failed: [] })
    expect(run.engines.map((e: { label: string }) => e.label).sort()).toEqual(['baseline/historical', 'baseline/live', 'mega/historical', 'mega/live'])
    expect(run.differential).toMatchObject({ compared: 2 * w.last, mismatches: 0 })

    // A truncated start state: one line naming the file, exit 2.
    const start = join(out, 'start.json')
    const text = await readFile(start, 'utf8')
    await writeFile(start, text.slice(0, Math.floor(text.length / 2)))
    const bad = await runCli(['replay', '--chain', out, '--out', join(base, 'run2'), '--no-report'])
    expect(bad.code).toBe(2)
    expect(bad.stderr.trim().split('\n')).toHaveLength(1)
    expect(bad.stderr).toContain('start.json')
  })

  test('through a proxy dropping, delaying, rate-limiting and garbling responses: completes, same fixtures', async () => {
    // Every 5th request fails, cycling through the kinds of faults.
    const kinds: Fault[] = ['drop', 'delay', '429', '500', '503', 'garbage', 'truncated', 'wrong-shape']
    const proxy = await startChaosProxy(anvil.url, {
      fault: (method, i) => (method === 'eth_chainId' || i % 5 !== 4 ? 'pass' : (kinds[Math.floor(i / 5) % kinds.length] as Fault)),
      delayMs: 1_600,
    })
    try {
      const out = await tempDir('megabench-fetch-chaos-')
      const r = await fetchRange({ rpc: proxy.url, from: w.last - 2, to: w.last, out, concurrency: 3, rpcOptions: { timeoutMs: 1_500, retries: 10, backoffMs: 10 } })
      expect(r.fetched).toBe(3)
      for (const k of kinds) expect(proxy.faults.get(k) ?? 0).toBeGreaterThan(0)
      expect(r.retries).toBeGreaterThanOrEqual(kinds.length)
      const { fixtures, other } = await listing(out)
      expect(other).toEqual([])
      for (const name of fixtures) expect(await content(join(out, name))).toBe(await content(join(reference, name)))
    } finally {
      await proxy.close()
    }
  })

  test('a node that keeps failing: one clear line, and every file left behind is whole', async () => {
    // eth_getProof turns malformed after a while: some blocks complete, then the fetch gives up.
    const proxy = await startChaosProxy(anvil.url, { fault: (method, i) => (method === 'eth_getProof' && i > 40 ? 'wrong-shape' : 'pass') })
    try {
      const out = await tempDir('megabench-fetch-fail-')
      const err = await fetchRange({ rpc: proxy.url, from: 1, to: w.last, out, concurrency: 2, rpcOptions: { retries: 2, backoffMs: 5 } }).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(RpcError)
      expect((err as Error).message).toBe(
        `${proxy.url}: malformed response to eth_getProof (field address): Invalid input: expected string, received undefined (gave up after 3 attempts)`,
      )
      const { other } = await listing(out)
      expect(other).toEqual([])
      const done = await expectWholeFixtures(out)
      expect(done.length).toBeLessThan(w.last)
    } finally {
      await proxy.close()
    }
  })

  test('wrong chain id and bad credentials: exit 2, one line; credentials never printed or written', async () => {
    const proxy = await startChaosProxy(anvil.url, { auth: { user: 'alice', pass: 's3cret-pass', apikey: 'KEY0123456789' } })
    try {
      const out = await tempDir('megabench-fetch-auth-')
      const url = `http://alice:s3cret-pass@127.0.0.1:${proxy.port}/?apikey=KEY0123456789`
      const ok = await runCli(['fetch', '--rpc', url, '--from', String(w.last), '--to', String(w.last), '--out', out])
      expect(ok.stderr).toBe('')
      expect(ok.code).toBe(0)
      expect(ok.stdout).toContain(`from http://***@127.0.0.1:${proxy.port}?apikey=***`)
      const wrongChain = await fetchRange({ rpc: url, from: 1, to: 2, out, chainId: 1 }).catch((e: Error) => e)
      expect(wrongChain).toBeInstanceOf(RpcError)
      expect((wrongChain as Error).message).toBe(`http://***@127.0.0.1:${proxy.port}?apikey=***: the node serves chain id 31337, not 1 (--chain-id)`)
      const badPass = await runCli(['fetch', '--rpc', url.replace('s3cret-pass', 'wrong-pass'), '--from', '1', '--to', '2', '--out', out, '--retries', '1'])
      expect(badPass.code).toBe(2)
      expect(badPass.stderr).toMatch(/^megabench: http:\/\/\*\*\*@127\.0\.0\.1:\d+\?apikey=\*\*\*: eth_chainId: HTTP 401/)
      expect(badPass.stderr.split('\n')).toHaveLength(2)
      const written = await Promise.all((await listing(out)).fixtures.map((n) => readFile(join(out, n), 'utf8')))
      for (const text of [ok.stdout, ok.stderr, (wrongChain as Error).message, badPass.stderr, ...written]) {
        for (const secret of ['s3cret-pass', 'wrong-pass', 'KEY0123456789', 'alice']) expect(text).not.toContain(secret)
      }
    } finally {
      await proxy.close()
    }
  })

  test('a node without debug methods: touched state discovered by executing against the node', async () => {
    const proxy = await startChaosProxy(anvil.url, { missingMethods: ['debug_executionWitness', 'debug_traceBlockByNumber'] })
    try {
      const out = await tempDir('megabench-fetch-discover-')
      const r = await fetchRange({ rpc: proxy.url, from: w.last - 1, to: w.last, out })
      expect(r).toMatchObject({ fetched: 2, witnessMethod: 'discover' })
      expect(r.callsByMethod.eth_getStorageAt).toBeGreaterThan(0)
      await expectWholeFixtures(out)
    } finally {
      await proxy.close()
    }
  })

  test('killed mid-fetch, then resumed: no block lost, duplicated or half-written', async () => {
    const proxy = await startChaosProxy(anvil.url, { latencyMs: 15 })
    try {
      const out = await tempDir('megabench-fetch-kill-')
      const child = spawn(process.execPath, [BIN, 'fetch', '--rpc', proxy.url, '--from', '1', '--to', String(w.last), '--out', out, '--concurrency', '2'], { stdio: 'ignore' })
      const exited = new Promise((r) => child.once('exit', r))
      const deadline = Date.now() + 60_000
      while ((await listing(out)).fixtures.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
      child.kill('SIGKILL')
      await exited
      const before = await expectWholeFixtures(out)
      expect(before.length).toBeGreaterThanOrEqual(2)
      expect(before.length).toBeLessThan(w.last)

      const resumed = await runCli(['fetch', '--rpc', proxy.url, '--from', '1', '--to', String(w.last), '--out', out, '--json'])
      expect(resumed.code).toBe(0)
      const r = JSON.parse(resumed.stdout)
      expect(r.resumed).toBe(before.length)
      expect(r.fetched + r.resumed).toBe(w.last)
      const { fixtures, other } = await listing(out)
      expect(other).toEqual([]) // temporary files of the killed run are gone
      expect(fixtures).toHaveLength(w.last)
      for (const name of fixtures) expect(await content(join(out, name))).toBe(await content(join(reference, name)))
    } finally {
      await proxy.close()
    }
  })

  test('storage cleared on anvil: reported as a state root that is not Ethereum\'s, nothing written', async () => {
    // anvil 1.7.1 keeps cleared slots as zero-valued leaves (see src/fetch/devnet.ts); Ethereum deletes
    // them, collapsing branches. Collapses themselves are tested on real tries in fetchUnit.test.ts.
    const n = await clearStorage(anvil.url, w)
    const out = await tempDir('megabench-fetch-clear-')
    const err = await fetchRange({ rpc: anvil.url, from: n, to: n, out }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(NonCanonicalStateError)
    expect((err as Error).message).toMatch(new RegExp(`^block ${n}: the node's state root is not Ethereum's: its storage tries keep zero-valued slots \\(0x`))
    expect(await readdir(out)).toEqual([])
  })
})

describe.each(['prague', 'osaka'])('megabench fetch against anvil --hardfork %s: EIP-7702 set-code and blob transactions', (hardfork) => {
  let anvil: Anvil
  let w: WorkloadResult
  let p: PragueWorkloadResult
  let dir: string

  beforeAll(async () => {
    anvil = await startAnvil({ hardfork })
    w = await runDevnetWorkload(anvil.url, 1)
    p = await runPragueWorkload(anvil.url, { osaka: hardfork === 'osaka' })
  })
  afterAll(async () => {
    await anvil?.stop()
  })

  test(`every block fetched and verified at ${hardfork} (the fork from the node's eth_config); replayed by both engines, every root, requests hash and diff checked`, async () => {
    dir = await tempDir(`megabench-fetch-${hardfork}-`)
    const r = await runCli(['fetch', '--rpc', anvil.url, '--from', '1', '--to', String(p.last), '--out', dir, '--json'])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const result = JSON.parse(r.stdout)
    expect(result).toMatchObject({ chainId: 31337, fetched: p.last, hardforks: [hardfork], fork: { source: 'eth_config' } })
    expect(result.fork.detail).toContain(hardfork === 'osaka' ? 'P256VERIFY (EIP-7951) among its precompiles' : 'no P256VERIFY')
    expect(await expectWholeFixtures(dir)).toEqual(Array.from({ length: p.last }, (_, i) => i + 1))

    // The blocks hold what the workload sent: a blob transaction (type 3) and set-code transactions (type 4).
    const common = createChainCommon(31337n, hardfork, { origin: 'test', block: 0n })
    const types = async (n: number) => {
      const f = JSON.parse(await readFile(join(dir, `chain31337-${n}.json`), 'utf8')) as { hardfork: string; blockRlp: string; expected: { requestsHash?: string } }
      expect(f.hardfork).toBe(hardfork)
      expect(f.expected.requestsHash).toMatch(/^0x[0-9a-f]{64}$/)
      return createBlockFromRLP(Buffer.from(f.blockRlp.slice(2), 'hex'), { common }).transactions.map((t) => t.type)
    }
    expect(await types(p.blobBlocks[0]!)).toContain(3)
    for (const n of p.setCodeBlocks) expect(await types(n)).toContain(4)

    const out = join(await tempDir('megabench-fetch-run-'), 'run')
    const replay = await runCli(['replay', '--fixtures', dir, '--engine', 'both', '--out', out, '--warmup', '0', '--json'])
    expect(replay.stderr).toBe('')
    expect(replay.code).toBe(0)
    const run = JSON.parse(replay.stdout.trim().split('\n').at(-1)!)
    expect(run.verification).toMatchObject({ blocks: p.last, verified: p.last, failed: [] })
    expect(run.differential).toMatchObject({ compared: p.last, mismatches: 0 })
    for (const e of run.engines as { blocks: { hardfork: string; checks: { requestsHash: { status: string }; stateRoot: { status: string } } }[] }[]) {
      for (const b of e.blocks) {
        expect(b.hardfork).toBe(hardfork)
        expect(b.checks.requestsHash.status).toBe('pass')
      }
    }
    expect(run.engines[0].blocks.every((b: { checks: { stateRoot: { status: string } } }) => b.checks.stateRoot.status === 'pass')).toBe(true)
    expect(w.last).toBeLessThan(p.first)
    expect((await readFile(join(out, 'report.html'), 'utf8')).length).toBeGreaterThan(1000)
  })

  test('`megabench analyze all` on the fetched blocks: every block in the access pass, the probe rebuilds every block diff (system calls as block-level work)', async () => {
    const r = await runCli(['analyze', 'all', '--fixtures', dir, '--json'])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const a = JSON.parse(r.stdout.trim().split('\n').at(-1)!)
    expect(a.statediff.check).toEqual({ compared: p.last, matched: p.last, mismatched: [] })
    expect(a.parallelism.blocks.map((b: { number: number }) => b.number)).toEqual(Array.from({ length: p.last }, (_, i) => i + 1))
    expect(a.jit).toBeDefined()
    expect(a.bounds).toBeDefined()
  })

  test('--chain over the post-Prague blocks: one chain directory, replayed by both engines with every root verified', async () => {
    const base = await tempDir(`megabench-fetch-${hardfork}-chain-`)
    const out = join(base, 'devnet')
    const r = await runCli(['fetch', '--rpc', anvil.url, '--from', String(p.first), '--to', String(p.last), '--out', out, '--chain', '--json'])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({ chain: { blocks: p.last - p.first + 1, txs: p.txs } })
    expect(JSON.parse(await readFile(join(out, 'chain.json'), 'utf8')).hardfork).toBe(hardfork)
    const replay = await runCli(['replay', '--chain', out, '--engine', 'both', '--out', join(base, 'run'), '--no-report', '--warmup', '0', '--json'])
    expect(replay.stderr).toBe('')
    expect(replay.code).toBe(0)
    const run = JSON.parse(replay.stdout.trim().split('\n').at(-1)!)
    expect(run.verification).toMatchObject({ blocks: p.last - p.first + 1, verified: p.last - p.first + 1, failed: [] })
    expect(run.differential).toMatchObject({ mismatches: 0 })
  })

  if (hardfork === 'osaka') {
    test('--fork prague on an Osaka chain: the block calling CLZ and P256VERIFY does not verify (the fork decides gas and state)', async () => {
      const out = await tempDir('megabench-fetch-wrong-fork-')
      const calls = p.last - 1 // block 3 of the Prague workload: CLZ and P256VERIFY
      const err = await fetchRange({ rpc: anvil.url, from: calls, to: calls, out, fork: 'prague' }).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(FetchError)
      expect((err as Error).message).toMatch(new RegExp(`^block ${calls}: does not verify after fetching: `))
      expect(await readdir(out)).toEqual([])
      const ok = await fetchRange({ rpc: anvil.url, from: calls, to: calls, out, fork: 'osaka' })
      expect(ok).toMatchObject({ fetched: 1, hardforks: ['osaka'], fork: { source: '--fork' } })
    })
  } else {
    test('a node without eth_config: anvil_nodeInfo; without either: one line asking for --fork, and --fork works', async () => {
      const n = p.blobBlocks[0]!
      const noConfig = await startChaosProxy(anvil.url, { missingMethods: ['eth_config'] })
      const neither = await startChaosProxy(anvil.url, { missingMethods: ['eth_config', 'anvil_nodeInfo'] })
      const draft = await startChaosProxy(anvil.url, { missingMethods: ['anvil_nodeInfo'], fault: (method) => (method === 'eth_config' ? 'wrong-shape' : 'pass') })
      try {
        // An eth_config of another shape (a draft's) is not retried, and not taken.
        const e = await fetchRange({ rpc: draft.url, from: n, to: n, out: await tempDir('megabench-fetch-draft-') }).catch((x: unknown) => x)
        expect((e as Error).message).toBe(
          `block ${n}: the header carries a requests hash (prague, osaka, bpo1, bpo2: the same header fields) and the node's eth_config answer is of a shape megabench does not know (EIP-7910's current.blobSchedule, precompiles, systemContracts), and it does not serve anvil_nodeInfo; give --fork`,
        )
        const a = await fetchRange({ rpc: noConfig.url, from: n, to: n, out: await tempDir('megabench-fetch-nodeinfo-') })
        expect(a).toMatchObject({ fetched: 1, hardforks: ['prague'], fork: { source: 'anvil_nodeInfo', detail: 'hardFork Prague' } })
        const out = await tempDir('megabench-fetch-nofork-')
        const cli = await runCli(['fetch', '--rpc', neither.url, '--from', String(n), '--to', String(n), '--out', out])
        expect(cli.code).toBe(2)
        expect(cli.stderr).toBe(
          `megabench: block ${n}: the header carries a requests hash (prague, osaka, bpo1, bpo2: the same header fields) and the node serves neither eth_config nor anvil_nodeInfo to tell which; give --fork\n`,
        )
        expect(await readdir(out)).toEqual([])
        const forced = await runCli(['fetch', '--rpc', neither.url, '--from', String(n), '--to', String(n), '--out', out, '--fork', 'prague'])
        expect(forced.stderr).toBe('')
        expect(forced.stdout).toContain('hardfork prague (--fork)')
        const bad = await runCli(['fetch', '--rpc', neither.url, '--from', String(n), '--to', String(n), '--out', await tempDir('megabench-fetch-badfork-'), '--fork', 'cancun'])
        expect(bad.code).toBe(2)
        expect(bad.stderr).toBe(`megabench: block ${n}: --fork cancun does not fit the header: it carries a requests hash (prague, osaka, bpo1, bpo2)\n`)
      } finally {
        await noConfig.close()
        await neither.close()
        await draft.close()
      }
    })

    test('a zero-value call to an absent account on anvil: reported as a state root that is not Ethereum\'s (EIP-161), nothing written', async () => {
      const n = await touchEmptyAccount(anvil.url)
      const out = await tempDir('megabench-fetch-empty-')
      const err = await fetchRange({ rpc: anvil.url, from: n, to: n, out }).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(NonCanonicalStateError)
      expect((err as Error).message).toBe(
        `block ${n}: the node's state root is not Ethereum's: it keeps empty accounts the block touched (0x00000000000000000000000000000000dead0161), which EIP-161 deletes (as anvil does after a zero-value call to an absent account); no correct EVM reproduces this block`,
      )
      expect(await readdir(out)).toEqual([])
    })
  }
})
