import { existsSync } from 'node:fs'
import { join } from 'node:path'

import { beforeAll, describe, expect, test } from 'vitest'

import { countByFolder, listTestFiles, runTestFiles } from '../src/evm/conformance.js'
import { initKeccak } from '../src/util/keccak.js'

const ROOT = join(import.meta.dirname, '..')
const BUNDLED = join(ROOT, 'fixtures', 'ethereum-tests')
const SHARED = join(ROOT, '..', 'shared', 'data')
const FULL = process.env.MEGABENCH_CONFORMANCE === 'full'

beforeAll(initKeccak)

describe('BlockchainTests on the fast EVM and on @ethereumjs', () => {
  test('bundled subset: every test passes on both engines', async () => {
    const results = await runTestFiles(BUNDLED, listTestFiles(BUNDLED), { baseline: true })
    const counts = countByFolder(results)
    console.table(counts)
    expect(results.length).toBeGreaterThanOrEqual(40)
    const failed = results.filter((r) => r.fast.status !== 'pass' || r.ethereumjs?.status !== 'pass')
    expect(failed.map((r) => `${r.file} ${r.name}: fast ${JSON.stringify(r.fast)}, ethereumjs ${JSON.stringify(r.ethereumjs)}`)).toEqual([])
  })

  // Opt-in (long): MEGABENCH_CONFORMANCE=full npx vitest run test/evmConformance.test.ts
  test.skipIf(!FULL || !existsSync(SHARED))('full shared set: every test the baseline passes passes on the fast EVM', async () => {
    const all = []
    for (const dir of ['ethereum-tests/BlockchainTests', 'ethereum-legacytests/Constantinople/BlockchainTests']) {
      const root = join(SHARED, dir)
      all.push(...(await runTestFiles(root, listTestFiles(root), { baseline: true })).map((r) => ({ ...r, folder: `${dir.split('/')[0]}/${r.folder}` })))
    }
    console.table(countByFolder(all))
    const regressions = all.filter((r) => r.ethereumjs?.status === 'pass' && r.fast.status !== 'pass')
    expect(regressions.map((r) => `${r.folder} ${r.name}: ${JSON.stringify(r.fast)}`)).toEqual([])
  }, 24 * 3600_000)
})
