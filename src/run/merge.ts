import { RunResultError } from '../errors/index.js'
import { LogHistogram } from '../storage/histogram.js'
import type { Spread } from '../protocol/index.js'
import { rankOpcodeRows } from '../probes/opcodeProfiler.js'
import type { BlockRow, Decomposition, EngineResult, MegaReport, OpcodeProfileJson, RunResult, StorageReport } from './schema.js'

type Histogram = StorageReport['missPenalty']['execution']

const rate = (count: number, ms: number) => (ms > 0 ? count / (ms / 1000) : 0)
const sum = <T>(xs: readonly T[], f: (x: T) => number) => xs.reduce((s, x) => s + f(x), 0)
const natural = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true })

/**
 * Combines the run results of shards (`replay --shard i/n`) into one run result: per engine run the
 * block rows of all shards in source order, totals recomputed from them (verified blocks only, as
 * replay does), opcode profiles, storage and mega counters summed, the decomposition recomputed.
 * The shards must come from the same configuration and must not share a block. Wall and setup times
 * are summed over shards. A chain shard's storage counters include its warm-up blocks (each shard
 * replays the blocks before its range from the genesis state); per-block rows never do.
 */
export function mergeRuns(runs: readonly { file: string; run: RunResult }[]): RunResult {
  if (runs.length === 0) throw new RunResultError('merge', 'no run results to merge')
  const first = runs[0]!
  const signature = (r: RunResult) =>
    JSON.stringify({ kind: r.config.source.kind, engines: r.engines.map((e) => e.label), storage: r.config.storage, opcodes: r.config.opcodes, modes: r.config.modes, mega: r.config.mega, chain: r.config.source.kind === 'chain' ? r.config.source.paths : null })
  for (const { file, run } of runs) {
    if (signature(run) !== signature(first.run)) {
      throw new RunResultError(file, `was not run with the same source kind, engines, storage, modes and options as ${first.file}: shards of one run must share them`)
    }
  }
  // Source order: chains by range start, fixture shards by their first file.
  const ordered = [...runs].sort((a, b) => (a.run.config.source.from ?? 0) - (b.run.config.source.from ?? 0) || natural(a.run.config.source.paths[0] ?? '', b.run.config.source.paths[0] ?? ''))
  const seen = new Map<string, string>()
  for (const { file, run } of ordered) {
    for (const b of run.engines[0]!.blocks) {
      const key = `${b.origin}#${b.number}`
      const other = seen.get(key)
      if (other !== undefined) throw new RunResultError(file, `block ${b.number} (${b.origin}) is also in ${other}: shards must not overlap`)
      seen.set(key, file)
    }
  }
  const engines = first.run.engines.map((_, i) => mergeEngine(ordered.map((r) => r.run.engines[i]!)))
  const src = ordered.map((r) => r.run.config.source)
  const froms = src.map((s) => s.from).filter((x): x is number => x !== null)
  const tos = src.map((s) => s.to).filter((x): x is number => x !== null)
  const differentials = ordered.map((r) => r.run.differential).filter((d) => d !== null)
  return {
    ...first.run,
    createdAt: new Date().toISOString(),
    config: {
      ...first.run.config,
      source: {
        kind: first.run.config.source.kind,
        paths: [...new Set(src.flatMap((s) => s.paths))],
        units: first.run.config.source.kind === 'chain' ? 1 : sum(src, (s) => s.units),
        from: froms.length > 0 ? Math.min(...froms) : null,
        to: tos.length > 0 ? Math.max(...tos) : null,
      },
    },
    engines,
    decomposition: decomposition(engines.filter((e) => e.name === 'baseline')),
    differential:
      differentials.length > 0
        ? { compared: sum(differentials, (d) => d.compared), mismatches: sum(differentials, (d) => d.mismatches), expected: sum(differentials, (d) => d.expected), notCompared: differentials.flatMap((d) => d.notCompared) }
        : null,
    verification: {
      blocks: engines[0]!.totals.blocks,
      verified: Math.min(...engines.map((e) => e.totals.verifiedBlocks)),
      failed: ordered.flatMap((r) => r.run.verification.failed),
    },
  }
}

