import { UsageError } from '../errors/index.js'
import { type EvmKind, allPassed, formatSummary, runConformance, summaryJson } from '../conformance/index.js'
import { DEFAULT_EVM_TIER, EVM_TIERS, type EvmTier, isEvmTier } from '../evm/tiers.js'
import { createProgress } from './progress.js'

export type ConformanceCliOptions = { evm: string; evmTier?: string; json?: boolean; workers?: number; timeout?: number; depth?: number; filter?: string }

/** `megabench conformance <paths...>`: exit 0 if no test failed or timed out, 1 otherwise (2 on bad input, thrown). */
export async function conformanceCommand(paths: string[], opts: ConformanceCliOptions): Promise<number> {
  const evms: EvmKind[] = opts.evm === 'both' ? ['fast', 'ethereumjs'] : opts.evm === 'fast' || opts.evm === 'ethereumjs' ? [opts.evm] : []
  if (evms.length === 0) throw new UsageError(`--evm must be fast, ethereumjs or both (got ${JSON.stringify(opts.evm)})`)
  if (opts.evmTier !== undefined && !isEvmTier(opts.evmTier)) throw new UsageError(`--evm-tier must be ${EVM_TIERS.join(', ')} (got ${JSON.stringify(opts.evmTier)})`)
  if (opts.evmTier !== undefined && !evms.includes('fast')) throw new UsageError('--evm-tier applies to the fast EVM (--evm fast or both)')
  const tier = (opts.evmTier ?? DEFAULT_EVM_TIER) as EvmTier
  if (paths.length === 0) throw new UsageError('conformance needs at least one test file or directory')
  if (opts.timeout !== undefined && opts.timeout < 0) throw new UsageError(`--timeout must be 0 (no limit) or a number of seconds (got ${opts.timeout})`)
  let progress: ReturnType<typeof createProgress> | undefined
  const run = await runConformance({
    paths,
    evms,
    evmTier: tier,
    workers: opts.workers,
    timeoutMs: opts.timeout === undefined || opts.timeout === 0 ? undefined : opts.timeout * 1000,
    depth: opts.depth,
    filter: opts.filter === undefined ? undefined : (name) => name.includes(opts.filter!),
    onProgress: (done, total) => {
      progress ??= createProgress(total, opts.json !== true)
      progress.tick(`${done}/${total}`)
    },
  })
  progress?.stop()
  if (opts.json === true) process.stdout.write(`${JSON.stringify(summaryJson(run))}\n`)
  else {
    const header = `conformance: ${run.results.length} tests in ${paths.join(', ')} on ${evms.map((e) => (e === 'fast' ? `fast (${tier})` : e)).join(' and ')}, ${run.workers === 0 ? 'in this thread' : `${run.workers} workers`}`
    process.stdout.write(`${header}\n${formatSummary(run, { wallMs: run.wallMs, slowest: run.results })}`)
  }
  return allPassed(run) ? 0 : 1
}
