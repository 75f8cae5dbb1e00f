import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { delimiter, join } from 'node:path'

import { UsageError } from '../errors/index.js'
import { PACKAGE_ROOT } from '../util/paths.js'

export type ClinicKind = 'clinic-flame' | 'clinic-doctor'

/** The clinic executable: the package's own node_modules/.bin, else the PATH; null when absent. */
export function findClinic(): string | null {
  const dirs = [join(PACKAGE_ROOT, 'node_modules', '.bin'), ...(process.env.PATH ?? '').split(delimiter).filter((d) => d !== '')]
  for (const d of dirs) {
    const f = join(d, 'clinic')
    if (existsSync(f)) return f
  }
  return null
}

/** Replay's arguments without `--profile <kind>` (clinic runs the same replay unprofiled by V8). */
export function withoutProfileFlag(args: readonly string[]): string[] {
  const out: string[] = []
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!
    if (a === '--profile') i++
    else if (!a.startsWith('--profile=')) out.push(a)
  }
  return out
}

/**
 * Runs `megabench replay <args>` under clinic flame/doctor (NO_INSIGHT=1: without it clinic waits
 * on a usage prompt when not on a terminal and silently writes nothing). Clinic's output goes to
 * `dest`. Throws a one-line UsageError when clinic is not installed, does not run on this Node, or
 * writes nothing. Returns the replay's exit code.
 */
export function runUnderClinic(kind: ClinicKind, replayArgs: readonly string[], dest: string): number {
  const clinic = findClinic()
  const env = { ...process.env, NO_INSIGHT: '1' }
  if (clinic === null) {
    throw new UsageError(`--profile ${kind}: clinic is not installed (npm install -g clinic); --profile cpu works everywhere`)
  }
  const probe = spawnSync(clinic, ['--version'], { env, encoding: 'utf8', timeout: 30_000 })
  if (probe.status !== 0) {
    const why = (probe.stderr || probe.error?.message || `exit ${probe.status}`).trim().split('\n')[0]
    throw new UsageError(`--profile ${kind}: clinic does not run on Node ${process.version} (${why}); --profile cpu works everywhere`)
  }
  const bin = join(PACKAGE_ROOT, 'bin', 'megabench.js')
  const sub = kind === 'clinic-flame' ? 'flame' : 'doctor'
  const r = spawnSync(clinic, [sub, '--dest', dest, '--', process.execPath, bin, 'replay', ...withoutProfileFlag(replayArgs)], { env, stdio: 'inherit' })
  if (!existsSync(dest) || readdirSync(dest).length === 0) {
    throw new UsageError(`--profile ${kind}: clinic ${sub} wrote nothing to ${dest} (exit ${r.status ?? r.signal}); --profile cpu works everywhere`)
  }
  process.stderr.write(`megabench: clinic ${sub} output in ${dest}\n`)
  return r.status ?? 2
}
