import type { TopLevelSpec } from 'vega-lite'

import { PHASES } from '../probes/phases.js'
import type { Spread } from '../protocol/index.js'
import { describeDifference, memoryBudget, timeRatioWords } from '../run/conditions.js'
import type { EngineResult } from '../run/schema.js'
import { formatSize } from '../storage/memory.js'
import {
  type LabeledRun,
  type LabeledSweep,
  PHASE_LABELS,
  avgNsRange,
  blockOrder,
  categoryShares,
  comparisons,
  decompositionChoice,
  failedBlocks,
  jitBounds,
  megaRows,
  noData,
  pareto,
  penaltyChoice,
  penaltyHistogram,
  phaseBreakdown,
  phasesNoData,
  probeOverheads,
  profileChoice,
  protocolSentence,
  recap,
  recapDifferences,
  runWarnings,
  seriesName,
  studyVsMeasured,
  summaryRows,
  sweepCurves,
  sweepEngines,
  sweepExcluded,
  sweepMissRatios,
  sweepNoData,
  throughputAxis,
  throughputNoData,
  throughputSeries,
  tierNotes,
  withSpread,
} from './data.js'
import { type RunVerification, differentialSentence, runVerification, verificationBanner } from './verification.js'
import { analysesSection } from './analyses.js'
import { renderSvg } from './render.js'
import {
  categoriesSpec,
  decompositionSpec,
  flameSpec,
  histogramSpec,
  jitSpec,
  missRatioSpec,
  paretoSpec,
  phasesSpec,
  recapSpec,
  sweepCurvesSpec,
  sweepEnginesSpec,
  throughputSpec,
} from './specs.js'

const esc = (s: string) => s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;')
const num = (x: number, d = 1) => x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d })

/** A chart: the SVG, or (spec null) one line "no data: <why>" instead of an empty chart. */
async function chart(name: string, spec: TopLevelSpec | null, why: string): Promise<string> {
  if (spec === null) return `<figure class="chart empty" data-chart="${name}"><p class="note nodata">no data: ${esc(why)}</p></figure>`
  return `<figure class="chart" data-chart="${name}">${await renderSvg(spec)}</figure>`
}

function table(head: string[], rows: string[][], attrs = ''): string {
  return `<table ${attrs}><thead><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`
}

/** A warning beside a ratio: what differs besides the thing compared (full text on hover and in the cell). */
function besides(list: readonly string[]): string {
  return list.length === 0 ? '' : ` <span class="warn" title="${esc(list.join('; '))}">⚠ differs besides the engine: ${esc(list.join('; '))}</span>`
}

/**
 * The self-contained HTML report: every chart pre-rendered to SVG on the server (vega-lite → vega →
 * SVG), tables in plain HTML, a few lines of inline script for sorting and filtering the opcode
 * table. A Content-Security-Policy forbids any request, so the page opens anywhere without a network.
 */
