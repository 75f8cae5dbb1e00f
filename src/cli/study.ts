import { join } from 'node:path'

import { UsageError } from '../errors/index.js'
import { parseSize } from '../storage/memory.js'
import { STUDY_WORKLOADS, type StudyBind, type StudyParameters, type StudyWorkload, planStudy, runStudy, stepCommand } from '../study/index.js'
import { timestampForPath } from './replay.js'

export type StudyCliOptions = {
  out?: string
  force?: boolean
  chains?: string
  accounts: number
  blocks: number
  longBlocks: number
  txsPerBlock: number
  workloads: string
  fixtures?: string[]
  memory: string
  sweepWorkloads: string
  bind: string
  evm: string
  repeat?: number
  analyze: boolean
  hardfork?: string
  seed?: string
  dryRun?: boolean
  json?: boolean
}

function workloads(flag: string, text: string): StudyWorkload[] {
  if (text.trim() === '' || text === 'none') return []
  return text.split(',').map((w) => {
    const name = w.trim()
    if (!(STUDY_WORKLOADS as readonly string[]).includes(name)) throw new UsageError(`${flag}: ${JSON.stringify(name)} is not one of ${STUDY_WORKLOADS.join(', ')}`)
    return name as StudyWorkload
  })
}

/** `megabench study`: the recipe's steps as fresh processes → study.md, study.json, report.html. */
export async function studyCommand(opts: StudyCliOptions): Promise<number> {
  if (!['auto', 'cgroup', 'model', 'caches'].includes(opts.bind)) throw new UsageError(`--bind must be auto, cgroup, model or caches (got ${JSON.stringify(opts.bind)})`)
  if (opts.evm !== 'fast' && opts.evm !== 'ethereumjs') throw new UsageError(`--evm must be fast or ethereumjs (got ${JSON.stringify(opts.evm)})`)
  const p: StudyParameters = {
    out: opts.out ?? join('reports', `study-${timestampForPath(new Date())}`),
    force: opts.force,
    chainsDir: opts.chains,
    accounts: opts.accounts,
    blocks: opts.blocks,
    longBlocks: opts.longBlocks,
    txsPerBlock: opts.txsPerBlock,
    workloads: workloads('--workloads', opts.workloads),
    fixtures: opts.fixtures ?? [],
    memory: opts.memory === 'none' ? [] : opts.memory.split(',').map((s) => parseSize('--memory')(s)),
    sweepWorkloads: opts.memory === 'none' ? [] : workloads('--sweep-workloads', opts.sweepWorkloads),
    bind: opts.bind as StudyBind,
    evm: opts.evm,
    repeat: opts.repeat ?? 1,
    analyze: opts.analyze,
    hardfork: opts.hardfork,
    seed: opts.seed,
  }
  if (opts.dryRun === true) {
    const steps = await planStudy(p)
    if (opts.json === true) process.stdout.write(`${JSON.stringify(steps)}\n`)
    else for (const [i, s] of steps.entries()) process.stdout.write(`${i + 1}. ${s.title}\n   ${stepCommand(s)}${s.reused ? '   (reused: not run)' : ''}\n`)
    return 0
  }
  const r = await runStudy(p, {
    onStep: (step, i, of, done) => {
      if (opts.json === true) return
      if (done === undefined) process.stderr.write(`study [${i + 1}/${of}] ${step.title}\n`)
      else if (done.skipped) process.stderr.write(`study [${i + 1}/${of}] ${done.failure}\n`)
      else process.stderr.write(`study [${i + 1}/${of}] ${done.reused ? 'reused' : `exit ${done.exitCode ?? 'killed'} in ${(done.ms / 1000).toFixed(1)} s (log: ${done.log})`}${done.failure ? ` — FAILED: ${done.failure}` : ''}\n`)
    },
  })
  if (opts.json === true) process.stdout.write(`${JSON.stringify(r)}\n`)
  else {
    const failed = r.steps.filter((s) => s.failure !== undefined)
    process.stdout.write(
      `wrote ${p.out}/ (study.md: the study vs measured per input; study.json; ${r.reportError === undefined ? 'report.html; ' : ''}runs/, sweeps/, logs/)` +
        `${failed.length > 0 ? `\n⚠ INCOMPLETE: ${failed.map((s) => `${s.id}: ${s.failure}`).join('; ')}` : ''}` +
        `${r.reportError !== undefined ? `\n⚠ INCOMPLETE: ${r.reportError}` : ''}` +
        `${r.verified || failed.length > 0 ? '' : '\n⚠ a block did not verify: see study.md\'s steps'}\n`,
    )
  }
  // 2: a step failed or the report could not be rendered (the output is written and marked incomplete); 1: a block did not verify.
  return !r.complete ? 2 : r.verified ? 0 : 1
}
