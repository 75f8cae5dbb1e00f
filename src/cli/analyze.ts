import { analysesSchema, needsProfile, needsTimedRun, runAnalyses } from '../analyses/index.js'
import { formatAnalyses } from '../analyses/format.js'
import type { EngineName } from '../engines/types.js'
import { UsageError } from '../errors/index.js'
import { OutputReservation } from '../output/guard.js'
import { replay } from '../run/replay.js'
import type { RunResult } from '../run/schema.js'
import { type ReplayCliOptions, analysisOptions, sourceFromOptions } from './replay.js'

export type AnalyzeCliOptions = Pick<ReplayCliOptions, 'fixtures' | 'chain' | 'from' | 'to' | 'tps' | 'cores' | 'iops' | 'mbps'> & {
  engine?: string
  json?: boolean
  out?: string
  force?: boolean
}

/**
 * `megabench analyze <kinds>`: the access pass (and, for jit and bounds, timed replays of the same
 * blocks: an opcode-profiled one for the JIT bound, an unprofiled one for CPU time) → the analyses,
 * printed as tables (or JSON), and written to `<out>/analyses.json` with the timed runs beside it.
 */
export async function analyzeCommand(kinds: string[], opts: AnalyzeCliOptions): Promise<number> {
  const parsed = analysisOptions({ ...opts, analyze: kinds })!
  const engine = opts.engine ?? 'baseline'
  if (engine !== 'baseline' && engine !== 'mega') throw new UsageError(`--engine must be baseline or mega (got ${JSON.stringify(engine)})`)
  const { source, paths, range, workload } = await sourceFromOptions(opts)
  const reservation = opts.out === undefined ? undefined : await OutputReservation.reserve(opts.out, 'analyze', { force: opts.force, inputs: paths })
  try {
  const say = (m: string) => {
    if (opts.json !== true) process.stderr.write(`megabench: ${m}\n`)
  }
  const timed: RunResult[] = []
  if (needsTimedRun(parsed.kinds)) {
    say('timed replay (unprofiled) for CPU time per transaction…')
    timed.push(await replay({ source, sourcePaths: paths, range, engines: [engine as EngineName] }))
  }
  if (needsProfile(parsed.kinds)) {
    say('profiled replay (--opcodes) for the JIT bound…')
    timed.push(await replay({ source, sourcePaths: paths, range, engines: [engine as EngineName], opcodes: true }))
  }
  const failed = timed.flatMap((r) => r.verification.failed)
  if (failed.length > 0) say(`${failed.length} block(s) did not verify in a timed run; they count for nothing`)
  // The profiled run's engines go after the unprofiled ones: bounds take the unprofiled, jit the profiled.
  const run = timed.length === 0 ? undefined : { ...timed[0]!, engines: timed.flatMap((r) => r.engines) }
  if (parsed.kinds.some((k) => k !== 'jit')) say('access pass (access-set probe)…')
  const analyses = await runAnalyses({ ...parsed, source, workload, run, engine: engine as EngineName })
  if (reservation !== undefined) {
    const files = new Map<string, string>([['analyses.json', `${JSON.stringify(analysesSchema.parse(analyses), null, 1)}\n`]])
    timed.forEach((r, i) => files.set(i === 0 && needsTimedRun(parsed.kinds) ? 'timed-run.json' : 'profiled-run.json', `${JSON.stringify(r, null, 1)}\n`))
    await reservation.write(files)
    await reservation.commit()
  }
  process.stdout.write(opts.json === true ? `${JSON.stringify(analyses)}\n` : `${formatAnalyses(analyses)}\n`)
  const unverified = analyses.accessPass?.unverified.length ?? 0
  return failed.length > 0 || unverified > 0 ? 1 : 0
  } catch (err) {
    await reservation?.abort()
    throw err
  }
}
