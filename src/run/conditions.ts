import { basename } from 'node:path'

import { formatSize } from '../storage/memory.js'
import type { BlockRow, EngineResult, RunResult } from './schema.js'

/**
 * What makes two measurements' numbers differ besides the thing being compared: the blocks, the EVM, the
 * sender source, the storage and its memory budget, the modes, the protocol, the machine. The terminal
 * summary (engines of one run side by side) and the report (engines and runs side by side) both name these
 * beside every ratio they print, from this one module.
 */

/** One condition that differs: `what`, this side's value and the reference's. */
export type Difference = { what: string; value: string; reference: string }

/** "memory budget: 1.0 MiB vs unbounded caches". */
export function describeDifference(d: Difference): string {
  return `${d.what}: ${d.value} vs ${d.reference}`
}

/** A block as comparisons identify it, across runs and directories: its file's base name, number and hash. */
export function blockKey(r: Pick<BlockRow, 'origin' | 'number' | 'hash'>): string {
  return `${basename(r.origin)}#${r.number}#${r.hash}`
}

/** The blocks an engine run verified. */
export function verifiedBlockSet(e: EngineResult): Set<string> {
  return new Set(e.blocks.filter((r) => r.verified).map(blockKey))
}

/** The blocks every engine run of a run verified. */
export function runVerifiedBlockSet(r: RunResult): Set<string> {
  const sets = r.engines.map(verifiedBlockSet)
  const first = sets[0] ?? new Set<string>()
  return new Set([...first].filter((k) => sets.every((s) => s.has(k))))
}

/** How two block sets relate: null when equal, otherwise a difference naming both sizes and the overlap. */
export function blockSetDifference(a: ReadonlySet<string>, b: ReadonlySet<string>, what = 'verified blocks'): Difference | null {
  let common = 0
  for (const k of a) if (b.has(k)) common++
  if (common === a.size && common === b.size) return null
  const overlap = common === 0 ? 'none in common' : `${common} in common`
  return { what, value: `${a.size}`, reference: `${b.size} (${overlap})` }
}

const EVM_NAMES: Record<string, string> = { ethereumjs: '@ethereumjs/evm', fast: 'fast EVM' }
const evmName = (x: string) => EVM_NAMES[x] ?? x
/** An engine run's EVM, with the fast EVM's tier where recorded: "fast EVM (tiered)". */
const engineEvmName = (e: EngineResult) => {
  const tier = e.mega?.evm?.tier ?? e.baseline?.evm.tier
  return e.evm === 'fast' && tier !== undefined ? `${evmName(e.evm)} (${tier})` : evmName(e.evm)
}
const SENDER_NAMES: Record<string, string> = { recover: 'recovered from signatures', cache: "the source's cache" }

/** An engine run's memory budget as a sentence fragment (null without LMDB storage: nothing is budgeted). */
export function memoryBudget(e: EngineResult): string | null {
  const c = e.storage?.config
  if (c === undefined) return null
  const trie = c.l1TrieNodes === false ? ', no trie nodes in level 1' : ''
  if (c.memoryBytes === null) return `unbounded caches${trie}`
  const b = e.storage?.binding
  const bound =
    b?.kind === 'cgroup'
      ? ', page cache bound by a memory cgroup'
      : b?.kind === 'model'
        ? `, MODELLED disk at ${(b.missLatencyNs / 1000).toFixed(1)} µs per miss`
        : ', caches only (the OS page cache unbounded)'
  // Runs from before the caches were accounted at their heap cost held 2.5–7x their budget.
  const accounting = c.cacheAccounting === undefined ? ', caches counted at key + value + 64 B (before 2026-12-07: they held 2.5–7x the budget)' : ''
  return `--memory ${formatSize(c.memoryBytes)}${bound}${trie}${accounting}`
}

/**
 * Where an engine run recovered its senders (null when they came from the source's cache): the mega engine on
 * its sender worker threads, a block ahead of execution (only the wait is timed), the baseline on the main
 * thread inside the block (all of it timed).
 */
