import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

import { describe, expect, test } from 'vitest'

import { FixtureError, NoFixturesError } from '../src/errors/index.js'
import { listFixtureFiles, parseFixture, readFixtureFile } from '../src/sources/fixtures.js'
import type { BlockInput } from '../src/types.js'
import { FIXTURES_DIR, SMALL_FIXTURE, readFixtureJson, tempDir } from './helpers/fixtures.js'

const parseModified = async (change: (j: Record<string, any>) => void) => {
  const json = await readFixtureJson()
  change(json)
  return () => parseFixture('x.json', JSON.stringify(json))
}

describe('readFixtureFile', () => {
  test('default: decodes a real fixture', async () => {
    const unit = await readFixtureFile(SMALL_FIXTURE)
    const blocks = [...(unit.blocks as Iterable<BlockInput>)]
    expect(blocks).toHaveLength(1)
    const block = blocks[0]!
    expect(block.number).toBe(46147n)
    expect(block.hardfork).toBe('chainstart')
    expect(block.expected.gasUsed).toBe(21000n)
    expect(block.expected.txCount).toBe(1)
    expect(unit.state.kind === 'witness' && unit.state.nodes.length).toBe(42)
    expect(block.ancestorHashes.get(46146n)).toBeInstanceOf(Uint8Array)
  })

  test('behavior: a missing file is named', async () => {
    await expect(readFixtureFile('/nonexistent/x.json')).rejects.toThrow(/^\/nonexistent\/x\.json: cannot read file/)
  })
})

describe('parseFixture: bad input gives one line naming the file and field', () => {
  test('truncated JSON', async () => {
    const text = await readFile(SMALL_FIXTURE, 'utf8')
    expect(() => parseFixture('t.json', text.slice(0, text.length / 2))).toThrowError(
      /^t\.json: not valid JSON, truncated or corrupt \(/,
    )
  })

  test('not an object', () => {
    expect(() => parseFixture('a.json', '[1,2]')).toThrowError('a.json: not a realblock-v1 file (no _info.format)')
  })

  test('wrong format tag', async () => {
    const parse = await parseModified((j) => {
      j._info.format = 'realblock-v2'
    })
    expect(parse).toThrowError('x.json: unsupported format "realblock-v2" (expected realblock-v1)')
  })

  test('bad hex in a witness node', async () => {
    const parse = await parseModified((j) => {
      j.witness.nodes[3] = '0xzz'
    })
    expect(parse).toThrowError('x.json: field witness.nodes[3]: expected 0x-prefixed hex with an even number of digits')
  })

  test('odd-length hex', async () => {
    const parse = await parseModified((j) => {
      j.blockRlp = '0xabc'
    })
    expect(parse).toThrowError(/^x\.json: field blockRlp: expected 0x-prefixed hex/)
  })

  test('missing field', async () => {
    const parse = await parseModified((j) => {
      delete j.expected.stateRoot
    })
    expect(parse).toThrowError(/^x\.json: field expected\.stateRoot: /)
  })

  test('errors are FixtureErrors with a single-line message', async () => {
    const parse = await parseModified((j) => {
      j.blockNumber = -1
    })
    try {
      parse()
      expect.unreachable()
    } catch (err) {
      expect(err).toBeInstanceOf(FixtureError)
      expect((err as Error).message).not.toContain('\n')
    }
  })
})

describe('listFixtureFiles', () => {
  test('default: a directory in natural order, skipping MANIFEST.json', async () => {
    const dir = await tempDir()
    for (const n of ['mainnet-1000.json', 'mainnet-97.json', 'MANIFEST.json', 'notes.txt']) await writeFile(join(dir, n), '{}')
    const files = await listFixtureFiles([dir])
    expect(files.map((f) => f.split('/').at(-1))).toEqual(['mainnet-97.json', 'mainnet-1000.json'])
  })

  test('behavior: the bundled set covers every hardfork from chainstart to cancun', async () => {
    const files = await listFixtureFiles([FIXTURES_DIR])
    const hardforks = new Set<string>()
    for (const f of files) hardforks.add(((await readFixtureJson(f)) as { hardfork: string }).hardfork)
    expect([...hardforks].sort()).toEqual(
      ['byzantium', 'cancun', 'chainstart', 'dao', 'homestead', 'paris', 'shanghai', 'spuriousDragon', 'tangerineWhistle'].sort(),
    )
  })

  test('behavior: duplicates are dropped, files and directories mix', async () => {
    const files = await listFixtureFiles([SMALL_FIXTURE, SMALL_FIXTURE])
    expect(files).toEqual([SMALL_FIXTURE])
  })

  test('behavior: an empty directory is an error', async () => {
    const dir = await tempDir()
    await expect(listFixtureFiles([dir])).rejects.toBeInstanceOf(NoFixturesError)
  })
})