export async function renderHtml(runs: readonly LabeledRun[], sweeps: readonly LabeledSweep[]): Promise<string> {
  const failures = runs.flatMap((r) => r.result.verification.failed.map((f) => ({ label: r.label, ...f })))
  const sweepFailures = sweeps.flatMap((s) => s.result.points.flatMap((p) => p.runs.filter((x) => !x.verified).map((x) => `${s.label}: ${x.dir}`)))
  const verification = runVerification(runs)
  const sections: string[] = []

  // Summary per engine run: medians with their spread over passes, then what was checked and how.
  const engines = runs.flatMap((r) => r.result.engines.map((e) => ({ r, e, name: seriesName(runs, r, e) })))
  if (engines.length > 0) {
    const nd = '<span class="na">no data: no verified block</span>'
    sections.push(
      `<section id="summary"><h2>Summary</h2>${table(
        ['engine/mode', 'EVM', 'blocks verified', 'txs', 'tx/s', 'Mgas/s', 'block processing', ...PHASES.map((p) => PHASE_LABELS[p])],
        summaryRows(runs).map((row) => [
          esc(row.series),
          esc(row.evm),
          `${row.verified}/${row.blocks}`,
          row.txs.toLocaleString('en-US'),
          row.txPerSec ?? nd,
          row.mgasPerSec ?? '–',
          row.processingMs ?? '–',
          ...(row.phases === null ? PHASES.map(() => '–') : row.phases.map((p) => `${num(p.ms, 0)} ms (${num(p.share * 100)}%)`)),
        ]),
        'class="numbers" id="summary-table"',
      )}${runs
        .map((r) => `<p class="note protocol">${runs.length > 1 ? `${esc(r.label)}: ` : ''}Protocol: ${esc(protocolSentence(r.result))}.</p>`)
        .join('')}${tierNotes(runs)
        .map((t) => `<p class="note tiers">${esc(t)}.</p>`)
        .join('')}<h3>Verification</h3>${verificationList(verification, runs.length > 1)}</section>`,
    )
  }

  // Study vs measured.
  const study = studyVsMeasured(runs, sweeps)
  sections.push(
    `<section id="study"><h2>The study vs measured</h2><p class="note">The study's values are MegaETH's measurements of Reth on a 512 GB server (docs: measurements.md); they are shown only in the column labelled as the study's. Our values come from the runs named in the next column; the last column names every condition of ours that differs from the study's.</p>${table(
      ['#', 'figure', 'the study\'s value (Reth)', 'measured here', 'measured on / how to measure', 'conditions (ours vs the study\'s)'],
      study.map((s) => [
        String(s.id),
        esc(s.figure),
        esc(s.study),
        s.measured === null ? '<span class="na">not measured by these runs</span>' : esc(s.measured),
        esc(s.measuredOn),
        s.conditions.length === 0 ? '' : `<ul class="conditions">${s.conditions.map((c) => `<li>${esc(c)}</li>`).join('')}</ul>`,
      ]),
      'id="study-table"',
    )}</section>`,
  )

  // Throughput and phases.
  const tp = throughputSeries(runs)
  const axis = throughputAxis(runs)
  const order = blockOrder(tp)
  const tpTx = throughputNoData(tp, 'txPerSec')
  const tpGas = throughputNoData(tp, 'mgasPerSec')
  sections.push(
    `<section id="throughput"><h2>Throughput</h2>${axis === 'ordinal' ? '<p class="note">Real blocks are far apart in height: each verified block has a slot of its own, in height order.</p>' : ''}${await chart(
      'throughput-tx',
      tpTx === null ? throughputSpec(tp, 'txPerSec', axis, order) : null,
      tpTx ?? '',
    )}${await chart('throughput-gas', tpGas === null ? throughputSpec(tp, 'mgasPerSec', axis, order) : null, tpGas ?? '')}</section>`,
  )
  const phaseRows = phaseBreakdown(runs)
  const phasesWhy = engines.length === 0 ? 'no runs' : phasesNoData(phaseRows)
  const dec = decompositionChoice(runs)
  sections.push(
    `<section id="phases"><h2>Where the time goes</h2>${await chart('phases', phasesWhy === null ? phasesSpec(phaseRows) : null, phasesWhy ?? '')}${await chart(
      'decomposition',
      'none' in dec ? null : decompositionSpec(dec.steps),
      'none' in dec ? dec.none : '',
    )}${'none' in dec ? '' : decompositionNote(dec.run, dec.besides)}</section>`,
  )

  // Opcodes.
  const prof = profileChoice(runs)
  const overheads = probeOverheads(runs)
  const overheadNote =
    overheads.length > 0
      ? `<p class="note" id="probe-overhead">Measured opcode-probe overhead (every timing in this report comes from unprofiled passes): ${overheads.map(esc).join('; ')}.</p>`
      : ''
  if (!('none' in prof)) {
    const cats = categoryShares(prof.engine)
    const jit = jitBounds(cats)
    const bars = pareto(prof.engine, 30)
    const paretoWhy = noData(bars.map((b) => b.pct), 'no opcode rows', 'every opcode took 0% of opcode time')
    const catsWhy = noData(cats.map((c) => c.pct), 'no opcode categories', 'every category took 0% of opcode time')
    sections.push(
      `<section id="opcodes"><h2>Opcodes (${esc(seriesName(runs, prof.run, prof.engine))})</h2>${overheadNote}${coverageNote(prof.engine)}${await chart('pareto', paretoWhy === null ? paretoSpec(bars) : null, paretoWhy ?? '')}<div class="row">${await chart(
        'categories',
        catsWhy === null ? categoriesSpec(cats) : null,
        catsWhy ?? '',
      )}${await chart('jit', catsWhy === null ? jitSpec(jit.bounds) : null, catsWhy ?? '')}</div><p class="note">Compilable opcodes (stack, arithmetic, bitwise, memory, control) take ${num(jit.compilableShare * 100)}% of opcode time; host and system opcodes (state access, KECCAK256, calls) already run as library code, so a compiler cannot speed them up (the study's Amdahl argument).</p>${opcodeTable(prof.engine)}</section>`,
    )
  } else {
    sections.push(`<section id="opcodes"><h2>Opcodes</h2>${overheadNote}${await chart('pareto', null, prof.none)}</section>`)
  }

  // Analyses (replay --analyze).
  sections.push(await analysesSection(runs, { chart, table, esc }))

  // Memory.
  const sweep = sweeps[0]
  const sweepWhy = sweepNoData(sweep)
  const excluded = sweep === undefined ? [] : sweepExcluded(sweep.result)
  const missRatios = sweep === undefined ? [] : sweepMissRatios(sweep.result)
  const missWhy = sweepWhy ?? noData(missRatios.map((m) => m.ratio), 'no limits', 'no cache missed at any limit (every lookup hit level 1)')
  const sweepEngineData = sweep === undefined ? [] : sweepEngines(sweep.result)
  const penalties = penaltyChoice(runs, sweeps)
  const storageEngines = engines.filter((x) => x.e.storage !== null)
  sections.push(
    `<section id="memory"><h2>Memory and caches</h2>${sweep ? `<p class="note">Sweep ${esc(sweep.label)}: ${sweep.result.config.mode} sync, ${sweep.result.points.length} limits × ${sweep.result.config.repeat} repetitions (medians), working set ${formatSize(sweep.result.workingSetBytes)}.${excluded.length > 0 ? ` Left out of the charts: ${esc(excluded.join(', '))} (a run at that limit did not verify).` : ''}</p>` : ''}${await chart(
      'sweep',
      sweepWhy === null && sweep ? sweepCurvesSpec(sweepCurves(sweep.result)) : null,
      sweepWhy ?? '',
    )}${
      sweep !== undefined && sweepWhy === null && new Set(sweepEngineData.map((x) => x.engine)).size > 1 && noData(sweepEngineData.map((x) => x.txPerSec), '', '') === null
        ? await chart('sweep-engines', sweepEnginesSpec(sweepEngineData), '')
        : ''
    }${await chart('miss-ratio', missWhy === null ? missRatioSpec(missRatios) : null, missWhy ?? '')}${await chart(
      'penalty-histogram',
      'none' in penalties ? null : histogramSpec(penaltyHistogram(penalties.buckets), `Miss penalty: LMDB read time on a level-2 miss (${penalties.source})`),
      'none' in penalties ? penalties.none : '',
    )}${storageEngines.length > 0 ? storageTable(storageEngines) : ''}</section>`,
  )

  // Recap.
  const steps = recap(runs, sweeps)
  const recapBesides = recapDifferences(runs)
  sections.push(
    `<section id="recap"><h2>Recap</h2>${await chart(
      'recap',
      steps.length > 0 ? recapSpec(steps) : null,
      'no verified historical or live run (replay --mode both) and no live sweep',
    )}${recapBesides.length > 0 ? `<p class="note warn">⚠ The historical and live steps differ besides the mode: ${esc(recapBesides.join('; '))}.</p>` : ''}<p class="note">The study's recap on Reth: 14,000 → 1,000 → ~20 TPS (historical → live → 8 GB and a 10% CPU budget).</p></section>`,
  )

  // The mega engine beside the baseline.
  const mega = megaRows(runs)
  if (mega.length > 0) {
    const pct = (x: number | null) => (x === null ? '–' : `${num(x * 100)}%`)
    const opt = (x: number | null, d: number) => (x === null ? '–' : num(x, d))
    // The study's Amdahl bound for a compiler (from an opcode profile in these runs), beside the fast EVM's measured speedup.
    const amdahl = runs.map((r) => r.result.analyses?.jit?.bounds.find((b) => b.k === null)?.execution).find((x) => x !== undefined && x !== null)
    const measured = mega.map((m) => m.evmExecutionSpeedup).filter((x): x is number => x !== null)
    const evmNote =
      measured.length > 0
        ? ` Fast EVM vs @ethereumjs/evm (same source and mode; what else differs is named in the table): @ethereumjs/evm took ${measured.map((x) => `${num(x, 2)}x`).join(', ')} the execution time of the fast EVM${amdahl !== undefined ? `; the Amdahl bound of compiling this profile's compilable opcodes infinitely fast is ${num(amdahl, 2)}x of execution (analyses: JIT bound) — the fast EVM also speeds up what the bound holds fixed (state access, hashing, calls, the interpreter's framework).` : ' (render it together with a run of --opcodes --analyze jit to show the Amdahl bound of a compiler beside it).'}`
        : ''
    const diffs = runs.map((r) => differentialSentence(r.result)).filter((x): x is string => x !== null)
    sections.push(
      `<section id="mega"><h2>Mega engine</h2><p class="note">The optimized engine (state in memory, BucketTree root, senders ahead, optional parallel workers) on the blocks of the same source as the baseline; × baseline is the ratio of tx/s in the same mode of the same run, with what differs besides the engine beside it. Key updates/s are measured over each engine's merkleization phase; the BucketTree reads no storage. ${esc(diffs.length > 0 ? `${diffs.join('; ').replace(/^./, (c) => c.toUpperCase())}.` : "Engines not compared in this run (replay --engine both compares every block's state diff).")}${esc(evmNote)}</p>${table(
        ['engine', 'EVM', 'tx/s', '× baseline', 'fast EVM: execution × / tx/s × vs @ethereumjs', 'parallel: accepted / conflicts', 'BucketTree key updates/s', 'hashes / key', 'MPT key updates/s', 'MPT LMDB reads / key', 'state diff bytes / tx'],
        mega.map((m) => [
          esc(m.series),
          esc(m.evm),
          num(m.txPerSec, 0),
          m.vsBaseline === null ? '–' : `${num(m.vsBaseline, 2)}x${besides(m.besides)}`,
          m.evmExecutionSpeedup === null ? '–' : `${num(m.evmExecutionSpeedup, 2)}x / ${num(m.evmThroughputRatio ?? 0, 2)}x${m.evmBesides.length > 0 ? ` <span class="warn" title="${esc(m.evmBesides.join('; '))}">⚠ differs besides the EVM: ${esc(m.evmBesides.join('; '))}</span>` : ''}`,
          m.threads === 0 ? 'in order' : `${pct(m.acceptedShare)} / ${pct(m.conflictShare)}`,
          num(m.keyUpdatesPerSec, 0),
          num(m.hashesPerUpdate, 2),
          opt(m.mptKeyUpdatesPerSec, 0),
          opt(m.mptLmdbReadsPerKey, 2),
          opt(m.diffBytesPerTx, 0),
        ]),
        'class="numbers" id="mega-table"',
      )}</section>`,
    )
  }

  // Comparison.
  const c = comparisons(runs)
  if (c.series.length > 1) {
    const spreadCell = (v: number, sp: Spread | null) => (sp === null ? num(v, v < 10 ? 2 : 0) : withSpread(v, sp, v < 10 ? 2 : 0))
    sections.push(
      `<section id="comparison"><h2>Comparison</h2><p class="note">Values side by side (medians, ± half the range over passes where there were several); ratios are to the first column, and a ⚠ beside a ratio names what differs from the first column besides the engine.</p>${table(
        ['metric', ...c.series.map(esc)],
        [
          ...c.rows.map((r) => [
            esc(r.metric),
            ...r.values.map(
              (v, i) =>
                `${spreadCell(v, r.spreads[i] ?? null)}${i > 0 && r.ratios[i] !== null ? ` <span class="ratio">(${num(r.ratios[i]!, 2)}x)</span>${(c.differs[i] ?? []).length > 0 ? ' <span class="warn">⚠</span>' : ''}` : ''}`,
            ),
          ]),
          [`differs from ${esc(c.series[0]!)} besides the engine`, ...c.differs.map((d, i) => (i === 0 ? '' : d.length === 0 ? 'nothing' : `<span class="warn">⚠ ${esc(d.join('; '))}</span>`))],
        ],
        'class="numbers" id="comparison-table"',
      )}</section>`,
    )
  }

  // CPU profiles (replay --profile cpu).
  for (const r of runs) {
    if (r.flame === undefined) continue
    const f = r.flame
    sections.push(
      `<section id="cpu-profile"><h2>CPU profile${runs.length > 1 ? `: ${esc(r.label)}` : ''}</h2><p class="note">V8's sampling profiler over the replay window (node:inspector; ${f.samples.toLocaleString('en-US')} samples, ${num(f.totalMs, 0)} ms). Icicle chart: callers on top, each frame as wide as its inclusive time; frames under 0.3% are left out. Times across awaits are attributed to whatever ran: prefer self time. The profile itself is <code>replay.cpuprofile</code> (Chrome DevTools, speedscope).</p>${await chart(
        'flame',
        f.rects.length > 0 ? flameSpec(f) : null,
        'no samples in the CPU profile',
      )}<h3>Top functions by self time</h3>${table(
        ['function', 'where', 'code', 'self ms', '% of samples'],
        f.top.map((t) => [esc(t.name), esc(t.file), esc(t.kind), num(t.selfMs, 1), num(t.pct, 1)]),
        'class="numbers"',
      )}</section>`,
    )
  }

  sections.push(metadata(runs, sweeps, failures, verification))
  const bannerLines = verificationBanner(runs)
  const banner =
    bannerLines !== null || sweepFailures.length > 0
      ? `<div class="banner" role="alert">VERIFICATION FAILED: ${esc([...(bannerLines ?? []), ...(sweepFailures.length > 0 ? [`${sweepFailures.length} sweep run(s) did not verify`] : [])].join(' · '))}. Failed blocks feed no chart and count for no throughput. Details under Summary → Verification and Run metadata.</div>`
      : ''
  const warnings = runWarnings(runs)
  const warningBanner =
    warnings.length > 0
      ? `<div class="warning-banner" role="alert">⚠ These runs differ besides what is compared, so ratios between them also measure these differences: ${warnings
          .map((w) => `${esc(w.label)} vs ${esc(w.reference)}: ${esc(w.differences.map(describeDifference).join('; '))}`)
          .join(' · ')}.</div>`
      : ''
  const title = `megabench report: ${[...runs.map((r) => r.label), ...sweeps.map((s) => s.label)].join(', ')}`
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="megabench">
<title>${esc(title)}</title>
<style>${CSS}</style></head>
<body>${banner}${warningBanner}
<header><h1>megabench report</h1><p>${esc([...runs.map((r) => r.label), ...sweeps.map((s) => s.label)].join(' · '))}</p>
<nav>${sections.map((s) => /id="([^"]+)"><h2>([^<]+)</.exec(s)).filter((m) => m !== null).map((m) => `<a href="#${m![1]}">${m![2]}</a>`).join('')}</nav></header>
<main>${sections.join('\n')}</main>
<script>${SCRIPT}</script>
</body></html>
`
}

/** Per run and engine run: the check sentences (built from the per-block check records) and the differential. */
function verificationList(v: readonly RunVerification[], labelled: boolean): string {
  return v
    .map(
      (r) =>
        `<dl class="verification">${r.engines
          .map((e) => `<dt>${esc(e.series)}: ${e.verified}/${e.blocks} blocks verified</dt><dd><ul>${e.sentences.map((s) => `<li${s.includes('FAIL') ? ' class="fail"' : ''}>${esc(s)}</li>`).join('')}</ul></dd>`)
          .join('')}${r.differential !== null ? `<dt>${labelled ? `${esc(r.label)}: ` : ''}engines compared</dt><dd>${esc(r.differential)}</dd>` : ''}</dl>`,
    )
    .join('')
}

function decompositionNote(r: LabeledRun, differs: readonly string[]): string {
  const d = r.result.decomposition!
  const warn = differs.length > 0 ? ` <span class="warn">⚠ Live and historical differ besides the mode: ${esc(differs.join('; '))}.</span>` : ''
  return `<p class="note">Live ${esc(timeRatioWords(d.slowdown, 'historical sync'))} = merkleization ${num(d.merkleizationFactor, 2)}x × persistence ${num(d.persistenceFactor, 2)}x (historical ${num(d.historicalTxPerSec, 0)} tx/s, live ${num(d.liveTxPerSec, 0)} tx/s).${warn} The study's values on Reth: 14x = 9.3x × 1.5x.</p>`
}

