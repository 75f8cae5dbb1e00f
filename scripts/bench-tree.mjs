#!/usr/bin/env node
// Benchmark of the mega engine's authenticated state (issue 21): key updates/s of the BucketTree, one thread.
//  1. BucketTree at each --sizes entry count (default 1M and 10M entries): a root per block (live) with blocks
//     of 2,000 and 5,000 key updates, and historical batches (a root per 100 blocks of 2,000 updates); the time
//     includes the commits. Updates: 90% overwrite a random existing key with a new 32-byte value, 10% insert
//     a fresh key. Random 32-byte keys (they are keccak hashes in the engine). Each tree hasher of --hashers
//     (default wasm-simd,plain: batched WebAssembly SIMD, and one hash-wasm call per hash) has a tree of its
//     own; their passes are interleaved, so the ratio between them is measured side by side.
//  2. For comparison: @ethereumjs/mpt's MerklePatriciaTrie in memory (WebAssembly keccak, as the baseline's)
//     at --mpt-keys keys (default 100k: it is built put by put at ~3k/s, and 1M keys had not finished after 22
//     minutes and 7 GB on a loaded 2-core machine), blocks of 2,000 updates (its root is kept current by every put); and the MPT on LMDB as the baseline engine
//     runs it (`replay --engine baseline --mode live` on --lmdb-chain, default fixtures/chains/mixed: keys
//     written to the trie per second of merkleization, as bench:mega measures it; --no-lmdb to skip).
// Passes follow the measurement protocol (`schedule`: a warm-up pass per variant, then measured passes in
// A B B A order); medians with min–max, wall clock and CPU time (the machine may be shared).
//
//   npm run build && node --max-old-space-size=12288 scripts/bench-tree.mjs [--sizes 1M,10M] [--passes 5] [--hashers wasm-simd,plain] [--mpt-keys 100k] [--mpt-blocks 3] [--lmdb-chain DIR] [--no-lmdb]
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'

import { MerklePatriciaTrie } from '@ethereumjs/mpt'

import { BucketTree } from '../dist/engines/mega/bucketTree.js'
import { createBlake3 } from '../dist/util/blake3.js'
import { parseCount } from '../dist/cli/parse.js'
import { initKeccak, keccak256 } from '../dist/util/keccak.js'
import { arg, hasFlag, machine, median, root, saveResult, schedule, spread } from './lib.mjs'

const sizes = arg('sizes', '1M,10M').split(',').map(parseCount('--sizes')).filter((n) => n > 0) // --sizes 0: the MPT parts only
const passes = Number(arg('passes', '5'))
const mptKeys = parseCount('--mpt-keys')(arg('mpt-keys', '100k'))
const mptBlocks = Number(arg('mpt-blocks', '3'))
const lmdbChain = hasFlag('no-lmdb') ? null : arg('lmdb-chain', join(root, 'fixtures', 'chains', 'mixed'))
const load = () => loadavg().map((x) => x.toFixed(2)).join(' ')
const f = (x, d = 0) => (x === null || x === undefined || Number.isNaN(x) ? '–' : Number(x).toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }))
const range = (xs, d = 0) => {
  const s = spread(xs)
  return s === null ? '–' : `${f(s.median, d)} (${f(s.min, d)}–${f(s.max, d)})`
}
const cpuMs = () => {
  const c = process.cpuUsage()
  return (c.user + c.system) / 1000
}

/** Deterministic pseudo-random bytes (xorshift32; the keys stand for keccak hashes). */
function randomBytes(n, seed) {
  const out = new Uint8Array(n)
  const w = new Uint32Array(out.buffer, 0, n >> 2)
  let x = seed >>> 0 || 1
  for (let i = 0; i < w.length; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    w[i] = x >>> 0
  }
  return out
}

// The tree hashers measured side by side (the protocol interleaves them): batched WebAssembly SIMD (the default)
// and one hash-wasm call per hash (the fallback, and what the tree did before).
const hashers = arg('hashers', 'wasm-simd,plain').split(',')
const result = { date: new Date().toISOString(), machine: machine(), hasher: (await createBlake3()).kind, hashers, passes, trees: [], mpt: null, lmdb: null }
console.log(`## megabench BucketTree benchmark (${result.date})`)
console.log(`machine: ${result.machine.cpu}, ${result.machine.cores} cores, ${result.machine.memoryGiB} GiB, node ${result.machine.node}; blake3: ${result.hasher}; tree hashers: ${hashers.join(', ')}; load average at start ${load()}`)

const VALUES = 1 << 16
const values = randomBytes(VALUES * 32, 7)
const valueOf = (i) => values.subarray((i & (VALUES - 1)) * 32, (i & (VALUES - 1)) * 32 + 32)
const VARIANTS = [
  { name: 'live, blocks of 2,000', block: 2000, blocksPerRoot: 1, updates: 200_000 },
  { name: 'live, blocks of 5,000', block: 5000, blocksPerRoot: 1, updates: 200_000 },
  { name: 'historical, 100 blocks of 2,000 per root', block: 2000, blocksPerRoot: 100, updates: 400_000 },
]

