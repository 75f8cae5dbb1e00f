#!/usr/bin/env node
// Benchmark: replay every block of a fixture set (default ../shared/data/mainnet, the 50 blocks),
// unprofiled and with the opcode profiler, in alternating fresh processes, and report medians.
//
//   npm run bench                      # 5 runs of each, ../shared/data/mainnet
//   node scripts/bench-replay.mjs --runs 3 --fixtures fixtures/mainnet
//
// Each child process replays the set once untimed (JIT warm-up) and once timed, and prints one JSON
// line. Ratios are per pair (unprofiled run i, profiled run i), summarised by their median.
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

import { arg, hasFlag, machine, median, root, runChild, saveResult } from './lib.mjs'

if (hasFlag('child')) {
  const { createFixtureSource, replay } = await import(join(root, 'dist', 'index.js'))
  const fixtures = arg('fixtures')
  const opcodes = arg('opcodes') === '1'
  const run = async () => replay({ source: await createFixtureSource({ paths: [fixtures] }), sourcePaths: [fixtures], opcodes })
  await run() // warm-up
  const r = await run()
  const e = r.engines[0]
  process.stdout.write(
    `${JSON.stringify({
      opcodes,
      blocks: r.verification.blocks,
      verified: r.verification.verified,
      wallMs: e.totals.wallMs,
      processingMs: e.totals.processingMs,
      phases: e.totals.phases,
      txs: e.totals.txs,
      gasUsed: e.totals.gasUsed,
      txPerSec: e.totals.txPerSec,
      mgasPerSec: e.totals.mgasPerSec,
      coverage: e.opcodes?.coverage ?? null,
      calibration: e.opcodes?.calibration ?? null,
      top: e.opcodes?.rows.slice(0, 10).map((x) => ({ name: x.name, pct: x.pctTime })) ?? null,
    })}\n`,
  )
  process.exit(0)
}

const fixtures = resolve(arg('fixtures', join(root, '..', 'shared', 'data', 'mainnet')))
const runs = Number(arg('runs', '5'))
if (!existsSync(fixtures)) {
  console.error(`bench: fixture path ${fixtures} does not exist (pass --fixtures <dir>)`)
  process.exit(2)
}
if (!existsSync(join(root, 'dist', 'index.js'))) {
  console.error('bench: dist/ is missing; run `npm run build` (npm run bench does)')
  process.exit(2)
}

const child = (opcodes) =>
  runChild(fileURLToPath(import.meta.url), ['--child', '--fixtures', fixtures, '--opcodes', opcodes ? '1' : '0'])

const plain = []
const profiled = []
for (let i = 0; i < runs; i++) {
  // Alternate the order inside each pair so that drift on a shared machine does not favour one side.
  const order = i % 2 === 0 ? [false, true] : [true, false]
  for (const o of order) {
    const r = child(o)
    ;(o ? profiled : plain).push(r)
    console.error(`run ${i + 1}/${runs} ${o ? 'profiled  ' : 'unprofiled'} ${r.verified}/${r.blocks} verified, ${r.processingMs.toFixed(0)} ms processing, ${r.txPerSec.toFixed(1)} tx/s`)
  }
}

