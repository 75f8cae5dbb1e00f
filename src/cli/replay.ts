import { join } from 'node:path'

import { formatSummary } from '../output/summary.js'
import { runFiles } from '../output/runFiles.js'
import { writeDirectoryAtomically } from '../output/files.js'
import { DEFAULT_FIXTURES } from '../run/environment.js'
import { replay } from '../run/replay.js'
import { UsageError } from '../errors/index.js'
import { createChainSource, measuredBlockCount } from '../sources/chain.js'
import { createFixtureSource } from '../sources/fixtures.js'
import type { BlockSource } from '../types.js'
import { createProgress } from './progress.js'

export type ReplayCliOptions = {
  fixtures?: string[]
  chain?: string
  from?: number
  to?: number
  opcodes?: boolean
  json?: boolean
  out?: string
}

/** `megabench replay`: flags → parameters → replay → files + summary. Returns the exit code. */
export async function replayCommand(opts: ReplayCliOptions): Promise<number> {
  if (opts.chain !== undefined && opts.fixtures !== undefined) throw new UsageError('give --fixtures or --chain, not both')
  if (opts.chain === undefined && (opts.from !== undefined || opts.to !== undefined)) {
    throw new UsageError('--from and --to apply to --chain')
  }
  let source: BlockSource
  let paths: string[]
  let total: number
  let range: { from: number; to: number } | undefined
  if (opts.chain !== undefined) {
    const chain = await createChainSource({ dir: opts.chain, from: opts.from, to: opts.to })
    paths = [opts.chain]
    range = { from: opts.from ?? chain.manifest.blocks.first, to: opts.to ?? chain.manifest.blocks.last }
    total = measuredBlockCount(chain.manifest, opts.from, opts.to)
    source = chain
  } else {
    paths = opts.fixtures && opts.fixtures.length > 0 ? opts.fixtures : [DEFAULT_FIXTURES]
    source = await createFixtureSource({ paths })
    total = source.unitCount
  }
  const progress = createProgress(total, opts.json !== true)
  let result
  try {
    result = await replay({
      source,
      sourcePaths: paths,
      range,
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
