#!/usr/bin/env node
// Records real per-block replay timings for the gate's A/A test (test/gate.test.ts): the bundled
// sources replayed --runs times each, every replay in a fresh `megabench replay` process, sources
// interleaved (run 1 of every source, then run 2…). Writes fixtures/noise/replay-timings.json.
//
//   npm run build && node scripts/record-noise.mjs [--runs 8]
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { arg, machine, root } from './lib.mjs'

const runs = Number(arg('runs', '8'))
const sources = [
  ['fixtures/mainnet', ['--fixtures', 'fixtures/mainnet']],
  ['fixtures/chains/mixed', ['--chain', 'fixtures/chains/mixed']],
  ['fixtures/chains/erc20-transfer', ['--chain', 'fixtures/chains/erc20-transfer']],
]
const recorded = sources.map(([name, args]) => ({ source: name, args, runs: [] }))
const scratch = mkdtempSync(join(tmpdir(), 'megabench-noise-'))
try {
  for (let r = 0; r < runs; r++) {
    for (const s of recorded) {
      const out = join(scratch, `r${r}`)
      const p = spawnSync(process.execPath, [join(root, 'bin', 'megabench.js'), 'replay', ...s.args, '--json', '--no-report', '--out', out], {
        cwd: root,
        encoding: 'utf8',
        maxBuffer: 1 << 28,
      })
      if (p.status !== 0) throw new Error(`replay ${s.args.join(' ')} failed: ${p.stderr}`)
      const result = JSON.parse(p.stdout)
      const e = result.engines[0]
      s.runs.push(e.blocks.map((b) => [b.number, Number(b.totalMs.toFixed(3))]))
      rmSync(out, { recursive: true, force: true })
      process.stderr.write(`run ${r + 1}/${runs} ${s.source}: ${e.totals.processingMs.toFixed(0)} ms\n`)
    }
  }
} finally {
  rmSync(scratch, { recursive: true, force: true })
}
const file = join(root, 'fixtures', 'noise', 'replay-timings.json')
writeFileSync(
  file,
  `${JSON.stringify({
    format: 'megabench-noise-v1',
    description: 'per-block totalMs ([block, ms] pairs) of repeated `megabench replay` processes (engine baseline/live, LMDB, unbounded caches), sources interleaved',
    date: new Date().toISOString(),
    machine: machine(),
    command: `node scripts/record-noise.mjs --runs ${runs}`,
    sources: recorded.map(({ source, runs }) => ({ source, runs })),
  })}\n`,
)
console.log(file)
