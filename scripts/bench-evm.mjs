#!/usr/bin/env node
// Benchmark of the fast EVM (src/evm/) beside @ethereumjs/evm, side by side in one process:
// calls/s of an ERC20 `transfer` message call and a Uniswap V2 `swapExactTokensForTokens` call through
// the router, the same contracts (the workload's, deployed for real) loaded into both. Before timing,
// every workload's first calls must give the same status, gas, output and logs on both EVMs.
// @ethereumjs runs on the mega engine's MegaStateManager and on its default MerkleStateManager (both in memory).
// Each repeat times --calls calls per EVM (alternating EVMs between repeats); medians over --repeat.
//
// Then whole transactions in blocks: each bundled chain (and --chains DIR ...) replayed by the mega engine with
// `--evm ethereumjs,fast --mode historical` in --block-repeat fresh processes (both EVMs on the same blocks, every
// block verified, state diffs checked against the baseline's): tx/s per EVM and the execution-phase speedup.
//
//   npm run bench:evm [-- --calls 300 --repeat 5 --block-repeat 3 --chains DIR,DIR]
import { execFileSync } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { encodeFunctionData } from 'viem'

import { Workbench, fromHex } from '../dist/evm/workbench.js'
import { hex } from '../dist/evm/state.js'
import { initKeccak } from '../dist/util/keccak.js'
import { loadArtifact } from '../dist/workloads/artifacts.js'
import { arg, machine, median, root, saveResult, schedule } from './lib.mjs'