function mergeEngine(parts: readonly EngineResult[]): EngineResult {
  const blocks: BlockRow[] = parts.flatMap((p) => p.blocks)
  const verified = blocks.filter((b) => b.verified)
  const phases = { senderRecovery: 0, execution: 0, stateLoad: 0, merkleization: 0, persistence: 0 }
  for (const b of verified) for (const k of Object.keys(phases) as (keyof typeof phases)[]) phases[k] += b.phases[k]
  const processingMs = sum(Object.values(phases), (x) => x)
  const txs = sum(verified, (b) => b.txCount)
  const gasUsed = sum(verified, (b) => b.gasUsed)
  const p0 = parts[0]!
  return {
    ...p0,
    totals: {
      blocks: blocks.length,
      verifiedBlocks: verified.length,
      txs,
      gasUsed,
      processingMs,
      wallMs: sum(parts, (p) => p.totals.wallMs),
      setupMs: sum(parts, (p) => p.totals.setupMs),
      phases,
      txPerSec: rate(txs, processingMs),
      mgasPerSec: rate(gasUsed / 1e6, processingMs),
    },
    blocks,
    // Shards ran one after another: a pass of the whole range is the sum of the shards' passes.
    repeats: {
      passes: Math.min(...parts.map((p) => p.repeats.passes)),
      processingMs: sumSpreads(parts.map((p) => p.repeats.processingMs)),
      txPerSec: (() => {
        const ms = sumSpreads(parts.map((p) => p.repeats.processingMs))
        return { ...ms, median: rate(txs, ms.median), min: rate(txs, ms.max), max: rate(txs, ms.min) }
      })(),
      phases: Object.fromEntries(Object.keys(p0.repeats.phases).map((k) => [k, sumSpreads(parts.map((p) => p.repeats.phases[k]!))])),
    },
    profilerOverhead: parts.every((p) => p.profilerOverhead !== null)
      ? (() => {
          const pr = sumSpreads(parts.map((p) => p.profilerOverhead!.profiledMs))
          const un = sumSpreads(parts.map((p) => p.profilerOverhead!.unprofiledMs))
          return { profiledMs: pr, unprofiledMs: un, ratio: un.median > 0 ? pr.median / un.median : 0 }
        })()
      : null,
    opcodes: parts.every((p) => p.opcodes !== null) ? mergeOpcodes(parts.map((p) => p.opcodes!)) : null,
    storage: parts.every((p) => p.storage !== null) ? mergeStorage(parts.map((p) => p.storage!)) : null,
    mega: parts.every((p) => p.mega !== null) ? mergeMega(parts.map((p) => p.mega!), phases.merkleization) : null,
  }
}

/** Spreads of quantities that add up (shards' times): medians, minima and maxima summed. */
function sumSpreads(xs: readonly Spread[]): Spread {
  const median = sum(xs, (x) => x.median)
  const min = sum(xs, (x) => x.min)
  const max = sum(xs, (x) => x.max)
  return { n: Math.min(...xs.map((x) => x.n)), median, min, max, relHalfRange: median > 0 ? (max - min) / 2 / median : 0 }
}

function mergeOpcodes(ps: readonly OpcodeProfileJson[]): OpcodeProfileJson {
  const rows = new Map<number, OpcodeProfileJson['rows'][number]>()
  for (const p of ps) {
    for (const r of p.rows) {
      const a = rows.get(r.opcode)
      if (a === undefined) rows.set(r.opcode, { ...r })
      else for (const k of ['count', 'totalNs', 'inclusiveNs', 'staticGas', 'dynamicGas', 'childGas'] as const) a[k] += r[k]
    }
  }
  const list = [...rows.values()]
  for (const r of list) r.avgNs = r.count > 0 ? r.totalNs / r.count : 0
  const { categories } = rankOpcodeRows(list)
  const pre = new Map<number, OpcodeProfileJson['precompiles'][number]>()
  for (const p of ps) {
    for (const x of p.precompiles) {
      const a = pre.get(x.address)
      if (a === undefined) pre.set(x.address, { ...x })
      else {
        a.count += x.count
        a.totalNs += x.totalNs
        a.avgNs = a.totalNs / a.count
      }
    }
  }
  const cov = { ...ps[0]!.coverage }
  for (const k of Object.keys(cov) as (keyof typeof cov)[]) if (k !== 'opcodeSharePct') cov[k] = sum(ps, (p) => p.coverage[k])
  cov.opcodeSharePct = cov.windowMs > 0 ? (cov.opcodesMs / cov.windowMs) * 100 : 0
  return {
    calibration: ps[0]!.calibration,
    rows: list,
    categories,
    precompiles: [...pre.values()].sort((a, b) => a.address - b.address),
    coverage: cov,
  }
}

