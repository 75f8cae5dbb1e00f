/**
 * The report's "Analyses" section (runs made with `replay --analyze …`): data shaping, vega-lite specs
 * and the section's HTML. Study values appear only in columns labelled as the study's.
 */
import type { TopLevelSpec } from 'vega-lite'

import { STUDY_ANALYSIS_VALUES } from '../analyses/format.js'
import type { Analyses } from '../analyses/schema.js'
import type { LabeledRun } from './data.js'
import { noData } from './noData.js'
import { legendFor } from './specs.js'

const base = { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', width: 620, height: 260 } as const

export type ParallelismPoint = { run: string; k: number; treatment: string; p10: number; median: number; p90: number }
export type SpeedupPoint = { series: string; cores: number; speedup: number }
export type DiffBytesPoint = { run: string; k: number; encoding: string; bytesPerTx: number; mbps: number }

export function analysedRuns(runs: readonly LabeledRun[]): { label: string; a: Analyses }[] {
  return runs.flatMap((r) => (r.result.analyses ? [{ label: r.label, a: r.result.analyses }] : []))
}

/** Parallelism per window size and coinbase treatment: median with the p10–p90 range. */
export function parallelismPoints(runs: readonly { label: string; a: Analyses }[]): ParallelismPoint[] {
  return runs.flatMap(({ label, a }) =>
    (a.parallelism?.summaries ?? []).flatMap((s) =>
      s.parallelism === null ? [] : [{ run: label, k: s.k, treatment: s.treatment, p10: s.parallelism.p10, median: s.parallelism.median, p90: s.parallelism.p90 }],
    ),
  )
}

/** List-scheduling speedup vs cores for single blocks (median over blocks), per treatment, with the ideal line. */
export function speedupPoints(runs: readonly { label: string; a: Analyses }[]): SpeedupPoint[] {
  const out: SpeedupPoint[] = []
  const cores = new Set<number>()
  for (const { label, a } of runs) {
    for (const s of a.parallelism?.summaries ?? []) {
      if (s.k !== 1) continue
      for (const x of s.speedup) {
        cores.add(x.cores)
        if (x.median !== null) out.push({ series: `${runs.length > 1 ? `${label}: ` : ''}${s.treatment} coinbase`, cores: x.cores, speedup: x.median })
      }
    }
  }
  for (const c of [1, ...cores]) out.push({ series: 'ideal (n cores)', cores: c, speedup: c })
  return out
}

/** Diff bytes per transaction by window size and encoding (compressed sizes are the bytes sent). */
export function diffBytesPoints(runs: readonly { label: string; a: Analyses }[]): DiffBytesPoint[] {
  return runs.flatMap(({ label, a }) =>
    (a.statediff?.windows ?? []).flatMap((w) =>
      w.windows === 0
        ? []
        : (['raw', 'deflate', 'brotli', 'model'] as const).map((e) => ({
            run: label,
            k: w.k,
            encoding: e === 'raw' ? 'megabench-diff-v1' : e === 'model' ? '20 B/update (study model)' : `v1 + ${e}`,
            bytesPerTx: w.bytesPerTx[e],
            mbps: w.mbps[e],
          })),
    ),
  )
}

export function parallelismSpec(points: ParallelismPoint[]): TopLevelSpec {
  return {
    ...base,
    title: 'Available parallelism: median and p10–p90 over windows of k merged blocks',
    data: { values: points.map((p) => ({ ...p, key: `${p.run} ${p.treatment}` })) },
    encoding: {
      x: { field: 'k', type: 'ordinal', title: 'k consecutive blocks merged', axis: { labelAngle: 0 } },
      xOffset: { field: 'key', type: 'nominal' },
      color: { field: 'key', type: 'nominal', title: 'coinbase fee', legend: legendFor([...new Set(points.map((p) => `${p.run} ${p.treatment}`))]) },
    },
    layer: [
      { mark: { type: 'rule', strokeWidth: 2 }, encoding: { y: { field: 'p10', type: 'quantitative', title: 'transactions / critical path' }, y2: { field: 'p90' } } },
      { mark: { type: 'point', filled: true, size: 70, tooltip: true }, encoding: { y: { field: 'median', type: 'quantitative' } } },
    ],
  } as TopLevelSpec
}

export function speedupSpec(points: SpeedupPoint[]): TopLevelSpec {
  return {
    ...base,
    title: 'List-scheduling speedup bound vs cores (single blocks, gas-weighted, median)',
    data: { values: points },
    mark: { type: 'line', point: true, tooltip: true },
    encoding: {
      x: { field: 'cores', type: 'quantitative', scale: { type: 'log', base: 2 }, title: 'cores' },
      y: { field: 'speedup', type: 'quantitative', scale: { type: 'log', base: 2 }, title: 'speedup ≤' },
      color: { field: 'series', type: 'nominal', title: null, legend: legendFor([...new Set(points.map((p) => p.series))]) },
      strokeDash: { condition: { test: "datum.series === 'ideal (n cores)'", value: [4, 4] }, value: [1, 0] },
    },
  } as TopLevelSpec
}

export function diffBytesSpec(points: DiffBytesPoint[]): TopLevelSpec {
  return {
    ...base,
    title: 'State-diff bytes per transaction by window size',
    data: { values: points.map((p) => ({ ...p, key: points.some((q) => q.run !== p.run) ? `${p.run}: ${p.encoding}` : p.encoding })) },
    mark: { type: 'bar', tooltip: true },
    encoding: {
      x: { field: 'k', type: 'ordinal', title: 'k consecutive blocks merged', axis: { labelAngle: 0 } },
      xOffset: { field: 'key', type: 'nominal' },
      y: { field: 'bytesPerTx', type: 'quantitative', title: 'bytes per transaction' },
      color: { field: 'key', type: 'nominal', title: 'encoding', legend: legendFor([...new Set(points.map((p) => (points.some((q) => q.run !== p.run) ? `${p.run}: ${p.encoding}` : p.encoding)))]) },
    },
  } as TopLevelSpec
}

const f = (x: number | null | undefined, d = 2) =>
  x === null || x === undefined || !Number.isFinite(x) ? '–' : x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d })

