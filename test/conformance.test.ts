import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'

import { afterAll, beforeAll, describe, expect, test } from 'vitest'

import {
  type BlockchainTest,
  type JsonBlock,
  expectedException,
  folderOf,
  forkSchedule,
  readTestFile,
  runBlockchainTest,
  runConformance,
} from '../src/conformance/index.js'
import { initKeccak } from '../src/util/keccak.js'
import { runCli } from './helpers/cli.js'

const ROOT = join(import.meta.dirname, '..')
const BUNDLED = join(ROOT, 'fixtures', 'ethereum-tests')
const LEGACY_INVALID = join(BUNDLED, 'ethereum-legacytests', 'Constantinople', 'BlockchainTests', 'InvalidBlocks')
const PER_FORK = join(LEGACY_INVALID, 'bcUncleSpecialTests', 'futureUncleTimestamp3.json')
const ALL_FORM = join(LEGACY_INVALID, 'bcInvalidHeaderTest', 'wrongGasUsed.json')
const SMALL = join(BUNDLED, 'ethereum-tests', 'BlockchainTests', 'ValidBlocks', 'bcStateTests', 'simpleSuicide.json')

/** Every temporary directory a test makes; all removed after the file's tests. */
const temps: string[] = []
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'megabench-conformance-'))
  temps.push(d)
  return d
}
afterAll(() => {
  for (const d of temps) rmSync(d, { recursive: true, force: true })
})
beforeAll(initKeccak)

const block = (fields: Record<string, string | undefined>, header = true): JsonBlock =>
  ({ rlp: '0x', ...(header ? { blockHeader: {} } : {}), ...fields }) as JsonBlock

describe('expectException forms', () => {
  test('expectException, expectExceptionALL, expectException<Network>, and no blockHeader', () => {
    expect(expectedException(block({}), 'Cancun')).toBeUndefined()
    expect(expectedException(block({ expectException: 'TransactionException.NONCE_MISMATCH' }, false), 'Cancun')).toBe('TransactionException.NONCE_MISMATCH')
    expect(expectedException(block({ expectExceptionALL: 'InvalidGasUsed' }, false), 'Homestead')).toBe('InvalidGasUsed')
    const perFork = block({ expectExceptionByzantium: 'InvalidStateRoot', expectExceptionEIP150: 'A', expectExceptionConstantinopleFix: 'B' })
    expect(expectedException(perFork, 'Byzantium')).toBe('InvalidStateRoot')
    expect(expectedException(perFork, 'EIP150')).toBe('A')
    expect(expectedException(perFork, 'ConstantinopleFix')).toBe('B')
    // Another network's key does not apply (the block has a header: valid here).
    expect(expectedException(perFork, 'Homestead')).toBeUndefined()
    expect(expectedException(perFork, 'Constantinople')).toBeUndefined()
    // No exception key, no blockHeader: invalid (geth's rule; legacy bcForgedTest).
    expect(expectedException(block({}, false), 'Frontier')).toMatch(/no blockHeader/)
  })

  test('legacy per-fork file: the blocks expected invalid are rejected on both EVMs', async () => {
    const tests = readTestFile(PER_FORK)
    expect(Object.keys(tests)).toEqual(['futureUncleTimestamp3_Byzantium', 'futureUncleTimestamp3_EIP150', 'futureUncleTimestamp3_Homestead'])
    for (const t of Object.values(tests)) {
      expect(t.blocks[2]![`expectException${t.network}`]).toBe('InvalidStateRoot')
      expect(t.blocks[2]!.expectException).toBeUndefined()
      for (const evm of ['fast', 'ethereumjs'] as const) expect(await runBlockchainTest(t, evm)).toEqual({ status: 'pass' })
    }
  })

  test('legacy expectExceptionALL file passes on both EVMs; without reading the key the rejection would fail it', async () => {
    const tests = readTestFile(ALL_FORM)
    const [name, t] = Object.entries(tests)[0]!
    const i = t.blocks.findIndex((b) => b.expectExceptionALL !== undefined)
    expect(i, name).toBeGreaterThanOrEqual(0)
    for (const evm of ['fast', 'ethereumjs'] as const) expect(await runBlockchainTest(t, evm)).toEqual({ status: 'pass' })
    // The same block marked valid (a header, no key): its rejection is now a failure.
    const marked: BlockchainTest = { ...t, blocks: t.blocks.map((b, j) => (j === i ? { rlp: b.rlp, blockHeader: {} } : b)) }
    const o = await runBlockchainTest(marked, 'fast')
    expect(o.status).toBe('fail')
    expect(o.status === 'fail' && o.reason).toMatch(new RegExp(`^block ${i} rejected: gasUsed`))
  })
})

