#!/usr/bin/env node
// Whole-transaction benchmark of the fast EVM (src/evm/): signed ERC20 `transfer` transactions from tx start
// to receipt, through the path the engines' `--evm fast` run (`FastBlockRun`: `execute` → transaction input,
// validity, gas purchase, warm sets, frames, refund and fees, end of transaction; `addReceipt` → logs bloom
// and receipt encoding; per block `finish` (flush to the backend) and the receipts root), on an in-memory
// state (the workbench's MemoryBackend with the workload's MegabenchToken deployed; a WorldState per block,
// as src/engines/fastBlock.ts). Senders are set on the transactions beforehand (no signature recovery in the
// measurement, as the engines recover them ahead of execution).
//
// Timed: --passes warm passes of --txs transactions each (blocks of --block transactions) after one warm-up
// pass (scripts/lib.mjs `schedule`); reports tx/s as median [min–max]. Then one pass under the V8 sampling
// profiler (node:inspector, 100 µs): each sample goes to the phase of the innermost phase function on its
// stack (see PHASES), shown as µs per transaction (shares of the profiled pass scaled to the median's time).
// With the default tier a block is compiled after 16,384 entries (src/evm/tiers.ts): the first passes run
// interpreted and one pass compiles; `--tier compiled` measures the steady state.
//
//   npm run bench:tx [-- --txs 4000 --block 400 --passes 5 --tier tiered --no-profile]
import { Session } from 'node:inspector/promises'

import { createFeeMarket1559Tx, createTxFromRLP } from '@ethereumjs/tx'
import { createAddressFromString } from '@ethereumjs/util'
import { encodeFunctionData } from 'viem'

import { FastBlockRun, receiptsRoot } from '../dist/evm/block.js'
import { WorldState } from '../dist/evm/state.js'
import { Workbench, fromHex } from '../dist/conformance/workbench.js'
import { setSender } from '../dist/engines/senders.js'
import { initKeccak } from '../dist/util/keccak.js'
import { loadArtifact } from '../dist/workloads/artifacts.js'
import { arg, hasFlag, machine, saveResult, schedule, spread } from './lib.mjs'

const TXS = Number(arg('txs', '4000'))
const BLOCK = Number(arg('block', '400'))
const PASSES = Number(arg('passes', '5'))
const tier = arg('tier', 'tiered')
await initKeccak()

const wb = await Workbench.create('merkle')
const token = loadArtifact('MegabenchToken').abi
const to = wb.setup.contracts.tokens[0]
const steps = schedule(['fast'], PASSES, 1)
const profile = !hasFlag('no-profile')
const passCount = steps.length + (profile ? 1 : 0)

// Every pass's transactions signed ahead (nonces in order), decoded unfrozen as the engines decode blocks, sender set.
process.stdout.write(`signing ${passCount * TXS} transactions ... `)
let nonce = wb.nextNonce()
const passTxs = []
for (let p = 0; p < passCount; p++) {
  const txs = []
  for (let i = 0; i < TXS; i++) {
    const data = fromHex(encodeFunctionData({ abi: token, functionName: 'transfer', args: [`0x${(0x1000 + (i % 1000)).toString(16).padStart(40, '0')}`, 1n] }))
    const signed = createFeeMarket1559Tx(
      { to: createAddressFromString(to), data, gasLimit: 100_000n, nonce: nonce++, maxFeePerGas: 10n, maxPriorityFeePerGas: 1n, chainId: 1337n },
      { common: wb.common },
    ).sign(wb.senderKey)
    const tx = createTxFromRLP(signed.serialize(), { common: wb.common, freeze: false })
    setSender(tx, wb.sender)
    txs.push(tx)
  }
  passTxs.push(txs)
}
console.log('done')

const opts = { fork: 'cancun', chainId: 1337n, blockHash: () => 0n, tier }
let checked = false
/** One pass: the transactions in blocks of BLOCK, a WorldState per block over the shared MemoryBackend. */
function pass(txs) {
  let gas = 0n
  for (let b = 0; b < txs.length; b += BLOCK) {
    const state = new WorldState(wb.backend)
    const run = new FastBlockRun(state, wb.block, opts)
    const end = Math.min(txs.length, b + BLOCK)
    for (let i = b; i < end; i++) {
      const tx = txs[i]
      const res = run.execute(tx)
      if (!checked && (res.status !== 1 || res.logs.length !== 1)) throw new Error(`transfer failed: status ${res.status}, ${res.logs.length} logs`)
      run.addReceipt(tx, res, undefined)
    }
    checked = true
    const r = run.finish()
    receiptsRoot(r.encodedReceipts)
    gas += r.gasUsed
  }
  return gas
}

const txPerS = []
const cpuTxPerS = []
let gasPerTx = 0
let p = 0
for (const step of steps) {
  const txs = passTxs[p++]
  const t = process.hrtime.bigint()
  const c = process.cpuUsage()
  const gas = pass(txs)
  const s = Number(process.hrtime.bigint() - t) / 1e9
  const cu = process.cpuUsage(c)
  const cs = (cu.user + cu.system) / 1e6
  gasPerTx = Number(gas) / txs.length
  if (!step.warmup) {
    txPerS.push(txs.length / s)
    cpuTxPerS.push(txs.length / cs)
  }
  console.log(`${step.warmup ? 'warm-up' : `pass ${step.pass + 1}`}: ${Math.round(txs.length / s)} tx/s (${Math.round(txs.length / cs)} per CPU second)`)
}
const sp = spread(txPerS)
const cpu = spread(cpuTxPerS)
console.log(`ERC20 transfer, whole transaction to receipt (tier ${tier}, ${gasPerTx} gas/tx, blocks of ${BLOCK}): ${Math.round(sp.median)} tx/s [${Math.round(sp.min)}–${Math.round(sp.max)}] over ${sp.n} passes of ${TXS}; ${(1e6 / sp.median).toFixed(2)} µs/tx`)
// The process's CPU time (user + system, this thread and V8's helper threads: GC) per pass: less sensitive to other load on a shared machine.
console.log(`  per CPU second: ${Math.round(cpu.median)} tx/s [${Math.round(cpu.min)}–${Math.round(cpu.max)}]`)

