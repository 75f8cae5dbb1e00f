#!/usr/bin/env node
// The fast EVM's tiering policy, measured (how DEFAULT_EVM_TIER and TIERED_THRESHOLD in src/evm/tiers.ts
// were chosen). Variants: the interpreter, every block compiled on first entry, and the tiered tier at each
// --thresholds value (MEGABENCH_EVM_TIERED_THRESHOLD). Each variant runs in a fresh process per repetition,
// in the protocol's order (scripts/lib.mjs `schedule`: a warm-up round of every variant, then A B B A …);
// medians over --repeat.
//
// In each process, CPU time (process.cpuUsage: this thread, V8's compiler and GC threads; no sender
// workers, cached senders) of:
//   - calls: bench:evm's message calls (Workbench): --calls ERC20 `transfer`s, then --calls Uniswap V2 swaps;
//     `first` = the first --calls of each (the process meets the code: compilation and cold code included),
//     `steady` = the median of --rounds more rounds of them, `last` = the last of those rounds (V8 optimizes
//     each compiled block on its own: with many rounds, `last` shows compiled code once V8 has caught up);
//   - blocks: each source replayed by the mega engine (`--evm fast --mode historical`, library call),
//     `cold` = the process's first replay of it, `warm` = the median of two more (compiled code kept).
// Sources: the bundled chains (fixtures/chains/*) and the bundled real blocks the fast EVM executes (Byzantium
// and later: 4370000, 15537394, 18884864, 21230867). Every block must verify.
//
// The machine is shared (the load average is printed): CPU time, not wall time, is what is compared.
//
//   node scripts/bench-tiers.mjs [--thresholds 16,256,1024,4096] [--repeat 3] [--calls 300] [--rounds 5]
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

import { arg, hasFlag, machine, median, root, saveResult, schedule } from './lib.mjs'

const REAL = ['mainnet-4370000.json', 'mainnet-15537394.json', 'mainnet-18884864.json', 'mainnet-21230867.json'].map((f) => join(root, 'fixtures', 'mainnet', f))
const CHAINS = ['erc20-transfer', 'uniswap-swap', 'mixed', 'eth-transfer']
const calls = Number(arg('calls', '300'))
const rounds = Number(arg('rounds', '5'))

const cpuMs = (f) => {
  const s = process.cpuUsage()
  const r = f()
  return r instanceof Promise
    ? r.then(() => {
        const u = process.cpuUsage(s)
        return (u.user + u.system) / 1000
      })
    : ((u) => (u.user + u.system) / 1000)(process.cpuUsage(s))
}