function coverageNote(e: EngineResult): string {
  const c = e.opcodes!.coverage
  const part = (ms: number) => `${num((ms / Math.max(c.windowMs, 1e-9)) * 100)}%`
  return `<p class="note">Opcode handlers explain ${num(c.opcodeSharePct)}% of the execution window (${num(c.windowMs, 0)} ms after ${num(c.timerOverheadMs, 0)} ms of calibrated timer cost); the rest: interpreter loop ${part(c.interpreterMs)}, transaction setup ${part(c.txSetupMs)}, block-level work ${part(c.blockLevelMs)}, call frames ${part(c.callFramesMs)}, state roots in execution ${part(c.stateRootsMs)}, precompiles ${part(c.precompilesMs)}. Times are exclusive of child frames; CALL-family and CREATE rows also show inclusive time.</p>`
}

function opcodeTable(e: EngineResult): string {
  const rows = e.opcodes!.rows
  const passes = e.opcodes!.passes ?? 1
  const head = ['#', 'opcode', 'name', 'category', 'count', 'total ms', '% time', 'cumulative %', passes > 1 ? `avg ns (range over ${passes} profiled passes)` : 'avg ns', 'inclusive ms', 'static gas', 'dynamic gas', 'child gas']
  const types = ['number', 'text', 'text', 'text', 'number', 'number', 'number', 'number', 'number', 'number', 'number', 'number', 'number']
  const body = rows
    .map((r, i) => {
      const range = avgNsRange(r, e.opcodes!.passes)
      const cells = [
        [i + 1, String(i + 1)],
        [r.opcode, `0x${r.opcode.toString(16).padStart(2, '0')}`],
        [r.name, esc(r.name)],
        [r.category, r.category],
        [r.count, r.count.toLocaleString('en-US')],
        [r.totalNs / 1e6, num(r.totalNs / 1e6, 3)],
        [r.pctTime, num(r.pctTime, 2)],
        [r.cumulativePct, num(r.cumulativePct, 2)],
        [r.avgNs, range === null ? num(r.avgNs, 0) : `${num(r.avgNs, 0)} <span class="range">(${num(range[0], 0)}–${num(range[1], 0)})</span>`],
        [r.inclusiveNs / 1e6, num(r.inclusiveNs / 1e6, 3)],
        [r.staticGas, r.staticGas.toLocaleString('en-US')],
        [r.dynamicGas, r.dynamicGas.toLocaleString('en-US')],
        [r.childGas, r.childGas.toLocaleString('en-US')],
      ] as const
      return `<tr>${cells.map(([v, t]) => `<td data-v="${typeof v === 'number' ? v : esc(String(v))}">${t}</td>`).join('')}</tr>`
    })
    .join('')
  return `<h3>Opcode cost table</h3><p><input id="opcode-filter" type="search" placeholder="filter by name or category" aria-label="filter opcodes"> <span class="note">Click a column header to sort.</span></p>
<table id="opcode-table" class="numbers sortable"><thead><tr>${head.map((h, i) => `<th data-type="${types[i]}" data-col="${i}">${h}</th>`).join('')}</tr></thead><tbody>${body}</tbody></table>`
}

