// Shared helpers of the benchmark scripts (never imported by src/).
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, totalmem } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const root = join(dirname(fileURLToPath(import.meta.url)), '..')

// The measurement protocol (src/protocol): every benchmark orders its variants with `schedule` (warm-up
// rounds, then A B B A …) and reports `median`/`spread` of the measured ones, as replay, sweep and compare do.
export { median, schedule, spread, formatSpread, ratioSpread } from '../dist/protocol/index.js'

/** `--name value` from the command line, or `dflt`. */
export function arg(name, dflt) {
  const args = process.argv.slice(2)
  const i = args.indexOf(`--${name}`)
  return i >= 0 ? args[i + 1] : dflt
}

export const hasFlag = (name) => process.argv.slice(2).includes(`--${name}`)

export function machine() {
  return { cpu: cpus()[0]?.model, cores: cpus().length, memoryGiB: +(totalmem() / 2 ** 30).toFixed(1), node: process.version, loadavg: loadavg().map((x) => +x.toFixed(2)) }
}

/** Runs `script` with `args` in a fresh Node process; returns the JSON its last stdout line holds. */
export function runChild(script, args) {
  const r = spawnSync(process.execPath, [script, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 })
  if (r.status !== 0) throw new Error(`${script} ${args.join(' ')} failed: ${r.stderr}`)
  return JSON.parse(r.stdout.trim().split('\n').at(-1))
}

/** Writes a benchmark result to reports/bench/<name>-<date>.json; returns the path. */
export function saveResult(name, result) {
  const dir = join(root, 'reports', 'bench')
  mkdirSync(dir, { recursive: true })
  const file = join(dir, `${name}-${result.date.replaceAll(':', '-').replace(/\.\d+Z$/, 'Z')}.json`)
  writeFileSync(file, `${JSON.stringify(result, null, 1)}\n`)
  return file
}

/**
 * Runs `megabench <args>` (bin/megabench.js, built) in a fresh process and returns the JSON of its last stdout
 * line (give `--json`). Exit 1 (a verification failure) still returns the run result it printed, for the
 * caller to report; any other failure throws with its stderr. `out`: a directory the run writes (appended
 * as `--out`) and that is removed afterwards.
 */
export function megabench(args, { out } = {}) {
  const argv = [join(root, 'bin', 'megabench.js'), ...args, ...(out === undefined ? [] : ['--out', out])]
  let stdout
  try {
    stdout = execFileSync(process.execPath, argv, { encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'pipe'] })
  } catch (err) {
    if (err.status !== 1) throw new Error(`megabench ${args.join(' ')} failed (exit ${err.status}): ${err.stderr}`)
    stdout = err.stdout
  } finally {
    if (out !== undefined) rmSync(out, { recursive: true, force: true })
  }
  return JSON.parse(stdout.trim().split('\n').at(-1))
}
