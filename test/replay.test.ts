import { describe, expect, test } from 'vitest'

import { MissingTrieNodeError } from '../src/errors/index.js'
import { replay } from '../src/run/replay.js'
import { runResultSchema } from '../src/run/schema.js'
import { createFixtureSource } from '../src/sources/fixtures.js'
import { FIXTURES_DIR, SMALL_FIXTURE, flipLastHexDigit, readFixtureJson, tempDir, writeVariant } from './helpers/fixtures.js'

const replayPaths = async (paths: string[], opcodes = false) =>
  replay({ source: await createFixtureSource({ paths }), sourcePaths: paths, opcodes })

describe('replay of the bundled fixtures', () => {
  test('default: every bundled block verifies', async () => {
    const result = await replayPaths([FIXTURES_DIR])
    expect(runResultSchema.safeParse(result).success).toBe(true)
    expect(result.verification.failed).toEqual([])
    expect(result.verification.blocks).toBe(13)
    expect(result.verification.verified).toBe(13)
    const e = result.engines[0]!
    expect(e.blocks.map((b) => b.number)).toEqual([
      97, 46147, 116524, 512335, 1150000, 1417555, 1920000, 2463000, 2675000, 4370000, 15537394, 18884864, 21230867,
    ])
    expect(e.blocks.every((b) => b.verified)).toBe(true)
    // Throughput is computed from verified blocks and their phases only.
    expect(e.totals.txs).toBe(e.blocks.reduce((s, b) => s + b.txCount, 0))
    expect(e.totals.txPerSec).toBeCloseTo(e.totals.txs / (e.totals.processingMs / 1000), 6)
    expect(e.opcodes).toBeNull()
    // Blob transactions (type 3) are in 21230867; withdrawals in 18884864 and 21230867.
    const cancun = e.blocks.find((b) => b.number === 21230867)!
    expect(cancun.hardfork).toBe('cancun')
    expect(cancun.txCount).toBe(67)
  })
})

describe('verification failures', () => {
  test('behavior: one flipped byte in expected.stateRoot is reported with expected and computed values', async () => {
    const dir = await tempDir()
    const original = await readFixtureJson()
    const bad = await writeVariant(dir, 'flipped.json', (j) => {
      j.expected.stateRoot = flipLastHexDigit(j.expected.stateRoot)
    })
    const result = await replayPaths([bad, SMALL_FIXTURE])
    expect(result.verification.verified).toBe(1)
    const failures = result.verification.failed
    const computed = failures.find((f) => f.field === 'stateRoot')!
    expect(computed).toMatchObject({ block: 46147, origin: bad, engine: 'baseline/live' })
    expect(computed.expected).toBe(flipLastHexDigit(original.expected.stateRoot))
    expect(computed.actual).toBe(original.expected.stateRoot)
    // The file also disagrees with its own header.
    expect(failures.find((f) => f.field === 'expected.stateRoot')).toMatchObject({
      expected: original.expected.stateRoot,
      actual: flipLastHexDigit(original.expected.stateRoot),
    })
    // A failed block contributes no throughput.
    const e = result.engines[0]!
    expect(e.totals.verifiedBlocks).toBe(1)
    expect(e.totals.txs).toBe(1)
    expect(e.totals.processingMs).toBeCloseTo(e.blocks.find((b) => b.verified)!.totalMs, 9)
  })

  test('behavior: a wrong gasUsed is reported in decimal', async () => {
    const dir = await tempDir()
    const bad = await writeVariant(dir, 'gas.json', (j) => {
      j.expected.gasUsed = '0x5209'
    })
    const result = await replayPaths([bad])
    expect(result.verification.failed).toContainEqual(
      expect.objectContaining({ field: 'gasUsed', expected: '21001', actual: '21000' }),
    )
  })
})

describe('bad input found during execution', () => {
  test('behavior: a trie node missing from the witness is named with file and block', async () => {
    const dir = await tempDir()
    const json = await readFixtureJson()
    const { keccak_256 } = await import('@noble/hashes/sha3.js')
    const { bytesToHex, hexToBytes } = await import('@ethereumjs/util')
    const rootNode = (json.witness.nodes as string[]).find(
      (n) => bytesToHex(keccak_256(hexToBytes(n as `0x${string}`))) === json.parentStateRoot,
    )
    expect(rootNode).toBeDefined()
    const bad = await writeVariant(dir, 'missing.json', (j) => {
      j.witness.nodes = (j.witness.nodes as string[]).filter((n) => n !== rootNode)
    })
    const run = replayPaths([bad])
    await expect(run).rejects.toBeInstanceOf(MissingTrieNodeError)
    await expect(replayPaths([bad])).rejects.toThrowError(
      `${bad} block 46147: trie node ${json.parentStateRoot} needed during execution is missing from the witness`,
    )
  })

  test('behavior: an unknown hardfork is refused', async () => {
    const dir = await tempDir()
    const bad = await writeVariant(dir, 'hf.json', (j) => {
      j.hardfork = 'frobnicate'
    })
    await expect(replayPaths([bad])).rejects.toThrowError(`${bad} block 46147: unknown hardfork "frobnicate"`)
  })

  test('behavior: a hardfork that contradicts mainnet rules is refused', async () => {
    const dir = await tempDir()
    const bad = await writeVariant(dir, 'hf2.json', (j) => {
      j.hardfork = 'homestead'
    })
    await expect(replayPaths([bad])).rejects.toThrowError(
      `${bad} block 46147: declares hardfork homestead but mainnet rules give chainstart for this block`,
    )
  })

  test('behavior: block RLP that is not RLP, and a block hash that does not match', async () => {
    const dir = await tempDir()
    const notRlp = await writeVariant(dir, 'rlp.json', (j) => {
      j.blockRlp = '0xf9ffff00'
    })
    await expect(replayPaths([notRlp])).rejects.toThrowError(new RegExp(`^${notRlp}: field blockRlp: not valid RLP`))
    const wrongHash = await writeVariant(dir, 'hash.json', (j) => {
      j.blockHash = flipLastHexDigit(j.blockHash)
    })
    await expect(replayPaths([wrongHash])).rejects.toThrowError(
      new RegExp(`^${wrongHash}: field blockHash: 0x[0-9a-f]{64} does not match the header in blockRlp`),
    )
  })
})