const ratios = plain.map((p, i) => profiled[i].processingMs / p.processingMs)
const execRatios = plain.map((p, i) => {
  const q = profiled[i].phases
  return (q.execution + q.stateLoad) / (p.phases.execution + p.phases.stateLoad)
})
const cov = profiled.map((p) => p.coverage)
const m = (f) => median(cov.map(f))
const unprofExecWindow = median(plain.map((p) => p.phases.execution + p.phases.stateLoad))
const summary = {
  date: new Date().toISOString(),
  machine: machine(),
  fixtures,
  runsEach: runs,
  verified: `${plain[0].verified}/${plain[0].blocks}`,
  allVerified: [...plain, ...profiled].every((r) => r.verified === r.blocks),
  unprofiled: {
    wallMs: median(plain.map((r) => r.wallMs)),
    processingMs: median(plain.map((r) => r.processingMs)),
    txPerSec: median(plain.map((r) => r.txPerSec)),
    mgasPerSec: median(plain.map((r) => r.mgasPerSec)),
    phases: Object.fromEntries(Object.keys(plain[0].phases).map((k) => [k, median(plain.map((r) => r.phases[k]))])),
  },
  profiled: {
    wallMs: median(profiled.map((r) => r.wallMs)),
    processingMs: median(profiled.map((r) => r.processingMs)),
  },
  overhead: {
    processingRatioMedian: median(ratios),
    processingRatios: ratios,
    executionRatioMedian: median(execRatios),
  },
  coverage: {
    windowMs: m((c) => c.windowMs),
    timerOverheadMs: m((c) => c.timerOverheadMs),
    opcodeSharePct: m((c) => c.opcodeSharePct),
    opcodesMs: m((c) => c.opcodesMs),
    interpreterPct: m((c) => (c.interpreterMs / c.windowMs) * 100),
    txSetupPct: m((c) => (c.txSetupMs / c.windowMs) * 100),
    blockLevelPct: m((c) => (c.blockLevelMs / c.windowMs) * 100),
    callFramesPct: m((c) => (c.callFramesMs / c.windowMs) * 100),
    stateRootsPct: m((c) => (c.stateRootsMs / c.windowMs) * 100),
    precompilesPct: m((c) => (c.precompilesMs / c.windowMs) * 100),
    opcodeSumVsUnprofiledExecutionPct: (m((c) => c.opcodesMs) / unprofExecWindow) * 100,
  },
  calibration: profiled[0].calibration,
  topOpcodes: profiled[0].top,
}

const outFile = saveResult('replay', summary)

const f = (x, d = 1) => x.toFixed(d)
console.log(`## megabench replay benchmark (${summary.date})`)
console.log(`machine: ${summary.machine.cpu}, ${summary.machine.cores} cores, ${summary.machine.memoryGiB} GiB, node ${summary.machine.node}`)
console.log(`fixtures: ${fixtures}; ${runs} unprofiled + ${runs} profiled runs, alternating, fresh process each, 1 warm-up replay per process`)
console.log(`verified: ${summary.verified} blocks in every run: ${summary.allVerified}`)
console.log(`unprofiled (median): wall ${f(summary.unprofiled.wallMs / 1000, 2)} s, block processing ${f(summary.unprofiled.processingMs / 1000, 3)} s, ${f(summary.unprofiled.txPerSec)} tx/s, ${f(summary.unprofiled.mgasPerSec, 2)} Mgas/s`)
console.log(`phases (median ms): ${Object.entries(summary.unprofiled.phases).map(([k, v]) => `${k} ${f(v)}`).join(', ')}`)
console.log(`profiling overhead: processing time profiled/unprofiled = ${f(summary.overhead.processingRatioMedian, 3)}x (median of ${runs} pairs: ${ratios.map((x) => f(x, 3)).join(', ')}); execution phase ${f(summary.overhead.executionRatioMedian, 3)}x`)
console.log(`coverage: opcode handlers = ${f(summary.coverage.opcodeSharePct)}% of the profiled execution window; interpreter loop ${f(summary.coverage.interpreterPct)}%, tx setup/finalisation ${f(summary.coverage.txSetupPct)}%, block-level ${f(summary.coverage.blockLevelPct)}%, call frames ${f(summary.coverage.callFramesPct)}%, in-execution state roots ${f(summary.coverage.stateRootsPct)}%, precompiles ${f(summary.coverage.precompilesPct)}%`)
console.log(`per-opcode sum / unprofiled execution+state-load time = ${f(summary.coverage.opcodeSumVsUnprofiledExecutionPct)}%`)
console.log(`timer calibration: ${f(summary.calibration.inRegionMs * 1e6, 0)} ns in-region, ${f(summary.calibration.perRegionMs * 1e6, 0)} ns per region`)
console.log(`wrote ${outFile}`)