for (const n of sizes) {
  // Room for every insert of every pass: 10% of the updates are fresh keys.
  const inserts = Math.ceil(VARIANTS.reduce((s, v) => s + v.updates, 0) * (passes + 1) * hashers.length * 0.11)
  const keys = randomBytes((n + inserts) * 32, n ^ 0x9e3779b9)
  const key = (i) => keys.subarray(i * 32, i * 32 + 32)
  const trees = []
  for (const h of hashers) {
    const t0 = performance.now()
    const tree = await BucketTree.create({ expectedEntries: n, simd: h !== 'plain' })
    if (tree.hasherKind !== h) throw new Error(`--hashers ${h}: this machine gives the ${tree.hasherKind} tree hasher`)
    for (let i = 0; i < n; i++) tree.set(key(i), valueOf(i))
    tree.commit()
    trees.push({ hasher: h, tree, buildMs: performance.now() - t0 })
  }
  const mem = process.memoryUsage()
  const { tree: first, buildMs } = trees[0]
  console.error(`bench: ${f(n)} entries in 2^${first.bucketBits} buckets built in ${trees.map((t) => `${f(t.buildMs / 1000, 1)} s (${t.hasher})`).join(', ')} (rss ${f(mem.rss / 2 ** 20)} MiB), load ${load()}`)
  let next = n // the next fresh key
  let seed = 1
  const variants = VARIANTS.flatMap((v) => trees.map((t) => ({ ...v, hasher: t.hasher, tree: t.tree })))
  const runs = variants.map(() => [])
  for (const pass of schedule(variants, passes, 1)) {
    const v = pass.variant
    const tree = v.tree
    // The pass's updates, drawn before the clock starts: key indices and value indices.
    const r = randomBytes(v.updates * 4, seed++)
    const idx = new Uint32Array(r.buffer)
    let fresh = 0
    for (let i = 0; i < v.updates; i++) idx[i] = idx[i] % 10 === 0 ? next + fresh++ : idx[i] % next
    next += fresh
    const before = { ...tree.counters }
    const c0 = cpuMs()
    const t0 = performance.now()
    for (let i = 0; i < v.updates; ) {
      const end = Math.min(v.updates, i + v.block * v.blocksPerRoot)
      for (; i < end; i++) tree.set(key(idx[i]), valueOf(idx[i] + seed))
      tree.commit()
    }
    const ms = performance.now() - t0
    const cms = cpuMs() - c0
    const hashes = tree.counters.bucketHashes - before.bucketHashes + tree.counters.nodeHashes - before.nodeHashes
    if (!pass.warmup) runs[pass.index].push({ perSec: (v.updates / ms) * 1000, perCpuSec: (v.updates / cms) * 1000, hashesPerKey: hashes / v.updates, roots: tree.counters.commits - before.commits })
  }
  const t = { entries: n, finalEntries: first.size, bucketBits: first.bucketBits, buildMs, rssMiB: mem.rss / 2 ** 20, arrayBuffersMiB: mem.arrayBuffers / 2 ** 20, loadavgAfter: loadavg(), variants: [] }
  variants.forEach(({ tree: _, ...v }, i) => t.variants.push({ ...v, runs: runs[i] }))
  result.trees.push(t)
}

console.log('\n### BucketTree key updates/s, one thread, commits included (median (min–max) of passes)')
console.log('| entries | buckets | variant | tree hasher | key updates/s (wall) | key updates/s (CPU) | µs / key (CPU) | hashes / key | roots / pass |')
console.log('|---|---|---|---|---|---|---|---|---|')
for (const t of result.trees) {
  for (const v of t.variants) {
    console.log(
      `| ${f(t.entries)} | 2^${t.bucketBits} | ${v.name} | ${v.hasher} | ${range(v.runs.map((r) => r.perSec))} | ${range(v.runs.map((r) => r.perCpuSec))} | ${f(1e6 / median(v.runs.map((r) => r.perCpuSec)), 2)} | ${f(median(v.runs.map((r) => r.hashesPerKey)), 2)} | ${v.runs[0]?.roots ?? '–'} |`,
    )
  }
}
if (hashers.length > 1) {
  for (const t of result.trees) {
    const ratios = VARIANTS.map((v, i) => {
      const [a, b] = [t.variants[i * hashers.length], t.variants[i * hashers.length + 1]]
      return `${v.name} ${f(median(a.runs.map((r) => r.perSec)) / median(b.runs.map((r) => r.perSec)), 2)}x`
    })
    console.log(`- ${f(t.entries)} entries, ${hashers[0]} ÷ ${hashers[1]} (wall medians, same passes interleaved): ${ratios.join('; ')}`)
  }
}
for (const t of result.trees) console.log(`- ${f(t.entries)} entries: built in ${f(t.buildMs / 1000, 1)} s; rss ${f(t.rssMiB)} MiB (array buffers ${f(t.arrayBuffersMiB)} MiB)`)
if (result.trees.length > 1) {
  const [a, b] = [result.trees[0], result.trees.at(-1)]
  const cost = (t, i) => 1e6 / median(t.variants[i * hashers.length].runs.map((r) => r.perCpuSec)) // the first hasher's
  console.log(`- per-key CPU cost ${f(a.entries)} → ${f(b.entries)} entries: ${VARIANTS.map((v, i) => `${v.name} ${f(cost(a, i), 2)} → ${f(cost(b, i), 2)} µs (${f(cost(b, i) / cost(a, i), 2)}x)`).join('; ')}`)
}
console.log(`tree results saved in ${saveResult('tree', result)} (updated below)`)

