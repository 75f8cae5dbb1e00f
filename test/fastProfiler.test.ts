import { readdirSync } from 'node:fs'
import { join } from 'node:path'

import { describe, expect, test } from 'vitest'

import { WorldState, MemoryBackend } from '../src/evm/state.js'
import { DEFAULT_MEGA_SETTINGS, replay } from '../src/run/replay.js'
import type { RunResult } from '../src/run/schema.js'
import { createChainSource } from '../src/sources/chain.js'
import { createFixtureSource } from '../src/sources/fixtures.js'
import { FIXTURES_DIR } from './helpers/fixtures.js'

const CHAINS_DIR = join(import.meta.dirname, '..', 'fixtures', 'chains')
/** Mainnet files (mainnet-<number>.json): the fast EVM runs every fork, Frontier on. */
const mainnetFiles = (dir: string) =>
  readdirSync(dir)
    .filter((f) => /^mainnet-\d+\.json$/.test(f))
    .map((f) => join(dir, f))

type Row = { count: number; gas: number; childGas: number }
function profileOf(r: RunResult, evm: 'ethereumjs' | 'fast'): Record<string, Row> {
  const e = r.engines.find((x) => x.name === 'mega' && x.evm === evm && x.opcodes !== null)!
  return Object.fromEntries(e.opcodes!.rows.map((row) => [row.name, { count: row.count, gas: row.staticGas + row.dynamicGas, childGas: row.childGas }]))
}

async function profile(paths: string[], chain: boolean, evm: ('ethereumjs' | 'fast')[]): Promise<RunResult> {
  const source = chain ? await createChainSource({ dir: paths[0]! }) : await createFixtureSource({ paths })
  return replay({ source, sourcePaths: paths, engines: ['mega'], mega: { ...DEFAULT_MEGA_SETTINGS, evm }, opcodes: true, warmup: 0 })
}

/** Both probes see the same executions: counts, each opcode's gas (static + dynamic) and its child frames' gas. */
function expectSameProfiles(r: RunResult, blocks: number): void {
  expect(r.verification.failed).toEqual([])
  const fast = r.engines.find((x) => x.evm === 'fast')!
  expect(fast.mega!.evm).toMatchObject({ fastBlocks: blocks, ethereumjsBlocks: 0 })
  expect(profileOf(r, 'fast')).toEqual(profileOf(r, 'ethereumjs'))
}

describe('fast EVM opcode probe', () => {
  test('off: a WorldState carries no probe unless given one', () => {
    expect(new WorldState(new MemoryBackend()).probe).toBeUndefined()
  })

  test('counts, gas and child gas equal the @ethereumjs probe exactly on the bundled mainnet blocks (Frontier on); deterministic', async () => {
    const paths = mainnetFiles(FIXTURES_DIR)
    expect(paths.length).toBe(13)
    const r = await profile(paths, false, ['ethereumjs', 'fast'])
    expectSameProfiles(r, paths.length)
    const again = await profile(paths, false, ['fast'])
    expect(profileOf(again, 'fast')).toEqual(profileOf(r, 'fast'))
    // The partition of the window: every kind's time is accounted for, opcodes included.
    const c = r.engines.find((x) => x.evm === 'fast')!.opcodes!.coverage
    expect(c.opcodesMs).toBeGreaterThan(0)
    expect(c.windowMs).toBeGreaterThan(0)
  }, 300_000)

  test('counts, gas and child gas equal the @ethereumjs probe exactly on the mixed chain', async () => {
    const r = await profile([join(CHAINS_DIR, 'mixed')], true, ['ethereumjs', 'fast'])
    expectSameProfiles(r, 10)
  }, 300_000)

  // Opt-in: MEGABENCH_PROBE_DATA=/work/shared/data/mainnet npx vitest run test/fastProfiler.test.ts
  const data = process.env.MEGABENCH_PROBE_DATA
  test.skipIf(data === undefined)('counts equal the @ethereumjs probe on every block of $MEGABENCH_PROBE_DATA', async () => {
    const paths = mainnetFiles(data!)
    const r = await profile(paths, false, ['ethereumjs', 'fast'])
    expectSameProfiles(r, paths.length)
  }, 600_000)
})