/** The study-vs-measured rows 15, 16 and 18 from the first run holding each analysis (null when none does). */
export function analysesStudyRows(runs: readonly LabeledRun[]): Record<15 | 16 | 18, { measured: string; measuredOn: string; analyses: Analyses } | null> {
  const all = analysedRuns(runs)
  const par = all.find((x) => x.a.parallelism !== null)
  const sd = all.find((x) => x.a.statediff !== null)
  const bd = all.find((x) => x.a.bounds !== null)
  const on = (x: { label: string; a: Analyses }, what: string) => `${x.label}: ${what} on ${x.a.accessPass?.workload ?? '?'} (${x.a.accessPass?.blocks ?? 0} blocks)`
  const med = (k: number) => par?.a.parallelism?.summaries.find((s) => s.k === k && s.treatment === 'commutative')?.parallelism?.median
  const merged = [10, 5, 2].find((k) => med(k) !== undefined)
  const w1 = sd?.a.statediff?.windows.find((w) => w.k === 1)
  return {
    15: par
      ? {
          measured: `median ${f(med(1))} per block (coinbase fee commutative)${merged !== undefined ? `; ${f(med(merged))} with ${merged} blocks merged` : '; no consecutive blocks to merge'}`,
          measuredOn: on(par, '--analyze parallelism'),
          analyses: par.a,
        }
      : null,
    16: w1 && sd
      ? {
          measured: `${f(w1.mbps.raw, 1)} Mbps at ${sd.a.statediff!.tps.toLocaleString('en-US')} tx/s (${f(w1.bytesPerTx.raw, 1)} B per tx, megabench-diff-v1; ${f(w1.mbps.brotli, 1)} Mbps with brotli; ${f(w1.mbps.model, 1)} Mbps in the 20 B/update model)`,
          measuredOn: on(sd, '--analyze statediff'),
          analyses: sd.a,
        }
      : null,
    18: bd?.a.bounds?.binding
      ? {
          measured: `modelled: ${bd.a.bounds.binding.resource} binds first at ${f(bd.a.bounds.binding.tps, 0)} tx/s (${bd.a.bounds.machine.cores} cores, ${bd.a.bounds.machine.iops.toLocaleString('en-US')} IOPS, ${bd.a.bounds.machine.mbps} Mbps)`,
          measuredOn: on(bd, '--analyze bounds'),
          analyses: bd.a,
        }
      : null,
  }
}

