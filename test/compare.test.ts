import { readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'

import { afterAll, describe, expect, test } from 'vitest'

import { resolvePolicy } from '../src/gate/policy.js'
import { COMPARE_DEFAULTS } from '../src/run/compare.js'
import { DEFAULT_FIXTURES, PACKAGE_ROOT } from '../src/run/environment.js'
import { replay } from '../src/run/replay.js'
import { createChainSource } from '../src/sources/chain.js'
import { createFixtureSource } from '../src/sources/fixtures.js'
import { runCli } from './helpers/cli.js'
import { tempDir } from './helpers/fixtures.js'

const dirs: string[] = []
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true })
})

const policy = resolvePolicy({})

describe('megabench compare', () => {
  // Both versions are this checkout: an A/A comparison of a bundled chain, in fresh processes.
  test('two versions on a bundled chain: the protocol order, every block paired over minRuns runs, a verdict with its exit code', async () => {
    const dir = await tempDir()
    dirs.push(dir)
    const out = join(dir, 'cmp')
    const r = await runCli(['compare', '--a', PACKAGE_ROOT, '--b', PACKAGE_ROOT, '--chain', join(PACKAGE_ROOT, 'fixtures', 'chains', 'erc20-transfer'), '--repeat', String(policy.timings.minRuns), '--warmup', '1', '--out', out, '--json'])
    const verdict = JSON.parse(await readFile(join(out, 'gate-verdict.json'), 'utf8'))
    expect(r.code).toBe(verdict.exitCode)
    expect(verdict.compare.order).toEqual(['a(warm-up)', 'b(warm-up)', 'a', 'b', 'b', 'a', 'a', 'b', 'b', 'a'])
    expect(verdict.counters.changed).toEqual([])
    expect(verdict.timings[0]).toMatchObject({ metric: 'total', pairs: 10, excluded: 0, runs: { baseline: 4, current: 4 } })
    expect(verdict.timings[0].call).not.toBe('insufficient-data')
    expect(['pass', 'inconclusive', 'regression']).toContain(verdict.status)
    expect(await readFile(join(out, 'gate.md'), 'utf8')).toMatch(/in the order a\(warm-up\) b\(warm-up\) a b b a a b b a/)
  }, 120_000)

  // What compare replays without a source (this checkout's fixtures/mainnet), and the sources of the
  // README's compare examples, with their --repeat (or compare's default): enough runs and blocks for a call.
  test('the default source and the README examples reach minPairs and minRuns', async () => {
    const readme = await readFile(join(PACKAGE_ROOT, 'README.md'), 'utf8')
    const examples = [...readme.matchAll(/megabench compare (--a [^\n]*)/g)].map((m) => m[1]!.split(/\s+/))
    expect(examples.length).toBeGreaterThanOrEqual(2)
    const sources = new Map<string, number>([['default', COMPARE_DEFAULTS.repeat]])
    for (const args of examples) {
      const i = args.indexOf('--repeat')
      const repeat = i >= 0 ? Number(args[i + 1]) : COMPARE_DEFAULTS.repeat
      const chain = args.indexOf('--chain')
      const key = chain >= 0 ? args[chain + 1]! : 'default'
      sources.set(key, Math.min(repeat, sources.get(key) ?? repeat))
    }
    for (const [key, repeat] of sources) {
      const run =
        key === 'default'
          ? await replay({ source: await createFixtureSource({ paths: [DEFAULT_FIXTURES] }), sourcePaths: [DEFAULT_FIXTURES] })
          : await replay({ source: await createChainSource({ dir: join(PACKAGE_ROOT, key) }), sourcePaths: [join(PACKAGE_ROOT, key)] })
      const paired = run.engines[0]!.blocks.filter((b) => b.verified && b.totalMs >= policy.timings.minBlockMs).length
      expect({ source: key, paired: paired >= policy.timings.minPairs, runs: repeat >= policy.timings.minRuns }).toEqual({ source: key, paired: true, runs: true })
    }
  }, 120_000)
})
