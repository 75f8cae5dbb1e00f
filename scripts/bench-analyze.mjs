#!/usr/bin/env node
// The analyses of issue 7 on every bundled workload: `megabench analyze all` (a timed replay for CPU time,
// an opcode-profiled replay for the JIT bound, and the access pass) in a fresh process per source:
//   the bundled real blocks (fixtures/mainnet), ../shared/data/mainnet when present (--skip-shared to skip),
//   and each bundled chain (fixtures/chains/*).
// Reports per source: median parallelism per block and for merged windows (coinbase fee commutative and as
// a conflict), bytes per transaction raw / deflate / brotli / 20-B model, Mbps at --tps (default 100k), the
// JIT bound, CPU time per transaction and the binding hardware ceiling (modelled). The study's values are
// printed only in columns labelled as the study's. Results go to reports/bench/analyze-<date>.json.
//
//   npm run build && node scripts/bench-analyze.mjs [--tps 100000] [--skip-shared] [--sources a,b]
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { loadavg } from 'node:os'
import { join } from 'node:path'

import { arg, hasFlag, machine, root, saveResult } from './lib.mjs'

const bin = join(root, 'bin', 'megabench.js')
const tps = arg('tps', '100000')
const f = (x, d = 2) => (x === null || x === undefined || Number.isNaN(x) ? '–' : Number(x).toFixed(d))

const sources = [{ name: 'mainnet (bundled, 13 blocks)', args: ['--fixtures', join(root, 'fixtures', 'mainnet')] }]
const shared = join(root, '..', 'shared', 'data', 'mainnet')
// The baseline's LMDB import misses a trie node of one shared witness (mainnet-49439, also on main): the
// mega engine (in-memory state) replays all 50 and checks its own diffs against the probe's.
if (!hasFlag('skip-shared') && existsSync(shared)) sources.push({ name: 'mainnet (../shared, 50 blocks, mega engine)', args: ['--fixtures', shared, '--engine', 'mega'] })
const chains = join(root, 'fixtures', 'chains')
for (const c of readdirSync(chains).sort()) sources.push({ name: `chain ${c} (bundled)`, args: ['--chain', join(chains, c)] })
const only = arg('sources', undefined)?.split(',')
const chosen = only === undefined ? sources : sources.filter((s) => only.some((o) => s.name.includes(o)))

const result = { date: new Date().toISOString(), machine: { ...machine(), loadAverage1m: loadavg()[0] }, tps: Number(tps), sources: [] }
console.log(`## megabench analyses (${result.date})`)
console.log(`machine: ${result.machine.cpu}, ${result.machine.cores} cores, ${result.machine.memoryGiB} GiB, node ${result.machine.node}, load average ${result.machine.loadAverage1m.toFixed(1)} at start (CPU times scale with it)`)

for (const s of chosen) {
  console.error(`bench: analyze all ${s.args.join(' ')}…`)
  const t0 = Date.now()
  let out
  try {
    out = execFileSync(process.execPath, [bin, 'analyze', 'all', ...s.args, '--tps', tps, '--json'], { encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'inherit'] })
  } catch (err) {
    if (err.status !== 1) {
      console.error(`bench: ${s.name} failed (exit ${err.status}); skipped`)
      result.sources.push({ name: s.name, error: `exit ${err.status}` })
      continue
    }
    out = err.stdout // 1: some block did not verify; the analyses leave it out
  }
  const a = JSON.parse(out.trim().split('\n').at(-1))
  const med = (k, t) => a.parallelism.summaries.find((x) => x.k === k && x.treatment === t)
  const w = (k) => a.statediff.windows.find((x) => x.k === k)
  const inf = a.jit.bounds.find((b) => b.k === null)
  result.sources.push({
    name: s.name,
    seconds: (Date.now() - t0) / 1000,
    blocks: a.accessPass.blocks,
    txs: a.accessPass.txs,
    unverified: a.accessPass.unverified.length,
    parallelism: Object.fromEntries(
      [1, 2, 5, 10].map((k) => [
        k,
        {
          commutative: { windows: med(k, 'commutative').windows, median: med(k, 'commutative').parallelism?.median ?? null, gasMedian: med(k, 'commutative').gasParallelism?.median ?? null },
          conflict: { median: med(k, 'conflict').parallelism?.median ?? null },
          speedup: med(k, 'commutative').speedup,
        },
      ]),
    ),
    perTxAlone: { rawMedian: a.statediff.perTx.raw?.median ?? null, keysMedian: a.statediff.perTx.keys?.median ?? null },
    bytesPerTx: Object.fromEntries([1, 2, 5, 10].map((k) => [k, w(k).windows > 0 ? w(k).bytesPerTx : null])),
    mbps: Object.fromEntries([1, 2, 5, 10].map((k) => [k, w(k).windows > 0 ? w(k).mbps : null])),
    expanded: Object.fromEntries([1, 10].map((k) => [k, w(k).compressed])),
    diffCheck: a.statediff.check,
    jit: { shares: a.jit.shares, infinite: inf, k10: a.jit.bounds.find((b) => b.k === 10) },
    bounds: { cpuUsPerTx: a.bounds.measured.cpuUsPerTx, updatesPerTx: a.bounds.measured.updatesPerTx, binding: a.bounds.binding, ceilings: a.bounds.ceilings },
  })
}

