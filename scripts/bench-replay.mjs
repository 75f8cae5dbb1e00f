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

import { arg, hasFlag, machine, median, root, runChild, saveResult, schedule } from './lib.mjs'

if (hasFlag('child')) {
  const { createFixtureSource, replay } = await import(join(root, 'dist', 'index.js'))
  const fixtures = arg('fixtures')
  const opcodes = arg('opcodes') === '1'
  // The protocol's own warm-up pass (not reported) precedes the measured one; profiled runs take their
  // timings from the profiled pass here, since this benchmark measures what profiling costs.
  const r = await replay({ source: await createFixtureSource({ paths: [fixtures] }), sourcePaths: [fixtures], opcodes, warmup: 1, repeat: 1 })
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
      profilerOverhead: e.profilerOverhead,
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
// The protocol's order (A B B A …) so that drift on a shared machine does not favour one side.
for (const step of schedule([false, true], runs, 0)) {
  const o = step.variant
  const r = child(o)
  ;(o ? profiled : plain).push(r)
  console.error(`run ${step.pass + 1}/${runs} ${o ? 'opcodes   ' : 'plain     '} ${r.verified}/${r.blocks} verified, ${r.processingMs.toFixed(0)} ms processing, ${r.txPerSec.toFixed(1)} tx/s`)
}

// The probe's overhead as replay measures it: profiled over unprofiled passes on the same warm blocks,
// in the same process (an --opcodes replay runs both; its timings are the unprofiled pass's).
const ratios = profiled.map((p) => p.profilerOverhead.ratio)
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
    processingMs: median(profiled.map((r) => r.profilerOverhead.profiledMs.median)),
  },
  overhead: {
    processingRatioMedian: median(ratios),
    processingRatios: ratios,
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
console.log(`fixtures: ${fixtures}; ${runs} plain + ${runs} --opcodes processes in the protocol's order (A B B A), each with its warm-up pass`)
console.log(`verified: ${summary.verified} blocks in every run: ${summary.allVerified}`)
console.log(`unprofiled (median): wall ${f(summary.unprofiled.wallMs / 1000, 2)} s, block processing ${f(summary.unprofiled.processingMs / 1000, 3)} s, ${f(summary.unprofiled.txPerSec)} tx/s, ${f(summary.unprofiled.mgasPerSec, 2)} Mgas/s`)
console.log(`phases (median ms): ${Object.entries(summary.unprofiled.phases).map(([k, v]) => `${k} ${f(v)}`).join(', ')}`)
console.log(`profiling overhead: processing time profiled/unprofiled = ${f(summary.overhead.processingRatioMedian, 3)}x (median of ${runs} --opcodes processes, each profiled vs unprofiled on the same warm blocks: ${ratios.map((x) => f(x, 3)).join(', ')})`)
console.log(`coverage: opcode handlers = ${f(summary.coverage.opcodeSharePct)}% of the profiled execution window; interpreter loop ${f(summary.coverage.interpreterPct)}%, tx setup/finalisation ${f(summary.coverage.txSetupPct)}%, block-level ${f(summary.coverage.blockLevelPct)}%, call frames ${f(summary.coverage.callFramesPct)}%, in-execution state roots ${f(summary.coverage.stateRootsPct)}%, precompiles ${f(summary.coverage.precompilesPct)}%`)
console.log(`per-opcode sum / unprofiled execution+state-load time = ${f(summary.coverage.opcodeSumVsUnprofiledExecutionPct)}%`)
console.log(`timer calibration: ${f(summary.calibration.inRegionMs * 1e6, 0)} ns in-region, ${f(summary.calibration.perRegionMs * 1e6, 0)} ns per region`)
console.log(`wrote ${outFile}`)
