import { spawn } from 'node:child_process'
import { copyFile, mkdir, readFile, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

import { afterAll, beforeAll, describe, expect, test } from 'vitest'

import { NonCanonicalStateError, RpcError } from '../src/errors/index.js'
import { type Anvil, type WorkloadResult, clearStorage, runDevnetWorkload, startAnvil } from '../src/fetch/devnet.js'
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