function storageTable(engines: { e: EngineResult; name: string }[]): string {
  const rows: string[][] = []
  const flagged: string[] = []
  for (const { e, name } of engines) {
    const s = e.storage!
    const failed = failedBlocks(e)
    if (failed > 0) flagged.push(`${name} (${failed} failed block${failed === 1 ? '' : 's'})`)
    const pen = s.missPenalty.execution
    rows.push([
      esc(name),
      s.config.memoryBytes === null ? 'unbounded' : `${esc(memoryBudget(e) ?? '')} (L1 ${formatSize(s.config.l1Bytes ?? 0)}, L2 ${formatSize(s.config.l2Bytes ?? 0)})`,
      formatSize(s.workingSetBytes),
      `${num(s.l1.missRatio * 100)}%`,
      `${num(s.l2.missRatio * 100)}%`,
      `${pen.count.toLocaleString('en-US')} × ${num(pen.meanNs / 1000, 1)} µs`,
      `${num(s.merkleization.nodeReadsPerKey, 2)} / ${num(s.merkleization.lmdbReadsPerKey, 2)} / ${num(s.merkleization.nodeWritesPerKey, 2)}`,
      `${formatSize(s.persistence.totalBytes)} at ${num(s.persistence.mbPerSec)} MB/s`,
    ])
  }
  return `<h3>Storage counters</h3>${table(
    ['engine/mode', 'memory', 'working set', 'L1 miss', 'L2 miss', 'miss penalty (execution)', 'per updated key: node reads / LMDB reads / nodes written', 'persisted'],
    rows,
    'class="numbers"',
  )}${flagged.length > 0 ? `<p class="note warn">⚠ These counters are kept per run, not per block, so they also cover failed blocks: ${esc(flagged.join(', '))}.</p>` : ''}`
}

