import Table from 'cli-table3'

import { PHASES, type PhaseName } from '../probes/phases.js'
import type { EngineResult, MegaReport, RunResult, StorageReport } from '../run/schema.js'
import { formatSize } from '../storage/memory.js'
import { passRates, passTxPerSec } from '../run/aggregate.js'
import { differences, tierSentence, timeRatioWords } from '../run/conditions.js'
import { verificationSentences } from '../run/verification.js'

const PHASE_LABELS: Record<PhaseName, string> = {
  senderRecovery: 'sender recovery',
  execution: 'execution',
  stateLoad: 'state load',
  merkleization: 'merkleization',
  persistence: 'persistence',
}

const fmt = (x: number, digits = 1) => x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
const pct = (part: number, whole: number) => (whole > 0 ? `${fmt((part / whole) * 100)}%` : '–')

/** Borderless-between-rows tables: readable in a terminal and in CI logs. */
const plain = {
  style: { head: [] as string[], border: [] as string[] },
  chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
}

/** The terminal summary of a run (plain text, no colours: it is also read in CI logs). */
export function formatSummary(
  result: RunResult,
  opts: { outDir?: string | undefined; topOpcodes?: number; report?: boolean | undefined } = {},
): string {
  const out: string[] = []
  const v = result.verification
  const src = result.config.source
  out.push(
    src.kind === 'chain'
      ? `megabench replay · chain ${src.paths.join(', ')}, blocks ${src.from ?? '?'}…${src.to ?? '?'}`
      : `megabench replay · ${src.units} fixture file${src.units === 1 ? '' : 's'} from ${src.paths.join(', ')}`,
  )
  out.push(
    v.failed.length === 0
      ? `verified ${v.verified}/${v.blocks} blocks on every engine run (each run's checks below)`
      : `VERIFICATION FAILED: ${v.blocks - v.verified} of ${v.blocks} blocks do not reproduce their header (they count for no throughput)`,
  )
  const pr = result.config.protocol
  out.push(
    `protocol: ${pr.warmup} warm-up pass${pr.warmup === 1 ? '' : 'es'} per variant (not reported), then ${pr.repeat} measured pass${pr.repeat === 1 ? '' : 'es'}` +
      `${pr.repeat > 1 ? ' interleaved A B B A: medians, ± half the range over passes' : ''}; senders ${result.config.senders === 'recover' ? 'recovered from signatures' : "from the source's cache"} on every engine` +
      (result.config.opcodes ? '; timings from unprofiled passes, the opcode profile from profiled ones' : ''),
  )
  if (v.failed.length > 0) {
    const t = new Table({ head: ['block', 'file', 'field', 'expected', 'computed'], ...plain, wordWrap: true, colWidths: [10, 28, 14, 36, 36] })
    for (const f of v.failed) t.push([f.block, f.origin, f.field, f.expected, f.actual])
    out.push(t.toString())
  }
  for (const e of result.engines) out.push(...engineSummary(e, opts.topOpcodes ?? 15))
  if (result.engines.length > 1 && result.engines.some((e) => e.name !== 'baseline')) out.push('', ...comparisonSummary(result))
  const d = result.decomposition
  if (d !== null) {
    const hist = result.engines.find((e) => e.name === 'baseline' && e.mode === 'historical' && (d.evm === undefined || e.evm === d.evm))
    const live = result.engines.find((e) => e.name === 'baseline' && e.mode === 'live' && (d.evm === undefined || e.evm === d.evm))
    const besides = hist !== undefined && live !== undefined ? differences(live, hist).filter((x) => !x.startsWith('mode:')) : []
    out.push('')
    out.push(
      `live vs historical sync${d.evm === undefined ? '' : ` (baseline on ${d.evm === 'fast' ? 'the fast EVM' : '@ethereumjs/evm'})`} ${besides.length === 0 ? 'on the same blocks' : `(differing besides the mode: ${besides.join('; ')})`}: live ${timeRatioWords(d.slowdown, 'historical')} = merkleization ${fmt(d.merkleizationFactor, 2)}x ` +
        `× persistence ${fmt(d.persistenceFactor, 2)}x (historical ${fmt(d.historicalTxPerSec, 0)} tx/s, live ${fmt(d.liveTxPerSec, 0)} tx/s; ` +
        `the study's Reth values: 14x = 9.3x × 1.5x)`,
    )
    if (d.historicalBatchRootMs !== undefined && d.slowdownVsHistoricalWithoutBatchRoot !== undefined && d.slowdownVsHistoricalWithoutBatchRoot > 0) {
      out.push(
        `  historical's one root and commit per batch took ${fmt(d.historicalBatchRootMs, 0)} ms of its ${fmt(d.historicalMs, 0)} ms; without it (the study's historical sync roots every 500k blocks, ` +
          `where that cost per block vanishes) live ${timeRatioWords(d.slowdownVsHistoricalWithoutBatchRoot, 'historical')}`,
      )
    }
  }
  if (opts.outDir) {
    out.push(`wrote ${opts.outDir}/ (run.json, blocks.jsonl${result.config.opcodes ? ', opcodes.csv' : ''}${opts.report === false ? '' : ', report.html'})`)
  }
  return out.join('\n')
}