console.log('\n### Parallelism (txs / critical path), median over blocks or windows; coinbase fee commutative (as a conflict)')
console.log("the study's value (Reth, mainnet): median < 2 per block; 2.75 when several blocks are merged\n")
console.log('| source | blocks | txs | k=1 | k=2 | k=5 | k=10 | gas-weighted k=1 | speedup bound 2/4/8/16/64 cores (k=1, median) |')
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---|')
for (const r of result.sources.filter((x) => x.error === undefined)) {
  const p = (k) => (r.parallelism[k].commutative.windows === 0 ? 'n/a' : `${f(r.parallelism[k].commutative.median)} (${f(r.parallelism[k].conflict.median)})`)
  console.log(
    `| ${r.name} | ${r.blocks} | ${r.txs} | ${p(1)} | ${p(2)} | ${p(5)} | ${p(10)} | ${f(r.parallelism[1].commutative.gasMedian)} | ${r.parallelism[1].speedup.map((x) => f(x.median)).join(' / ')} |`,
  )
}
console.log(`\n### State-diff bytes per transaction and Mbps at ${Number(tps).toLocaleString('en-US')} tx/s (block diffs amortised over their transactions)`)
console.log("the study's values: 100k ERC20 transfers/s → 152.6 Mbps (190.75 B/tx); Uniswap swaps → 476.1 Mbps (595 B/tx)\n")
console.log('| source | tx alone, median B | B/tx raw k=1 | deflate | brotli | 20-B model | Mbps raw / brotli / model (k=1) | B/tx raw k=10 | Mbps raw k=10 | probe diff = engine diff |')
console.log('|---|---:|---:|---:|---:|---:|---|---:|---:|---|')
for (const r of result.sources.filter((x) => x.error === undefined)) {
  const b = r.bytesPerTx[1]
  const m = r.mbps[1]
  console.log(
    `| ${r.name} | ${f(r.perTxAlone.rawMedian, 0)} | ${f(b.raw, 1)} | ${f(b.deflate, 1)} | ${f(b.brotli, 1)} | ${f(b.model, 1)} | ${f(m.raw, 1)} / ${f(m.brotli, 1)} / ${f(m.model, 1)} | ${r.bytesPerTx[10] ? f(r.bytesPerTx[10].raw, 1) : 'n/a'} | ${r.mbps[10] ? f(r.mbps[10].raw, 1) : 'n/a'} | ${r.diffCheck.matched}/${r.diffCheck.compared} |`,
  )
}
console.log("\n### JIT bound (Amdahl) and hardware ceilings (modelled; 16 cores, 300k IOPS, 100 Mbps)")
console.log("the study's JIT value: ≤ ~2x on the historical workload\n")
console.log('| source | compilable share of opcode time / execution | bound ∞ over opcodes / execution / +interpreter | CPU µs per tx (one timed replay) | updated keys per tx | binds first (modelled) |')
console.log('|---|---|---|---:|---:|---|')
for (const r of result.sources.filter((x) => x.error === undefined)) {
  const j = r.jit
  console.log(
    `| ${r.name} | ${f(j.shares.opcodes * 100, 1)}% / ${f(j.shares.execution * 100, 1)}% | ${f(j.infinite.opcodes)}x / ${f(j.infinite.execution)}x / ${f(j.infinite.executionAndInterpreter)}x | ${f(r.bounds.cpuUsPerTx, 0)} | ${f(r.bounds.updatesPerTx)} | ${r.bounds.binding ? `${r.bounds.binding.resource}: ${f(r.bounds.binding.tps, 0)} tx/s` : '–'} |`,
  )
}
console.log(`\nsaved ${saveResult('analyze', result)}`)
