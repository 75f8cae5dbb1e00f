import { UsageError } from '../errors/index.js'
import { checkOutputFile } from '../output/guard.js'
import { isMegabenchReport } from '../report/html.js'
import { type ReportFormat, loadResult, partition, renderReport, writeReportFile } from '../report/index.js'

export type ReportCliOptions = { out?: string; format?: string; force?: boolean }

/** `megabench report <results...>`: run.json / sweep.json files (or their directories) → one report. */
export async function reportCommand(paths: string[], opts: ReportCliOptions): Promise<number> {
  const format = (opts.format ?? 'html') as ReportFormat
  if (format !== 'html' && format !== 'md') throw new UsageError(`--format must be html or md (got ${JSON.stringify(opts.format)})`)
  if (paths.length === 0) throw new UsageError('report needs at least one run.json or sweep.json')
  const out = opts.out ?? (format === 'md' ? undefined : 'report.html')
  if (out !== undefined) await checkOutputFile(out, isMegabenchReport, { force: opts.force, inputs: paths })
  const loaded = []
  for (const p of paths) loaded.push(await loadResult(p))
  const { runs, sweeps } = partition(loaded)
  const content = await renderReport(runs, sweeps, format)
  if (format === 'md' && opts.out === undefined) {
    process.stdout.write(content)
    return 0
  }
  await writeReportFile(out!, content)
  process.stdout.write(`wrote ${out}\n`)
  return 0
}