function engineSummary(e: EngineResult, top: number): string[] {
  const out: string[] = []
  const t = e.totals
  out.push('')
  out.push(`engine ${e.label} (${e.mode} sync): ${e.description}`)
  out.push(...verificationSentences(e).map((s) => `  check: ${s}`))
  const rp = e.repeats
  out.push(
    `throughput ${fmt(t.txPerSec, 0)} tx/s${rp.passes > 1 ? ` (each block's phases: their medians over ${rp.passes} passes; the passes themselves ran ${fmt(rp.txPerSec.min, 0)}–${fmt(rp.txPerSec.max, 0)} tx/s, median ${fmt(rp.txPerSec.median, 0)})` : ''} · ${fmt(t.mgasPerSec, 2)} Mgas/s ` +
      `(${t.txs} txs, ${fmt(t.gasUsed / 1e6, 2)} Mgas in ${fmt(t.processingMs / 1000, 3)} s of block processing; ` +
      `wall ${fmt(t.wallMs / 1000, 2)} s incl. ${fmt(t.setupMs / 1000, 2)} s state import and setup, not counted)`,
  )
  const phases = new Table({ head: ['phase', 'ms', 'share'], ...plain, colAligns: ['left', 'right', 'right'] as const })
  for (const p of PHASES) phases.push([PHASE_LABELS[p], fmt(t.phases[p]), pct(t.phases[p], t.processingMs)])
  phases.push(['total', fmt(t.processingMs), '100.0%'])
  out.push(phases.toString())
  const be = e.baseline?.evm
  if (be !== undefined && be.requested === 'fast') {
    out.push(
      `EVM: the fast EVM${be.tier === undefined ? '' : ` (${be.tier})`} executed ${be.fastBlocks} block${be.fastBlocks === 1 ? '' : 's'}, @ethereumjs/evm ${be.ethereumjsBlocks}` +
        (be.ethereumjsBlocks > 0 ? ' (the access-set pass, forks the fast EVM does not run)' : ''),
    )
  }
  const tiers = tierSentence(e)
  if (tiers !== undefined) out.push(tiers)
  if (e.storage !== null) out.push(...storageSummary(e.storage))
  if (e.mega !== null) out.push(...megaSummary(e.mega, t.txs))

  const prof = e.opcodes
  if (e.profilerOverhead !== null) {
    const o = e.profilerOverhead
    out.push(
      `opcode probe overhead: ${fmt(o.ratio, 2)}x (profiled ${fmt(o.profiledMs.median, 0)} ms vs unprofiled ${fmt(o.unprofiledMs.median, 0)} ms of block processing, same warm blocks` +
        `${o.profiledMs.n > 1 ? `, medians of ${o.profiledMs.n} passes` : ''})`,
    )
  }
  if (prof) {
    const c = prof.coverage
    const ev = e.mega?.evm ?? e.baseline?.evm
    if (ev !== undefined && ev.requested === 'fast') {
      // Which probe measured which blocks: the fast EVM's (sampled timing, exact counts) or @ethereumjs's where it fell back.
      out.push(
        `opcode profile from the fast EVM's instrumented interpreter (${ev.fastBlocks} block${ev.fastBlocks === 1 ? '' : 's'}; cheap opcodes timed on a 1-in-N sample, counts exact)` +
          `${ev.ethereumjsBlocks > 0 ? ` and @ethereumjs/evm's probe (${ev.ethereumjsBlocks} block${ev.ethereumjsBlocks === 1 ? '' : 's'})` : ''}`,
      )
    }
    out.push(
      `top ${Math.min(top, prof.rows.length)} opcodes by exclusive time (child frames excluded; ` +
        `timer cost of ${fmt(prof.calibration.inRegionMs * 1e6, 0)}–${fmt(prof.calibration.perRegionMs * 1e6, 0)} ns per region subtracted)`,
    )
    const ops = new Table({
      head: ['#', 'opcode', 'category', 'count', 'total ms', '% time', 'cum %', 'avg ns', 'gas'],
      ...plain,
      colAligns: ['right', 'left', 'left', 'right', 'right', 'right', 'right', 'right', 'right'] as const,
    })
    prof.rows.slice(0, top).forEach((r, i) =>
      ops.push([
        i + 1,
        r.name,
        r.category,
        r.count.toLocaleString('en-US'),
        fmt(r.totalNs / 1e6, 2),
        fmt(r.pctTime),
        fmt(r.cumulativePct),
        r.totalNsMin !== undefined && r.totalNsMax !== undefined && r.count > 0 && (prof.passes ?? 1) > 1
          ? `${fmt(r.avgNs, 0)} (${fmt(r.totalNsMin / r.count, 0)}–${fmt(r.totalNsMax / r.count, 0)})`
          : fmt(r.avgNs, 0),
        (r.staticGas + r.dynamicGas).toLocaleString('en-US'),
      ]),
    )
    out.push(ops.toString())
    const parts: [string, number][] = [
      ['interpreter loop', c.interpreterMs],
      ['tx setup/finalisation', c.txSetupMs],
      ['block-level work', c.blockLevelMs],
      ['call-frame setup', c.callFramesMs],
      ['state roots in execution', c.stateRootsMs],
      ['precompiles', c.precompilesMs],
    ]
    out.push(
      `opcode handlers explain ${fmt(c.opcodeSharePct)}% of the execution window (${fmt(c.windowMs, 0)} ms after ` +
        `${fmt(c.timerOverheadMs, 0)} ms of timer cost); the rest: ` +
        parts
          .sort((a, b) => b[1] - a[1])
          .map(([k, ms]) => `${k} ${pct(ms, c.windowMs)}`)
          .join(', '),
    )
  }
  return out
}

function megaSummary(m: MegaReport, txs: number): string[] {
  const out: string[] = []
  out.push(
    `state in memory (no database on the execution path): ${m.accounts.toLocaleString('en-US')} accounts, ` +
      `${m.treeEntries.toLocaleString('en-US')} tree entries in 2^${m.bucketBits} buckets; loaded in ${fmt(m.importMs / 1000, 2)} s (not counted)`,
  )
  if (m.memory !== undefined) {
    out.push(
      `memory held by the loaded state and tree${m.memory.withMirror ? ' and the MPT mirror kept beside them (--verify-mpt off measures them alone)' : ''}: ${formatSize(m.memory.bytes)}, ` +
        `${fmt(m.memory.perAccount, 0)} B per account, ${fmt(m.memory.perEntry, 0)} B per tree entry (V8 heap + external, after settled full GCs)` +
        (m.memory.treeBytes === undefined ? '' : `; of it the BucketTree (the store: entries, bookkeeping, digests) ${formatSize(m.memory.treeBytes)}${m.memory.slotIndex === true ? ', plus a slot index for wipes' : ''}`),
    )
  }
  out.push(
    `BucketTree: ${m.keyUpdates.toLocaleString('en-US')} key updates, ${fmt(m.keyUpdatesPerSec, 0)}/s of merkleization, ` +
      `${fmt(m.hashesPerUpdate, 2)} hashes per update, 0 storage reads; ${m.commits} commits`,
  )
  if (m.evm !== undefined && m.evm.requested === 'fast') {
    out.push(`EVM: the fast EVM${m.evm.tier === undefined ? '' : ` (${m.evm.tier})`} executed ${m.evm.fastBlocks} block${m.evm.fastBlocks === 1 ? '' : 's'}, @ethereumjs/evm ${m.evm.ethereumjsBlocks}${m.evm.ethereumjsBlocks > 0 ? ' (parallel workers, forks the fast EVM does not run)' : ''}`)
  }
  const p = m.parallel
  if (m.threads > 0) {
    out.push(
      `parallel execution on ${m.threads} workers: ${p.accepted.toLocaleString('en-US')} of ${p.txs.toLocaleString('en-US')} transactions accepted as executed ` +
        `(${pct(p.accepted, p.txs)}); run again in order: ${p.conflicts} read conflicts, ${p.coinbase} coinbase-dependent, ${p.failed} failed on a worker; ` +
        `${p.sequential} in order from the start (pre-Byzantium or single-transaction blocks)`,
    )
  }
  out.push(
    `state diffs: ${formatSize(m.stateDiffBytes)} (${txs > 0 ? fmt(m.stateDiffBytes / txs, 1) : '–'} B per transaction)` +
      (m.verifyMptMs > 0 ? `; MPT kept beside for the state-root check: ${fmt(m.verifyMptMs / 1000, 2)} s (verification, not counted)` : ''),
  )
  return out
}

/**
 * Engines side by side: throughput and the ratio to the baseline in the same mode — to each baseline of
 * that mode when there are several (e.g. --baseline-evm ethereumjs,fast: the state architecture alone on
 * the same EVM, and the whole effect against @ethereumjs), named in the baseline column.
 */
function comparisonSummary(result: RunResult): string[] {
  const t = new Table({ head: ['engine', 'tx/s', 'Mgas/s', 'block processing ms', 'baseline', '× baseline (same mode)', 'what differs besides the engine'], ...plain, colAligns: ['left', 'right', 'right', 'right', 'left', 'right', 'left'] as const })
  for (const e of result.engines) {
    const sameMode = result.engines.filter((b) => b.name === 'baseline' && b.mode === e.mode && b !== e)
    // A baseline compares with the first baseline of its mode; any other engine with every one.
    const bases = e.name === 'baseline' ? sameMode.slice(0, 1).filter((b) => result.engines.indexOf(b) < result.engines.indexOf(e)) : sameMode
    const r = passRates(e)
    const cells = [e.label, fmt(r.txPerSec, 0), fmt(r.mgasPerSec, 2), fmt(r.processingMs, 0)]
    if (bases.length === 0) t.push([...cells, '', '–', ''])
    for (const [i, base] of bases.entries()) {
      // With several passes: the ratio of the median passes' tx/s, inside its range over passes.
      const b = passTxPerSec(base)
      const ratio = b > 0 ? passTxPerSec(e) / b : null
      const spreadNote = ratio !== null && (e.repeats.passes > 1 || base.repeats.passes > 1) ? ` (${fmt(ratioRange(e, base)[0], 2)}–${fmt(ratioRange(e, base)[1], 2)})` : ''
      t.push([...(i === 0 ? cells : ['', '', '', '']), base.label, ratio === null ? '–' : `${fmt(ratio, 2)}x${spreadNote}`, differences(e, base).join('; ')])
    }
  }
  const out = ['engines side by side (tx/s, Mgas/s and processing time of the median pass when there are several, and the ratio of those tx/s with its range over passes in brackets; the last column names what differs besides the engine):', t.toString()]
  const d = result.differential
  if (d !== null) {
    const missing = d.notCompared.length > 0 ? `; ${d.notCompared.length} not compared (${[...new Set(d.notCompared.map((n) => n.reason))].join('; ')})` : ''
    out.push(
      d.mismatches === 0
        ? `differential: ${d.compared} of ${d.expected} block diffs compared (blocks × mega variants), all equal to the baseline's (every account field and slot)${missing}`
        : `DIFFERENTIAL FAILED: ${d.mismatches} of ${d.compared} block diffs compared differ from the baseline's${missing}`,
    )
  }
  return out
}

/** The tx/s ratio's range over passes: [min(e)/max(base), max(e)/min(base)]. */
function ratioRange(e: EngineResult, base: EngineResult): [number, number] {
  return [e.repeats.txPerSec.min / base.repeats.txPerSec.max, e.repeats.txPerSec.max / base.repeats.txPerSec.min]
}

function storageSummary(st: StorageReport): string[] {
  const out: string[] = []
  const c = st.config
  const evicted = (st.evictions?.l1 ?? 0) + (st.evictions?.l2 ?? 0)
  const budget =
    c.memoryBytes === null
      ? `unbounded caches${c.heapCapBytes == null ? '' : ` (each level up to ${formatSize(c.heapCapBytes)}, an eighth of V8's heap limit${evicted > 0 ? `: reached, ${evicted.toLocaleString('en-US')} entries evicted` : ''})`}`
      : `memory budget ${formatSize(c.memoryBytes)} (level 1 ${formatSize(c.l1Bytes ?? 0)}, level 2 ${formatSize(c.l2Bytes ?? 0)})`
  out.push(
    `storage: LMDB flat state + tries, ${c.mode === 'live' ? 'root and commit per block' : `root and commit per ${c.batch === null ? 'range' : `${c.batch} blocks`}`}; ` +
      `${budget}${c.l1TrieNodes === false ? '; no trie nodes in level 1 (read through level 2, as Reth)' : ''}; working set ${formatSize(st.workingSetBytes)}`,
  )
  const im = st.import
  out.push(
    im.resumedAt !== null
      ? `state: resumed from the DB's head, block ${im.resumedAt}`
      : `state import (not counted): ${im.accounts.toLocaleString('en-US')} accounts, ${im.slots.toLocaleString('en-US')} slots, ` +
          `${im.nodes.toLocaleString('en-US')} trie nodes, ${im.codes.toLocaleString('en-US')} codes in ${fmt(im.ms / 1000, 2)} s`,
  )
  const t = new Table({ head: ['cache', 'account', 'storage', 'code', 'trie node', 'all', 'miss ratio'], ...plain, colAligns: ['left', 'right', 'right', 'right', 'right', 'right', 'right'] as const })
  for (const [name, l] of [['level 1 (client)', st.l1], ['level 2 (DB)', st.l2]] as const) {
    const cell = (k: { hits: number; misses: number }) => `${k.misses.toLocaleString('en-US')}/${(k.hits + k.misses).toLocaleString('en-US')}`
    t.push([`${name} misses/lookups`, cell(l.account), cell(l.storage), cell(l.code), cell(l.trieNode), cell(l.total), pct(l.total.misses, l.total.hits + l.total.misses)])
  }
  out.push(t.toString())
  const p = st.missPenalty.execution
  out.push(
    `miss penalty (an LMDB read on a level-2 miss) during execution: ${p.count.toLocaleString('en-US')} reads, mean ${fmt(p.meanNs / 1000, 1)} µs, ` +
      `p50 ≤ ${fmt(p.p50Ns / 1000, 1)} µs, p99 ≤ ${fmt(p.p99Ns / 1000, 1)} µs, ${fmt(p.totalMs)} ms in all`,
  )
  const b = st.binding
  if (b?.kind === 'cgroup') {
    out.push(
      `page cache bound by a memory cgroup (v${b.version}): limit ${formatSize(b.limitMinBytes)}–${formatSize(b.limitMaxBytes)} ` +
        `(charged anonymous memory − caches + budget + ${formatSize(b.headroomBytes)} headroom, ${b.updates} updates${b.refused > 0 ? `, ${b.refused} refused by the kernel` : ''}); ` +
        `${b.majorFaults.toLocaleString('en-US')} major page faults (pages read from disk, whole process)`,
    )
  } else if (b?.kind === 'model') {
    out.push(
      `MODELLED disk (declared ${fmt(b.missLatencyNs / 1000, 1)} µs per level-2 miss): ${b.misses.toLocaleString('en-US')} misses, measured ${fmt(b.measuredMs)} ms → ` +
        `modelled ${fmt(b.modelledMs)} ms; modelled processing ${fmt(b.modelledProcessingMs)} ms, ${fmt(b.modelledTxPerSec, 1)} tx/s (measured numbers above are unchanged)`,
    )
  }
  const m = st.merkleization
  out.push(
    `merkleization: ${m.roots} roots, ${(m.updatedAccounts + m.updatedSlots).toLocaleString('en-US')} keys updated; per key ` +
      `${fmt(m.nodeReadsPerKey, 2)} node reads (${fmt(m.lmdbReadsPerKey, 2)} from LMDB), ${fmt(m.nodeWritesPerKey, 2)} nodes hashed and written`,
  )
  const w = st.persistence
  const tables = Object.entries(w.bytes)
    .filter(([, b]) => b > 0)
    .map(([k, b]) => `${k} ${formatSize(b)}`)
    .join(', ')
  out.push(
    `persistence: ${w.commits} LMDB commits, ${formatSize(w.totalBytes)} (${tables}) at ${fmt(w.mbPerSec, 1)} MB/s; ` +
      `${w.nodesWritten.toLocaleString('en-US')} trie nodes written, ${w.garbageNodes.toLocaleString('en-US')} superseded ones dropped` +
      (w.syncMs === undefined || w.commits === 0
        ? ''
        : `; per commit ${fmt(w.ms / w.commits, 1)} ms in LMDB's write transaction, of which ${fmt(w.syncMs / w.commits, 1)} ms its commit (pages written out, fsync)`),
  )
  return out
}