export function senderRecovery(e: EngineResult): string | null {
  if (e.senders === 'cache') return null
  const n = e.mega?.senderWorkers ?? 0
  return n > 0 ? `ecrecover on ${n} worker thread${n === 1 ? '' : 's'}, a block ahead (the wait timed)` : 'ecrecover on the main thread (timed)'
}

function pushIf(out: Difference[], what: string, value: string, reference: string): void {
  if (value !== reference) out.push({ what, value, reference })
}

/**
 * What differs between two engine runs besides the engine itself: the EVM, the set of verified blocks, the
 * sender source, the sync mode, the memory budget and batch (when both ran on LMDB), and the measured passes.
 */
export function engineDifferences(e: EngineResult, base: EngineResult): Difference[] {
  const out: Difference[] = []
  pushIf(out, 'EVM', engineEvmName(e), engineEvmName(base))
  const blocks = blockSetDifference(verifiedBlockSet(e), verifiedBlockSet(base))
  if (blocks !== null) out.push(blocks)
  pushIf(out, 'senders', e.senders, base.senders)
  const ra = senderRecovery(e)
  const rb = senderRecovery(base)
  if (ra !== null && rb !== null) pushIf(out, 'sender recovery', ra, rb)
  pushIf(out, 'mode', e.mode, base.mode)
  const ma = memoryBudget(e)
  const mb = memoryBudget(base)
  if (ma !== null && mb !== null) pushIf(out, 'memory budget', ma, mb)
  if (e.storage !== null && base.storage !== null && e.mode === 'historical' && base.mode === 'historical') {
    const batch = (x: EngineResult) => (x.storage!.config.batch === null ? 'one root per range' : `root every ${x.storage!.config.batch} blocks`)
    pushIf(out, 'historical batch', batch(e), batch(base))
  }
  pushIf(out, 'measured passes', String(e.repeats.passes), String(base.repeats.passes))
  return out
}

/**
 * What makes two engine runs' numbers differ besides the engine itself, named beside their ratio (the
 * terminal summary's form of `engineDifferences`).
 */
export function differences(e: EngineResult, base: EngineResult): string[] {
  return engineDifferences(e, base).map(describeDifference)
}

const machineOf = (r: RunResult) => `${r.machine.cpuModel}, ${r.machine.cores} cores, Node ${r.machine.nodeVersion}`
const evmsOf = (r: RunResult) => [...new Set(r.engines.map(engineEvmName))].sort().join(', ')
const budgetsOf = (r: RunResult) => {
  const b = [...new Set(r.engines.map(memoryBudget).filter((x): x is string => x !== null))]
  return b.length === 0 ? 'none (no LMDB storage)' : b.join(', ')
}
const protocolOf = (r: RunResult) => {
  const p = r.config.protocol
  return `${p.warmup} warm-up + ${p.repeat} measured pass${p.repeat === 1 ? '' : 'es'}`
}

/**
 * What differs between two runs' configurations and data: the verified blocks (every engine's), the EVMs,
 * the sender source, the storage and memory budget, the modes, opcode profiling, the protocol, the mega
 * engine's state-root check, the machine.
 */
export function runDifferences(a: RunResult, b: RunResult): Difference[] {
  const out: Difference[] = []
  const blocks = blockSetDifference(runVerifiedBlockSet(a), runVerifiedBlockSet(b))
  if (blocks !== null) out.push(blocks)
  pushIf(out, 'EVM', evmsOf(a), evmsOf(b))
  pushIf(out, 'senders', SENDER_NAMES[a.config.senders] ?? a.config.senders, SENDER_NAMES[b.config.senders] ?? b.config.senders)
  pushIf(out, 'storage', a.config.storage, b.config.storage)
  pushIf(out, 'memory budget', budgetsOf(a), budgetsOf(b))
  pushIf(out, 'modes', a.config.modes.join(', '), b.config.modes.join(', '))
  pushIf(out, 'opcode profiling', a.config.opcodes ? 'profiled passes too' : 'none', b.config.opcodes ? 'profiled passes too' : 'none')
  pushIf(out, 'protocol', protocolOf(a), protocolOf(b))
  if (a.config.mega !== null && b.config.mega !== null) pushIf(out, 'mega state-root check', `--verify-mpt ${a.config.mega.verifyMpt}`, `--verify-mpt ${b.config.mega.verifyMpt}`)
  pushIf(out, 'machine', machineOf(a), machineOf(b))
  return out
}

