#!/usr/bin/env node
// Records raw per-block replay timings for the gate's A/A test (test/gateStats.test.ts): the bundled
// sources replayed in fresh `megabench replay` processes, round after round, in the order of the
// measurement protocol (src/protocol: a discarded warm-up round, then rounds alternating forward and
// backward). Nothing is divided out: each process's times are stored as measured, with the machine's
// 1-minute load average when the process started. Writes fixtures/noise/replay-timings.json
// (megabench-noise-v2).
//
//   npm run build && node scripts/record-noise.mjs [--runs 12] [--warmup 1]
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { basename, join } from 'node:path'

import { schedule } from '../dist/protocol/index.js'
import { arg, machine, root } from './lib.mjs'

const runs = Number(arg('runs', '12'))
const warmup = Number(arg('warmup', '1'))
const sources = [
  ['fixtures/mainnet', ['--fixtures', 'fixtures/mainnet']],
  ['fixtures/chains/mixed', ['--chain', 'fixtures/chains/mixed']],
  ['fixtures/chains/erc20-transfer', ['--chain', 'fixtures/chains/erc20-transfer']],
]
const recorded = sources.map(([source, args]) => ({ source, args, blocks: null, runs: [] }))
const load = () => Number(loadavg()[0].toFixed(2))
const started = { date: new Date().toISOString(), load: load() }
const scratch = mkdtempSync(join(tmpdir(), 'megabench-noise-'))
try {
  for (const step of schedule(recorded, runs, warmup)) {
    const s = step.variant
    const out = join(scratch, 'run')
    const loadAtStart = load()
    const t0 = performance.now()
    const p = spawnSync(process.execPath, [join(root, 'bin', 'megabench.js'), 'replay', ...s.args, '--json', '--no-report', '--out', out], {
      cwd: root,
      encoding: 'utf8',
      maxBuffer: 1 << 28,
    })
    const wallMs = performance.now() - t0
    rmSync(out, { recursive: true, force: true })
    if (p.status !== 0) throw new Error(`replay ${s.args.join(' ')} failed: ${p.stderr}`)
    const e = JSON.parse(p.stdout).engines[0]
    const blocks = e.blocks.map((b) => `${basename(b.origin)}#${b.number}`)
    if (s.blocks === null) s.blocks = blocks
    else if (blocks.join() !== s.blocks.join()) throw new Error(`${s.source}: the block list changed between runs`)
    if (e.blocks.some((b) => !b.verified)) throw new Error(`${s.source}: a block failed verification`)
    process.stderr.write(`${step.warmup ? 'warm-up' : `run ${step.pass + 1}/${runs}`} ${s.source}: ${e.totals.processingMs.toFixed(0)} ms (load ${loadAtStart})\n`)
    if (!step.warmup) s.runs.push({ load: loadAtStart, wallMs: Math.round(wallMs), ms: e.blocks.map((b) => Number(b.totalMs.toFixed(3))) })
  }
} finally {
  rmSync(scratch, { recursive: true, force: true })
}
const file = join(root, 'fixtures', 'noise', 'replay-timings.json')
writeFileSync(
  file,
  `${JSON.stringify({
    format: 'megabench-noise-v2',
    description:
      'raw per-block totalMs of fresh `megabench replay` processes (engine baseline/live, LMDB, unbounded caches), nothing divided out; runs[i] of every source belong to round i; load = 1-minute load average at the process start',
    date: started.date,
    machine: machine(),
    load: { start: started.load, end: load() },
    command: `node scripts/record-noise.mjs --runs ${runs} --warmup ${warmup}`,
    order: 'protocol schedule: warm-up round(s) discarded, then rounds alternating forward and backward over the sources',
    sources: recorded.map(({ source, blocks, runs }) => ({ source, blocks, runs })),
  })}\n`,
)
console.log(file)
