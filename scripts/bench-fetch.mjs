#!/usr/bin/env node
// Benchmark for `megabench fetch` (issue 8): blocks/s fetched (each block replayed and verified
// before it counts) from a local anvil, RPC calls per block, and fixture bytes per block.
//
//   npm run build && node scripts/bench-fetch.mjs [--rounds 4] [--repeat 3] [--concurrency 1,4]
//
// anvil (npm @foundry-rs/anvil, cancun) runs on 127.0.0.1 with the devnet workload of src/fetch/devnet.ts
// (ERC20 and ETH transfers, Uniswap V2 swaps: 2 setup blocks, then 2 blocks per round). Each
// configuration is fetched `--repeat` times into a fresh directory, interleaved; medians reported.
// Each run's files are then assembled into a chain directory as `fetch --chain` does (union witness,
// replayed and verified): its seconds and bytes per block are reported beside the per-block files'.
// anvil serves eth_getProof by rebuilding its whole trie per call, so this measures fetch on a
// small devnet, not a production node.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { arg, machine, median, root, saveResult } from './lib.mjs'

const rounds = Number(arg('rounds', '4'))
const repeat = Number(arg('repeat', '3'))
const concurrencies = arg('concurrency', '1,4').split(',').map(Number)

const { startAnvil, runDevnetWorkload } = await import(join(root, 'dist', 'fetch', 'devnet.js'))
const { fetchRange } = await import(join(root, 'dist', 'fetch', 'fetch.js'))
const { assembleChain } = await import(join(root, 'dist', 'fetch', 'chain.js'))

const anvil = await startAnvil()
const runs = Object.fromEntries(concurrencies.map((c) => [c, []]))
let workload
try {
  workload = await runDevnetWorkload(anvil.url, rounds)
  const blocks = workload.last - workload.first + 1
  console.error(`anvil: ${blocks} blocks, ${workload.txs} transactions`)
  // Warm-up (JIT, anvil's caches): one fetch, not counted.
  const warm = mkdtempSync(join(tmpdir(), 'megabench-bench-fetch-'))
  await fetchRange({ rpc: anvil.url, from: workload.first, to: workload.last, out: warm })
  rmSync(warm, { recursive: true, force: true })
  for (let i = 0; i < repeat; i++) {
    for (const c of concurrencies) {
      const out = mkdtempSync(join(tmpdir(), 'megabench-bench-fetch-'))
      const r = await fetchRange({ rpc: anvil.url, from: workload.first, to: workload.last, out, concurrency: c })
      const t = performance.now()
      r.chain = await assembleChain({ parts: out, chainId: r.chainId, from: workload.first, to: workload.last, out: `${out}-chain` })
      r.chain.seconds = (performance.now() - t) / 1000
      rmSync(out, { recursive: true, force: true })
      rmSync(`${out}-chain`, { recursive: true, force: true })
      if (r.fetched !== blocks) throw new Error(`fetched ${r.fetched} of ${blocks} blocks`)
      runs[c].push(r)
      console.error(`concurrency ${c}, run ${i + 1}: ${(r.fetched / r.seconds).toFixed(2)} blocks/s`)
    }
  }
} finally {
  await anvil.stop()
}

const blocks = workload.last - workload.first + 1
const result = {
  benchmark: 'fetch',
  date: new Date().toISOString(),
  machine: machine(),
  command: `node scripts/bench-fetch.mjs --rounds ${rounds} --repeat ${repeat} --concurrency ${concurrencies.join(',')}`,
  node: 'anvil 1.7.1 (npm @foundry-rs/anvil), --hardfork cancun, 127.0.0.1',
  workload: { blocks, txs: workload.txs, txPerBlock: workload.txs / blocks },
  results: concurrencies.map((c) => {
    const rs = runs[c]
    return {
      concurrency: c,
      runs: rs.length,
      blocksPerSec: median(rs.map((r) => r.fetched / r.seconds)),
      secondsPerBlock: median(rs.map((r) => r.seconds / r.fetched)),
      verifyShare: median(rs.map((r) => r.verifySeconds / r.seconds)),
      rpcCallsPerBlock: median(rs.map((r) => r.rpcCalls / r.fetched)),
      callsPerBlockByMethod: Object.fromEntries(Object.entries(rs[0].callsByMethod).map(([m, n]) => [m, n / rs[0].fetched])),
      bytesPerBlock: median(rs.map((r) => r.bytes / r.fetched)),
      chain: {
        blocksPerSec: median(rs.map((r) => r.fetched / (r.seconds + r.chain.seconds))),
        assembleSeconds: median(rs.map((r) => r.chain.seconds)),
        bytesPerBlock: median(rs.map((r) => r.chain.bytes / r.chain.blocks)),
        startNodes: median(rs.map((r) => r.chain.nodes)),
      },
      retries: rs.reduce((a, r) => a + r.retries, 0),
    }
  }),
}
const file = saveResult('fetch', result)
for (const r of result.results) {
  console.log(
    `concurrency ${r.concurrency}: ${r.blocksPerSec.toFixed(2)} blocks/s (median of ${r.runs}), verification ${(100 * r.verifyShare).toFixed(0)}% of wall time (summed over concurrent blocks), ` +
      `${r.rpcCallsPerBlock.toFixed(1)} RPC calls/block, ${Math.round(r.bytesPerBlock).toLocaleString('en-US')} bytes/block; ` +
      `--chain: ${r.chain.blocksPerSec.toFixed(2)} blocks/s incl. ${r.chain.assembleSeconds.toFixed(2)} s assembly + verification, ${Math.round(r.chain.bytesPerBlock).toLocaleString('en-US')} bytes/block (${r.chain.startNodes} start-state nodes)`,
  )
}
console.log(`${blocks} blocks, ${(result.workload.txPerBlock).toFixed(1)} tx/block · ${file}`)
