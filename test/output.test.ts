import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

import { describe, expect, test } from 'vitest'

import { csvField, toCsv, writeDirectoryAtomically } from '../src/output/files.js'
import { slowBlockLine } from '../src/output/runFiles.js'
import type { BlockRow } from '../src/run/schema.js'
import { tempDir } from './helpers/fixtures.js'

const row: BlockRow = {
  origin: 'f.json',
  number: 7,
  hash: '0xab',
  hardfork: 'cancun',
  txCount: 2,
  gasUsed: 42000,
  phases: { senderRecovery: 1, execution: 10, stateLoad: 2, merkleization: 3, persistence: 0.5 },
  totalMs: 16.5,
  setupMs: 4,
  mgasPerSec: 2.545454,
  txPerSec: 121.2,
  stateReads: { accounts: 3, storageSlots: 4, code: 1, codeBytes: 100 },
  verified: true,
  cache: null,
  diff: null,
  checks: { gasUsed: { status: 'pass' } },
}

describe('slowBlockLine', () => {
  test('default: the cross-client slow-block shape, execution including state reads', () => {
    expect(JSON.parse(slowBlockLine('baseline', row))).toEqual({
      block: { number: 7, hash: '0xab', gas_used: 42000, tx_count: 2 },
      timing: { execution_ms: 12, state_read_ms: 2, state_hash_ms: 3, commit_ms: 0.5, total_ms: 16.5 },
      throughput: { mgas_per_sec: 2.55 },
      state_reads: { accounts: 3, storage_slots: 4, code: 1, code_bytes: 100 },
      megabench: { engine: 'baseline', origin: 'f.json', hardfork: 'cancun', sender_recovery_ms: 1, verified: true },
    })
  })
})

describe('csv', () => {
  test('default: quotes only what needs quoting', () => {
    expect(csvField('a')).toBe('a')
    expect(csvField('a,b')).toBe('"a,b"')
    expect(csvField('say "x"')).toBe('"say ""x"""')
    expect(toCsv(['x', 'y'], [[1, 'a\nb']])).toBe('x,y\n1,"a\nb"\n')
  })
})

describe('writeDirectoryAtomically', () => {
  test('default: creates the directory with all files and no temporary left behind', async () => {
    const parent = await tempDir()
    const dir = join(parent, 'nested', 'out')
    await writeDirectoryAtomically(dir, new Map([['a.txt', 'A'], ['b.txt', 'B']]))
    expect((await readdir(dir)).sort()).toEqual(['.megabench-output', 'a.txt', 'b.txt'])
    expect(await readdir(join(parent, 'nested'))).toEqual(['out'])
  })

  test('behavior: replaces an earlier megabench output (with force) only once the new one is complete', async () => {
    const parent = await tempDir()
    const dir = join(parent, 'out')
    await writeDirectoryAtomically(dir, new Map([['stale.txt', 'old']]))
    await expect(writeDirectoryAtomically(dir, new Map([['run.json', '{}']]))).rejects.toThrow(/add --force/)
    await writeDirectoryAtomically(dir, new Map([['run.json', '{}']]), 'output', { force: true })
    expect((await readdir(dir)).sort()).toEqual(['.megabench-output', 'run.json'])
    expect(await readFile(join(dir, 'run.json'), 'utf8')).toBe('{}')
    expect(await readdir(parent)).toEqual(['out'])
  })
})