function metadata(
  runs: readonly LabeledRun[],
  sweeps: readonly LabeledSweep[],
  failures: { label: string; engine: string; block: number; field: string; expected: string; actual: string; origin: string }[],
  verification: readonly RunVerification[],
): string {
  const items = runs.map((r, i) => {
    const m = r.result.machine
    const c = r.result.config
    const v = verification[i]!
    const budgets = [...new Set(r.result.engines.map(memoryBudget).filter((x): x is string => x !== null))]
    return `<h3>${esc(r.label)}</h3><dl>
<dt>created</dt><dd>${esc(r.result.createdAt)}</dd>
<dt>tool</dt><dd>megabench ${esc(r.result.tool.version)} ${esc(r.result.tool.gitCommit ?? '(no git commit)')}</dd>
<dt>machine</dt><dd>${esc(m.cpuModel)}, ${m.cores} cores, ${formatSize(m.memoryBytes)}, Node ${esc(m.nodeVersion)} (${esc(m.platform)}/${esc(m.arch)}), ecrecover ${esc(m.ecrecover)}, @ethereumjs ${esc(m.ethereumjs)}</dd>
<dt>data</dt><dd>${esc(c.source.kind)} ${esc(c.source.paths.join(', '))}${c.source.from !== null ? `, blocks ${c.source.from}…${c.source.to}` : ''} (${c.source.units} unit${c.source.units === 1 ? '' : 's'})</dd>
<dt>config</dt><dd>${esc(c.engines.join(', '))}; modes ${esc(c.modes.join(', '))}; storage ${esc(c.storage)}${budgets.length > 0 ? ` (${esc(budgets.join(', '))})` : ''}; EVM ${esc([...new Set(r.result.engines.map((e) => e.evm))].join(', '))}; senders ${esc(c.senders)}; opcodes ${c.opcodes ? 'profiled in separate passes' : 'not profiled'}${c.mega !== null ? `; mega: --verify-mpt ${esc(c.mega.verifyMpt)}, threads ${esc(c.mega.threads.join(','))}, ${c.mega.senderWorkers} sender worker(s)` : ''}</dd>
<dt>protocol</dt><dd>${esc(protocolSentence(r.result))}</dd>
<dt>verification</dt><dd>${r.result.engines
      .map((_, j) => {
        const e = v.engines[j]!
        return `${esc(e.series)}: ${e.verified}/${e.blocks} blocks verified; ${esc(e.sentences.join('; '))}`
      })
      .join('<br>')}${v.differential !== null ? `<br>${esc(v.differential)}` : ''}</dd></dl>`
  })
  for (const s of sweeps) {
    items.push(`<h3>${esc(s.label)} (sweep)</h3><dl><dt>created</dt><dd>${esc(s.result.createdAt)}</dd><dt>replay options</dt><dd><code>${esc(s.result.config.replayArgs.join(' '))}</code></dd><dt>limits</dt><dd>${s.result.config.limits.map(formatSize).join(', ')} × ${s.result.config.repeat}</dd></dl>`)
  }
  const fail =
    failures.length > 0
      ? `<h3>Verification failures</h3>${table(
          ['run', 'engine', 'block', 'file', 'field', 'expected', 'computed'],
          failures.map((f) => [esc(f.label), esc(f.engine), String(f.block), esc(f.origin), esc(f.field), `<code>${esc(f.expected)}</code>`, `<code>${esc(f.actual)}</code>`]),
          'class="failures"',
        )}`
      : ''
  return `<section id="metadata"><h2>Run metadata</h2>${fail}${items.join('\n')}</section>`
}

