#!/usr/bin/env node
// The mega engine at scale (issue 21, part 4): for each chain (e.g. 1M and 10M accounts), in fresh processes
// under the default Node settings (no --max-old-space-size):
//  - the baseline's LMDB import of the same genesis (`replay --engine baseline --to 1`: storage.import.ms);
//  - the mega engine (`--evm fast --verify-mpt off`, live): load time (importMs), memory held by the loaded
//    state and tree (V8 heap + external after a full GC) per account and per tree entry, the tree's own bytes,
//    BucketTree key updates/s, tx/s; and the projection to mainnet's size from the measured bytes per entry.
// Runs are interleaved (baseline, mega, mega, baseline, … per --repeat); medians are reported, with the load
// average at start and end. Results go to reports/bench/scale-<time>.json.
//
//   npm run build && node scripts/bench-scale.mjs --chains DIR[,DIR…] [--repeat 2] [--to N] [--no-baseline]
//     --no-baseline: the mega engine only (take the LMDB import time from another run's storage.import.ms)
import { mkdtempSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'

import { arg, hasFlag, machine, median, megabench, root, saveResult } from './lib.mjs'

const chains = arg('chains', '').split(',').filter((c) => c !== '')
if (chains.length === 0) throw new Error('--chains DIR[,DIR…]: chain directories written by `megabench generate`')
const repeat = Number(arg('repeat', '2'))
const to = arg('to', '')
const withBaseline = !hasFlag('no-baseline')
const work = mkdtempSync(join(tmpdir(), 'megabench-scale-'))
const f = (x, d = 1) => (x === null || x === undefined || Number.isNaN(x) ? '–' : Number(x).toFixed(d))

let n = 0
const replay = (args) => megabench(['replay', ...args, '--json', '--no-report'], { out: join(work, `r${n++}`) })

const loadStart = loadavg()
const rows = []
for (const chain of chains) {
  const base = []
  const mega = []
  for (let r = 0; r < repeat; r++) {
    const order = (r % 2 === 0 ? ['baseline', 'mega'] : ['mega', 'baseline']).filter((w) => withBaseline || w === 'mega')
    for (const which of order) {
      const t0 = Date.now()
      if (which === 'baseline') {
        const run = replay(['--chain', chain, '--engine', 'baseline', '--evm', 'fast', '--mode', 'historical', '--to', '1', '--warmup', '0'])
        const e = run.engines[0]
        base.push({ importMs: e.storage.import.ms, accounts: e.storage.import.accounts, slots: e.storage.import.slots })
      } else {
        const run = replay(['--chain', chain, '--engine', 'mega', '--evm', 'fast', '--verify-mpt', 'off', '--mode', 'live', ...(to === '' ? [] : ['--to', to])])
        const e = run.engines[0]
        const m = e.mega
        const verified = e.totals.verifiedBlocks === e.totals.blocks
        mega.push({
          importMs: m.importMs,
          bytes: m.memory.bytes,
          perAccount: m.memory.perAccount,
          perEntry: m.memory.perEntry,
          treeBytes: m.memory.treeBytes,
          accounts: m.accounts,
          treeEntries: m.treeEntries,
          bucketBits: m.bucketBits,
          keyUpdatesPerSec: m.keyUpdatesPerSec,
          txPerSec: e.totals.txPerSec,
          blocks: e.totals.blocks,
          verified,
        })
      }
      console.error(`${chain} ${which}: ${((Date.now() - t0) / 1000).toFixed(0)} s (load ${loadavg()[0].toFixed(2)})`)
    }
  }
  const med = (xs, k) => median(xs.map((x) => x[k]))
  const row = {
    chain,
    accounts: mega[0].accounts,
    treeEntries: mega[0].treeEntries,
    bucketBits: mega[0].bucketBits,
    baselineImportMs: base.length === 0 ? null : med(base, 'importMs'),
    megaLoadMs: med(mega, 'importMs'),
    bytesPerAccount: med(mega, 'perAccount'),
    bytesPerEntry: med(mega, 'perEntry'),
    treeBytesPerAccount: med(mega, 'treeBytes') / mega[0].accounts,
    heldBytes: med(mega, 'bytes'),
    keyUpdatesPerSec: med(mega, 'keyUpdatesPerSec'),
    txPerSec: med(mega, 'txPerSec'),
    blocks: mega[0].blocks,
    allVerified: mega.every((m) => m.verified),
    runs: { baseline: base, mega },
  }
  rows.push(row)
  console.log(
    `${chain}: ${row.accounts.toLocaleString('en-US')} accounts, ${row.treeEntries.toLocaleString('en-US')} entries (2^${row.bucketBits} buckets): ` +
      `${f(row.bytesPerAccount, 0)} B/account held (${f(row.bytesPerEntry, 0)} B/entry; tree ${f(row.treeBytesPerAccount, 0)} B/account), ` +
      `load ${f(row.megaLoadMs / 1000)} s${row.baselineImportMs === null ? '' : ` vs LMDB import ${f(row.baselineImportMs / 1000)} s`}, ${f(row.keyUpdatesPerSec, 0)} key updates/s, ${f(row.txPerSec, 0)} tx/s over ${row.blocks} blocks${row.allVerified ? '' : ' (NOT all verified)'}`,
  )
}
if (rows.length >= 2) {
  const [a, b] = [rows[0], rows.at(-1)]
  console.log(`per-key cost growth ${a.accounts.toLocaleString('en-US')} → ${b.accounts.toLocaleString('en-US')} accounts: ${f(a.keyUpdatesPerSec / b.keyUpdatesPerSec, 2)}x (key updates/s ${f(a.keyUpdatesPerSec, 0)} → ${f(b.keyUpdatesPerSec, 0)})`)
}
// On paper: mainnet's ~300M accounts and ~1.5B slots at the largest chain's measured bytes per tree entry.
const largest = rows.at(-1)
const projectionBytes = largest.bytesPerEntry * (300e6 + 1.5e9)
console.log(`projection (modelled): 300M accounts + 1.5B slots at ${f(largest.bytesPerEntry, 0)} B per entry ≈ ${f(projectionBytes / 2 ** 40, 2)} TiB`)
const loadEnd = loadavg()
console.log(`load average ${loadStart.map((x) => x.toFixed(2)).join(' ')} → ${loadEnd.map((x) => x.toFixed(2)).join(' ')}`)
rmSync(work, { recursive: true, force: true })
saveResult('scale', { date: new Date().toISOString(), machine: machine(), repeat, to: to === '' ? null : Number(to), loadStart, loadEnd, rows, projection: { accounts: 300e6, slots: 1.5e9, bytesPerEntry: largest.bytesPerEntry, bytes: projectionBytes, modelled: true } })
