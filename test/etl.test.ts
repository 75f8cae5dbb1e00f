import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { join } from 'node:path'

import { describe, expect, test } from 'vitest'

import { EtlCollector } from '../src/storage/etl.js'
import { tempDir } from './helpers/fixtures.js'

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

describe('ETL collector (external sort for bulk loads)', () => {
  test('default: spilled runs merge into (table, key) order, each key once, first value kept', async () => {
    const dir = join(await tempDir(), 'etl')
    const etl = new EtlCollector(dir, 64 * 1024) // tiny buffer: many spilled runs
    const expected = new Map<string, string>()
    for (let i = 0; i < 5000; i++) {
      const table = i % 3
      const key = randomBytes(1 + (i % 40))
      const value = randomBytes(i % 7)
      etl.put(table, key, value)
      const id = `${table}:${hex(key)}`
      if (!expected.has(id)) expected.set(id, hex(value)) // short random keys repeat: the first value is kept
      if (i % 10 === 0) etl.put(table, key, randomBytes(5)) // a later duplicate loses
    }
    expect(existsSync(dir)).toBe(true)
    const out = [...etl.sorted()].map((e) => ({ id: `${e.table}:${hex(e.key)}`, table: e.table, key: Buffer.from(e.key), value: hex(e.value) }))
    expect(out.length).toBe(expected.size)
    for (let i = 1; i < out.length; i++) {
      const a = out[i - 1]!
      const b = out[i]!
      expect(a.table < b.table || (a.table === b.table && Buffer.compare(a.key, b.key) < 0)).toBe(true)
    }
    for (const e of out) expect(e.value).toBe(expected.get(e.id))
    expect(existsSync(dir)).toBe(false)
  })

  test('behavior: without a spill everything stays in memory and no directory is made', async () => {
    const dir = join(await tempDir(), 'etl')
    const etl = new EtlCollector(dir)
    etl.put(1, Uint8Array.of(2), Uint8Array.of(9))
    etl.put(0, Uint8Array.of(3), Uint8Array.of(8))
    etl.put(1, Uint8Array.of(1), Uint8Array.of(7))
    expect([...etl.sorted()].map((e) => [e.table, hex(e.key), hex(e.value)])).toEqual([
      [0, '03', '08'],
      [1, '01', '07'],
      [1, '02', '09'],
    ])
    expect(existsSync(dir)).toBe(false)
  })
})
