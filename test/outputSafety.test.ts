import { spawn, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { afterAll, describe, expect, test } from 'vitest'

import { BIN, runCli } from './helpers/cli.js'
import { SMALL_FIXTURE } from './helpers/fixtures.js'
import { runInterruptTasks, superviseChild } from '../src/util/interrupt.js'

const CHAIN = join(import.meta.dirname, '..', 'fixtures', 'chains', 'uniswap-swap')
const created: string[] = []
async function scratch(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'megabench-safety-'))
  created.push(d)
  return d
}
afterAll(async () => {
  for (const d of created) await rm(d, { recursive: true, force: true })
})

/** One line on stderr, exit 2, nothing on stdout. */
function refused(r: { code: number | null; stdout: string; stderr: string }, pattern: RegExp) {
  expect(r.code).toBe(2)
  expect(r.stdout).toBe('')
  expect(r.stderr.trim().split('\n')).toHaveLength(1)
  expect(r.stderr).toMatch(pattern)
}

describe('--out never destroys what megabench did not create', () => {
  test('behavior: an existing file is refused and left unchanged', async () => {
    const dir = await scratch()
    const file = join(dir, 'notes.txt')
    await writeFile(file, 'mine')
    refused(await runCli(['replay', '--fixtures', SMALL_FIXTURE, '--out', file]), /--out .*notes\.txt is an existing file/)
    expect(await readFile(file, 'utf8')).toBe('mine')
  })

  test('behavior: a non-empty directory megabench did not create is refused, even with --force', async () => {
    const dir = await scratch()
    await writeFile(join(dir, 'keep.txt'), 'mine')
    for (const extra of [[], ['--force']]) {
      refused(await runCli(['replay', '--fixtures', SMALL_FIXTURE, '--out', dir, ...extra]), /non-empty directory megabench did not create/)
    }
    expect(await readdir(dir)).toEqual(['keep.txt'])
  })

  test('behavior: the parent of the inputs is refused; the inputs stay', async () => {
    const dir = await scratch()
    const input = join(dir, 'blocks', 'b.json')
    await mkdir(join(dir, 'blocks'))
    await writeFile(input, await readFile(SMALL_FIXTURE))
    refused(await runCli(['replay', '--fixtures', input, '--out', dir, '--force']), /contains the input/)
    expect((await stat(input)).size).toBeGreaterThan(0)
  })

  test('default: an earlier megabench output needs --force, and is then replaced', async () => {
    const out = join(await scratch(), 'run')
    expect((await runCli(['replay', '--fixtures', SMALL_FIXTURE, '--no-report', '--out', out])).code).toBe(0)
    expect((await readdir(out)).sort()).toEqual(['.megabench-output', 'blocks.jsonl', 'run.json'])
    const first = await readFile(join(out, 'run.json'), 'utf8')
    refused(await runCli(['replay', '--fixtures', SMALL_FIXTURE, '--no-report', '--out', out]), /holds an earlier megabench output: add --force/)
    expect(await readFile(join(out, 'run.json'), 'utf8')).toBe(first)
    expect((await runCli(['replay', '--fixtures', SMALL_FIXTURE, '--no-report', '--out', out, '--force'])).code).toBe(0)
    expect(await readFile(join(out, 'run.json'), 'utf8')).not.toBe(first)
  })

  test('behavior: an unwritable --out is refused before any work starts', async () => {
    const dir = await scratch()
    await writeFile(join(dir, 'file'), '')
    const tmp = join(dir, 'tmp')
    await mkdir(tmp)
    // TMPDIR stays empty: no temporary database was created, so no block was replayed.
    refused(await runCli(['replay', '--chain', CHAIN, '--out', join(dir, 'file', 'run')], { env: { TMPDIR: tmp } }), /not writable/)
    expect(await readdir(tmp)).toEqual([])
  })

  test('behavior: report, gate, generate and --state-diffs refuse files they did not write', async () => {
    const dir = await scratch()
    const mine = join(dir, 'mine.html')
    await writeFile(mine, '<html>mine</html>')
    const run = join(dir, 'run')
    expect((await runCli(['replay', '--fixtures', SMALL_FIXTURE, '--no-report', '--out', run])).code).toBe(0)
    refused(await runCli(['report', run, '--out', mine]), /existing file megabench did not write/)
    refused(await runCli(['gate', '--baseline', join(run, 'run.json'), '--current', join(run, 'run.json'), '--out', mine]), /existing file megabench did not write/)
    refused(await runCli(['replay', '--fixtures', SMALL_FIXTURE, '--engine', 'mega', '--state-diffs', mine, '--out', join(dir, 'r2')]), /--state-diffs .* did not write/)
    refused(await runCli(['generate', 'eth-transfer', '--accounts', '1k', '--blocks', '1', '--txs-per-block', '1', '--out', dir]), /non-empty directory megabench did not create/)
    expect(await readFile(mine, 'utf8')).toBe('<html>mine</html>')
    // A report megabench wrote is replaced with --force only.
    const report = join(dir, 'report.html')
    expect((await runCli(['report', run, '--out', report])).code).toBe(0)
    refused(await runCli(['report', run, '--out', report]), /add --force/)
    expect((await runCli(['report', run, '--out', report, '--force'])).code).toBe(0)
  })
})

