#!/usr/bin/env node
// Benchmark for the storage layer (issue 4): on a generated mixed chain (default: 1M accounts,
// 200 blocks × 100 txs, generated if --chain is not given), historical vs live sync side by side
// (`replay --mode both`, repeated; medians), the memory sweep, and the same on the bundled real blocks.
//
//   npm run build && node scripts/bench-storage.mjs [--chain <dir>] [--repeat 3] [--limits 16MB,64MB,256MB,1GB]
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { arg, machine, median, root, saveResult } from './lib.mjs'

const bin = join(root, 'bin', 'megabench.js')
const cli = (args) => JSON.parse(execFileSync(process.execPath, [bin, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 }).trim().split('\n').at(-1))
const work = mkdtempSync(join(tmpdir(), 'megabench-storage-'))
let chain = arg('chain')
if (chain === undefined) {
  chain = join(work, 'mixed-1m')
  console.error('bench: generating a 1M-account mixed chain of 200 blocks × 100 txs…')
  execFileSync(process.execPath, [bin, 'generate', 'mixed', '--out', chain, '--accounts', '1M', '--blocks', '200', '--txs-per-block', '100'], { stdio: 'inherit' })
}
if (!existsSync(join(chain, 'chain.json'))) throw new Error(`${chain} is not a chain directory`)
const repeat = Number(arg('repeat', '3'))
const limits = arg('limits', '16MB,64MB,256MB,1GB')
const f = (x, d = 1) => Number(x).toFixed(d)
const result = { date: new Date().toISOString(), machine: machine(), chain, repeat, runs: [], sweep: null, fixtures: null }

console.log(`## megabench storage benchmark (${result.date})`)
console.log(`machine: ${result.machine.cpu}, ${result.machine.cores} cores, ${result.machine.memoryGiB} GiB, node ${result.machine.node}`)
console.log(`chain: ${chain}`)

// 1. Historical vs live, side by side in one run (fresh DB per mode), repeated.
for (let r = 1; r <= repeat; r++) {
  const run = cli(['replay', '--chain', chain, '--mode', 'both', '--json', '--out', join(work, `both-${r}`)])
  const [h, l] = run.engines
  result.runs.push({
    verified: `${run.verification.verified}/${run.verification.blocks}`,
    decomposition: run.decomposition,
    historical: { txPerSec: h.totals.txPerSec, phases: h.totals.phases, merkle: h.storage.merkleization, persist: h.storage.persistence, importMs: h.storage.import.ms },
    live: { txPerSec: l.totals.txPerSec, phases: l.totals.phases, merkle: l.storage.merkleization, persist: l.storage.persistence, penalty: l.storage.missPenalty.execution.meanNs },
  })
  console.error(`run ${r}/${repeat}: historical ${f(h.totals.txPerSec)} tx/s, live ${f(l.totals.txPerSec)} tx/s, slowdown ${f(run.decomposition.slowdown, 3)}x`)
}
const m = (fn) => median(result.runs.map(fn))
console.log(`\n### historical vs live (${repeat} runs of \`replay --mode both\`, medians; verified ${result.runs.map((x) => x.verified).join(', ')})`)
console.log('| | historical | live |')
console.log('|---|---|---|')
console.log(`| tx/s | ${f(m((x) => x.historical.txPerSec))} | ${f(m((x) => x.live.txPerSec))} |`)
for (const ph of ['senderRecovery', 'execution', 'stateLoad', 'merkleization', 'persistence']) {
  console.log(`| ${ph} ms | ${f(m((x) => x.historical.phases[ph]), 0)} | ${f(m((x) => x.live.phases[ph]), 0)} |`)
}
console.log(`| state roots | ${m((x) => x.historical.merkle.roots)} | ${m((x) => x.live.merkle.roots)} |`)
console.log(`| keys updated | ${m((x) => x.historical.merkle.updatedAccounts + x.historical.merkle.updatedSlots)} | ${m((x) => x.live.merkle.updatedAccounts + x.live.merkle.updatedSlots)} |`)
console.log(`| trie node reads / updated key | ${f(m((x) => x.historical.merkle.nodeReadsPerKey), 2)} | ${f(m((x) => x.live.merkle.nodeReadsPerKey), 2)} |`)
console.log(`| LMDB reads / updated key (merkleization) | ${f(m((x) => x.historical.merkle.lmdbReadsPerKey), 2)} | ${f(m((x) => x.live.merkle.lmdbReadsPerKey), 2)} |`)
console.log(`| nodes hashed+written / updated key | ${f(m((x) => x.historical.merkle.nodeWritesPerKey), 2)} | ${f(m((x) => x.live.merkle.nodeWritesPerKey), 2)} |`)
console.log(`| persisted MB, MB/s | ${f(m((x) => x.historical.persist.totalBytes) / 1e6, 2)}, ${f(m((x) => x.historical.persist.mbPerSec))} | ${f(m((x) => x.live.persist.totalBytes) / 1e6, 2)}, ${f(m((x) => x.live.persist.mbPerSec))} |`)
console.log(
  `\ndecomposition (medians): live/historical = ${f(m((x) => x.decomposition.slowdown), 3)}x = merkleization ${f(m((x) => x.decomposition.merkleizationFactor), 3)}x × persistence ${f(m((x) => x.decomposition.persistenceFactor), 3)}x (genesis import into LMDB ${f(m((x) => x.historical.importMs) / 1000, 1)} s, not counted)`,
)

