#!/usr/bin/env node
// Benchmark of the mega engine beside the baseline (issue 6), side by side in one run:
//  1. erc20-transfer, uniswap-swap and mixed chains (1M accounts, 200 blocks × 25 txs; generated on first
//     use into reports/bench/chains/, or taken from --chains DIR) and the bundled real blocks, each replayed
//     with `--engine both --mode both` (4 runs on the same blocks: baseline and mega, historical and live),
//     --repeat times in fresh processes (medians): tx/s ratios per mode, BucketTree key updates/s and hashes
//     per key vs the MPT on LMDB (key updates/s of merkleization, node and LMDB reads per updated key);
//  2. parallel execution: `--engine mega --threads 0,1,2` on each chain: acceptance and speedup vs widths;
//  3. a differential run over a long chain (--diff-chain DIR; default: generated, mixed, 10,000 blocks × 3 txs).
//
//   npm run build && node scripts/bench-mega.mjs [--chains DIR] [--repeat 3] [--parallel-repeat N (0 = skip)] [--diff-chain DIR] [--skip-diff]
//     [--evm fast|ethereumjs]   the mega engine's EVM (default fast; the baseline always runs @ethereumjs)
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { arg, hasFlag, machine, median, megabench, root, saveResult } from './lib.mjs'

const bin = join(root, 'bin', 'megabench.js')
// Exit 1 = a verification failure: the run result is still returned (and reported below).
const cli = (args) => megabench(args)
const work = mkdtempSync(join(tmpdir(), 'megabench-mega-'))
// The runs' outputs are read back and summarised; removed however the script ends (a thrown error included).
process.on('exit', () => rmSync(work, { recursive: true, force: true }))
const chainsDir = arg('chains', join(root, 'reports', 'bench', 'chains'))
const repeat = Number(arg('repeat', '3'))
const parRepeat = Number(arg('parallel-repeat', String(repeat)))
const evm = arg('evm', 'fast')
if (evm !== 'fast' && evm !== 'ethereumjs') throw new Error(`--evm must be fast or ethereumjs (got ${evm})`)
const f = (x, d = 1) => (x === null || x === undefined || Number.isNaN(x) ? '–' : Number(x).toFixed(d))
const WORKLOADS = [
  ['erc20-transfer', 'erc20-1m'],
  ['uniswap-swap', 'uniswap-1m'],
  ['mixed', 'mixed-1m-25'],
]

function ensureChain(dir, args) {
  if (existsSync(join(dir, 'chain.json'))) return dir
  mkdirSync(chainsDir, { recursive: true })
  console.error(`bench: generating ${dir} (${args.join(' ')})…`)
  // At cancun: the fast EVM (--evm fast, the default here) runs forks up to cancun; later blocks fall back to @ethereumjs.
  execFileSync(process.execPath, [bin, 'generate', ...args, '--hardfork', 'cancun', '--out', dir], { stdio: ['ignore', 'ignore', 'inherit'] })
  return dir
}

const result = { date: new Date().toISOString(), machine: machine(), repeat, evm, sources: [], parallel: [], differential: null }
console.log(`## megabench mega-engine benchmark (${result.date})`)
console.log(`machine: ${result.machine.cpu}, ${result.machine.cores} cores, ${result.machine.memoryGiB} GiB, node ${result.machine.node}; mega engine EVM: ${evm}`)

const sources = WORKLOADS.map(([workload, name]) => ({
  name: workload,
  args: ['--chain', ensureChain(join(chainsDir, name), [workload, '--accounts', '1M', '--blocks', '200', '--txs-per-block', '25'])],
}))
sources.push({ name: 'real blocks (bundled)', args: ['--fixtures', join(root, 'fixtures', 'mainnet')] })