function toHistogram(h: Histogram): LogHistogram {
  const x = new LogHistogram()
  for (const b of h.buckets) x.counts[b.fromNs === 0 ? 0 : Math.round(Math.log2(b.fromNs))]! += b.count
  x.count = h.count
  x.sumNs = h.totalMs * 1e6
  x.maxNs = h.maxNs
  return x
}

/** Sums counters recursively (numbers added, objects merged key by key). */
function addDeep<T>(a: T, b: T): T {
  if (typeof a === 'number' && typeof b === 'number') return (a + b) as T
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a)) {
    const out: Record<string, unknown> = {}
    for (const k of Object.keys(a)) out[k] = addDeep((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])
    return out as T
  }
  return a
}

function mergeStorage(ps: readonly StorageReport[]): StorageReport {
  const s0 = ps[0]!
  const { config, missPenalty, import: imp0, ...counters } = s0
  let acc = counters
  for (const p of ps.slice(1)) {
    const { config: _c, missPenalty: _m, import: _i, ...rest } = p
    acc = addDeep(acc, rest)
  }
  const ratio = (c: { hits: number; misses: number }) => (c.hits + c.misses > 0 ? c.misses / (c.hits + c.misses) : 0)
  const mk = acc.merkleization
  const keys = mk.updatedAccounts + mk.updatedSlots
  const hist = (k: 'execution' | 'merkleization') => {
    const h = toHistogram(missPenalty[k])
    for (const p of ps.slice(1)) h.merge(toHistogram(p.missPenalty[k]))
    return h.summary()
  }
  return {
    ...acc,
    config,
    import: { ...ps.slice(1).reduce((a, p) => addDeep(a, { ...p.import, resumedAt: 0 }), { ...imp0, resumedAt: 0 }), resumedAt: imp0.resumedAt },
    l1: { ...acc.l1, missRatio: ratio(acc.l1.total) },
    l2: { ...acc.l2, missRatio: ratio(acc.l2.total) },
    missPenalty: { execution: hist('execution'), merkleization: hist('merkleization') },
    merkleization: {
      ...mk,
      nodeReadsPerKey: keys > 0 ? mk.nodeReads / keys : 0,
      nodeWritesPerKey: keys > 0 ? mk.nodeWrites / keys : 0,
      lmdbReadsPerKey: keys > 0 ? mk.lmdbReads / keys : 0,
    },
    persistence: { ...acc.persistence, mbPerSec: acc.persistence.ms > 0 ? acc.persistence.totalBytes / 1e6 / (acc.persistence.ms / 1000) : 0 },
  }
}

function mergeMega(ps: readonly MegaReport[], merkleizationMs: number): MegaReport {
  let acc = ps[0]!
  for (const p of ps.slice(1)) acc = addDeep(acc, p)
  const max = (f: (m: MegaReport) => number) => Math.max(...ps.map(f))
  return {
    ...acc,
    bucketBits: max((m) => m.bucketBits),
    senderWorkers: max((m) => m.senderWorkers),
    threads: max((m) => m.threads),
    keyUpdatesPerSec: rate(acc.keyUpdates, merkleizationMs),
    hashesPerUpdate: acc.keyUpdates > 0 ? (acc.bucketHashes + acc.nodeHashes) / acc.keyUpdates : 0,
  }
}

/** The study's live/historical decomposition (as run/replay.ts computes it) from merged engine runs. */
function decomposition(baseline: readonly EngineResult[]): Decomposition | null {
  const h = baseline.find((e) => e.mode === 'historical')?.totals
  const l = baseline.find((e) => e.mode === 'live')?.totals
  if (h === undefined || l === undefined || h.processingMs === 0) return null
  const withoutPersistence = l.processingMs - l.phases.persistence
  return {
    historicalMs: h.processingMs,
    liveMs: l.processingMs,
    liveWithoutPersistenceMs: withoutPersistence,
    historicalTxPerSec: h.txPerSec,
    liveTxPerSec: l.txPerSec,
    slowdown: l.processingMs / h.processingMs,
    merkleizationFactor: withoutPersistence / h.processingMs,
    persistenceFactor: withoutPersistence > 0 ? l.processingMs / withoutPersistence : 0,
  }
}
