#!/usr/bin/env node
// The real-block verification matrix: every documented replay path over a set of realblock-v1 fixture
// directories, each as its own `megabench replay … --json --no-report` process (temporary --out,
// removed afterwards). Prints one row per directory and path (blocks, verified, failed, state diffs
// compared for `--engine both`, wall seconds) and exits 1 if any block on any path does not verify,
// any run fails, (for `both`) any block's state diff is not compared or differs, or (for `--evm fast`)
// any block fell back to @ethereumjs/evm (`fallbacks` in the JSON rows).
//
//   npm run build && npm run verify:matrix                    # fixtures/mainnet, fixtures/regressions, fixtures/prague, ../shared/data/mainnet and ../shared/data/prague-osaka if present
//   node scripts/verify-matrix.mjs --fixtures ../shared/data/mainnet --paths baseline/lmdb,both/fast
//   node scripts/verify-matrix.mjs --json                     # the rows as JSON on stdout
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join, relative, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'

import { root } from './lib.mjs'

/** The documented paths (README "megabench replay"): name → extra replay arguments. */
export const MATRIX_PATHS = [
  { name: 'baseline/lmdb', args: [] },
  { name: 'baseline/memory', args: ['--storage', 'memory'] },
  { name: 'historical/lmdb', args: ['--mode', 'historical'] },
  { name: 'baseline/lmdb/fast', args: ['--evm', 'fast'] },
  { name: 'baseline/memory/fast', args: ['--storage', 'memory', '--evm', 'fast'] },
  { name: 'historical/lmdb/fast', args: ['--mode', 'historical', '--evm', 'fast'] },
  { name: 'mega/ethereumjs', args: ['--engine', 'mega', '--evm', 'ethereumjs'] },
  { name: 'mega/fast', args: ['--engine', 'mega', '--evm', 'fast'] },
  { name: 'both/ethereumjs', args: ['--engine', 'both'] },
  { name: 'both/fast', args: ['--engine', 'both', '--evm', 'fast'] },
]

/** Per run; the largest directory (50 shared blocks) takes well under a minute per path. */
const TIMEOUT_MS = 10 * 60 * 1000

function parseArgs(argv) {
  const o = { fixtures: [], paths: null, json: false }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--fixtures') {
      while (argv[i + 1] !== undefined && !argv[i + 1].startsWith('--')) o.fixtures.push(resolve(argv[++i]))
    } else if (a === '--paths') o.paths = argv[++i].split(',')
    else if (a === '--json') o.json = true
    else if (a === '--help' || a === '-h') {
      console.log('usage: verify-matrix.mjs [--fixtures <dir...>] [--paths name,...] [--json]')
      console.log(`paths: ${MATRIX_PATHS.map((p) => p.name).join(', ')}`)
      process.exit(0)
    } else {
      console.error(`verify-matrix: unknown argument ${a}`)
      process.exit(2)
    }
  }
  return o
}

export function defaultFixtureDirs() {
  const dirs = [join(root, 'fixtures', 'mainnet'), join(root, 'fixtures', 'regressions'), join(root, 'fixtures', 'prague')]
  for (const d of ['mainnet', 'prague-osaka']) {
    const shared = join(root, '..', 'shared', 'data', d)
    if (existsSync(shared)) dirs.push(shared)
  }
  return dirs
}

/** One `megabench replay` process; resolves with its exit code, stdout, stderr and wall time. */
function run(args) {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint()
    const child = spawn(process.execPath, [join(root, 'bin', 'megabench.js'), ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] })
    const out = []
    const err = []
    child.stdout.on('data', (d) => out.push(d))
    child.stderr.on('data', (d) => err.push(d))
    const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({
        code: code ?? (signal === null ? -1 : `${signal}`),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        wallS: Number(process.hrtime.bigint() - t0) / 1e9,
      })
    })
  })
}