/** One engine of a run: what the tables need. */
function summarizeEngine(e) {
  const m = e.storage?.merkleization
  const keys = m ? m.updatedAccounts + m.updatedSlots : null
  return {
    label: e.label,
    txPerSec: e.totals.txPerSec,
    processingMs: e.totals.processingMs,
    phases: e.totals.phases,
    // The baseline: keys written to the MPT and the trie's reads per key; the mega engine: the BucketTree's counters.
    keyUpdates: e.mega ? e.mega.keyUpdates : keys,
    keyUpdatesPerSec: e.mega ? e.mega.keyUpdatesPerSec : keys / Math.max(e.totals.phases.merkleization / 1000, 1e-9),
    nodeReadsPerKey: m ? m.nodeReadsPerKey : 0,
    storageReadsPerKey: m ? m.lmdbReadsPerKey : 0,
    hashesPerKey: e.mega ? e.mega.hashesPerUpdate : m ? m.nodeWritesPerKey : null,
    stateDiffBytes: e.mega?.stateDiffBytes ?? null,
  }
}

// 1. Both engines, both modes, side by side in one process per repetition.
for (const s of sources) {
  const runs = []
  for (let r = 1; r <= repeat; r++) {
    const run = cli(['replay', ...s.args, '--engine', 'both', '--mode', 'both', '--evm', evm, '--json', '--no-report', '--out', join(work, `${s.name.replace(/\W+/g, '-')}-${r}`)])
    const engines = Object.fromEntries(run.engines.map((e) => [e.label, summarizeEngine(e)]))
    runs.push({ verified: `${run.verification.verified}/${run.verification.blocks}`, failed: run.verification.failed.length, differential: run.differential, engines, txs: run.engines[0].totals.txs })
    console.error(
      `${s.name} run ${r}/${repeat}: ${Object.values(engines).map((e) => `${e.label} ${f(e.txPerSec)} tx/s`).join(', ')}; differential ${run.differential.compared - run.differential.mismatches}/${run.differential.compared}`,
    )
  }
  result.sources.push({ name: s.name, args: s.args, runs })
}

const med = (runs, fn) => median(runs.map(fn))
console.log(`\n### mega / baseline, ${repeat} runs of \`replay --engine both --mode both --evm ${evm}\` each (medians; ratio = median of per-run ratios)`)
console.log('| source | txs | verified | differential | baseline hist tx/s | mega hist tx/s | × (historical) | baseline live tx/s | mega live tx/s | × (live) |')
console.log('|---|---|---|---|---|---|---|---|---|---|')
for (const s of result.sources) {
  const e = (r, l) => r.engines[l]
  const ratio = (mode) => med(s.runs, (r) => e(r, `mega/${mode}`).txPerSec / e(r, `baseline/${mode}`).txPerSec)
  const d = s.runs[0].differential
  console.log(
    `| ${s.name} | ${s.runs[0].txs} | ${s.runs.map((r) => r.verified).join(', ')} | ${d.compared - d.mismatches}/${d.compared} equal | ${f(med(s.runs, (r) => e(r, 'baseline/historical').txPerSec))} | ${f(med(s.runs, (r) => e(r, 'mega/historical').txPerSec))} | **${f(ratio('historical'), 2)}x** | ${f(med(s.runs, (r) => e(r, 'baseline/live').txPerSec))} | ${f(med(s.runs, (r) => e(r, 'mega/live').txPerSec))} | **${f(ratio('live'), 2)}x** |`,
  )
}

console.log('\n### state root work, live mode (medians): BucketTree (mega) vs MPT on LMDB (baseline)')
console.log('| source | MPT key updates/s | MPT node reads / key | MPT LMDB reads / key | MPT nodes hashed / key | BucketTree key updates/s | storage reads / key | hashes / key | × key updates/s |')
console.log('|---|---|---|---|---|---|---|---|---|')
for (const s of result.sources) {
  const b = (fn) => med(s.runs, (r) => fn(r.engines['baseline/live']))
  const m = (fn) => med(s.runs, (r) => fn(r.engines['mega/live']))
  console.log(
    `| ${s.name} | ${f(b((e) => e.keyUpdatesPerSec), 0)} | ${f(b((e) => e.nodeReadsPerKey), 2)} | ${f(b((e) => e.storageReadsPerKey), 2)} | ${f(b((e) => e.hashesPerKey), 2)} | ${f(m((e) => e.keyUpdatesPerSec), 0)} | 0 | ${f(m((e) => e.hashesPerKey), 2)} | ${f(med(s.runs, (r) => r.engines['mega/live'].keyUpdatesPerSec / r.engines['baseline/live'].keyUpdatesPerSec), 1)}x |`,
  )
}

