#!/usr/bin/env node
// Measures the gate's timing call on recorded same-code runs (fixtures/noise/replay-timings.json, raw:
// nothing divided out): A/A false regressions and false improvements over every split of the runs into
// two halves, and the power to call an injected slowdown (the current half's times × (1 + s)).
// Prints a Markdown table per design (runs per side × sources).
//
//   npm run build && node scripts/calibrate-gate.mjs [--policy policy.json] [--noise FILE] [--slowdowns 0.05,0.25,0.5] [--run-draws n] [--json]
// (--run-draws n: draw all n runs of a side per resample instead of the default n − 1)
import { join } from 'node:path'

import { calibrate, readNoise } from '../dist/gate/calibrate.js'
import { readPolicy, resolvePolicy } from '../dist/gate/policy.js'
import { arg, hasFlag, root } from './lib.mjs'

const noise = await readNoise(arg('noise', join(root, 'fixtures', 'noise', 'replay-timings.json')))
const policy = arg('policy') === undefined ? resolvePolicy({}) : await readPolicy(arg('policy'))
const t = policy.timings
const floor = t.metrics.total?.floor ?? 0.01
const slowdowns = arg('slowdowns', '0.05,0.25,0.5').split(',').map(Number)
const rounds = Math.min(...noise.sources.map((s) => s.runs.length))
const range = (a, b) => Array.from({ length: b - a }, (_, i) => a + i)
const groupsOf = (size) => range(0, Math.floor(rounds / size)).map((g) => range(g * size, g * size + size))
const designs = [
  ...[2, 3, 4, 5, 6].filter((k) => 2 * k <= rounds).map((k) => ({ name: `${k} v ${k} runs, all sources`, groups: k === 4 ? [range(0, 8), ...(rounds >= 12 ? [range(4, 12)] : [])] : groupsOf(2 * k) })),
  ...noise.sources.map((s) => ({ name: `4 v 4 runs, ${s.source} only`, sources: [s.source], groups: [range(0, 8)] })),
]
const rows = []
if (!hasFlag('json')) {
  console.log(`noise: ${noise.date}, load ${noise.load.start}→${noise.load.end}; policy: ${JSON.stringify(t)}, floor ${floor}`)
  console.log(`| design | blocks | comparisons | false regressions | false improvements | inconclusive | ${slowdowns.map((s) => `${s * 100}% slowdown called`).join(' | ')} |`)
  console.log(`|---|---:|---:|---:|---:|---:|${slowdowns.map(() => '---:|').join('')}`)
}
const pct = (n, d) => `${((n / d) * 100).toFixed(1)}%`
for (const d of designs) {
  const o = { timings: t, floor, groups: d.groups, sources: d.sources, runDraws: arg('run-draws') }
  const aa = calibrate(noise, o)
  const power = slowdowns.map((s) => calibrate(noise, { ...o, slowdown: s }))
  rows.push({ design: d.name, comparisons: aa.comparisons, blocks: aa.blocks, aa: aa.calls, power: power.map((p, i) => ({ slowdown: slowdowns[i], calls: p.calls })) })
  if (!hasFlag('json')) {
    console.log(
      `| ${d.name} | ${aa.blocks} | ${aa.comparisons} | ${pct(aa.calls.regression, aa.comparisons)} | ${pct(aa.calls.improvement, aa.comparisons)} | ${pct(aa.calls.inconclusive, aa.comparisons)} | ${power.map((p) => pct(p.calls.regression, p.comparisons)).join(' | ')} |`,
    )
  }
}
if (hasFlag('json')) console.log(JSON.stringify({ noise: { date: noise.date, load: noise.load }, policy: t, floor, rows }))
