#!/usr/bin/env node
// The differential at scale (issue 21): generated chains of every workload at several forks, each
// replayed with `--engine both --evm fast` and every fast-EVM tier side by side: every block must verify
// on every engine, and every mega variant's state diff must equal the baseline's (@ethereumjs) for every
// block. Exits 1 on any failure; prints one row per chain and the totals; writes
// reports/bench/differential-<date>.json.
//
//   npm run build && node scripts/differential.mjs                          # 10,000 blocks (16 chains × 625)
//   node scripts/differential.mjs --blocks 1000 --txs-per-block 4 --tiers interpreter,compiled
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { arg, machine, root, saveResult } from './lib.mjs'

const TOTAL = Number(arg('blocks', '10000'))
const TXS = arg('txs-per-block', '4')
const ACCOUNTS = arg('accounts', '10k')
const TIERS = arg('tiers', 'interpreter,compiled')
const WORKLOADS = arg('workloads', 'mixed,erc20-transfer,uniswap-swap,eth-transfer').split(',')
const FORKS = arg('forks', 'cancun,prague,osaka,bpo2').split(',')

function megabench(args) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(root, 'bin', 'megabench.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    const out = []
    const err = []
    child.stdout.on('data', (d) => out.push(d))
    child.stderr.on('data', (d) => err.push(d))
    child.on('close', (code, signal) => resolve({ code: code ?? signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }))
  })
}

const chains = WORKLOADS.flatMap((w) => FORKS.map((f) => ({ workload: w, fork: f })))
const perChain = Math.ceil(TOTAL / chains.length)
const started = new Date().toISOString()
const rows = []
const tmp = mkdtempSync(join(tmpdir(), 'megabench-differential-'))
try {
  for (const [i, c] of chains.entries()) {
    const dir = join(tmp, `${c.workload}-${c.fork}`)
    const t0 = performance.now()
    const g = await megabench(['generate', c.workload, '--out', dir, '--accounts', ACCOUNTS, '--blocks', String(perChain), '--txs-per-block', TXS, '--hardfork', c.fork, '--seed', String(i + 1), '--json'])
    const row = { ...c, seed: i + 1, blocks: perChain, txs: null, verified: null, compared: null, expected: null, mismatches: null, problems: [], seconds: 0 }
    if (g.code !== 0) {
      row.problems.push(`generate failed (exit ${g.code}): ${g.stderr.trim().split('\n').at(-1)}`)
    } else {
      const r = await megabench(['replay', '--chain', dir, '--engine', 'both', '--evm', 'fast', '--evm-tier', TIERS, '--warmup', '0', '--json', '--no-report', '--out', join(tmp, `out-${i}`)])
      try {
        const run = JSON.parse(r.stdout)
        row.txs = run.engines[0].totals.txs ?? null
        row.verified = `${run.verification.verified}/${run.verification.blocks}`
        row.compared = run.differential?.compared ?? 0
        row.expected = run.differential?.expected ?? 0
        row.mismatches = run.differential?.mismatches ?? 0
        if (run.verification.verified !== run.verification.blocks) row.problems.push(`${run.verification.blocks - run.verification.verified} blocks did not verify: ${JSON.stringify(run.verification.failed.slice(0, 3))}`)
        if (row.compared !== row.expected) row.problems.push(`diffs compared ${row.compared} of ${row.expected}`)
        if (row.mismatches > 0) row.problems.push(`${row.mismatches} diffs differ from the baseline's`)
      } catch {
        row.problems.push(`replay printed no run result (exit ${r.code}): ${r.stderr.trim().split('\n').at(-1)}`)
      }
    }
    row.seconds = (performance.now() - t0) / 1000
    rows.push(row)
    console.error(`${row.workload}@${row.fork}: ${row.blocks} blocks, verified ${row.verified}, diffs ${row.compared}/${row.expected}, ${row.mismatches} differing, ${row.seconds.toFixed(0)} s${row.problems.length ? `  FAIL: ${row.problems.join('; ')}` : ''}`)
    rmSync(dir, { recursive: true, force: true })
  }
} finally {
  rmSync(tmp, { recursive: true, force: true })
}
const totals = {
  chains: rows.length,
  blocks: rows.reduce((a, r) => a + r.blocks, 0),
  diffsCompared: rows.reduce((a, r) => a + (r.compared ?? 0), 0),
  mismatches: rows.reduce((a, r) => a + (r.mismatches ?? 0), 0),
  failed: rows.filter((r) => r.problems.length > 0).length,
}
const result = { date: started, machine: machine(), parameters: { total: TOTAL, txsPerBlock: TXS, accounts: ACCOUNTS, tiers: TIERS, workloads: WORKLOADS, forks: FORKS }, rows, totals }
const file = saveResult('differential', result)
console.log(`differential: ${totals.blocks} generated blocks in ${totals.chains} chains (tiers ${TIERS}), ${totals.diffsCompared} state diffs compared with the baseline's, ${totals.mismatches} differing, ${totals.failed} chains failed → ${file}`)
process.exit(totals.failed === 0 ? 0 : 1)
