import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readFileSync, rmSync, symlinkSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

import { MegabenchError, UsageError } from '../errors/index.js'
import { schedule } from '../protocol/index.js'
import { PACKAGE_ROOT } from './environment.js'
import { onInterrupt, superviseChild } from '../util/interrupt.js'

/** A megabench version ready to run: its checkout directory (with dist/ built). */
export type Version = { spec: string; dir: string; kind: 'dir' | 'ref'; commit: string | null; dispose(): Promise<void> }

function run(cmd: string, args: readonly string[], cwd: string, what: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 1 << 26 })
  if (r.status !== 0) {
    const why = (r.stderr || r.error?.message || `exit ${r.status}`).trim().split('\n').filter((l) => !/^npm warn/i.test(l))[0] ?? `exit ${r.status}`
    throw new MegabenchError(`${what} failed: ${why}`, { where: cwd })
  }
  return r.stdout
}

const isCheckout = (dir: string) => existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'bin', 'megabench.js'))

/**
 * Finds or builds the version `spec` names: a directory holding a megabench checkout (built with
 * `tsc` when its dist/ is missing), or a git ref of the repository at `repo`, checked out with
 * `git worktree add --detach` into a temporary directory, dependencies installed (`npm ci`, or
 * `npm install` when the lock file is out of step; node_modules is linked from `repo` instead when
 * both lock files are identical) and built with `tsc`. `dispose()` removes what was created.
 */
export async function locateVersion(spec: string, repo: string = PACKAGE_ROOT, log: (line: string) => void = () => {}): Promise<Version> {
  const asDir = resolve(spec)
  if (existsSync(asDir)) {
    if (!isCheckout(asDir)) throw new UsageError(`${spec} is a directory but not a megabench checkout (no package.json and bin/megabench.js)`)
    if (!existsSync(join(asDir, 'dist', 'cli', 'index.js'))) {
      log(`building ${spec} (tsc)`)
      run(process.execPath, [join(asDir, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.'], asDir, `building ${spec}`)
    }
    const head = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: asDir, encoding: 'utf8' })
    return { spec, dir: asDir, kind: 'dir', commit: head.status === 0 ? head.stdout.trim() : null, dispose: async () => {} }
  }
  const rev = spawnSync('git', ['rev-parse', '--verify', '--quiet', `${spec}^{commit}`], { cwd: repo, encoding: 'utf8' })
  if (rev.status !== 0) throw new UsageError(`${spec} is neither a directory nor a git ref of ${repo}`)
  const commit = rev.stdout.trim()
  const parent = await mkdtemp(join(tmpdir(), 'megabench-compare-'))
  const dir = join(parent, commit.slice(0, 12))
  const removeWorktree = () => {
    spawnSync('git', ['worktree', 'remove', '--force', dir], { cwd: repo })
    rmSync(parent, { recursive: true, force: true })
    spawnSync('git', ['worktree', 'prune'], { cwd: repo })
  }
  const unregister = onInterrupt(removeWorktree)
  const dispose = async () => {
    removeWorktree()
    unregister()
  }
  try {
    log(`checking out ${spec} (${commit.slice(0, 12)}) into ${dir}`)
    run('git', ['worktree', 'add', '--detach', dir, commit], repo, `git worktree add ${spec}`)
    const lock = (d: string) => (existsSync(join(d, 'package-lock.json')) ? readFileSync(join(d, 'package-lock.json'), 'utf8') : null)
    const own = lock(repo)
    if (own !== null && own === lock(dir) && existsSync(join(repo, 'node_modules'))) {
      log('same package-lock.json: linking node_modules')
      symlinkSync(join(repo, 'node_modules'), join(dir, 'node_modules'), 'dir')
    } else {
      log('installing dependencies (npm ci)')
      const ci = spawnSync('npm', ['ci', '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: dir, encoding: 'utf8' })
      if (ci.status !== 0) run('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts'], dir, `npm install in ${spec}`)
    }
    log(`building ${spec} (tsc)`)
    run(process.execPath, [join(dir, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.'], dir, `building ${spec}`)
    return { spec, dir, kind: 'ref', commit, dispose }
  } catch (err) {
    await dispose()
    throw err
  }
}

/** Runs `megabench replay <args> --json --no-report --out <out>` of a version; resolves when it is written. */
export function replayWith(v: Version, args: readonly string[], out: string): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [join(v.dir, 'bin', 'megabench.js'), 'replay', ...args, '--json', '--no-report', '--out', out], {
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    superviseChild(child)
    let stderr = ''
    child.stderr.on('data', (d) => (stderr += d))
    child.on('error', reject)
    child.on('close', (code) => {
      if (code === 0 || code === 1) resolvePromise()
      else reject(new MegabenchError(`replay of ${v.spec} failed: ${stderr.trim().split('\n').at(-1) ?? `exit ${code}`}`))
    })
  })
}

/** compare's defaults: measured runs per version (≥ the gate's default minRuns) and warm-up runs per version. */
export const COMPARE_DEFAULTS = { repeat: 5, warmup: 1 } as const

export type CompareParameters = {
  a: Version
  b: Version
  replayArgs: readonly string[]
  /** Measured runs per version and discarded warm-up runs per version before them. */
  repeat: number
  warmup: number
  /** Run directories: `<dir>/a/run-<i>`, `<dir>/b/run-<i>` (warm-ups under `<dir>/warmup/`). */
  dir: string
  /** After each replay: its side, its measured pass (1-based; ≤ 0 for warm-ups) and whether it was a warm-up. */
  onRun?: (side: 'a' | 'b', pass: number, warmup: boolean) => void
}

/**
 * Replays both versions on the same blocks, each replay a fresh process, in the order of the
 * measurement protocol (src/protocol `schedule`): `warmup` discarded passes of A then B (file cache,
 * CPU frequency), then `repeat` measured passes of each, A B, B A, A B … (so a slow drift of the machine
 * falls on both alike). Returns the run.json paths of each side, in measured order.
 */
export async function compareVersions(p: CompareParameters): Promise<{ a: string[]; b: string[]; order: string[] }> {
  const out = { a: [] as string[], b: [] as string[], order: [] as string[] }
  for (const step of schedule(['a', 'b'] as const, p.repeat, p.warmup)) {
    const side = step.variant
    const dir = step.warmup ? join(p.dir, 'warmup', `${side}-${step.pass + p.warmup + 1}`) : join(p.dir, side, `run-${step.pass + 1}`)
    await replayWith(side === 'a' ? p.a : p.b, p.replayArgs, dir)
    p.onRun?.(side, step.pass + 1, step.warmup)
    out.order.push(step.warmup ? `${side}(warm-up)` : side)
    if (step.warmup) await rm(dir, { recursive: true, force: true })
    else out[side].push(join(dir, 'run.json'))
  }
  await rm(join(p.dir, 'warmup'), { recursive: true, force: true })
  return out
}
