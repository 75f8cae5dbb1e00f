import { appendFile, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'

import { UsageError } from '../errors/index.js'
import { gate, loadGateSide } from '../gate/gate.js'
import { verdictMarkdown } from '../gate/markdown.js'
import { readPolicy, resolvePolicy } from '../gate/policy.js'
import { buildReserved } from '../output/files.js'
import { OutputReservation, inputPathsOfArgs } from '../output/guard.js'
import { COMPARE_DEFAULTS, compareVersions, locateVersion } from '../run/compare.js'
import { DEFAULT_FIXTURES } from '../run/environment.js'
import { timestampForPath } from './replay.js'

export type CompareCliOptions = { a: string; b: string; repeat?: number; warmup?: number; policy?: string; out?: string; json?: boolean; force?: boolean }

const RESERVED = ['--json', '--out', '--no-report', '--profile', '--db', '--state-diffs']

/** `megabench compare`: locate/build A and B, replay them interleaved, gate B against A. Returns the exit code. */
export async function compareCommand(opts: CompareCliOptions, replayArgs: string[]): Promise<number> {
  for (const a of replayArgs) {
    const flag = a.split('=')[0]!
    if (RESERVED.includes(flag)) throw new UsageError(`${flag} is set by compare for every replay; remove it`)
  }
  const repeat = opts.repeat ?? COMPARE_DEFAULTS.repeat
  const warmup = opts.warmup ?? COMPARE_DEFAULTS.warmup
  if (repeat < 1) throw new UsageError('--repeat must be at least 1')
  const policy = opts.policy === undefined ? resolvePolicy({}) : await readPolicy(opts.policy)
  // Both versions replay the same blocks: relative paths are made absolute, and without a source the
  // bundled fixtures of this checkout are named explicitly (each version would otherwise use its own).
  const args = absolutePaths(replayArgs)
  if (!args.includes('--fixtures') && !args.includes('--chain')) args.push('--fixtures', resolve(DEFAULT_FIXTURES))
  const log = (line: string) => {
    if (opts.json !== true) process.stderr.write(`megabench: ${line}\n`)
  }
  const outDir = opts.out ?? join('reports', `compare-${timestampForPath(new Date())}`)
  const reservation = await OutputReservation.reserve(outDir, 'compare', { force: opts.force, inputs: inputPathsOfArgs(args) })
  let a
  try {
    a = await locateVersion(opts.a, undefined, log)
  } catch (err) {
    await reservation.abort()
    throw err
  }
  let code = 2
  try {
    const b = await locateVersion(opts.b, undefined, log)
    try {
      await buildReserved(reservation, async (tmp) => {
        const runs = await compareVersions({
          a,
          b,
          replayArgs: args,
          repeat,
          warmup,
          dir: tmp,
          onRun: (side, pass, warm) => log(`${warm ? 'warm-up' : `run ${pass}/${repeat}`}: ${side.toUpperCase()} (${side === 'a' ? opts.a : opts.b}) done`),
        })
        const verdict = gate(await loadGateSide(runs.a), await loadGateSide(runs.b), policy)
        verdict.baseline.files = runs.a.map((f) => f.replace(tmp, outDir))
        verdict.current.files = runs.b.map((f) => f.replace(tmp, outDir))
        const md = `${verdictMarkdown(verdict)}\nA = ${opts.a} (${a.commit ?? 'no commit'}), B = ${opts.b} (${b.commit ?? 'no commit'}); ${warmup} warm-up run(s) and ${repeat} measured runs per version, each a fresh process, in the order ${runs.order.join(' ')}.\n`
        await writeFile(join(tmp, 'gate-verdict.json'), `${JSON.stringify({ ...verdict, compare: { a: { spec: opts.a, commit: a.commit }, b: { spec: opts.b, commit: b.commit }, repeat, warmup, order: runs.order, replayArgs: args } }, null, 1)}\n`)
        await writeFile(join(tmp, 'gate.md'), md)
        const summary = process.env.GITHUB_STEP_SUMMARY
        if (summary !== undefined && summary !== '') await appendFile(summary, md)
        process.stdout.write(opts.json === true ? `${JSON.stringify(verdict)}\n` : `${md}wrote ${outDir}/ (a/run-*/, b/run-*/, gate-verdict.json, gate.md)\n`)
        code = verdict.exitCode
      })
    } finally {
      await b.dispose()
    }
  } finally {
    await reservation.abort()
    await a.dispose()
  }
  return code
}

/** Replay arguments with the paths of --fixtures (several) and --chain (one) made absolute. */
export function absolutePaths(args: readonly string[]): string[] {
  const out: string[] = []
  let paths = 0
  for (const a of args) {
    if (a.startsWith('--')) {
      paths = a === '--fixtures' ? Number.POSITIVE_INFINITY : a === '--chain' ? 1 : 0
      out.push(a)
    } else if (paths > 0) {
      out.push(resolve(a))
      paths--
    } else out.push(a)
  }
  return out
}