// 2. Memory sweep (live sync): one fresh process per limit.
const sweep = cli(['sweep', '--memory', limits, '--chain', chain, '--json', '--out', join(work, 'sweep')])
result.sweep = sweep
console.log(`\n### memory sweep, live sync (working set ${f(sweep.workingSetBytes / 2 ** 20, 1)} MiB)`)
console.log('| memory | total ms | execution | miss penalty | merkleization | write | tx/s | L1 miss | L2 miss | mean penalty |')
console.log('|---|---|---|---|---|---|---|---|---|---|')
for (const p of sweep.points) {
  const x = p.median
  console.log(`| ${f(p.memoryBytes / 2 ** 20, 0)} MiB | ${f(x.totalMs, 0)} | ${f(x.executionMs, 0)} | ${f(x.missPenaltyMs, 0)} | ${f(x.merkleizationMs, 0)} | ${f(x.writeMs, 0)} | ${f(x.txPerSec)} | ${f(x.l1MissRatio * 100)}% | ${f(x.l2MissRatio * 100)}% | ${f(x.meanPenaltyNs / 1000, 1)} µs |`)
}

// 3. The same on the bundled real blocks (every block runs on its own witness DB).
const fx = cli(['replay', '--fixtures', join(root, 'fixtures', 'mainnet'), '--json', '--out', join(work, 'fixtures')])
const fs = fx.engines[0].storage
result.fixtures = { verified: `${fx.verification.verified}/${fx.verification.blocks}`, txPerSec: fx.engines[0].totals.txPerSec, phases: fx.engines[0].totals.phases, storage: fs }
console.log(`\n### bundled real blocks, live sync on LMDB (${result.fixtures.verified} verified)`)
console.log(`tx/s ${f(fx.engines[0].totals.txPerSec)}; phases ms ${Object.entries(fx.engines[0].totals.phases).map(([k, v]) => `${k} ${f(v, 0)}`).join(', ')}`)
console.log(`merkleization: ${fs.merkleization.roots} roots, per updated key ${f(fs.merkleization.nodeReadsPerKey, 2)} node reads, ${f(fs.merkleization.lmdbReadsPerKey, 2)} LMDB reads, ${f(fs.merkleization.nodeWritesPerKey, 2)} nodes written; L1 miss ${f(fs.l1.missRatio * 100)}%, L2 miss ${f(fs.l2.missRatio * 100)}%, mean penalty ${f(fs.missPenalty.execution.meanNs / 1000, 1)} µs; persisted ${f(fs.persistence.totalBytes / 1e6, 2)} MB at ${f(fs.persistence.mbPerSec)} MB/s`)
const fsweep = cli(['sweep', '--memory', '64KB,256KB,1MB,16MB', '--fixtures', join(root, 'fixtures', 'mainnet'), '--json', '--out', join(work, 'fsweep')])
result.fixturesSweep = fsweep
console.log('| memory | total ms | miss penalty ms | L1 miss | L2 miss | mean penalty |')
console.log('|---|---|---|---|---|---|')
for (const p of fsweep.points) {
  const x = p.median
  console.log(`| ${f(p.memoryBytes / 1024, 0)} KiB | ${f(x.totalMs, 0)} | ${f(x.missPenaltyMs, 1)} | ${f(x.l1MissRatio * 100)}% | ${f(x.l2MissRatio * 100)}% | ${f(x.meanPenaltyNs / 1000, 1)} µs |`)
}
rmSync(work, { recursive: true, force: true })
console.log(`\nwrote ${saveResult('storage', result)}`)
