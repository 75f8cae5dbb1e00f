import { join } from 'node:path'

import { formatSummary } from '../output/summary.js'
import { runFiles } from '../output/runFiles.js'
import { writeDirectoryAtomically } from '../output/files.js'
import { DEFAULT_FIXTURES } from '../run/environment.js'
import { replay } from '../run/replay.js'
import { createFixtureSource } from '../sources/fixtures.js'
import { createProgress } from './progress.js'

export type ReplayCliOptions = {
  fixtures?: string[]
  opcodes?: boolean
  json?: boolean
  out?: string
}

/** `megabench replay`: flags → parameters → replay → files + summary. Returns the exit code. */
export async function replayCommand(opts: ReplayCliOptions): Promise<number> {
  const paths = opts.fixtures && opts.fixtures.length > 0 ? opts.fixtures : [DEFAULT_FIXTURES]
  const source = await createFixtureSource({ paths })
  const progress = createProgress(source.unitCount, opts.json !== true)
  let result
  try {
    result = await replay({
      source,
      sourcePaths: paths,
      opcodes: opts.opcodes === true,
      onBlock: (row) => progress.tick(`block ${row.number}`),
    })
  } finally {
    progress.stop()
  }
  const outDir = opts.out ?? join('reports', timestampForPath(new Date(result.createdAt)))
  await writeDirectoryAtomically(outDir, runFiles(result))
  if (opts.json === true) process.stdout.write(`${JSON.stringify(result)}\n`)
  else process.stdout.write(`${formatSummary(result, { outDir })}\n`)
  return result.verification.failed.length === 0 ? 0 : 1
}

/** 2026-11-22T02:13:31.123Z → 2026-11-22T02-13-31Z (safe in file names everywhere). */
export function timestampForPath(d: Date): string {
  return d.toISOString().replace(/\.\d+Z$/, 'Z').replaceAll(':', '-')
}
