import { join } from 'node:path'

import { describe, expect, test } from 'vitest'

import { formatSummary } from '../src/output/summary.js'
import { DEFAULT_MEGA_SETTINGS, type ReplayParameters, replay } from '../src/run/replay.js'
import type { EngineResult, RunResult } from '../src/run/schema.js'
import { createFixtureSource } from '../src/sources/fixtures.js'
import { FIXTURES_DIR } from './helpers/fixtures.js'

/**
 * The bundled pre-Byzantium mainnet blocks, one per rule set: Frontier (97, 46147, 116524, 512335),
 * Homestead (1150000, 1417555), the DAO fork's irregular state change (1920000), Tangerine Whistle
 * (2463000), Spurious Dragon (2675000); and the two regression blocks (49439, 78458: Frontier).
 */
const PRE_BYZANTIUM = [
  ...[97, 46147, 116524, 512335, 1150000, 1417555, 1920000, 2463000, 2675000].map((n) => join(FIXTURES_DIR, `mainnet-${n}.json`)),
  ...[49439, 78458].map((n) => join(FIXTURES_DIR, '..', 'regressions', `mainnet-${n}.json`)),
]

async function replayPreByzantium(p: Omit<ReplayParameters, 'source' | 'sourcePaths'>): Promise<RunResult> {
  return replay({ source: await createFixtureSource({ paths: PRE_BYZANTIUM }), sourcePaths: PRE_BYZANTIUM, warmup: 0, ...p })
}

/** Every block verified on the fast EVM, its receipts' per-transaction roots (the engine's own trie) checked. */
function expectAllFast(e: EngineResult): void {
  const evm = e.baseline?.evm ?? e.mega?.evm
  expect(evm).toMatchObject({ requested: 'fast', fastBlocks: PRE_BYZANTIUM.length, ethereumjsBlocks: 0 })
  expect(e.totals.verifiedBlocks).toBe(PRE_BYZANTIUM.length)
  for (const b of e.blocks) {
    expect(b.checks.perTxRoots?.status, `block ${b.number}`).toBe('pass')
    expect(b.checks.receiptsRoot?.status, `block ${b.number}`).toBe('pass')
  }
}

describe('--evm fast before Byzantium: per-transaction state roots from the engines\' own tries, no fallback', () => {
  test('default: the baseline on LMDB, live and historical: every block on the fast EVM, verified; per-tx roots timed as merkleization', async () => {
    const r = await replayPreByzantium({ engines: ['baseline'], modes: ['live', 'historical'], baseline: { evm: 'fast' } })
    expect(r.verification.failed).toEqual([])
    expect(r.engines).toHaveLength(2)
    for (const e of r.engines) {
      expectAllFast(e)
      expect(e.blocks.every((b) => b.evm === 'fast')).toBe(true)
      expect(e.totals.phases.merkleization).toBeGreaterThan(0)
    }
    const live = r.engines.find((e) => e.mode === 'live')!
    expect(live.blocks.every((b) => b.checks.stateRoot?.status === 'pass')).toBe(true)
    // One root per transaction with any change (and the block's own), as @ethereumjs's runTx makes them.
    expect(live.storage!.merkleization.roots).toBeGreaterThan(PRE_BYZANTIUM.length)
    expect(formatSummary(r)).toMatch(/EVM: the fast EVM \(tiered\) executed 11 blocks, @ethereumjs\/evm 0\n/)
  }, 300_000)

  test('behavior: the baseline on the in-memory trie (--storage memory)', async () => {
    const r = await replayPreByzantium({ engines: ['baseline'], storage: { kind: 'memory' }, baseline: { evm: 'fast' } })
    expect(r.verification.failed).toEqual([])
    expectAllFast(r.engines[0]!)
    expect(r.engines[0]!.blocks.every((b) => b.checks.stateRoot?.status === 'pass')).toBe(true)
  }, 300_000)

  test('behavior: the mega engine (per-tx roots from its MPT mirror): every state diff equal to the @ethereumjs baseline\'s', async () => {
    const r = await replayPreByzantium({ engines: ['baseline', 'mega'], mega: { ...DEFAULT_MEGA_SETTINGS, evm: 'fast' } })
    expect(r.verification.failed).toEqual([])
    expectAllFast(r.engines.find((e) => e.name === 'mega')!)
    expect(r.differential).toMatchObject({ compared: PRE_BYZANTIUM.length, mismatches: 0, notCompared: [] })
    expect(formatSummary(r)).toMatch(/EVM: the fast EVM \(tiered\) executed 11 blocks, @ethereumjs\/evm 0\n/)
  }, 300_000)

  test('behavior: profiled (--opcodes) on both engines: verified, the per-tx roots a region of the profile ("state roots in execution")', async () => {
    const r = await replayPreByzantium({ engines: ['baseline', 'mega'], baseline: { evm: 'fast' }, mega: { ...DEFAULT_MEGA_SETTINGS, evm: 'fast' }, opcodes: true })
    expect(r.verification.failed).toEqual([])
    for (const name of ['baseline', 'mega']) {
      const e = r.engines.find((x) => x.name === name && x.opcodes !== null)!
      expectAllFast(e)
      expect(e.opcodes!.coverage.stateRootsMs, name).toBeGreaterThan(0)
      expect(e.opcodes!.coverage.opcodesMs, name).toBeGreaterThan(0)
    }
  }, 300_000)
})