const CSS = `
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1b1b1b;background:#fafafa}
header{padding:16px 24px;background:#fff;border-bottom:1px solid #ddd}
h1{margin:0 0 4px;font-size:22px} h2{margin-top:32px;border-bottom:1px solid #ddd;padding-bottom:4px} h3{margin-top:20px}
nav a{margin-right:14px;color:#0b5cad;text-decoration:none} main{padding:0 24px 40px;max-width:1200px}
.banner{background:#c62828;color:#fff;padding:12px 24px;font-weight:600}
.warning-banner{background:#fff3cd;color:#5c4400;border-bottom:1px solid #e0c060;padding:10px 24px;font-weight:600}
.warn{color:#8a5a00} .range{color:#777} li.fail{color:#c62828;font-weight:600} ul.conditions{margin:0;padding-left:16px;font-size:12px} #study-table td:last-child{min-width:320px} .nodata{margin:4px 8px}
.note{color:#555} .na{color:#999} .ratio{color:#666}
table{border-collapse:collapse;margin:8px 0;background:#fff} th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
table.numbers td{text-align:right} table.numbers td:first-child{text-align:left}
th{background:#f0f0f0} .sortable th{cursor:pointer;user-select:none} .sortable th.asc::after{content:' ▲'} .sortable th.desc::after{content:' ▼'}
figure.chart{margin:12px 0;background:#fff;display:inline-block;border:1px solid #e4e4e4;padding:6px}
.row{display:flex;flex-wrap:wrap;gap:12px} dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px} dt{color:#555}
input[type=search]{padding:4px 8px;width:280px}
`