type Helpers = {
  chart: (name: string, spec: TopLevelSpec | null, missing: string) => Promise<string>
  table: (head: string[], rows: string[][], attrs?: string) => string
  esc: (s: string) => string
}

/** The "Analyses" section, or a note saying how to get it. */
export async function analysesSection(runs: readonly LabeledRun[], h: Helpers): Promise<string> {
  const all = analysedRuns(runs)
  if (all.length === 0) {
    return `<section id="analyses"><h2>Analyses</h2><p class="note">No analyses in these runs: replay with --analyze parallelism,statediff,bounds (and jit with --opcodes), or run megabench analyze.</p></section>`
  }
  const parts: string[] = ['<section id="analyses"><h2>Analyses</h2>']
  for (const { label, a } of all) {
    if (a.accessPass) parts.push(`<p class="note">${h.esc(label)}: access sets of ${a.accessPass.blocks} verified blocks, ${a.accessPass.txs} transactions (${h.esc(a.accessPass.workload)}; ${h.esc(a.accessPass.note)}).</p>`)
  }
  const pp = parallelismPoints(all)
  parts.push('<h3>Transaction parallelism</h3>')
  const ppWhy = all.every((x) => x.a.parallelism === null)
    ? 'no parallelism analysis in these runs (--analyze parallelism)'
    : noData(pp.map((p) => p.median), 'no verified block with transactions', 'no transaction parallelism measured (every median is 0)')
  parts.push(await h.chart('parallelism', ppWhy === null ? parallelismSpec(pp) : null, ppWhy ?? ''))
  const sp = speedupPoints(all)
  const measuredSp = sp.filter((p) => p.series !== 'ideal (n cores)')
  const spWhy = all.every((x) => x.a.parallelism === null) ? 'no parallelism analysis in these runs (--analyze parallelism)' : noData(measuredSp.map((p) => p.speedup), 'no verified block with transactions', 'every speedup bound is 0')
  parts.push(await h.chart('speedup', spWhy === null ? speedupSpec(sp) : null, spWhy ?? ''))
  const parRows = all.flatMap(({ label, a }) =>
    (a.parallelism?.summaries ?? []).map((s) => [
      h.esc(label),
      String(s.k),
      s.treatment,
      String(s.windows),
      s.parallelism ? `${f(s.parallelism.p10)} / ${f(s.parallelism.median)} / ${f(s.parallelism.p90)}` : '–',
      f(s.gasParallelism?.median),
      s.speedup.map((x) => `${x.cores}: ${f(x.median)}`).join(', '),
    ]),
  )
  if (parRows.length > 0) {
    parts.push(h.table(['run', 'k blocks', 'coinbase fee', 'windows', 'parallelism p10 / median / p90', 'gas-weighted median', 'speedup bound (cores: median)'], parRows, 'class="numbers"'))
    parts.push(`<p class="note">${h.esc(all.find((x) => x.a.parallelism)!.a.parallelism!.definition)} The study's value: ${h.esc(STUDY_ANALYSIS_VALUES.parallelismMedian)}.</p>`)
  }
  const dp = diffBytesPoints(all)
  parts.push('<h3>State-diff bandwidth</h3>')
  const dpWhy = all.every((x) => x.a.statediff === null)
    ? 'no state-diff analysis in these runs (--analyze statediff)'
    : noData(dp.map((p) => p.bytesPerTx), 'no window of verified blocks with transactions', 'every state diff is 0 bytes')
  parts.push(await h.chart('diff-bytes', dpWhy === null ? diffBytesSpec(dp) : null, dpWhy ?? ''))
  const sdRows = all.flatMap(({ label, a }) =>
    (a.statediff?.windows ?? []).map((w) => [
      h.esc(label),
      String(w.k),
      String(w.windows),
      f(w.bytesPerTx.raw, 1),
      `${f(w.bytesPerTx.deflate, 1)}${w.compressed.deflate.expanded > 0 ? ` (${w.compressed.deflate.expanded} expanded, sent raw)` : ''}`,
      `${f(w.bytesPerTx.brotli, 1)}${w.compressed.brotli.expanded > 0 ? ` (${w.compressed.brotli.expanded} expanded, sent raw)` : ''}`,
      f(w.bytesPerTx.model, 1),
      `${f(w.mbps.raw, 1)} / ${f(w.mbps.brotli, 1)} / ${f(w.mbps.model, 1)}`,
      a.accessPass?.workload.startsWith('erc20') ? `${STUDY_ANALYSIS_VALUES.erc20Mbps}` : a.accessPass?.workload.startsWith('uniswap') ? `${STUDY_ANALYSIS_VALUES.swapMbps}` : '–',
    ]),
  )
  if (sdRows.length > 0) {
    const tps = all.find((x) => x.a.statediff)!.a.statediff!.tps
    parts.push(
      h.table(
        ['run', 'k blocks', 'windows', 'B/tx raw', 'B/tx deflate', 'B/tx brotli', 'B/tx model', `Mbps at ${tps.toLocaleString('en-US')} tx/s (raw / brotli / model)`, "the study's Mbps (100k tx/s)"],
        sdRows,
        'class="numbers"',
      ),
    )
    const s = all.find((x) => x.a.statediff)!.a.statediff!
    parts.push(`<p class="note">Encoding: ${h.esc(s.encoding)}. Model: ${h.esc(s.model)}. deflate: ${h.esc(s.compressors.deflate)}; brotli: ${h.esc(s.compressors.brotli)} (zstd is not in Node 20's node:zlib). Check: the probe's block diffs equal the engine's in ${s.check.matched} of ${s.check.compared} blocks.</p>`)
  }
  for (const { label, a } of all) {
    if (a.jit) {
      const j = a.jit
      parts.push(`<h3>JIT bound (${h.esc(label)})</h3>`)
      parts.push(
        h.table(
          ['compilable part', 'over opcode time', 'over execution', 'over execution, interpreter loop too'],
          j.bounds.map((b) => [b.label, `${f(b.opcodes)}x`, `${f(b.execution)}x`, `${f(b.executionAndInterpreter)}x`]),
          'class="numbers"',
        ),
      )
      parts.push(`<p class="note">${h.esc(j.definition)}. Compilable: ${h.esc(j.categories.join(', '))} = ${j.opcodes.length} opcodes (${h.esc(j.opcodes.join(' '))}); shares ${f(j.shares.opcodes * 100, 1)}% / ${f(j.shares.execution * 100, 1)}% / ${f(j.shares.executionAndInterpreter * 100, 1)}%. From ${h.esc(j.source)}. The study's value: ${h.esc(STUDY_ANALYSIS_VALUES.jit)}.</p>`)
    }
    if (a.bounds) {
      const b = a.bounds
      parts.push(`<h3>Hardware ceilings, modelled (${h.esc(label)})</h3>`)
      parts.push(h.table(['resource', 'tx/s ceiling (modelled)', 'arithmetic'], b.ceilings.map((c) => [h.esc(c.resource), f(c.tps, 0), h.esc(c.arithmetic)]), 'class="numbers"'))
      parts.push(`<p class="note">Measured inputs: ${f(b.measured.cpuUsPerTx, 1)} µs CPU per transaction (${h.esc(b.measured.cpuSource)}), ${f(b.measured.updatesPerTx)} updated keys per transaction. ${h.esc(b.note)}.</p>`)
    }
  }
  parts.push('</section>')
  return parts.join('')
}
