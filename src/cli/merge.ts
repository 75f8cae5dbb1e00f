import { renderHtml } from '../report/html.js'
import { loadResult } from '../report/load.js'
import { RunResultError } from '../errors/index.js'
import { runFiles } from '../output/runFiles.js'
import { writeDirectoryAtomically } from '../output/files.js'
import { checkOutputDir } from '../output/guard.js'
import { formatSummary } from '../output/summary.js'
import { mergeRuns } from '../run/merge.js'
import { basename } from 'node:path'

export type MergeCliOptions = { out: string; json?: boolean; report?: boolean; force?: boolean }

/** `megabench merge`: shard run results → one run directory (run.json, blocks.jsonl, report.html). */
export async function mergeCommand(paths: string[], opts: MergeCliOptions): Promise<number> {
  await checkOutputDir(opts.out, { force: opts.force, inputs: paths })
  const runs = []
  for (const p of paths) {
    const r = await loadResult(p)
    if (r.kind !== 'run') throw new RunResultError(r.file, 'is a sweep result: merge takes run results of shards')
    runs.push({ file: r.file, run: r.run })
  }
  const result = mergeRuns(runs)
  const files: Map<string, string> = runFiles(result)
  if (opts.report !== false) files.set('report.html', await renderHtml([{ label: basename(opts.out), result }], []))
  await writeDirectoryAtomically(opts.out, files, 'merge', { force: opts.force, inputs: paths })
  if (opts.json === true) process.stdout.write(`${JSON.stringify(result)}\n`)
  else process.stdout.write(`merged ${runs.length} shard results\n${formatSummary(result, { outDir: opts.out, report: opts.report })}\n`)
  return result.verification.failed.length === 0 ? 0 : 1
}
