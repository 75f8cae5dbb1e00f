import { join } from 'node:path'

import { describe, expect, test } from 'vitest'

import { runConformance } from '../src/conformance/index.js'

/**
 * The bundled EEST subset (fixtures/eest: one or more small files per EIP folder of Prague and Osaka,
 * from the shared eest-fixtures; see fixtures/eest/PROVENANCE.txt) on both EVMs: EIP-7702 set-code
 * transactions, EIP-2935, the EIP-7685 requests (6110, 7002, 7251), the calldata floor, BLS12-381,
 * P256VERIFY, MODEXP bounds and pricing, CLZ, the gas cap, blobs per transaction and the blob reserve
 * price (BPO transitions). The fast EVM runs every block itself (the conformance runner has no
 * fallback), so a pass there is the fast EVM's.
 */
const EEST = join(import.meta.dirname, '..', 'fixtures', 'eest')

describe('EEST (Prague, Osaka, BPO) on the fast EVM and on @ethereumjs', () => {
  test('default: every bundled test passes on both EVMs, and no outcome differs', async () => {
    const run = await runConformance({ paths: [EEST], evms: ['fast', 'ethereumjs'], workers: 0 })
    // Every EIP folder of the source is represented.
    expect(run.folders.length).toBe(15)
    expect(run.results.length).toBeGreaterThanOrEqual(150)
    const skipped = run.results.filter((r) => r.outcomes.fast?.status === 'skip')
    // BPO2ToBPO3 variants (a fork megabench does not run) are the only skips.
    expect(new Set(skipped.map((r) => (r.outcomes.fast as { reason: string }).reason))).toEqual(new Set(skipped.length === 0 ? [] : ['fork BPO3 not supported']))
    const notPass = run.results.filter((r) => r.outcomes.fast?.status !== 'skip' && (r.outcomes.fast?.status !== 'pass' || r.outcomes.ethereumjs?.status !== 'pass'))
    expect(notPass.map((r) => `${r.file} ${r.test}: fast ${JSON.stringify(r.outcomes.fast)}, ethereumjs ${JSON.stringify(r.outcomes.ethereumjs)}`)).toEqual([])
    expect(run.results.filter((r) => r.outcomes.fast?.status !== r.outcomes.ethereumjs?.status)).toEqual([])
  }, 120_000)

  test('default: every basic block compiled (the compiled tier) passes the same tests', async () => {
    const run = await runConformance({ paths: [EEST], evms: ['fast'], evmTier: 'compiled', workers: 0 })
    expect(run.results.filter((r) => r.outcomes.fast?.status !== 'pass' && r.outcomes.fast?.status !== 'skip').map((r) => `${r.file} ${r.test}: ${JSON.stringify(r.outcomes.fast)}`)).toEqual([])
  }, 60_000)
})
