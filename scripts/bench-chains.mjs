#!/usr/bin/env node
// Benchmark for generated chains (issue 3): per workload, the generation rate and bytes on disk
// per block, then the baseline replay throughput of the generated chain; and the time and peak
// memory of building a large genesis (default 1M and 10M accounts).
//
//   npm run build && node scripts/bench-chains.mjs [--blocks 50] [--txs 100] [--genesis 1M,10M] [--skip-genesis]
//
// Every step runs in a fresh process; peak memory is that process's max RSS.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

import { arg, hasFlag, machine, root, runChild, saveResult } from './lib.mjs'

const args = process.argv.slice(2)
if (args[0] === '--child') {
  // One measured step in this process: `generate` or `replay`, result on stdout as JSON.
  const { generateChain } = await import(join(root, 'dist', 'workloads', 'generate.js'))
  const { createChainSource } = await import(join(root, 'dist', 'sources', 'chain.js'))
  const { replay } = await import(join(root, 'dist', 'run', 'replay.js'))
  const [, step, json] = args
  const p = JSON.parse(json)
  let out
  if (step === 'generate') {
    const s = await generateChain(p.options, p.dir)
    out = { setupMs: s.setupMs, genesisMs: s.genesisMs, blocksMs: s.blocksMs, txs: s.txs, gasUsed: s.gasUsed, bytes: s.bytesOnDisk, genesisNodes: s.genesisNodes }
  } else {
    const r = await replay({ source: await createChainSource({ dir: p.dir }), sourcePaths: [p.dir] })
    const t = r.engines[0].totals
    out = { verified: `${r.verification.verified}/${r.verification.blocks}`, txPerSec: t.txPerSec, mgasPerSec: t.mgasPerSec, processingMs: t.processingMs, importMs: t.setupMs, phases: t.phases }
  }
  out.maxRssMiB = process.resourceUsage().maxRSS / 1024
  process.stdout.write(`${JSON.stringify(out)}\n`)
  process.exit(0)
}

const child = (step, payload) => runChild(fileURLToPath(import.meta.url), ['--child', step, JSON.stringify(payload)])

const blocks = Number(arg('blocks', '50'))
const txs = Number(arg('txs', '100'))
const accounts = Number(arg('accounts', '100000'))
const work = mkdtempSync(join(tmpdir(), 'megabench-bench-'))
const results = { date: new Date().toISOString(), machine: machine(), workloads: {}, genesis: {} }
const f = (x, d = 1) => Number(x).toFixed(d)

console.log(`## megabench chain benchmark (${results.date})`)
console.log(`machine: ${results.machine.cpu}, ${results.machine.cores} cores, ${results.machine.memoryGiB} GiB, node ${results.machine.node}`)
console.log(`workloads: ${accounts.toLocaleString('en-US')} accounts, ${blocks} blocks × ${txs} txs, seed 1, defaults otherwise`)
console.log('| workload | generate blocks/s | generate tx/s | bytes/block (RLP) | replay tx/s | replay Mgas/s | gas/tx | verified |')
console.log('|---|---|---|---|---|---|---|---|')
for (const workload of ['eth-transfer', 'erc20-transfer', 'uniswap-swap', 'mixed']) {
  const dir = join(work, workload)
  const g = child('generate', { dir, options: { workload, accounts, blocks, txsPerBlock: txs } })
  const r = child('replay', { dir })
  results.workloads[workload] = { generate: g, replay: r }
  console.log(
    `| ${workload} | ${f(blocks / (g.blocksMs / 1000), 2)} | ${f(g.txs / (g.blocksMs / 1000), 0)} | ${f(g.bytes.blocks / blocks, 0)} | ` +
      `${f(r.txPerSec, 0)} | ${f(r.mgasPerSec, 2)} | ${f(g.gasUsed / g.txs, 0)} | ${r.verified} |`,
  )
  rmSync(dir, { recursive: true, force: true })
}

if (!hasFlag('skip-genesis')) {
  console.log('\n| genesis accounts | trie nodes | build time | peak RSS |')
  console.log('|---|---|---|---|')
  for (const label of arg('genesis', '1M,10M').split(',')) {
    const n = Number(label.replace(/M$/i, 'e6').replace(/k$/i, 'e3'))
    const dir = join(work, `genesis-${label}`)
    const g = child('generate', { dir, options: { workload: 'eth-transfer', accounts: n, blocks: 1, txsPerBlock: 10 } })
    results.genesis[label] = g
    console.log(`| ${n.toLocaleString('en-US')} | ${g.genesisNodes.toLocaleString('en-US')} | ${f(g.genesisMs / 1000)} s | ${f(g.maxRssMiB, 0)} MiB |`)
    rmSync(dir, { recursive: true, force: true })
  }
}
rmSync(work, { recursive: true, force: true })
console.log(`\nwrote ${saveResult('chains', results)}`)