if (hasFlag('child')) {
  // One variant in this process: --tier (and MEGABENCH_EVM_TIERED_THRESHOLD from the parent).
  const tier = arg('tier', 'tiered')
  const { encodeFunctionData } = await import('viem')
  const { Workbench, fromHex } = await import('../dist/conformance/workbench.js')
  const { initKeccak } = await import('../dist/util/keccak.js')
  const { loadArtifact } = await import('../dist/workloads/artifacts.js')
  const { DEFAULT_MEGA_SETTINGS, replay } = await import('../dist/run/replay.js')
  const { createChainSource } = await import('../dist/sources/chain.js')
  const { createFixtureSource } = await import('../dist/sources/fixtures.js')
  const { compilerStats } = await import('../dist/evm/compiler.js')
  await initKeccak()
  const out = { calls: {}, blocks: {} }
  const wb = await Workbench.create('merkle')
  wb.tier = tier
  const c = wb.setup.contracts
  const token = loadArtifact('MegabenchToken').abi
  const router = loadArtifact('UniswapV2Router02').abi
  const [t0, t1] = [c.pairs[2].token0, c.pairs[2].token1]
  const workloads = [
    ['erc20', c.tokens[0], (i) => encodeFunctionData({ abi: token, functionName: 'transfer', args: [`0x${(0x1000 + (i % 500)).toString(16).padStart(40, '0')}`, 1n] })],
    ['swap', c.router, (i) => encodeFunctionData({ abi: router, functionName: 'swapExactTokensForTokens', args: [10n ** 15n, 0n, i % 2 === 0 ? [t0, t1] : [t1, t0], c.deployer, 2_000_000_000n] })],
  ]
  for (const [name, to, data] of workloads) {
    const datas = Array.from({ length: calls }, (_, i) => fromHex(data(i)))
    const addr = to.slice(2).toLowerCase()
    const round = () => {
      for (let i = 0; i < calls; i++) if (wb.callFast(addr, datas[i], 1_000_000).status !== 1) throw new Error(`${name}: call failed`)
    }
    const first = cpuMs(round)
    const steady = []
    for (let r = 0; r < rounds; r++) steady.push(cpuMs(round))
    out.calls[name] = { firstMs: first, steadyMs: median(steady), lastMs: steady.at(-1), roundsMs: steady }
  }
  const sources = [...CHAINS.map((name) => [name, () => createChainSource({ dir: join(root, 'fixtures', 'chains', name) }), [join(root, 'fixtures', 'chains', name)]]), ['real', () => createFixtureSource({ paths: REAL }), REAL]]
  for (const [name, make, paths] of sources) {
    const once = async () => {
      const source = await make()
      const r = await replay({ source, sourcePaths: paths, modes: ['historical'], engines: ['mega'], storage: { kind: 'memory' }, senders: 'cache', warmup: 0, repeat: 1, mega: { ...DEFAULT_MEGA_SETTINGS, senderWorkers: 0, evm: 'fast', evmTier: tier } })
      if (r.verification.failed.length > 0 || r.engines[0].totals.verifiedBlocks !== r.engines[0].totals.blocks) throw new Error(`${name}: blocks failed verification`)
    }
    const cold = await cpuMs(once)
    const warm = [await cpuMs(once), await cpuMs(once)]
    out.blocks[name] = { coldMs: cold, warmMs: median(warm) }
  }
  out.compiled = compilerStats.blocksCompiled
  console.log(JSON.stringify(out))
} else {
  const thresholds = arg('thresholds', '16,256,1024,4096').split(',').map(Number)
  const repeat = Number(arg('repeat', '3'))
  const variants = [{ name: 'interpreter', tier: 'interpreter' }, { name: 'compiled', tier: 'compiled' }, ...thresholds.map((t) => ({ name: `tiered@${t}`, tier: 'tiered', threshold: t }))]
  const runs = new Map(variants.map((v) => [v.name, []]))
  const load = [machine().loadavg]
  for (const step of schedule(variants, repeat, 1)) {
    const v = step.variant
    const env = { ...process.env, MEGABENCH_EVM_TIERED_THRESHOLD: v.threshold === undefined ? '' : String(v.threshold) }
    const text = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--child', '--tier', v.tier, '--calls', String(calls), '--rounds', String(rounds)], { encoding: 'utf8', maxBuffer: 1 << 26, env })
    if (!step.warmup) runs.get(v.name).push(JSON.parse(text.trim().split('\n').at(-1)))
    process.stderr.write(`${step.warmup ? 'warm-up ' : ''}${v.name} done (load ${machine().loadavg[0]})\n`)
  }
  load.push(machine().loadavg)
  // Medians per variant and measure; each measure also as the interpreter's CPU time over the variant's (> 1: faster).
  const measures = [
    ...['erc20', 'swap'].flatMap((w) => [`calls.${w}.firstMs`, `calls.${w}.steadyMs`, `calls.${w}.lastMs`]),
    ...[...CHAINS, 'real'].flatMap((s) => [`blocks.${s}.coldMs`, `blocks.${s}.warmMs`]),
  ]
  const get = (o, path) => path.split('.').reduce((x, k) => x[k], o)
  const rows = measures.map((m) => {
    const row = { measure: m }
    for (const v of variants) row[v.name] = +median(runs.get(v.name).map((o) => get(o, m))).toFixed(1)
    return row
  })
  console.log(`CPU ms, medians of ${repeat} processes per variant (speedup over the interpreter in parentheses); load average ${load[0].join(', ')} → ${load[1].join(', ')}`)
  console.log(`${'measure'.padEnd(28)}${variants.map((v) => v.name.padStart(18)).join('')}`)
  for (const row of rows) {
    console.log(`${row.measure.padEnd(28)}${variants.map((v) => `${row[v.name].toFixed(0)} (${(row.interpreter / row[v.name]).toFixed(2)}x)`.padStart(18)).join('')}`)
  }
  const compiled = Object.fromEntries(variants.map((v) => [v.name, median(runs.get(v.name).map((o) => o.compiled))]))
  console.log(`blocks compiled per process: ${variants.map((v) => `${v.name} ${compiled[v.name]}`).join(', ')}`)
  const file = saveResult('tiers', { date: new Date().toISOString(), machine: machine(), loadavg: load, repeat, calls, rounds, thresholds, rows, compiled, runs: Object.fromEntries(runs) })
  console.log(`saved ${file}`)
}
