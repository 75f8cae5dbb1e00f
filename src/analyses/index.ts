/**
 * The analyses of issue 7, run over a source (and, for the JIT bound and the hardware ceilings, a timed
 * run of it): parallelism and state-diff bandwidth from an access pass (the access-set probe, in a pass
 * of its own so that no timed number carries its cost), the JIT bound from an opcode profile, and the
 * hardware ceilings from the timed run's CPU time per transaction with the access pass's updates and bytes.
 */
import { UsageError } from '../errors/index.js'
import type { EngineResult, RunResult } from '../run/schema.js'
import type { BlockSource } from '../types.js'
import { type MachineDescription, DEFAULT_MACHINE, analyzeBounds } from './bounds.js'
import { collectAccessSets } from './collect.js'
import { analyzeJit } from './jit.js'
import { CORE_COUNTS, analyzeParallelism } from './parallelism.js'
import { type Analyses, analysesSchema } from './schema.js'
import { DEFAULT_TPS, analyzeStateDiff } from './statediff.js'
import type { EngineName } from '../engines/types.js'

export const ANALYSIS_KINDS = ['parallelism', 'statediff', 'jit', 'bounds'] as const
export type AnalysisKind = (typeof ANALYSIS_KINDS)[number]

/** `parallelism,statediff` (or `all`) → kinds, in the canonical order; refuses unknown names. */
export function parseAnalysisKinds(list: string | readonly string[]): AnalysisKind[] {
  const names = (typeof list === 'string' ? [list] : list).flatMap((s) => s.split(',')).map((s) => s.trim()).filter((s) => s !== '')
  if (names.length === 0) throw new UsageError(`name an analysis: ${ANALYSIS_KINDS.join(', ')} or all`)
  const set = new Set<AnalysisKind>()
  for (const n of names) {
    if (n === 'all') ANALYSIS_KINDS.forEach((k) => set.add(k))
    else if ((ANALYSIS_KINDS as readonly string[]).includes(n)) set.add(n as AnalysisKind)
    else throw new UsageError(`unknown analysis ${JSON.stringify(n)}: expected ${ANALYSIS_KINDS.join(', ')} or all`)
  }
  return ANALYSIS_KINDS.filter((k) => set.has(k))
}

export type AnalysisParameters = {
  kinds: readonly AnalysisKind[]
  source: BlockSource
  /** Workload label (e.g. the chain directory's name, or `mainnet`). */
  workload: string
  /** A timed run of the same source: its opcode profile (jit) and CPU time per transaction (bounds). */
  run?: RunResult | undefined
  tps?: number
  machine?: MachineDescription
  /** Engine for the access pass (default baseline). */
  engine?: EngineName
  onBlock?: () => void
}

/** Kinds that need the access pass, and kinds that need a timed run. */
export const needsAccessPass = (kinds: readonly AnalysisKind[]) => kinds.some((k) => k !== 'jit')
export const needsProfile = (kinds: readonly AnalysisKind[]) => kinds.includes('jit')
export const needsTimedRun = (kinds: readonly AnalysisKind[]) => kinds.includes('bounds')

export async function runAnalyses(p: AnalysisParameters): Promise<Analyses> {
  const kinds = new Set(p.kinds)
  const machine = p.machine ?? DEFAULT_MACHINE
  const out: Analyses = { accessPass: null, parallelism: null, statediff: null, jit: null, bounds: null }
  if (kinds.has('jit')) {
    const e = p.run?.engines.find((x) => x.opcodes !== null)
    if (e === undefined || e.opcodes === null) throw new UsageError('the JIT bound needs an opcode profile: replay with --opcodes')
    const j = analyzeJit(e.opcodes)
    out.jit = {
      ...j,
      categories: [...j.categories],
      bounds: j.bounds.map((b) => ({ ...b, opcodes: finite(b.opcodes), execution: finite(b.execution), executionAndInterpreter: finite(b.executionAndInterpreter) })),
      source: `${e.label}: opcode profile over ${e.totals.verifiedBlocks} verified blocks`,
    }
  }
  if (needsAccessPass(p.kinds)) {
    const cores = [...new Set([...CORE_COUNTS, machine.cores])].sort((a, b) => a - b)
    const collected = await collectAccessSets({ source: p.source, engine: p.engine, onBlock: p.onBlock })
    const blocks = collected.blocks
    out.accessPass = {
      engine: collected.engine,
      workload: p.workload,
      blocks: blocks.length,
      txs: blocks.reduce((s, b) => s + b.access.txs.length, 0),
      unverified: collected.unverified,
      note: 'access sets recorded in a separate, untimed pass (temporary LMDB, live sync); blocks that did not verify are left out',
    }
    const parallelism = kinds.has('parallelism') || kinds.has('bounds') ? analyzeParallelism(blocks, { cores }) : null
    const statediff = kinds.has('statediff') || kinds.has('bounds') ? analyzeStateDiff(blocks, { tps: p.tps ?? DEFAULT_TPS }) : null
    if (kinds.has('parallelism')) out.parallelism = parallelism
    if (kinds.has('statediff')) out.statediff = statediff
    if (kinds.has('bounds')) {
      const timed = timedEngine(p.run)
      if (timed === undefined) throw new UsageError('the hardware ceilings need a timed run of the same blocks')
      const t = timed.totals
      const w1 = statediff!.windows.find((w) => w.k === 1)!
      const at = parallelism!.summaries.find((s) => s.k === 1 && s.treatment === 'commutative')?.speedup.find((s) => s.cores === machine.cores)
      out.bounds = analyzeBounds(
        {
          cpuUsPerTx: t.txs > 0 ? ((t.phases.execution + t.phases.stateLoad) * 1000) / t.txs : 0,
          cpuSource: `${timed.label}: (execution + state load) / transactions over ${t.verifiedBlocks} verified blocks${timed.opcodes !== null ? ' (opcode profiler on: inflated by its overhead)' : ''}`,
          updatesPerTx: w1.txs > 0 ? w1.keys / w1.txs : 0,
          bytesPerTx: w1.bytesPerTx,
          speedupAtCores: at?.aggregate ?? null,
        },
        machine,
      )
    }
  }
  return analysesSchema.parse(out)
}

/** The engine result whose times the ceilings use: unprofiled if there is one, live sync preferred. */
function timedEngine(run: RunResult | undefined): EngineResult | undefined {
  const es = (run?.engines ?? []).filter((e) => e.totals.txs > 0)
  return es.find((e) => e.opcodes === null && e.mode === 'live') ?? es.find((e) => e.opcodes === null) ?? es[0]
}

function finite(x: number): number | null {
  return Number.isFinite(x) ? x : null
}

export type { Analyses } from './schema.js'
export { analysesSchema } from './schema.js'