const calls = Number(arg('calls', '300'))
const repeat = Number(arg('repeat', '5'))
await initKeccak()
const rows = []
// @ethereumjs on the mega engine's in-memory state (what `--evm ethereumjs` runs), then on createVM's default
// MerkleStateManager (in-memory trie); the fast EVM on its MemoryBackend in both.
for (const ejsState of ['mega', 'merkle']) {
const wb = await Workbench.create(ejsState)
const c = wb.setup.contracts
const token = loadArtifact('MegabenchToken').abi
const router = loadArtifact('UniswapV2Router02').abi
const [t0, t1] = [c.pairs[2].token0, c.pairs[2].token1] // token/token (the deployer approved the router for both)
const GAS = 1_000_000
// Each call changes state (balances move), so both EVMs run the same sequence of calls.
const workloads = [
  { name: 'ERC20 transfer', to: c.tokens[0], data: (i) => encodeFunctionData({ abi: token, functionName: 'transfer', args: [`0x${(0x1000 + (i % 500)).toString(16).padStart(40, '0')}`, 1n] }) },
  {
    name: 'Uniswap V2 swap',
    to: c.router,
    data: (i) => encodeFunctionData({ abi: router, functionName: 'swapExactTokensForTokens', args: [10n ** 15n, 0n, i % 2 === 0 ? [t0, t1] : [t1, t0], c.deployer, 2_000_000_000n] }),
  },
]

const strip = (a) => a.slice(2).toLowerCase()
const view = (o) => JSON.stringify({ s: o.status, g: String(o.gasUsed), out: hex(o.output), logs: o.logs.map((l) => [l.address, l.topics.map(hex), hex(l.data)]) })

// Verify before timing.
for (const w of workloads) {
  for (let i = 0; i < 3; i++) {
    const data = fromHex(w.data(i))
    const a = wb.callFast(strip(w.to), data, GAS)
    const b = await wb.callEjs(strip(w.to), data, GAS)
    if (a.status !== 1 || view(a) !== view(b)) throw new Error(`${w.name}: fast ${view(a)} != ethereumjs ${view(b)}`)
  }
}
console.log(`[ethereumjs on ${ejsState} state] verified: identical status, gas, output and logs on both EVMs`)

for (const w of workloads) {
  const datas = Array.from({ length: calls }, (_, i) => fromHex(w.data(i)))
  const to = strip(w.to)
  const fast = []
  const ejs = []
  // The protocol's order: one warm-up round of both EVMs (not recorded), then A B B A …
  for (const step of schedule(['fast', 'ejs'], repeat, 1)) {
    const e = step.variant
    const t = performance.now()
    if (e === 'fast') for (let i = 0; i < calls; i++) wb.callFast(to, datas[i], GAS)
    else for (let i = 0; i < calls; i++) await wb.callEjs(to, datas[i], GAS)
    const s = (performance.now() - t) / 1000
    if (!step.warmup) (e === 'fast' ? fast : ejs).push(calls / s)
  }
  const row = { workload: w.name, ethereumjsState: ejsState, fastCallsPerS: Math.round(median(fast)), ethereumjsCallsPerS: Math.round(median(ejs)), speedup: +(median(fast) / median(ejs)).toFixed(1), fastRuns: fast.map(Math.round), ethereumjsRuns: ejs.map(Math.round) }
  rows.push(row)
  console.log(`[${ejsState}] ${w.name.padEnd(16)} fast ${String(row.fastCallsPerS).padStart(8)} calls/s   ethereumjs ${String(row.ethereumjsCallsPerS).padStart(7)} calls/s   ${row.speedup}x`)
}
if (ejsState === 'merkle') {
  const roots = await wb.roots()
  if (roots.fast !== roots.ejs) throw new Error(`state roots differ after the benchmark: fast ${roots.fast}, ethereumjs ${roots.ejs}`)
  console.log('state roots equal after all calls')
}
}
// Whole transactions in blocks, on the mega engine.
const blockRepeat = Number(arg('block-repeat', '3'))
const chains = [
  ...['erc20-transfer', 'uniswap-swap', 'mixed', 'eth-transfer'].map((c) => join(root, 'fixtures', 'chains', c)),
  ...(arg('chains', '') || '').split(',').filter((x) => x !== ''),
]
const blockRows = []
const work = mkdtempSync(join(tmpdir(), 'megabench-bench-evm-'))
for (const chain of chains) {
  const runs = []
  for (let r = 0; r < blockRepeat; r++) {
    const out = execFileSync(process.execPath, [join(root, 'bin', 'megabench.js'), 'replay', '--chain', chain, '--engine', 'both', '--evm', 'ethereumjs,fast', '--mode', 'historical', '--json', '--no-report', '--out', join(work, `r${r}`)], { encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'pipe'] })
    const run = JSON.parse(out.trim().split('\n').at(-1))
    if (run.verification.failed.length > 0 || run.differential.mismatches > 0) throw new Error(`${chain}: blocks failed verification or the differential`)
    const ejs = run.engines.find((e) => e.mega?.evm?.requested === 'ethereumjs')
    const fast = run.engines.find((e) => e.mega?.evm?.requested === 'fast')
    runs.push({ txs: fast.totals.txs, ejsTxPerS: ejs.totals.txPerSec, fastTxPerS: fast.totals.txPerSec, execSpeedup: ejs.totals.phases.execution / fast.totals.phases.execution, fastBlocks: fast.mega.evm.fastBlocks })
  }
  const row = {
    chain,
    txs: runs[0].txs,
    fastBlocks: runs[0].fastBlocks,
    ethereumjsTxPerS: Math.round(median(runs.map((x) => x.ejsTxPerS))),
    fastTxPerS: Math.round(median(runs.map((x) => x.fastTxPerS))),
    txPerSRatio: +median(runs.map((x) => x.fastTxPerS / x.ejsTxPerS)).toFixed(2),
    executionSpeedup: +median(runs.map((x) => x.execSpeedup)).toFixed(2),
  }
  blockRows.push(row)
  console.log(`[mega engine, historical] ${chain.split('/').at(-1).padEnd(16)} ${row.txs} txs: ethereumjs ${row.ethereumjsTxPerS} tx/s, fast ${row.fastTxPerS} tx/s (${row.txPerSRatio}x; execution ${row.executionSpeedup}x)`)
}
const file = saveResult('evm', { date: new Date().toISOString(), machine: machine(), calls, repeat, rows, blockRepeat, blockRows })
console.log(`saved ${file}`)
