import { join } from 'node:path'

import { replay } from '../run/replay.js'
import { DEFAULT_FIXTURES, PACKAGE_ROOT } from '../run/environment.js'
import { createFixtureSource } from '../sources/fixtures.js'
import { splitBudget } from '../storage/memory.js'
import { type CounterSet, extractCounters } from './counters.js'

/**
 * The project's own CI gate: exact counters of the bundled mainnet fixtures replayed live on LMDB
 * with a small fixed cache budget (so that evictions, and with them cache misses, are exercised),
 * compared with the committed baseline. Timings are not gated in CI (shared machines).
 * Equivalent CLI: `megabench replay --memory 256KB` then
 * `megabench gate --baseline reports/baselines/counters.json --current <dir>/run.json --policy reports/baselines/ci-policy.json`.
 */
export const CI_BASELINE = {
  file: join(PACKAGE_ROOT, 'reports', 'baselines', 'counters.json'),
  policy: join(PACKAGE_ROOT, 'reports', 'baselines', 'ci-policy.json'),
  memoryBytes: 256 * 1024,
} as const

/** Replays the bundled fixtures as the CI baseline does and returns their counters. */
export async function ciCounters(): Promise<CounterSet> {
  const paths = [DEFAULT_FIXTURES]
  const result = await replay({
    source: await createFixtureSource({ paths }),
    sourcePaths: paths,
    storage: { kind: 'lmdb', batch: null, memory: splitBudget({ memory: CI_BASELINE.memoryBytes }) },
  })
  const counters = extractCounters(result)
  // Paths and commit differ between checkouts; the committed file names the fixtures relative to the package.
  return { ...counters, source: { ...counters.source, paths: ['fixtures/mainnet'] }, tool: { version: counters.tool.version, gitCommit: null } }
}
