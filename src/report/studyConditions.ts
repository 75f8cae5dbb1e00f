import { basename } from 'node:path'

import type { Analyses } from '../analyses/schema.js'
import { memoryBudget, timeRatioWords } from '../run/conditions.js'
import type { EngineResult, RunResult } from '../run/schema.js'
import type { SweepResult } from '../run/sweepSchema.js'
import { formatSize } from '../storage/memory.js'

/**
 * The conditions under which a number of ours was measured that differ from the study's (MegaETH's Reth on
 * a 512 GB server, the last 1M mainnet blocks, historical sync, revm, no probe on the throughput), each
 * built from the run's own data and phrased "ours vs the study's". The study-vs-measured table prints them
 * beside every value.
 */

const STUDY_BLOCKS = "the study's last 1M mainnet blocks"
const STUDY_MEMORY = "the study's 512 GB server with the full mainnet state (>100 GB)"

const FORK_NAMES: Record<string, string> = {
  chainstart: 'Frontier',
  homestead: 'Homestead',
  dao: 'DAO fork',
  tangerineWhistle: 'Tangerine Whistle',
  spuriousDragon: 'Spurious Dragon',
  byzantium: 'Byzantium',
  constantinople: 'Constantinople',
  petersburg: 'Petersburg',
  istanbul: 'Istanbul',
  muirGlacier: 'Muir Glacier',
  berlin: 'Berlin',
  london: 'London',
  arrowGlacier: 'Arrow Glacier',
  grayGlacier: 'Gray Glacier',
  paris: 'Paris',
  mergeForkIdTransition: 'Paris',
  shanghai: 'Shanghai',
  cancun: 'Cancun',
}
const fork = (h: string) => FORK_NAMES[h] ?? h
const int = (x: number) => x.toLocaleString('en-US')
const plural = (n: number, one: string, many = `${one}s`) => `${int(n)} ${n === 1 ? one : many}`

/** The blocks behind an engine run's numbers: how many, which kind, which forks, and how far apart. */
export function blocksCondition(r: RunResult, e: EngineResult): string {
  const rows = e.blocks.filter((b) => b.verified).sort((a, b) => a.number - b.number)
  const failed = e.blocks.length - rows.length
  const tail = failed > 0 ? `; ${plural(failed, 'failed block')} left out` : ''
  const first = rows[0]
  const last = rows.at(-1)
  if (first === undefined || last === undefined) return `no verified block${tail}`
  const forks = fork(first.hardfork) === fork(last.hardfork) ? fork(first.hardfork) : `${fork(first.hardfork)} to ${fork(last.hardfork)}`
  const consecutive = rows.every((b, i) => i === 0 || b.number === rows[i - 1]!.number + 1)
  const heights = rows.length === 1 ? `block ${int(first.number)}` : `blocks ${int(first.number)}…${int(last.number)}${consecutive ? '' : ', not consecutive'}`
  const what =
    r.config.source.kind === 'fixtures'
      ? `${plural(rows.length, 'real block')} (${forks}; ${heights})`
      : `${plural(rows.length, 'block')} of chain ${basename(r.config.source.paths[0] ?? '?')} (${forks}; ${heights})`
  return `${what} vs ${STUDY_BLOCKS}${tail}`
}

/** The memory the state had: the budget, the working set, the machine. */
export function memoryCondition(r: RunResult, e: EngineResult): string {
  const machine = `${formatSize(r.machine.memoryBytes)} machine`
  if (e.storage !== null) {
    return `${memoryBudget(e)}, working set ${formatSize(e.storage.workingSetBytes)}, on a ${machine} vs ${STUDY_MEMORY}`
  }
  if (e.name === 'baseline') return `tries in an in-memory node store (--storage memory, no caches) on a ${machine} vs ${STUDY_MEMORY}`
  return `state in memory (the mega engine) on a ${machine} vs ${STUDY_MEMORY}`
}

/** The sync mode, when the study's row is about another one, or the historical batch when it is historical. */
export function modeCondition(e: EngineResult, studyMode: 'historical' | 'live' | null): string | null {
  if (studyMode !== null && e.mode !== studyMode) {
    return `${e.mode} sync (${e.mode === 'live' ? 'state root and commit after every block' : 'state root per batch'}) vs the study's ${studyMode} sync`
  }
  if (e.mode === 'historical' && e.storage !== null) {
    const b = e.storage.config.batch
    return `historical: state root and commit ${b === null ? 'once, at the end of the range' : `every ${int(b)} blocks`} vs the study's every 500k blocks`
  }
  return null
}

