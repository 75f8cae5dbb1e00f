#!/usr/bin/env node
// Regenerates the bundled chains in fixtures/chains/ (one small chain per workload) with
// `megabench generate`. Deterministic: re-running gives byte-identical files.
//
//   npm run build && node scripts/build-chain-fixtures.mjs
import { spawnSync } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
/** Small enough for tests (a few seconds of replay each), large enough to show each workload. */
export const CHAIN_FIXTURES = ['eth-transfer', 'erc20-transfer', 'uniswap-swap', 'mixed'].map((workload) => ({
  workload,
  // At cancun: the bundled chains predate generate's Prague support, and many tests depend on them.
  args: ['--accounts', '10k', '--blocks', '10', '--txs-per-block', '40', '--seed', '1', '--hardfork', 'cancun'],
}))

for (const { workload, args } of CHAIN_FIXTURES) {
  const out = join(root, 'fixtures', 'chains', workload)
  const r = spawnSync(process.execPath, [join(root, 'bin', 'megabench.js'), 'generate', workload, '--out', out, ...args], {
    stdio: 'inherit',
  })
  if (r.status !== 0) process.exit(r.status ?? 1)
}
