import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

import { describe, expect, test } from 'vitest'

import { findClinic } from '../src/run/clinic.js'
import { runCli } from './helpers/cli.js'
import { FIXTURES_DIR, tempDir } from './helpers/fixtures.js'

const TWO = [join(FIXTURES_DIR, 'mainnet-116524.json'), join(FIXTURES_DIR, 'mainnet-2675000.json')]

describe('megabench replay --shard / --profile, merge, gate (CLI)', () => {
  test('shards with a CPU profile, merged, gated; exit codes 0 / 1 / 2', async () => {
    const dir = await tempDir()
    const s1 = join(dir, 's1')
    const s2 = join(dir, 's2')
    const r1 = await runCli(['replay', '--fixtures', ...TWO, '--shard', '1/2', '--profile', 'cpu', '--out', s1])
    expect(r1.stderr).toBe('')
    expect(r1.code).toBe(0)
    const r2 = await runCli(['replay', '--fixtures', ...TWO, '--shard', '2/2', '--no-report', '--out', s2])
    expect(r2.code).toBe(0)

    // The CPU profile parses and holds the replay's own functions.
    const profile = JSON.parse(await readFile(join(s1, 'replay.cpuprofile'), 'utf8')) as { nodes: { callFrame: { functionName: string; url: string } }[]; samples: number[] }
    expect(profile.samples.length).toBeGreaterThan(10)
    const ours = new Set(profile.nodes.filter((n) => n.callFrame.url.includes('/dist/')).map((n) => n.callFrame.functionName))
    expect(ours.has('runUnit')).toBe(true)
    expect([...ours].some((f) => ['executeBlock', 'runTransactions', 'finish', 'persist', 'getStateRoot'].includes(f))).toBe(true)
    const html = await readFile(join(s1, 'report.html'), 'utf8')
    expect(html).toContain('id="cpu-profile"')
    expect(html).toContain('data-chart="flame"')
    expect(html).toMatch(/runUnit/)
    // `megabench report` on the run directory finds the profile too.
    const rep = await runCli(['report', s1, '--out', join(dir, 'again.html')])
    expect(rep.code).toBe(0)
    expect(await readFile(join(dir, 'again.html'), 'utf8')).toContain('data-chart="flame"')

    const merged = join(dir, 'merged')
    const m = await runCli(['merge', s2, s1, '--out', merged])
    expect(m.code).toBe(0)
    const run = JSON.parse(await readFile(join(merged, 'run.json'), 'utf8'))
    expect(run.engines[0].blocks.map((b: { number: number }) => b.number)).toEqual([116524, 2675000])

    const summary = join(dir, 'summary.md')
    const verdict = join(dir, 'verdict.json')
    const gateArgs = (current: string, ...extra: string[]) => ['gate', '--baseline', join(merged, 'run.json'), '--current', current, '--out', verdict, '--force', ...extra]
    // Default policy: 2 paired blocks are too few for timings.
    const insufficient = await runCli(gateArgs(join(merged, 'run.json')), { env: { GITHUB_STEP_SUMMARY: summary } })
    expect(insufficient.code).toBe(2)
    expect(insufficient.stdout).toContain('INSUFFICIENT DATA')
    expect(await readFile(summary, 'utf8')).toContain('INSUFFICIENT DATA')
    expect(JSON.parse(await readFile(verdict, 'utf8'))).toMatchObject({ format: 'megabench-gate-v1', status: 'insufficient-data', exitCode: 2 })
    const policy = join(dir, 'policy.json')
    await writeFile(policy, JSON.stringify({ timings: { enabled: false } }))
    expect((await runCli(gateArgs(join(merged, 'run.json'), '--policy', policy))).code).toBe(0)
    run.engines[0].blocks[0].gasUsed += 1
    await writeFile(join(dir, 'changed.json'), JSON.stringify(run))
    const changed = await runCli(gateArgs(join(dir, 'changed.json'), '--policy', policy))
    expect(changed.code).toBe(1)
    expect(changed.stdout).toContain('block.gasUsed')
    const bad = await runCli(gateArgs(join(dir, 'nope.json')))
    expect(bad.code).toBe(2)
    expect(bad.stderr.trim().split('\n')).toHaveLength(1)
    await writeFile(policy, JSON.stringify({ timings: { floor: 1 } }))
    const badPolicy = await runCli(gateArgs(join(merged, 'run.json'), '--policy', policy))
    expect(badPolicy.code).toBe(2)
    expect(badPolicy.stderr).toMatch(/invalid gate policy/)
  })

  test.skipIf(findClinic() !== null)('--profile clinic-flame without clinic says so in one line (exit 2)', async () => {
    const dir = await tempDir()
    const r = await runCli(['replay', '--fixtures', TWO[0]!, '--profile', 'clinic-flame', '--out', join(dir, 'x')])
    expect(r.code).toBe(2)
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/clinic is not installed.*--profile cpu/)])
  })
})