/** Replays `dir` on `path`; the row, with `problems` listing why it does not pass (empty = pass). */
export async function verifyPath(dir, path) {
  const tmp = mkdtempSync(join(tmpdir(), 'megabench-matrix-'))
  let r
  try {
    r = await run(['replay', '--fixtures', dir, '--json', '--no-report', '--out', join(tmp, 'out'), '--warmup', '0', ...path.args]) // verification, not timing: no warm-up pass
  } finally {
    rmSync(tmp, { recursive: true, force: true })
  }
  const row = { fixtures: dir, path: path.name, blocks: null, verified: null, failed: null, diffsCompared: null, diffMismatches: null, fallbacks: null, wallS: r.wallS, exitCode: r.code, problems: [] }
  let result
  try {
    result = JSON.parse(r.stdout)
  } catch {
    const line = r.stderr.trim().split('\n').filter(Boolean).at(-1) ?? `no output (exit ${r.code})`
    row.problems.push(`no run result (exit ${r.code}): ${line}`)
    return row
  }
  const v = result.verification
  row.blocks = v.blocks
  row.verified = v.verified
  row.failed = new Set(v.failed.map((f) => `${f.origin}#${f.block}`)).size
  if (v.blocks === 0) row.problems.push('no blocks replayed')
  if (v.verified !== v.blocks || v.failed.length > 0) {
    for (const f of v.failed.slice(0, 5)) row.problems.push(`${f.engine} ${f.origin} block ${f.block}: ${f.field} expected ${f.expected}, got ${f.actual}`)
    if (v.failed.length > 5) row.problems.push(`… ${v.failed.length - 5} more mismatches`)
  }
  for (const e of result.engines) {
    if (e.totals.blocks !== v.blocks) row.problems.push(`${e.label}: ${e.totals.blocks} blocks, not ${v.blocks}`)
    // --evm fast runs every fork (Frontier on) on the fast EVM: a block on @ethereumjs/evm is a fallback.
    const evm = e.baseline?.evm ?? e.mega?.evm
    if (evm?.requested === 'fast') {
      row.fallbacks = (row.fallbacks ?? 0) + evm.ethereumjsBlocks
      if (evm.ethereumjsBlocks > 0) row.problems.push(`${e.label}: ${evm.ethereumjsBlocks} blocks fell back to @ethereumjs/evm`)
    }
  }
  if (path.args.includes('both')) {
    const d = result.differential
    row.diffsCompared = d?.compared ?? 0
    row.diffMismatches = d?.mismatches ?? 0
    if (row.diffsCompared !== v.blocks) row.problems.push(`state diffs compared: ${row.diffsCompared} of ${v.blocks} blocks`)
    if (row.diffMismatches > 0) row.problems.push(`state diffs differing from the baseline's: ${row.diffMismatches}`)
  }
  if (r.code !== 0 && row.problems.length === 0) row.problems.push(`exit ${r.code}: ${r.stderr.trim().split('\n').at(-1) ?? ''}`)
  return row
}

export function formatTable(rows) {
  const header = ['fixtures', 'path', 'blocks', 'verified', 'failed', 'diffs compared', 'wall s']
  const cells = rows.map((r) => [
    relative(root, r.fixtures) || '.',
    r.path,
    String(r.blocks ?? '-'),
    String(r.verified ?? '-'),
    String(r.failed ?? '-'),
    r.diffsCompared === null ? '-' : String(r.diffsCompared),
    r.wallS.toFixed(1),
  ])
  const width = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)))
  const line = (c) => c.map((x, i) => (i >= 2 ? x.padStart(width[i]) : x.padEnd(width[i]))).join('  ')
  return [line(header), line(width.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n')
}

async function main() {
  const o = parseArgs(process.argv.slice(2))
  const dirs = o.fixtures.length > 0 ? o.fixtures : defaultFixtureDirs()
  const unknown = (o.paths ?? []).filter((n) => !MATRIX_PATHS.some((p) => p.name === n))
  if (unknown.length > 0) {
    console.error(`verify-matrix: unknown path ${unknown.join(', ')} (known: ${MATRIX_PATHS.map((p) => p.name).join(', ')})`)
    process.exit(2)
  }
  const paths = o.paths === null ? MATRIX_PATHS : MATRIX_PATHS.filter((p) => o.paths.includes(p.name))
  if (!existsSync(join(root, 'dist', 'index.js'))) {
    console.error('verify-matrix: dist/ is missing: run `npm run build` first')
    process.exit(2)
  }
  const started = new Date()
  const load = loadavg().map((x) => x.toFixed(2)).join(' ')
  if (!o.json) console.error(`verify-matrix: ${dirs.length} fixture dir(s) × ${paths.length} paths, ${started.toISOString()}, ${cpus().length} cores, load ${load}`)
  const rows = []
  for (const dir of dirs) {
    for (const path of paths) {
      const row = await verifyPath(dir, path)
      rows.push(row)
      if (!o.json) console.error(`  ${row.problems.length === 0 ? 'ok  ' : 'FAIL'} ${relative(root, dir) || '.'} ${path.name} (${row.wallS.toFixed(1)} s)`)
    }
  }
  const failing = rows.filter((r) => r.problems.length > 0)
  if (o.json) {
    console.log(JSON.stringify({ started: started.toISOString(), cores: cpus().length, loadavg: load, rows }, null, 1))
  } else {
    console.log(formatTable(rows))
    console.log(`\n${started.toISOString()} · ${cpus().length} cores (${cpus()[0]?.model ?? '?'}) · load average at start ${load}, at end ${loadavg().map((x) => x.toFixed(2)).join(' ')}`)
    for (const r of failing) for (const p of r.problems) console.log(`FAIL ${relative(root, r.fixtures) || '.'} ${r.path}: ${p}`)
    console.log(failing.length === 0 ? `every block verified on every path (${rows.length} runs)` : `${failing.length} of ${rows.length} runs failed`)
  }
  process.exit(failing.length === 0 ? 0 : 1)
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main()