const SCRIPT = `
(function(){
  // Hover tooltips: vega labels every mark (aria-label); a <title> makes the browser show it.
  Array.prototype.forEach.call(document.querySelectorAll('figure.chart svg [aria-label][aria-roledescription]'),function(el){
    var role=el.getAttribute('aria-roledescription')||'';
    if(role==='axis'||role==='legend'||role.indexOf('container')>=0) return;
    var t=document.createElementNS('http://www.w3.org/2000/svg','title'); t.textContent=el.getAttribute('aria-label'); el.appendChild(t);
  });
})();
(function(){
  var t=document.getElementById('opcode-table'); if(!t) return;
  var body=t.tBodies[0];
  Array.prototype.forEach.call(t.tHead.rows[0].cells,function(th){
    th.addEventListener('click',function(){
      var col=+th.dataset.col, num=th.dataset.type==='number', asc=!th.classList.contains('asc');
      Array.prototype.forEach.call(t.tHead.rows[0].cells,function(c){c.classList.remove('asc','desc')});
      th.classList.add(asc?'asc':'desc');
      var rows=Array.prototype.slice.call(body.rows);
      rows.sort(function(a,b){var x=a.cells[col].dataset.v,y=b.cells[col].dataset.v;var c=num?(+x)-(+y):(x<y?-1:x>y?1:0);return asc?c:-c});
      rows.forEach(function(r){body.appendChild(r)});
    });
  });
  var f=document.getElementById('opcode-filter');
  if(f) f.addEventListener('input',function(){var q=f.value.toLowerCase();Array.prototype.forEach.call(body.rows,function(r){var s=(r.cells[2].textContent+' '+r.cells[3].textContent).toLowerCase();r.style.display=s.indexOf(q)>=0?'':'none'})});
})();
`

/** True when the start of a file is a megabench report (HTML with megabench's generator tag, or its Markdown heading). */
export function isMegabenchReport(head: string): boolean {
  return head.includes('<meta name="generator" content="megabench">') || head.startsWith('# megabench report')
}