// Phases: the innermost of these functions on a sample's stack (file:function, dist/evm/); samples under none → other.
const PHASES = [
  ['block.js:execute', 'tx: FastBlockRun.execute (other)'],
  ['transaction.js:txInputFromEthereumjs', 'tx: input conversion (TypedTransaction → TxInput)'],
  ['transaction.js:runTransaction', 'tx: validity, gas purchase/nonce, warm sets, refund, fees'],
  ['transaction.js:intrinsicGas', 'tx: intrinsic gas + calldata floor'],
  ['transaction.js:calldataFloor', 'tx: intrinsic gas + calldata floor'],
  ['interpreter.js:Evm', 'frame setup (Evm, enterCall, Frame)'],
  ['interpreter.js:setTx', 'frame setup (Evm, enterCall, Frame)'],
  ['interpreter.js:enterCall', 'frame setup (Evm, enterCall, Frame)'],
  ['interpreter.js:Frame', 'frame setup (Evm, enterCall, Frame)'],
  ['interpreter.js:execute', 'interpretation (frames, incl. SLOAD/SSTORE state access)'],
  ['interpreter.js:leaveCall', 'frame end (leaveCall, release)'],
  ['state.js:beginTx', 'state: begin/finalize transaction'],
  ['state.js:finalizeTx', 'state: begin/finalize transaction'],
  ['block.js:addReceipt', 'receipt: logs, bloom, encoding'],
  ['block.js:finish', 'block end: finish (flush to the backend)'],
  ['block.js:receiptsRoot', 'block end: receipts root'],
  ['block.js:FastBlockRun', 'block start (FastBlockRun constructor)'],
]
let breakdown
if (profile) {
  const session = new Session()
  session.connect()
  await session.post('Profiler.enable')
  await session.post('Profiler.setSamplingInterval', { interval: 100 })
  await session.post('Profiler.start')
  const t = process.hrtime.bigint()
  pass(passTxs[p++])
  const profiledS = Number(process.hrtime.bigint() - t) / 1e9
  const { profile: prof } = await session.post('Profiler.stop')
  session.disconnect()
  const byId = new Map(prof.nodes.map((n) => [n.id, n]))
  const parent = new Map()
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const phaseOf = new Map(PHASES)
  const memo = new Map()
  const phase = (id) => {
    if (memo.has(id)) return memo.get(id)
    const n = byId.get(id)
    const f = n.callFrame
    let r
    if (f.functionName === '(garbage collector)') r = 'garbage collection'
    else {
      const key = `${f.url.split('/').at(-1)}:${f.functionName}`
      r = f.url.includes('/dist/evm/') && phaseOf.has(key) ? phaseOf.get(key) : parent.has(id) ? phase(parent.get(id)) : 'other (outside the phases: the bench loop, idle)'
    }
    memo.set(id, r)
    return r
  }
  const counts = new Map()
  for (const id of prof.samples) counts.set(phase(id), (counts.get(phase(id)) ?? 0) + 1)
  const total = prof.samples.length
  const usPerTx = 1e6 / sp.median
  breakdown = [...counts].sort((a, b) => b[1] - a[1]).map(([name, c]) => ({ phase: name, share: +(c / total).toFixed(4), usPerTx: +((c / total) * usPerTx).toFixed(2) }))
  console.log(`\nwhere the time goes (V8 sampling profile of one pass: ${total} samples, ${Math.round(TXS / profiledS)} tx/s under the profiler; µs/tx scaled to the median):`)
  for (const b of breakdown) console.log(`  ${b.usPerTx.toFixed(2).padStart(7)} µs/tx  ${(b.share * 100).toFixed(1).padStart(5)}%  ${b.phase}`)
  // The top self-time functions of the largest phases, for the detail behind them.
  const self = new Map()
  for (const id of prof.samples) {
    const f = byId.get(id).callFrame
    const k = `${f.functionName || '(anonymous)'} ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}`
    const ph = phase(id)
    if (!self.has(ph)) self.set(ph, new Map())
    self.get(ph).set(k, (self.get(ph).get(k) ?? 0) + 1)
  }
  for (const b of breakdown.slice(0, 5)) {
    console.log(`\n  ${b.phase}: top self time`)
    for (const [k, c] of [...self.get(b.phase)].sort((x, y) => y[1] - x[1]).slice(0, 8)) console.log(`    ${((c / total) * 100).toFixed(1).padStart(5)}%  ${k}`)
  }
}
const file = saveResult('tx', { date: new Date().toISOString(), machine: machine(), tier, txs: TXS, block: BLOCK, passes: PASSES, gasPerTx, txPerS: { median: Math.round(sp.median), min: Math.round(sp.min), max: Math.round(sp.max), runs: txPerS.map(Math.round) }, cpuTxPerS: { median: Math.round(cpu.median), min: Math.round(cpu.min), max: Math.round(cpu.max) }, breakdown })
console.log(`saved ${file}`)