/**
 * What differs between an engine run of one run and an engine run of another (or the same) run besides the
 * engine: the engines' own differences, then whatever else differs between the runs (each `what` once).
 */
export function conditionDifferences(a: { run: RunResult; engine: EngineResult }, b: { run: RunResult; engine: EngineResult }): Difference[] {
  const out = engineDifferences(a.engine, b.engine)
  if (a.run === b.run) return out
  const seen = new Set(out.map((d) => d.what))
  // The runs' EVMs, block sets, senders and budgets are compared per engine above.
  for (const d of runDifferences(a.run, b.run)) {
    if (d.what === 'verified blocks' || d.what === 'EVM' || d.what === 'senders' || d.what === 'memory budget') continue
    // The engines' own mode and passes are compared above; the runs' other modes and passes matter no further
    // unless the warm-up differs.
    if (d.what === 'modes') continue
    if (d.what === 'protocol' && seen.has('measured passes') && a.run.config.protocol.warmup === b.run.config.protocol.warmup) continue
    // The storage setting is the baseline's: the mega engine keeps its state in memory either way.
    if (d.what === 'storage' && (a.engine.name !== 'baseline' || b.engine.name !== 'baseline')) continue
    if (!seen.has(d.what)) out.push(d)
  }
  return out
}

/**
 * The direction of a ratio of times, so that no sentence calls a faster run "below" or "slower":
 * `took 0.87x the time of historical (faster)`. Ratios that round to 1.00 are "about the same".
 */
export function timeRatioWords(ratio: number, reference: string, subject = 'took'): string {
  return `${subject} ${ratio.toFixed(2)}x the time of ${reference} (${ratioDirection(ratio, 'slower', 'faster')})`
}

/** The direction of a ratio of rates (tx/s): `0.50x the tx/s at 1.0 GiB (lower)`; `reference` carries its preposition. */
export function rateRatioWords(ratio: number, what: string, reference: string): string {
  return `${ratio.toFixed(2)}x the ${what} ${reference} (${ratioDirection(ratio, 'higher', 'lower')})`
}

/** `above` when the ratio rounds (to two decimals) above 1, `below` under 1, otherwise "about the same". */
export function ratioDirection(ratio: number, above: string, below: string): string {
  if (!Number.isFinite(ratio)) return 'not comparable'
  const r = Math.round(ratio * 100) / 100
  return r > 1 ? above : r < 1 ? below : 'about the same'
}

/**
 * The fast EVM's tiers across passes, from `repeats.compiled`: said only when a measured pass compiled code
 * (its tiers then differed from the passes before it: the passes were not alike).
 */
export function tierSentence(e: EngineResult): string | undefined {
  const c = e.repeats.compiled
  if (c === undefined) return undefined
  const total = c.blocks.reduce((a, b) => a + b, 0)
  if (total === 0) return undefined
  const ms = c.ms.reduce((a, b) => a + b, 0)
  return (
    `tiers changed while measuring: the fast EVM compiled ${total} basic block${total === 1 ? '' : 's'} during the measured passes ` +
    `(per pass in the order run: ${c.blocks.join(', ')}; ${ms.toFixed(1)} ms compiling, inside execution) after ${c.warmupBlocks} in the warm-up: ` +
    `the passes did not all run the same code in the same tier. More warm-up passes (--warmup) or one tier (--evm-tier compiled|interpreter) make them alike`
  )
}
