import { formatGenerateSummary } from '../output/generateSummary.js'
import type { GenerateOptions } from '../workloads/options.js'
import { generateChain } from '../workloads/generate.js'
import { createStagedProgress } from './progress.js'

export type GenerateCliOptions = Omit<GenerateOptions, 'workload'> & { out: string; json?: boolean; force?: boolean }

/** `megabench generate <workload>`: options → generated chain directory → summary. */
export async function generateCommand(workload: string, opts: GenerateCliOptions): Promise<number> {
  const { out, json, force, ...rest } = opts
  const progress = createStagedProgress(json !== true)
  let stats
  try {
    stats = await generateChain({ workload, ...rest }, out, (p) => progress.update(p.stage, p.done, p.total), { force })
  } finally {
    progress.stop()
  }
  if (json === true) process.stdout.write(`${JSON.stringify(stats)}\n`)
  else process.stdout.write(`${formatGenerateSummary(stats, out)}\n`)
  return 0
}
