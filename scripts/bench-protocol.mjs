#!/usr/bin/env node
// Cold against warm: why megabench measures under its protocol (src/protocol). In ONE process, the same
// blocks are replayed three times with no warm-up (passes 1, 2, 3, as replay measured before the
// protocol), then once under the protocol (1 warm-up round, --repeat measured rounds A B B A). For each:
// the top-10 opcodes' cost per execution on the baseline and the engine ratios (mega/baseline tx/s per
// mode, live/historical time of the baseline).
//
//   npm run build && node scripts/bench-protocol.mjs [--chain fixtures/chains/mixed] [--repeat 3]
import { join, resolve } from 'node:path'

import { arg, formatSpread, machine, root, saveResult } from './lib.mjs'

const { createChainSource, replay } = await import(join(root, 'dist', 'index.js'))
const chain = resolve(arg('chain', join(root, 'fixtures', 'chains', 'mixed')))
const repeat = Number(arg('repeat', '3'))

const run = async (warmup, rep) =>
  replay({ source: await createChainSource({ dir: chain }), sourcePaths: [chain], engines: ['baseline', 'mega'], modes: ['historical', 'live'], opcodes: true, warmup, repeat: rep })

function digest(r) {
  const e = (name, mode) => r.engines.find((x) => x.name === name && x.mode === mode)
  const base = e('baseline', 'live')
  const top = base.opcodes.rows.slice(0, 10).map((x) => ({ name: x.name, avgNs: x.avgNs, minNs: x.totalNsMin / x.count, maxNs: x.totalNsMax / x.count, count: x.count }))
  const ratio = (mode) => e('mega', mode).totals.txPerSec / e('baseline', mode).totals.txPerSec
  return {
    verified: r.verification.verified === r.verification.blocks && r.verification.failed.length === 0,
    top,
    megaVsBaseline: { historical: ratio('historical'), live: ratio('live') },
    liveOverHistorical: r.decomposition.slowdown,
    spreads: {
      baselineLive: base.repeats.txPerSec,
      megaLive: e('mega', 'live').repeats.txPerSec,
      baselineHistorical: e('baseline', 'historical').repeats.txPerSec,
      megaHistorical: e('mega', 'historical').repeats.txPerSec,
    },
    probeOverhead: base.profilerOverhead?.ratio ?? null,
  }
}

const cold = []
for (let i = 1; i <= 3; i++) {
  cold.push(digest(await run(0, 1)))
  console.error(`pass ${i} (no warm-up) done`)
}
const protocol = digest(await run(1, repeat))
console.error('protocol run done')
const result = { date: new Date().toISOString(), machine: machine(), chain, repeat, cold, protocol }
const file = saveResult('protocol', result)

const f = (x, d = 0) => x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d })
console.log(`## cold vs warm, one process (${result.date}; load ${result.machine.loadavg.join(', ')})`)
console.log(`chain ${chain}; engines baseline and mega (@ethereumjs/evm), modes historical and live, --opcodes; every run verified: ${[...cold, protocol].every((x) => x.verified)}`)
console.log(`\n| baseline/live opcode (ns per execution) | pass 1 | pass 2 | pass 3 | protocol: median of ${repeat} warm passes (range) |`)
console.log('|---|---|---|---|---|')
for (const op of protocol.top) {
  const c = cold.map((d) => {
    const row = d.top.find((x) => x.name === op.name)
    return row === undefined ? '(not top 10)' : f(row.avgNs)
  })
  console.log(`| ${op.name} | ${c.join(' | ')} | ${f(op.avgNs)} (${f(op.minNs)}–${f(op.maxNs)}) |`)
}
console.log(`\n| ratio | pass 1 | pass 2 | pass 3 | protocol |`)
console.log('|---|---|---|---|---|')
const r2 = (x) => `${x.toFixed(2)}x`
console.log(`| mega / baseline tx/s, historical | ${cold.map((d) => r2(d.megaVsBaseline.historical)).join(' | ')} | ${r2(protocol.megaVsBaseline.historical)} |`)
console.log(`| mega / baseline tx/s, live | ${cold.map((d) => r2(d.megaVsBaseline.live)).join(' | ')} | ${r2(protocol.megaVsBaseline.live)} |`)
console.log(`| baseline live / historical time | ${cold.map((d) => r2(d.liveOverHistorical)).join(' | ')} | ${r2(protocol.liveOverHistorical)} |`)
console.log(`| probe overhead (profiled / unprofiled) | ${cold.map((d) => r2(d.probeOverhead)).join(' | ')} | ${r2(protocol.probeOverhead)} |`)
console.log(`\nprotocol spreads (tx/s over ${repeat} passes): baseline/live ${formatSpread(protocol.spreads.baselineLive, 0)}, mega/live ${formatSpread(protocol.spreads.megaLive, 0)}, baseline/historical ${formatSpread(protocol.spreads.baselineHistorical, 0)}, mega/historical ${formatSpread(protocol.spreads.megaHistorical, 0)}`)
console.log(`wrote ${file}`)