// 2a. The MPT in memory.
if (mptKeys > 0) {
  try {
    // Node hashes with the WebAssembly keccak, as the baseline's trie (its Common's customCrypto); keys are hashes already.
    await initKeccak()
    const trie = new MerklePatriciaTrie({ useKeyHashing: false, useKeyHashingFunction: keccak256 })
    const keys = randomBytes((mptKeys + mptBlocks * 4 * 2000) * 32, 99)
    const key = (i) => keys.subarray(i * 32, i * 32 + 32)
    let t0 = performance.now()
    for (let i = 0; i < mptKeys; i++) await trie.put(key(i), valueOf(i))
    const buildMs = performance.now() - t0
    console.error(`bench: MPT with ${f(mptKeys)} keys built in ${f(buildMs / 1000, 1)} s, load ${load()}`)
    let next = mptKeys
    const runs = []
    for (let pass = 0; pass <= mptBlocks; pass++) {
      const r = new Uint32Array(randomBytes(2000 * 4, 1000 + pass).buffer)
      const c0 = cpuMs()
      t0 = performance.now()
      for (let i = 0; i < 2000; i++) {
        const k = r[i] % 10 === 0 ? next++ : r[i] % next
        await trie.put(key(k), valueOf(k + pass + 1))
      }
      trie.root()
      const ms = performance.now() - t0
      const cms = cpuMs() - c0
      if (pass > 0) runs.push({ perSec: (2000 / ms) * 1000, perCpuSec: (2000 / cms) * 1000 })
    }
    result.mpt = { keys: mptKeys, buildMs, block: 2000, runs }
  } catch (err) {
    console.error(`bench: the MPT in memory failed: ${err.message}`)
  }
}

// 2b. The MPT on LMDB, as the baseline engine updates it (merkleization of a live replay).
if (lmdbChain !== null) {
  const scratch = mkdtempSync(join(tmpdir(), 'megabench-tree-'))
  let run
  try {
    run = JSON.parse(
      execFileSync(process.execPath, [join(root, 'bin', 'megabench.js'), 'replay', '--chain', lmdbChain, '--engine', 'baseline', '--mode', 'live', '--json', '--no-report', '--out', join(scratch, 'run')], { encoding: 'utf8', maxBuffer: 1 << 28 })
        .trim()
        .split('\n')
        .at(-1),
    )
  } finally {
    rmSync(scratch, { recursive: true, force: true })
  }
  const e = run.engines[0]
  const m = e.storage.merkleization
  const keys = m.updatedAccounts + m.updatedSlots
  result.lmdb = { chain: lmdbChain, verified: `${run.verification.verified}/${run.verification.blocks}`, keys, merkleizationMs: e.totals.phases.merkleization, perSec: keys / (e.totals.phases.merkleization / 1000), lmdbReadsPerKey: m.lmdbReadsPerKey, roots: m.roots }
}

const live2k = result.trees[0] === undefined ? Number.NaN : median(result.trees[0].variants[0].runs.map((r) => r.perSec))
if (result.mpt !== null) {
  const mpt = median(result.mpt.runs.map((r) => r.perSec))
  console.log(`\n### MPT in memory (@ethereumjs/mpt, ${f(result.mpt.keys)} keys, built in ${f(result.mpt.buildMs / 1000, 1)} s), blocks of 2,000 updates, ${result.mpt.runs.length} blocks`)
  console.log(`key updates/s: ${range(result.mpt.runs.map((r) => r.perSec))} wall, ${range(result.mpt.runs.map((r) => r.perCpuSec))} CPU; BucketTree at ${f(result.trees[0]?.entries)} entries, live blocks of 2,000: ${f(live2k / mpt, 1)}x`)
}
if (result.lmdb !== null) {
  const l = result.lmdb
  console.log(`\n### MPT on LMDB (baseline engine, \`replay --engine baseline --mode live\` on ${l.chain}, verified ${l.verified})`)
  console.log(`${f(l.keys)} keys written in ${f(l.merkleizationMs)} ms of merkleization (${l.roots} roots, ${f(l.lmdbReadsPerKey, 2)} LMDB reads / key): ${f(l.perSec)} key updates/s; BucketTree at ${f(result.trees[0]?.entries)} entries, live blocks of 2,000: ${f(live2k / l.perSec, 1)}x`)
}
result.loadavgEnd = loadavg()
console.log(`\nload average at the end: ${load()}`)
console.log(`saved ${saveResult('tree', result)}`)
