import { existsSync } from 'node:fs'
import { join } from 'node:path'

import { describe, expect, test } from 'vitest'

import { runConformance } from '../src/conformance/index.js'
import { compilerStats } from '../src/evm/compiler.js'

const ROOT = join(import.meta.dirname, '..')
const BUNDLED = join(ROOT, 'fixtures', 'ethereum-tests')
const SHARED = join(ROOT, '..', 'shared', 'data')
const FULL = process.env.MEGABENCH_CONFORMANCE === 'full'

describe('BlockchainTests on the fast EVM and on @ethereumjs', () => {
  test('bundled subset: every test passes on both EVMs', async () => {
    const run = await runConformance({ paths: [BUNDLED], evms: ['fast', 'ethereumjs'], workers: 0 })
    console.table(run.folders.map((f) => ({ folder: f.folder, fast: f.counts.fast?.pass, ethereumjs: f.counts.ethereumjs?.pass })))
    expect(run.results.length).toBeGreaterThanOrEqual(70)
    const failed = run.results.filter((r) => r.outcomes.fast?.status !== 'pass' || r.outcomes.ethereumjs?.status !== 'pass')
    expect(failed.map((r) => `${r.file} ${r.test}: fast ${JSON.stringify(r.outcomes.fast)}, ethereumjs ${JSON.stringify(r.outcomes.ethereumjs)}`)).toEqual([])
  })

  test('bundled subset on every tier of the fast EVM: the interpreter alone, every block compiled, tiered', async () => {
    for (const evmTier of ['interpreter', 'compiled', 'tiered'] as const) {
      const compiled = compilerStats.blocksCompiled
      const run = await runConformance({ paths: [BUNDLED], evms: ['fast'], evmTier, workers: 0 })
      expect(run.results.length).toBeGreaterThanOrEqual(70)
      expect(run.results.filter((r) => r.outcomes.fast?.status !== 'pass').map((r) => `${evmTier}: ${r.file} ${r.test}: ${JSON.stringify(r.outcomes.fast)}`)).toEqual([])
      if (evmTier === 'interpreter') expect(compilerStats.blocksCompiled).toBe(compiled)
      if (evmTier === 'compiled') expect(compilerStats.blocksCompiled - compiled).toBeGreaterThan(100)
    }
  })

  // Opt-in (long; `megabench conformance` is the tool for it): MEGABENCH_CONFORMANCE=full npx vitest run test/evmConformance.test.ts
  test.skipIf(!FULL || !existsSync(SHARED))('full shared set: no test the baseline passes fails on the fast EVM', async () => {
    const paths = ['ethereum-tests', 'ethereum-legacytests', 'eest-fixtures'].map((d) => join(SHARED, d))
    const run = await runConformance({ paths, evms: ['fast', 'ethereumjs'], timeoutMs: 60_000 })
    const regressions = run.results.filter((r) => r.outcomes.ethereumjs?.status === 'pass' && r.outcomes.fast?.status !== 'pass')
    expect(regressions.map((r) => `${r.file} ${r.test}: ${JSON.stringify(r.outcomes.fast)}`)).toEqual([])
  }, 3600_000)
})
