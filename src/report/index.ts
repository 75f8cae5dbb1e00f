import { mkdir, rename, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'

import type { LabeledRun, LabeledSweep } from './data.js'
import { renderHtml } from './html.js'
import { type LoadedResult, loadResult } from './load.js'
import { renderMarkdown } from './markdown.js'

export { loadResult, renderHtml, renderMarkdown }
export type { LabeledRun, LabeledSweep, LoadedResult }

export type ReportFormat = 'html' | 'md'

/** Splits loaded results into runs and sweeps for the renderers. */
export function partition(results: readonly LoadedResult[]): { runs: LabeledRun[]; sweeps: LabeledSweep[] } {
  const runs: LabeledRun[] = []
  const sweeps: LabeledSweep[] = []
  for (const r of results) {
    if (r.kind === 'run') runs.push({ label: r.label, result: r.run, flame: r.flame })
    else sweeps.push({ label: r.label, result: r.sweep })
  }
  return { runs, sweeps }
}

/** Renders a report of `runs` and `sweeps` in `format`. */
export async function renderReport(runs: readonly LabeledRun[], sweeps: readonly LabeledSweep[], format: ReportFormat): Promise<string> {
  return format === 'md' ? renderMarkdown(runs, sweeps) : renderHtml(runs, sweeps)
}

/** Writes a report file atomically (a temporary file renamed into place). */
export async function writeReportFile(path: string, content: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true })
  const tmp = `${path}.tmp-${process.pid}`
  await writeFile(tmp, content)
  await rename(tmp, path)
}