console.log('\n### where the mega engine spends its time, live (median ms per phase)')
console.log('| source | sender recovery | execution | state load | merkleization | persistence |')
console.log('|---|---|---|---|---|---|')
for (const s of result.sources) {
  const p = (k) => med(s.runs, (r) => r.engines['mega/live'].phases[k])
  console.log(`| ${s.name} | ${f(p('senderRecovery'), 0)} | ${f(p('execution'), 0)} | ${f(p('stateLoad'), 0)} | ${f(p('merkleization'), 0)} | ${f(p('persistence'), 0)} |`)
}

// 2. Parallel execution: widths 0 (in order), 1 and 2 in one process, repeated (the workers run @ethereumjs).
for (const s of parRepeat > 0 ? sources.filter((x) => x.args[0] === '--chain') : []) {
  const runs = []
  for (let r = 1; r <= parRepeat; r++) {
    const run = cli(['replay', ...s.args, '--engine', 'mega', '--threads', '0,1,2', '--json', '--no-report', '--out', join(work, `par-${s.name}-${r}`)])
    runs.push(run.engines.map((e) => ({ threads: e.mega.threads, txPerSec: e.totals.txPerSec, parallel: e.mega.parallel, verified: e.totals.verifiedBlocks })))
  }
  result.parallel.push({ name: s.name, runs })
}
if (parRepeat > 0) console.log(`\n### parallel execution on the mega engine (live; ${result.machine.cores} cores; medians of ${parRepeat})`)
if (parRepeat > 0) console.log('| chain | in order tx/s | 1 worker tx/s | 2 workers tx/s | speedup 2 workers vs in order | accepted from workers | read conflicts (run again in order) |\n|---|---|---|---|---|---|---|')
for (const p of result.parallel) {
  const t = (w) => med(p.runs, (r) => r.find((x) => x.threads === w).txPerSec)
  const two = p.runs[0].find((x) => x.threads === 2).parallel
  console.log(
    `| ${p.name} | ${f(t(0))} | ${f(t(1))} | ${f(t(2))} | ${f(med(p.runs, (r) => r.find((x) => x.threads === 2).txPerSec / r.find((x) => x.threads === 0).txPerSec), 2)}x | ${f((two.accepted / two.txs) * 100)}% | ${f((two.conflicts / two.txs) * 100)}% |`,
  )
}

// 3. The long differential run.
if (!hasFlag('skip-diff')) {
  const diffChain = arg('diff-chain') ?? ensureChain(join(chainsDir, 'mixed-10k-blocks'), ['mixed', '--accounts', '10k', '--blocks', '10000', '--txs-per-block', '3'])
  const run = cli(['replay', '--chain', diffChain, '--engine', 'both', '--evm', evm, '--json', '--no-report', '--out', join(work, 'differential')])
  result.differential = {
    chain: diffChain,
    blocks: run.verification.blocks,
    verified: run.verification.verified,
    failed: run.verification.failed.length,
    compared: run.differential.compared,
    mismatches: run.differential.mismatches,
    txPerSec: Object.fromEntries(run.engines.map((e) => [e.label, e.totals.txPerSec])),
  }
  const d = result.differential
  console.log(`\n### differential over ${d.blocks} blocks (${diffChain})`)
  console.log(`verified ${d.verified}/${d.blocks}; state diffs compared ${d.compared}, mismatches ${d.mismatches}; tx/s ${Object.entries(d.txPerSec).map(([k, v]) => `${k} ${f(v)}`).join(', ')}`)
}

console.log(`\nsaved ${saveResult('mega', result)}`)