/** Spawns the CLI and sends `signal` once a temporary LMDB database exists under `tmp`. */
async function interruptOnceRunning(args: string[], tmp: string, signal: NodeJS.Signals) {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, TMPDIR: tmp }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => (stdout += d))
  child.stderr.on('data', (d) => (stderr += d))
  const closed = new Promise<number | null>((r) => child.on('close', (code) => r(code)))
  const deadline = Date.now() + 60_000
  let sent = false
  while (Date.now() < deadline && child.exitCode === null) {
    const names = await readdir(tmp)
    if (names.some((n) => n.startsWith('megabench-db-'))) {
      child.kill(signal)
      sent = true
      break
    }
    await new Promise((r) => setTimeout(r, 25))
  }
  const code = await closed
  return { sent, code, stdout, stderr }
}

describe('interrupted runs clean up after themselves', () => {
  test.each(['SIGINT', 'SIGTERM'] as const)('behavior: %s removes the temporary database and output, prints one line, exits 130', async (signal) => {
    const dir = await scratch()
    const tmp = join(dir, 'tmp')
    await mkdir(tmp)
    const out = join(dir, 'out', 'run')
    const r = await interruptOnceRunning(['replay', '--chain', CHAIN, '--mode', 'both', '--out', out], tmp, signal)
    expect(r.sent).toBe(true)
    expect(r.code).toBe(130)
    expect(r.stderr.trim().split('\n').filter((l) => l.startsWith('megabench:'))).toEqual([expect.stringMatching(new RegExp(`^megabench: interrupted \\(${signal}\\)`))])
    expect(await readdir(tmp)).toEqual([])
    // Neither the output nor its temporary sibling, nor the parent created for it, is left.
    expect(await readdir(dir)).toEqual(['tmp'])
  })

  test('behavior: an interrupted sweep stops its replay process and leaves nothing behind', async () => {
    const dir = await scratch()
    const tmp = join(dir, 'tmp')
    await mkdir(tmp)
    const out = join(dir, 'sweep')
    const r = await interruptOnceRunning(['sweep', '--memory', '1MB,64MB', '--chain', CHAIN, '--out', out], tmp, 'SIGTERM')
    expect(r.sent).toBe(true)
    expect(r.code).toBe(130)
    // No replay child outlives the sweep (its command line names the sweep's temporary directory).
    await new Promise((res) => setTimeout(res, 300))
    const ps = spawnSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).stdout
    expect(ps.split('\n').filter((l) => l.includes(dir) && l.includes('replay'))).toEqual([])
    expect(await readdir(tmp)).toEqual([])
    expect(await readdir(dir)).toEqual(['tmp'])
  })
})

describe('a child killed while busy', () => {
  test('behavior: a supervised child that ignores SIGTERM is killed, and the temporary state DBs it made (by its pid) are removed; nothing else', async () => {
    // As a replay busy in a long synchronous import: its own interrupt handler never runs.
    const script = `
      const { mkdirSync } = require('node:fs'); const { join } = require('node:path'); const { tmpdir } = require('node:os')
      mkdirSync(join(tmpdir(), 'megabench-db-' + process.pid + '-abc123', 'etl-tmp'), { recursive: true })
      process.on('SIGTERM', () => {})
      console.log('ready')
      setInterval(() => {}, 1000)`
    const others = [join(tmpdir(), 'megabench-db-1-other'), join(tmpdir(), 'not-megabench-db')]
    for (const d of others) await mkdir(d, { recursive: true })
    const child = spawn(process.execPath, ['-e', script], { env: { ...process.env, TMPDIR: tmpdir() }, stdio: ['ignore', 'pipe', 'inherit'] })
    await new Promise<void>((r) => child.stdout.once('data', () => r()))
    const mine = join(tmpdir(), `megabench-db-${child.pid}-abc123`)
    expect(existsSync(mine)).toBe(true)
    superviseChild(child)
    await runInterruptTasks()
    expect(child.signalCode).toBe('SIGKILL')
    expect(existsSync(mine)).toBe(false)
    for (const d of others) expect(existsSync(d)).toBe(true)
    for (const d of others) await rm(d, { recursive: true }) // the test's own decoys
  }, 30_000)
})
