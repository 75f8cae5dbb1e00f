import { join } from 'node:path'

import { describe, expect, test } from 'vitest'

import { renderMarkdown } from '../src/report/markdown.js'
import { tierSentence } from '../src/run/conditions.js'
import { DEFAULT_MEGA_SETTINGS, replay } from '../src/run/replay.js'
import { formatSummary } from '../src/output/summary.js'
import { createChainSource } from '../src/sources/chain.js'

// What changes from one pass to the next: the fast EVM's tiers, and the garbage collections between passes.
// Its own file: the fast EVM's compiled code is cached per process (by code hash), and this file's first
// replay must be the first to compile the chain's contracts.
const CHAIN = join(import.meta.dirname, '..', 'fixtures', 'chains', 'erc20-transfer')

const run = async (warmup: number, evm: 'fast' | 'ethereumjs') =>
  replay({
    source: await createChainSource({ dir: CHAIN }),
    sourcePaths: [CHAIN],
    engines: ['mega'],
    modes: ['historical'],
    mega: { ...DEFAULT_MEGA_SETTINGS, evm, evmTier: 'compiled' },
    warmup,
    repeat: 2,
  })

describe('the fast EVM tiers across passes (run.json repeats.compiled)', () => {
  test('behavior: a measured pass that compiles is recorded per pass and said in the summary and the report; warm passes that compile nothing say nothing', async () => {
    // No warm-up: the first measured pass compiles every block it enters, the second none.
    const cold = await run(0, 'fast')
    const e = cold.engines[0]!
    expect(e.totals.verifiedBlocks).toBe(e.totals.blocks)
    const c = e.repeats.compiled!
    expect(c.warmupBlocks).toBe(0)
    expect(c.blocks).toHaveLength(2)
    expect(c.blocks[0]).toBeGreaterThan(0)
    expect(c.blocks[1]).toBe(0)
    expect(c.ms[0]).toBeGreaterThan(0)
    const sentence = tierSentence(e)!
    expect(sentence).toContain(`compiled ${c.blocks[0]} basic blocks during the measured passes (per pass in the order run: ${c.blocks[0]}, 0;`)
    expect(sentence).toContain('after 0 in the warm-up')
    expect(formatSummary(cold, {})).toContain(sentence)
    expect(renderMarkdown([{ label: 'cold', result: cold }], [])).toContain(sentence)

    // The same code again, after a warm-up: nothing is left to compile (the cache is the process's), nothing is said.
    const warm = await run(1, 'fast')
    const w = warm.engines[0]!
    expect(w.repeats.compiled).toEqual({ warmupBlocks: 0, blocks: [0, 0], ms: [0, 0] })
    expect(tierSentence(w)).toBeUndefined()
    expect(formatSummary(warm, {})).not.toContain('tiers changed while measuring')
  }, 120_000)

  test('behavior: an @ethereumjs variant records no tiers', async () => {
    const r = await run(0, 'ethereumjs')
    expect(r.engines[0]!.repeats.compiled).toBeUndefined()
    expect(tierSentence(r.engines[0]!)).toBeUndefined()
  }, 120_000)
})

describe('garbage collection between passes (protocol collectGarbage)', () => {
  test('behavior: one full collection before the first pass, young ones before later passes; the mega engine measures held memory (between full collections) on its first load only', async () => {
    const { gcCounts } = await import('../src/protocol/index.js')
    const before = { ...gcCounts }
    const r = await run(1, 'fast') // a warm-up pass and 2 measured passes of one mega variant
    // The replay: full before pass 1, young before passes 2 and 3; the engine: full before and after its first load.
    expect(gcCounts.full - before.full).toBe(1 + 2)
    expect(gcCounts.young - before.young).toBe(2)
    // Each of the engine's two readings settles: at least one more full collection a macrotask later, at most six.
    const rounds = gcCounts.settleRounds - before.settleRounds
    expect(rounds).toBeGreaterThanOrEqual(2)
    expect(rounds).toBeLessThanOrEqual(12)
    const m = r.engines[0]!.mega!.memory!
    expect(m.bytes).toBeGreaterThan(0)
  }, 120_000)

  test('behavior: a settled reading does not count garbage that was dropped before it, on or off the heap', async () => {
    const { settledHeldBytes } = await import('../src/protocol/index.js')
    const base = await settledHeldBytes()
    let garbage: Uint8Array[] | null = Array.from({ length: 64 }, () => new Uint8Array(1 << 20).fill(1))
    let objects: unknown[] | null = Array.from({ length: 200_000 }, (_, i) => ({ i, s: `k${i}` }))
    const withGarbage = await settledHeldBytes()
    expect(withGarbage - base).toBeGreaterThan(64 << 20) // held while referenced
    expect(garbage.length + objects.length).toBeGreaterThan(0)
    garbage = null
    objects = null
    const after = await settledHeldBytes()
    expect(withGarbage - after).toBeGreaterThan(60 << 20) // 64 MiB of array buffers and the objects are gone from the reading
  }, 60_000)
})