/** Whether the opcode probe was on while the timings were taken. */
export function probeCondition(e: EngineResult): string {
  if (e.opcodes !== null && e.profilerOverhead === null) return "timings taken with the opcode probe on vs the study's throughput without it"
  if (e.profilerOverhead !== null) {
    return `timings from passes without the opcode probe; the profiled passes ${timeRatioWords(e.profilerOverhead.ratio, 'unprofiled ones')}`
  }
  return 'timings without the opcode probe'
}

/** How the opcode profile was taken, beside the study's cycle counters. */
export function profileCondition(e: EngineResult): string {
  const o = e.profilerOverhead
  const passes = e.opcodes?.passes
  const cost = o === null ? 'probe overhead not measured' : `profiled passes ${timeRatioWords(o.ratio, 'unprofiled ones')}`
  return `per-opcode timers in JavaScript, calibrated timer cost subtracted (${passes !== undefined ? `${plural(passes, 'profiled pass', 'profiled passes')}; ` : ''}${cost}) vs the study's CPU cycle counters around each interpreter step`
}

/** The EVM that executed the blocks. */
export function evmCondition(r: RunResult, e: EngineResult): string {
  const evm = e.evm === 'fast' ? "megabench's fast EVM (TypeScript)" : `@ethereumjs/evm ${r.machine.ethereumjs} (TypeScript on Node ${r.machine.nodeVersion})`
  return `${evm} vs Reth's revm (Rust)`
}

const STORE = "LMDB, level 2 a byte-bounded cache standing in for the OS page cache vs the study's MDBX under the OS page cache"

export type ConditionAspect = 'blocks' | 'memory' | 'mode' | 'probe' | 'profile' | 'evm' | 'store' | 'senders' | 'failed-counters'

/**
 * The conditions of one engine run that bear on a study row: `aspects` picks which (the throughput rows
 * need blocks, memory, mode, probe and EVM; the opcode rows blocks, profile and EVM; the storage rows
 * blocks, memory and store).
 */
export function engineConditions(r: RunResult, e: EngineResult, aspects: readonly ConditionAspect[], studyMode: 'historical' | 'live' | null = null): string[] {
  const out: string[] = []
  for (const a of aspects) {
    if (a === 'blocks') out.push(blocksCondition(r, e))
    else if (a === 'memory') out.push(memoryCondition(r, e))
    else if (a === 'mode') {
      const m = modeCondition(e, studyMode)
      if (m !== null) out.push(m)
    } else if (a === 'probe') out.push(probeCondition(e))
    else if (a === 'profile') out.push(profileCondition(e))
    else if (a === 'evm') out.push(evmCondition(r, e))
    else if (a === 'store') out.push(STORE)
    else if (a === 'senders') {
      if (e.senders === 'cache') out.push("senders from the source's cache (not recovered) vs the study's sender recovery")
    } else if (a === 'failed-counters') {
      const n = e.blocks.filter((b) => !b.verified).length
      if (n > 0) out.push(`the storage counters also cover the ${plural(n, 'failed block')} (counters are not kept per block)`)
    }
  }
  return out
}

/** The conditions of a memory sweep beside the study's (8 … 512 GB, the last 1M blocks, full state). */
export function sweepConditions(s: SweepResult, studyMode: 'historical' | 'live'): string[] {
  const limits = [...s.config.limits].sort((a, b) => a - b)
  const out: string[] = []
  if (s.config.mode !== studyMode) out.push(`${s.config.mode} sync vs the study's ${studyMode} sync`)
  out.push(
    `limits ${limits.length > 0 ? `${formatSize(limits[0]!)} … ${formatSize(limits.at(-1)!)}` : 'none'} over a working set of ${formatSize(s.workingSetBytes)} vs the study's 8 … 512 GB over the full mainnet state`,
  )
  out.push(`replay ${s.config.replayArgs.join(' ')} (medians of ${plural(s.config.repeat, 'run')} per limit) vs ${STUDY_BLOCKS}`)
  const excluded = s.points.filter((p) => !p.runs.every((x) => x.verified)).map((p) => formatSize(p.memoryBytes))
  if (excluded.length > 0) out.push(`left out: ${excluded.join(', ')} (a run there did not verify)`)
  return out
}

/** The conditions of an analysis (its access pass) beside the study's. */
export function analysesConditions(a: Analyses, row: 15 | 16 | 18): string[] {
  const p = a.accessPass
  const blocks = p === null || p === undefined ? 'blocks unknown' : `${plural(p.blocks, 'block')}, ${int(p.txs)} transactions (${p.workload})`
  if (row === 15) return [`${blocks} vs the study's real mainnet blocks`]
  if (row === 16) {
    const tps = a.statediff?.tps
    return [`${blocks}, scaled to ${tps === undefined ? '?' : int(tps)} tx/s (--tps) vs the study's 100k ERC20 transfers or swaps per second`]
  }
  return [`${blocks}; a model over the measured CPU time and updated keys per transaction vs the whitepaper's estimates`]
}