describe('verdicts', () => {
  test('a valid block marked invalid fails as accepted; a wrong lastblockhash fails', async () => {
    const [, t] = Object.entries(readTestFile(SMALL))[0]!
    const marked: BlockchainTest = { ...t, blocks: t.blocks.map((b) => ({ ...b, expectException: 'TransactionException.INTRINSIC_GAS_TOO_LOW' })) }
    for (const evm of ['fast', 'ethereumjs'] as const) {
      expect(await runBlockchainTest(marked, evm)).toEqual({ status: 'fail', reason: 'block 0 accepted, expected TransactionException.INTRINSIC_GAS_TOO_LOW' })
      const o = await runBlockchainTest({ ...t, lastblockhash: `0x${'11'.repeat(32)}` }, evm)
      expect(o.status === 'fail' && o.reason).toMatch(/^head 0x[0-9a-f]{64} \(block \d+\) is not lastblockhash 0x1111/)
    }
  })
})

describe('genesis', () => {
  const [, base] = Object.entries(readTestFile(SMALL))[0]!

  test('a test without genesisRLP runs from genesisBlockHeader on both EVMs', async () => {
    const t: BlockchainTest = { ...base }
    delete t.genesisRLP
    for (const evm of ['fast', 'ethereumjs'] as const) expect(await runBlockchainTest(t, evm)).toEqual({ status: 'pass' })
  })

  test('without genesisRLP and with a header that does not hash to its hash, or with neither: skipped with the reason', async () => {
    const wrong: BlockchainTest = { ...base, genesisBlockHeader: { ...base.genesisBlockHeader!, extraData: '0x01' } }
    delete wrong.genesisRLP
    const o = await runBlockchainTest(wrong, 'fast')
    expect(o.status).toBe('skip')
    expect(o.status === 'skip' && o.reason).toMatch(/^genesis: no genesisRLP, and genesisBlockHeader hashes to 0x[0-9a-f]{64}, not its hash/)
    const none: BlockchainTest = { ...base }
    delete none.genesisRLP
    delete none.genesisBlockHeader
    expect(await runBlockchainTest(none, 'ethereumjs')).toEqual({ status: 'skip', reason: 'genesis: no genesisRLP and no genesisBlockHeader' })
  })
})

describe('networks', () => {
  test('single forks, block/time/total-difficulty transitions, unsupported forks', () => {
    const at = (n: string, num: bigint, ts = 0n, td = 0n) => {
      const s = forkSchedule(n)
      return s.ok ? s.schedule.forkAt(num, ts, td) : s.reason
    }
    expect(at('ConstantinopleFix', 1n)).toBe('petersburg')
    expect(at('FrontierToHomesteadAt5', 4n)).toBe('frontier')
    expect(at('FrontierToHomesteadAt5', 5n)).toBe('homestead')
    expect(at('ShanghaiToCancunAtTime15k', 9n, 14_999n)).toBe('shanghai')
    expect(at('ShanghaiToCancunAtTime15k', 9n, 15_000n)).toBe('cancun')
    expect(at('ArrowGlacierToParisAtDiffC0000', 6n, 0n, 0xbffffn)).toBe('arrowGlacier')
    expect(at('ArrowGlacierToParisAtDiffC0000', 6n, 0n, 0xc0000n)).toBe('paris')
    expect(at('Prague', 1n)).toBe('prague')
    expect(at('CancunToPragueAtTime15k', 1n, 14_999n)).toBe('cancun')
    expect(at('CancunToPragueAtTime15k', 1n, 15_000n)).toBe('prague')
    expect(at('PragueToOsakaAtTime15k', 1n, 15_000n)).toBe('osaka')
    expect(at('OsakaToBPO1AtTime15k', 1n, 15_000n)).toBe('bpo1')
    expect(at('BPO1ToBPO2AtTime15k', 1n, 15_000n)).toBe('bpo2')
    expect(at('BPO2ToBPO3AtTime15k', 1n)).toBe('fork BPO3 not supported')
    expect(at('Amsterdam', 1n)).toBe('fork Amsterdam not supported')
    expect(at('Nonsense', 1n)).toBe('network Nonsense not supported')
    const dao = forkSchedule('HomesteadToDaoAt5')
    expect(dao.ok && dao.schedule.daoBlock).toBe(5n)
  })

  test('a test of a fork after BPO2 is a skip with "fork X not supported", not a failure or a crash', async () => {
    const [, base] = Object.entries(readTestFile(SMALL))[0]!
    for (const [network, fork] of [['BPO3', 'BPO3'], ['Amsterdam', 'Amsterdam'], ['BPO2ToBPO3AtTime15k', 'BPO3'], ['OsakaToAmsterdamAtTime15k', 'Amsterdam']]) {
      for (const evm of ['fast', 'ethereumjs'] as const) {
        expect(await runBlockchainTest({ ...base, network: network! }, evm)).toEqual({ status: 'skip', reason: `fork ${fork} not supported` })
      }
    }
  })

  test('folders: two levels below BlockchainTests, or the first n levels', () => {
    expect(folderOf('ethereum-tests/BlockchainTests/GeneralStateTests/VMTests/vmArithmeticTest')).toBe('ethereum-tests/BlockchainTests/GeneralStateTests/VMTests')
    expect(folderOf('blockchain_tests/prague/eip7702_set_code_tx', { prefix: 'eest-fixtures' })).toBe('eest-fixtures/blockchain_tests/prague/eip7702_set_code_tx')
    expect(folderOf('a/b/c', { depth: 1 })).toBe('a')
    expect(folderOf('')).toBe('.')
  })
})

