import { readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

import { afterAll, describe, expect, test } from 'vitest'

import { findClinic } from '../src/run/clinic.js'
import { runCli } from './helpers/cli.js'
import { FIXTURES_DIR, tempDir } from './helpers/fixtures.js'

const TWO = [join(FIXTURES_DIR, 'mainnet-116524.json'), join(FIXTURES_DIR, 'mainnet-2675000.json')]

const dirs: string[] = []
const newDir = async () => {
  const d = await tempDir()
  dirs.push(d)
  return d
}
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true })
})

describe('megabench replay --shard / --profile, merge, gate (CLI)', () => {
  test('shards with a CPU profile, merged, gated; exit codes 0 / 1 / 2', async () => {
    const dir = await newDir()
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
    // Default policy: 1 run and 2 paired blocks are too few for timings.
    const insufficient = await runCli(gateArgs(join(merged, 'run.json')), { env: { GITHUB_STEP_SUMMARY: summary } })
    expect(insufficient.code).toBe(2)
    expect(insufficient.stdout).toContain('INSUFFICIENT DATA')
    expect(await readFile(summary, 'utf8')).toContain('INSUFFICIENT DATA')
    expect(JSON.parse(await readFile(verdict, 'utf8'))).toMatchObject({ format: 'megabench-gate-v2', status: 'insufficient-data', exitCode: 2 })
    const policy = join(dir, 'policy.json')
    await writeFile(policy, JSON.stringify({ timings: { enabled: false } }))
    expect((await runCli(gateArgs(join(merged, 'run.json'), '--policy', policy))).code).toBe(0)
    run.engines[0].blocks[0].gasUsed += 1
    await writeFile(join(dir, 'changed.json'), JSON.stringify(run))
    const changed = await runCli(gateArgs(join(dir, 'changed.json'), '--policy', policy))
    expect(changed.code).toBe(1)
    expect(changed.stdout).toContain('block.gasUsed')
    // Runs over other blocks (shard 2 only) are refused: exit 2, one line naming the blocks.
    const other = await runCli(gateArgs(join(s2, 'run.json'), '--policy', policy))
    expect(other.code).toBe(2)
    expect(other.stderr.trim().split('\n')).toEqual([expect.stringMatching(/not comparable.*different blocks: 1 only in the baseline \(mainnet-116524\.json#116524:0x/)])
    // So is a run.json of another schema version.
    await writeFile(join(dir, 'v2.json'), JSON.stringify({ ...run, schemaVersion: 2 }))
    const old = await runCli(gateArgs(join(dir, 'v2.json')))
    expect(old.code).toBe(2)
    expect(old.stderr.trim().split('\n')).toEqual([expect.stringMatching(/schema version 2: this megabench reads version \d+/)])
    const bad = await runCli(gateArgs(join(dir, 'nope.json')))
    expect(bad.code).toBe(2)
    expect(bad.stderr.trim().split('\n')).toHaveLength(1)
    await writeFile(policy, JSON.stringify({ timings: { floor: 1 } }))
    const badPolicy = await runCli(gateArgs(join(merged, 'run.json'), '--policy', policy))
    expect(badPolicy.code).toBe(2)
    expect(badPolicy.stderr).toMatch(/invalid gate policy/)
  })

  test('inconclusive: exit 3 (not a pass); the help lists the exit codes', async () => {
    const dir = await newDir()
    const r = await runCli(['replay', '--fixtures', ...TWO, '--no-report', '--out', join(dir, 'r')])
    expect(r.code).toBe(0)
    const run = JSON.parse(await readFile(join(dir, 'r', 'run.json'), 'utf8'))
    // 4 runs per side of 20 synthetic blocks; one run per side 40% slower (a busy machine): the interval straddles the floor.
    const write = async (name: string, factors: number[]) => {
      const files: string[] = []
      for (const [i, f] of factors.entries()) {
        const x = structuredClone(run)
        x.createdAt = `2026-01-01T00:00:0${i}.000Z`
        x.engines[0].blocks = Array.from({ length: 20 }, (_, k) => ({ ...run.engines[0].blocks[k % 2], number: 100 + k, hash: `0x${k}`, totalMs: (3 + (k % 5)) * f }))
        const file = join(dir, `${name}-${i}.json`)
        await writeFile(file, JSON.stringify(x))
        files.push(file)
      }
      return files
    }
    const baseline = await write('b', [1, 1.4, 1, 1.01])
    const current = await write('c', [1.01, 1, 1.4, 1])
    const policy = join(dir, 'policy.json')
    await writeFile(policy, JSON.stringify({ counters: { enabled: false } }))
    const g = await runCli(['gate', '--baseline', ...baseline, '--current', ...current, '--policy', policy, '--out', join(dir, 'v.json')])
    expect(g.stderr).toBe('')
    expect(g.code).toBe(3)
    expect(g.stdout).toContain('INCONCLUSIVE (exit 3)')
    expect(JSON.parse(await readFile(join(dir, 'v.json'), 'utf8'))).toMatchObject({ status: 'inconclusive', exitCode: 3, timings: [{ runs: { baseline: 4, current: 4 }, pairs: 20, call: 'inconclusive' }] })
    for (const cmd of ['gate', 'compare']) {
      const help = await runCli([cmd, '--help'])
      expect(help.stdout).toMatch(/Exit codes:\n\s+0\s+pass[\s\S]*\n\s+1\s+regression[\s\S]*\n\s+2\s+error or refusal[\s\S]*\n\s+3\s+inconclusive/)
    }
  })

  test.skipIf(findClinic() !== null)('--profile clinic-flame without clinic says so in one line (exit 2)', async () => {
    const dir = await newDir()
    const r = await runCli(['replay', '--fixtures', TWO[0]!, '--profile', 'clinic-flame', '--out', join(dir, 'x')])
    expect(r.code).toBe(2)
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/clinic is not installed.*--profile cpu/)])
  })
})
