import { cp, readFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'

import { describe, expect, test } from 'vitest'

import { OPCODE_CSV_HEADER } from '../src/output/runFiles.js'
import { RUN_SCHEMA_VERSION, runResultSchema } from '../src/run/schema.js'
import { killedReason } from '../src/run/sweep.js'
import { sweepResultSchema } from '../src/run/sweepSchema.js'
import { runCli } from './helpers/cli.js'
import { CALLS_FIXTURE, SMALL_FIXTURE, flipLastHexDigit, tempDir, writeVariant } from './helpers/fixtures.js'

describe('megabench replay (spawned binary)', () => {
  test('default: two fixtures with --opcodes write a valid run.json, blocks.jsonl and opcodes.csv', async () => {
    const parent = await tempDir()
    const out = join(parent, 'run')
    const r = await runCli(['replay', '--fixtures', SMALL_FIXTURE, CALLS_FIXTURE, '--opcodes', '--out', out])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('verified 2/2 blocks')
    expect(r.stdout).toMatch(/throughput [\d,]+ tx\/s · [\d.]+ Mgas\/s/)
    expect(r.stdout).toContain('top 15 opcodes by exclusive time')
    expect(r.stdout).toMatch(/opcode handlers explain [\d.]+% of the execution window/)

    const run = JSON.parse(await readFile(join(out, 'run.json'), 'utf8'))
    const parsed = runResultSchema.safeParse(run)
    expect(parsed.error).toBeUndefined()
    expect(run.schemaVersion).toBe(RUN_SCHEMA_VERSION)
    expect(run.verification).toEqual({ blocks: 2, verified: 2, failed: [] })
    expect(run.engines[0].blocks.map((b: { number: number }) => b.number)).toEqual([46147, 116524])
    expect(run.engines[0].opcodes.rows.length).toBeGreaterThan(10)
    expect(run.machine.cores).toBeGreaterThan(0)

    const lines = (await readFile(join(out, 'blocks.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l))
    expect(lines.map((l) => l.block.number)).toEqual([46147, 116524])
    expect(Object.keys(lines[0].timing)).toEqual(['execution_ms', 'state_read_ms', 'state_hash_ms', 'commit_ms', 'total_ms'])

    const csv = (await readFile(join(out, 'opcodes.csv'), 'utf8')).trim().split('\n')
    expect(csv[0]).toBe(OPCODE_CSV_HEADER.join(','))
    expect(csv.length).toBe(run.engines[0].opcodes.rows.length + 1)
    expect(await readdir(parent)).toEqual(['run'])
    expect((await readdir(out)).sort()).toEqual(['.megabench-output', 'blocks.jsonl', 'opcodes.csv', 'report.html', 'run.json'])
    expect(await readFile(join(out, 'report.html'), 'utf8')).toContain('<figure class="chart" data-chart="pareto">')
  })

  test('behavior: --json prints the run result on stdout', async () => {
    const out = join(await tempDir(), 'run')
    const r = await runCli(['replay', '--fixtures', SMALL_FIXTURE, '--json', '--out', out])
    expect(r.code).toBe(0)
    const run = JSON.parse(r.stdout)
    expect(runResultSchema.safeParse(run).success).toBe(true)
    expect(run.engines[0].opcodes).toBeNull()
  })

  test('behavior: a block that does not verify exits 1 with expected and computed values', async () => {
    const dir = await tempDir()
    const bad = await writeVariant(dir, 'flipped.json', (j) => {
      j.expected.stateRoot = flipLastHexDigit(j.expected.stateRoot)
    })
    const r = await runCli(['replay', '--fixtures', bad, '--out', join(dir, 'run')])
    expect(r.code).toBe(1)
    expect(r.stdout).toContain('VERIFICATION FAILED: 1 of 1 blocks do not reproduce their header')
    expect(r.stdout).toContain('stateRoot')
    expect(r.stdout).toContain('throughput 0 tx/s')
    const run = JSON.parse(await readFile(join(dir, 'run', 'run.json'), 'utf8'))
    expect(run.verification.failed.map((f: { field: string }) => f.field)).toEqual(['stateRoot', 'expected.stateRoot'])
  })

  test('behavior: bad input exits 2 with one line naming the file, and leaves no report directory', async () => {
    const dir = await tempDir()
    const text = await readFile(SMALL_FIXTURE, 'utf8')
    const truncated = join(dir, 'truncated.json')
    await (await import('node:fs/promises')).writeFile(truncated, text.slice(0, 5000))
    const out = join(dir, 'out', 'run')
    const r = await runCli(['replay', '--fixtures', SMALL_FIXTURE, truncated, '--out', out])
    expect(r.code).toBe(2)
    expect(r.stdout).toBe('')
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1)
    expect(r.stderr).toMatch(new RegExp(`^megabench: ${truncated}: not valid JSON, truncated or corrupt`))
    expect(await readdir(dir)).toEqual(['truncated.json'])
  })

  test('behavior: a missing path and an unknown option exit 2', async () => {
    const r = await runCli(['replay', '--fixtures', '/nonexistent/dir'])
    expect(r.code).toBe(2)
    expect(r.stderr).toBe('megabench: /nonexistent/dir: no such file or directory\n')
    const u = await runCli(['replay', '--frobnicate'])
    expect(u.code).toBe(2)
    expect(u.stderr).toContain("unknown option '--frobnicate'")
  })
})

describe('megabench generate and replay --chain (spawned binary)', () => {
  test('default: generate writes a chain directory that replay --chain verifies', async () => {
    const dir = join(await tempDir(), 'chain')
    const g = await runCli(['generate', 'erc20-transfer', '--out', dir, '--accounts', '1k', '--blocks', '2', '--txs-per-block', '5'])
    expect(g.stderr).toBe('')
    expect(g.code).toBe(0)
    expect(g.stdout).toContain('megabench generate · erc20-transfer')
    expect(g.stdout).toMatch(/blocks 1…2: 10 txs/)
    const r = await runCli(['replay', '--chain', dir, '--json', '--out', join(dir, '..', 'run')])
    expect(r.code).toBe(0)
    const run = JSON.parse(r.stdout)
    expect(run.verification).toEqual({ blocks: 2, verified: 2, failed: [] })
    expect(run.config.source).toMatchObject({ kind: 'chain', paths: [dir], from: 1, to: 2 })
  })

  test('behavior: impossible options exit 2 with one line', async () => {
    const r = await runCli(['generate', 'uniswap-swap', '--out', '/tmp/never', '--txs-per-block', '1000'])
    expect(r.code).toBe(2)
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1)
    expect(r.stderr).toMatch(/^megabench: --txs-per-block 1000 needs up to/)
    const both = await runCli(['replay', '--chain', 'x', '--fixtures', 'y'])
    expect(both.stderr).toBe('megabench: give --fixtures or --chain, not both\n')
  })
})

describe('LMDB storage through the CLI (spawned binary)', () => {
  const MIXED = join(import.meta.dirname, '..', 'fixtures', 'chains', 'mixed')

  test('behavior: a replay killed inside a live commit leaves a DB that reopens at the last committed block and resumes', async () => {
    const root = await tempDir()
    const chain = join(root, 'chain')
    await cp(MIXED, chain, { recursive: true })
    const db = join(root, 'db')
    // No warm-up pass: the fault counts commits from the process start.
    const killed = await runCli(['replay', '--chain', chain, '--db', db, '--warmup', '0', '--out', join(root, 'r1')], {
      env: { MEGABENCH_FAULT_KILL_IN_COMMIT: '6' },
    })
    expect(killed.signal).toBe('SIGKILL')
    expect((await readdir(root)).sort()).toEqual(['chain', 'db']) // no half-written report
    const resumed = await runCli(['replay', '--chain', chain, '--db', db, '--json', '--out', join(root, 'r2')])
    expect(resumed.code).toBe(0)
    const run = JSON.parse(resumed.stdout)
    expect(run.engines[0].blocks.map((b: { number: number }) => b.number)).toEqual([6, 7, 8, 9, 10])
    expect(run.engines[0].storage.import.resumedAt).toBe(5)
    expect(run.verification).toEqual({ blocks: 5, verified: 5, failed: [] })
  })

  test('default: sweep runs one process per limit and writes sweep.json with the curves', async () => {
    const out = join(await tempDir(), 'sweep')
    const r = await runCli(['sweep', '--memory', '32KB,4MB', '--chain', join(import.meta.dirname, '..', 'fixtures', 'chains', 'eth-transfer'), '--json', '--out', out])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const sweep = sweepResultSchema.parse(JSON.parse(await readFile(join(out, 'sweep.json'), 'utf8')))
    expect(sweep.points.map((p) => p.memoryBytes)).toEqual([32 * 1024, 4 * 1024 * 1024])
    expect(sweep.points.every((p) => p.runs.length === 1 && p.runs[0]!.verified)).toBe(true)
    expect(sweep.points[0]!.median.l1MissRatio).toBeGreaterThan(sweep.points[1]!.median.l1MissRatio)
    expect(await readdir(join(out, 'runs'))).toHaveLength(2)
  })

  test('behavior: --cgroup enforces --memory where a memory cgroup is writable, and otherwise says why', async () => {
    const r = await runCli(['replay', '--fixtures', SMALL_FIXTURE, '--memory', '256MB', '--cgroup', '--json', '--out', join(await tempDir(), 'run')])
    expect(r.code).toBe(0)
    expect(r.stderr).toMatch(/^megabench: --cgroup: (this process now runs in \S+ \(cgroup v[12]\); from the first block on, its memory is limited to|not enforced \()/)
    const none = await runCli(['replay', '--fixtures', SMALL_FIXTURE, '--cgroup'])
    expect(none.code).toBe(2)
    expect(none.stderr).toBe('megabench: --cgroup needs --memory (the limit to enforce)\n')
    const headroomAlone = await runCli(['replay', '--fixtures', SMALL_FIXTURE, '--memory', '1MB', '--cgroup-headroom', '8MB'])
    expect(headroomAlone.code).toBe(2)
    expect(headroomAlone.stderr).toBe('megabench: --cgroup-headroom applies to --cgroup\n')
  })

  test('behavior: --cgroup records its binding per run: a limit re-set before blocks, major page faults counted', async () => {
    const out = join(await tempDir(), 'run')
    const r = await runCli(['replay', '--chain', MIXED, '--memory', '1MB', '--cgroup', '--cgroup-headroom', '24MB', '--json', '--out', out])
    expect(r.code).toBe(0)
    const run = runResultSchema.parse(JSON.parse(r.stdout))
    const binding = run.engines[0]!.storage!.binding
    if (r.stderr.includes('not enforced')) {
      expect(binding).toBeUndefined() // this machine gives no memory cgroup: the run says so and claims no binding
      return
    }
    expect(binding).toMatchObject({ kind: 'cgroup', budgetBytes: 1024 * 1024, headroomBytes: 24 * 1024 * 1024, refused: 0 })
    if (binding?.kind !== 'cgroup') throw new Error('unreachable')
    expect(binding.updates).toBeGreaterThan(1)
    // Between blocks the watcher thread re-limits too (every 20 ms while the process allocates).
    expect(binding.updates).toBeGreaterThan(run.engines[0]!.totals.blocks)
    expect(binding.limitMinBytes).toBeGreaterThanOrEqual(binding.budgetBytes + binding.headroomBytes)
    expect(binding.limitMaxBytes).toBeGreaterThanOrEqual(binding.limitMinBytes)
    expect(Number.isInteger(binding.majorFaults) && binding.majorFaults >= 0).toBe(true)
    expect(r.stderr).toMatch(/\+ --memory \+ 24\.0 MiB headroom .*updated before every block and every 20 ms by a watcher thread/)
  })

  test('behavior: --miss-latency is a declared disk model: modelled totals beside unchanged measured ones', async () => {
    const out = join(await tempDir(), 'run')
    const r = await runCli(['replay', '--chain', MIXED, '--memory', '64KB', '--miss-latency', '250', '--no-report', '--out', out])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/MODELLED disk \(declared 250\.0 µs per level-2 miss\): [\d,]+ misses/)
    const run = runResultSchema.parse(JSON.parse(await readFile(join(out, 'run.json'), 'utf8')))
    const e = run.engines[0]!
    const st = e.storage!
    const b = st.binding
    if (b?.kind !== 'model') throw new Error(`expected a model binding, got ${JSON.stringify(b)}`)
    const misses = st.missPenalty.execution.count + st.missPenalty.merkleization.count
    expect(misses).toBeGreaterThan(0)
    expect(b.misses).toBe(misses)
    expect(b.missLatencyNs).toBe(250_000)
    expect(b.modelledMs).toBeCloseTo((misses * 250_000) / 1e6, 6)
    expect(b.measuredMs).toBeCloseTo(st.missPenalty.execution.totalMs + st.missPenalty.merkleization.totalMs, 6)
    expect(b.modelledProcessingMs).toBeCloseTo(e.totals.processingMs - b.measuredMs + b.modelledMs, 6)
    expect(b.modelledTxPerSec).toBeCloseTo((e.totals.txs * 1000) / b.modelledProcessingMs, 6)
    for (const [args, msg] of [
      [['--storage', 'memory', '--miss-latency', '18'], '--miss-latency applies to --storage lmdb'],
      [['--memory', '1MB', '--cgroup', '--miss-latency', '18'], 'give --cgroup (bind the real page cache) or --miss-latency (a declared disk model), not both'],
      [['--miss-latency', '-1'], '--miss-latency must be a number of µs >= 0 (got -1)'],
    ] as const) {
      const bad = await runCli(['replay', '--chain', MIXED, ...args])
      expect(bad.code).toBe(2)
      expect(bad.stderr).toBe(`megabench: ${msg}\n`)
    }
  })

  test('behavior: sweep --bind model draws MODELLED totals; --bind is checked before any run', async () => {
    const out = join(await tempDir(), 'sweep')
    const chain = join(import.meta.dirname, '..', 'fixtures', 'chains', 'eth-transfer')
    const r = await runCli(['sweep', '--memory', '32KB,4MB', '--bind', 'model', '--miss-latency', '100', '--chain', chain, '--no-l1-trie-nodes', '--no-report', '--out', out])
    expect(r.code).toBe(0)
    expect(r.stderr).toMatch(/^sweep: binding model \(declared: 100 µs per level-2 miss\)/)
    expect(r.stdout).toMatch(/MODELLED total ms/)
    // Options for the runs reach every run, and the summary names them.
    expect(r.stdout).toMatch(/each run: megabench replay --chain \S+ --no-l1-trie-nodes --memory <limit>/)
    const run = JSON.parse(await readFile(join(out, 'runs', '32768-1', 'run.json'), 'utf8'))
    expect(run.engines[0].storage.config.l1TrieNodes).toBe(false)
    const sweep = sweepResultSchema.parse(JSON.parse(await readFile(join(out, 'sweep.json'), 'utf8')))
    expect(sweep.config.bind).toMatchObject({ kind: 'model', missLatencyNs: 100_000 })
    for (const p of sweep.points) {
      expect(p.median.modelledTotalMs).toBeGreaterThan(0)
      expect(p.runs[0]!.modelledTotalMs).toBe(p.median.modelledTotalMs)
    }
    for (const [args, msg] of [
      [['--bind', 'disk'], '--bind must be auto, cgroup, model or caches (got "disk")'],
      [['--bind', 'caches', '--miss-latency', '5'], '--miss-latency applies to --bind model (got --bind caches)'],
      [['--cgroup'], '--cgroup is set by sweep for every run; remove it'],
      [['--mode', 'both'], 'sweep runs one --mode (live or historical)'],
      [['--mode=both'], 'sweep runs one --mode (live or historical)'],
    ] as const) {
      const bad = await runCli(['sweep', '--memory', '32KB', '--chain', chain, ...args])
      expect(bad.code).toBe(2)
      expect(bad.stderr).toBe(`megabench: ${msg}\n`)
    }
  })

  test('behavior: --mode historical with --storage memory is refused', async () => {
    const r = await runCli(['replay', '--chain', MIXED, '--mode', 'historical', '--storage', 'memory'])
    expect(r.code).toBe(2)
    expect(r.stderr).toBe('megabench: --storage memory supports --mode live only (historical sync needs LMDB)\n')
  })
})

describe('megabench report (spawned binary)', () => {
  test('default: a run directory as Markdown on stdout and as HTML to a file; --no-report skips report.html', async () => {
    const dir = await tempDir()
    const r = await runCli(['replay', '--fixtures', SMALL_FIXTURE, '--no-report', '--out', join(dir, 'run')])
    expect(r.code).toBe(0)
    expect(await readdir(join(dir, 'run'))).not.toContain('report.html')
    const md = await runCli(['report', join(dir, 'run'), '--format', 'md'])
    expect(md.code).toBe(0)
    expect(md.stdout).toMatch(/^# megabench report/)
    expect(md.stdout).toContain('| baseline/live | @ethereumjs/evm | 1/1 |')
    const html = await runCli(['report', join(dir, 'run', 'run.json'), '--out', join(dir, 'r.html')])
    expect(html.code).toBe(0)
    expect(html.stdout).toBe(`wrote ${join(dir, 'r.html')}\n`)
    expect(await readFile(join(dir, 'r.html'), 'utf8')).toContain('<title>megabench report: run</title>')
  })

  test('behavior: an unknown schema version or something else than a run result is refused in one line', async () => {
    const dir = await tempDir()
    const { writeFile } = await import('node:fs/promises')
    await writeFile(join(dir, 'old.json'), JSON.stringify({ kind: 'megabench.run', schemaVersion: 99 }))
    await writeFile(join(dir, 'other.json'), JSON.stringify({ hello: 'world' }))
    const old = await runCli(['report', join(dir, 'old.json')])
    expect(old.code).toBe(2)
    expect(old.stderr).toBe(`megabench: ${join(dir, 'old.json')}: run.json schema version 99 is not supported (this megabench reads version ${RUN_SCHEMA_VERSION})\n`)
    const other = await runCli(['report', join(dir, 'other.json')])
    expect(other.code).toBe(2)
    expect(other.stderr).toBe(`megabench: ${join(dir, 'other.json')}: not a megabench run or sweep result (kind is neither megabench.run nor megabench.sweep)\n`)
  })
})

describe('a sweep run killed by SIGKILL', () => {
  test('behavior: the reason names the cgroup\'s OOM killer and the headroom the run had, default or given', () => {
    expect(killedReason(['--chain', 'c', '--mode', 'live'])).toBe('SIGKILL')
    expect(killedReason(['--chain', 'c', '--cgroup'])).toMatch(/^SIGKILL: the memory cgroup's OOM killer, most likely: .* and the default 32\.0 MiB headroom could make room for; a larger --cgroup-headroom or --memory gives it more$/)
    expect(killedReason(['--cgroup-headroom', '8MB', '--cgroup'])).toMatch(/ and --cgroup-headroom 8MB could make room for;/)
    expect(killedReason(['--cgroup-headroom=4MB', '--cgroup'])).toMatch(/ and --cgroup-headroom 4MB could make room for;/)
  })
})