describe('files', () => {
  test('.json.gz files are read like .json files (gunzipped), found recursively', async () => {
    const dir = tempDir()
    mkdirSync(join(dir, 'sub', 'deeper'), { recursive: true })
    writeFileSync(join(dir, 'sub', 'deeper', 'simpleSuicide.json.gz'), gzipSync(readFileSync(SMALL)))
    writeFileSync(join(dir, 'notes.txt'), 'not a test file')
    const gz = await runConformance({ paths: [dir], evms: ['fast'], workers: 0 })
    const plain = await runConformance({ paths: [SMALL], evms: ['fast'], workers: 0 })
    expect(gz.results.map((r) => [r.file, r.test, r.outcomes])).toEqual([['sub/deeper/simpleSuicide.json.gz', 'simpleSuicide_Cancun', { fast: { status: 'pass' } }]])
    expect(gz.totals).toEqual(plain.totals)
    expect(gz.folders.map((f) => f.folder)).toEqual(['sub/deeper'])
  })
})

describe('megabench conformance (CLI)', () => {
  test('--json: {totals, folders, failures} for one EVM; totals keyed by EVM and differences for both', async () => {
    const one = await runCli(['conformance', PER_FORK, ALL_FORM, '--json', '--workers', '1'])
    expect(one.stderr).toBe('')
    expect(one.code).toBe(0)
    const j = JSON.parse(one.stdout)
    expect(Object.keys(j)).toEqual(['totals', 'folders', 'failures'])
    expect(j.totals).toEqual({ pass: 10, fail: 0, skip: 0, timeout: 0 })
    expect(j.folders).toEqual([
      { folder: 'bcInvalidHeaderTest', pass: 7, fail: 0, skip: 0, timeout: 0, skipReasons: {} },
      { folder: 'bcUncleSpecialTests', pass: 3, fail: 0, skip: 0, timeout: 0, skipReasons: {} },
    ])
    expect(j.failures).toEqual([])

    const dir = tempDir()
    const [name, t] = Object.entries(readTestFile(SMALL))[0]!
    const broken = { ...t, postState: { ...t.postState, '0x00000000000000000000000000000000000000aa': { balance: '0x01', nonce: '0x00', code: '0x', storage: {} } } }
    writeFileSync(join(dir, 'tests.json'), JSON.stringify({ [name]: t, broken, later: { ...t, network: 'BPO3' } }))
    const both = await runCli(['conformance', dir, '--evm', 'both', '--json', '--workers', '2'])
    expect(both.code).toBe(1)
    const k = JSON.parse(both.stdout)
    expect(Object.keys(k)).toEqual(['totals', 'folders', 'failures', 'differences'])
    expect(k.totals).toEqual({ fast: { pass: 1, fail: 1, skip: 1, timeout: 0 }, ethereumjs: { pass: 1, fail: 1, skip: 1, timeout: 0 } })
    expect(k.folders).toEqual([
      {
        folder: '.',
        fast: { pass: 1, fail: 1, skip: 1, timeout: 0, skipReasons: { 'fork BPO3 not supported': 1 } },
        ethereumjs: { pass: 1, fail: 1, skip: 1, timeout: 0, skipReasons: { 'fork BPO3 not supported': 1 } },
      },
    ])
    expect(k.failures).toEqual([
      { folder: '.', file: 'tests.json', test: 'broken', evm: 'fast', status: 'fail', reason: 'post state: account 0x00000000000000000000000000000000000000aa missing' },
      { folder: '.', file: 'tests.json', test: 'broken', evm: 'ethereumjs', status: 'fail', reason: 'post state: account 0x00000000000000000000000000000000000000aa missing' },
    ])
    expect(k.differences).toEqual([])
  })

  test('--timeout: a test stopped by the (CPU) time limit counts as timeout and exits 1', async () => {
    const r = await runCli(['conformance', join(BUNDLED, 'ethereum-tests', 'BlockchainTests', 'ValidBlocks', 'bcStateTests', 'refundReset.json'), '--evm', 'ethereumjs', '--timeout', '0.05', '--json'])
    expect(r.code).toBe(1)
    const j = JSON.parse(r.stdout)
    expect(j.totals).toEqual({ pass: 0, fail: 0, skip: 0, timeout: 1 })
    // Stopped by a check, or finished over the limit between two checks (200 ms apart): a timeout either way.
    expect(j.failures[0]).toMatchObject({ test: 'refundReset_Cancun', evm: 'ethereumjs', status: 'timeout' })
    expect(j.failures[0].reason).toMatch(/^(stopped after 0\.05 s of CPU time|used \d+\.\d\d s of (CPU )?time, over the 0\.05 s limit) \(time limit\)$/)
  })

  test('human output: a table per folder, failures and differences', async () => {
    const r = await runCli(['conformance', PER_FORK, '--evm', 'both', '--workers', '0'])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/│ folder +│ fast pass │ fail │ skip │ timeout │ ethereumjs pass │ fail │ skip │ timeout │/)
    expect(r.stdout).toMatch(/│ bcUncleSpecialTests +│ +3 │ +0 │ +0 │ +0 │ +3 │ +0 │ +0 │ +0 │/)
    expect(r.stdout).toMatch(/failures \(0\):/)
    expect(r.stdout).toMatch(/outcomes that differ between fast and ethereumjs \(0\):/)
  })

  test('--evm-tier: the fast EVM with every block compiled passes the same tests; a bad tier or one without the fast EVM exits 2', async () => {
    const r = await runCli(['conformance', PER_FORK, ALL_FORM, '--evm-tier', 'compiled', '--workers', '1'])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/ on fast \(compiled\), 1 workers/)
    expect(r.stdout).toMatch(/10 pass, 0 fail, 0 skip, 0 timeout/)
    const bad = await runCli(['conformance', SMALL, '--evm-tier', 'jit'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toBe('megabench: --evm-tier must be interpreter, compiled, tiered (got "jit")\n')
    const ejs = await runCli(['conformance', SMALL, '--evm', 'ethereumjs', '--evm-tier', 'compiled'])
    expect(ejs.code).toBe(2)
    expect(ejs.stderr).toBe('megabench: --evm-tier applies to the fast EVM (--evm fast or both)\n')
  })

  test('bad input exits 2 with one line naming the file: a missing path, invalid JSON, invalid gzip, no test files', async () => {
    const dir = tempDir()
    const missing = join(dir, 'nope')
    const a = await runCli(['conformance', missing])
    expect(a.code).toBe(2)
    expect(a.stderr).toBe(`megabench: ${missing}: no such file or directory\n`)
    writeFileSync(join(dir, 'bad.json'), '{"x": ')
    const b = await runCli(['conformance', dir, '--json'])
    expect(b.code).toBe(2)
    expect(b.stdout).toBe('')
    expect(b.stderr.trim().split('\n')).toHaveLength(1)
    expect(b.stderr).toMatch(new RegExp(`^megabench: ${join(dir, 'bad.json')}: invalid JSON: `))
    rmSync(join(dir, 'bad.json'))
    writeFileSync(join(dir, 'bad.json.gz'), 'not gzip')
    const c = await runCli(['conformance', dir])
    expect(c.code).toBe(2)
    expect(c.stderr).toMatch(new RegExp(`^megabench: ${join(dir, 'bad.json.gz')}: not gzip: `))
    const d = await runCli(['conformance', SMALL, '--evm', 'geth'])
    expect(d.code).toBe(2)
    const empty = tempDir()
    const e = await runCli(['conformance', empty])
    expect(e.code).toBe(2)
    expect(e.stderr).toBe(`megabench: ${empty}: no .json or .json.gz test files in this directory\n`)
  })
})
