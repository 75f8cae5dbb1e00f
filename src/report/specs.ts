import type { TopLevelSpec } from 'vega-lite'

import type {
  CategoryShare,
  FactorStep,
  HistogramBar,
  JitBound,
  MissRatioPoint,
  ParetoBar,
  PhaseShare,
  RecapStep,
  SweepCurvePoint,
  SweepEnginePoint,
  ThroughputPoint,
} from './data.js'
import { FLAME_WIDTH, type FlameData } from './flame.js'

/** One vega-lite spec per chart of the report. Data is inlined; nothing is fetched. */

const W = 620
const H = 260
const base = { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', width: W, height: H } as const

/**
 * Legends hold series names such as "run-a: mega/live/2 threads/fast EVM": never cut (labelLimit 0 = no
 * limit), and under the chart when the names are long, so that the chart does not grow sideways. Axis labels
 * and titles are not cut either (render.ts's config); the SVG grows to contain them (autosize pad).
 */
export const LEGEND = { labelLimit: 0, titleLimit: 0 } as const

/** A legend for these series names: beside the chart, or under it (in columns) when a name is long. */
export function legendFor(names: readonly string[]): Record<string, unknown> {
  const longest = names.reduce((m, n) => Math.max(m, n.length), 0)
  return longest > 36 ? { ...LEGEND, orient: 'bottom', direction: 'vertical', columns: longest > 60 ? 1 : 2 } : LEGEND
}

/**
 * Throughput per block. Real blocks (fixtures) sit on an ordinal axis, one slot per block labelled by its
 * number in height order (they are far apart: 97 … 21,230,867); consecutive chain blocks keep a height axis.
 */
export function throughputSpec(points: ThroughputPoint[], field: 'txPerSec' | 'mgasPerSec', axis: 'ordinal' | 'quantitative' = 'quantitative', order: readonly string[] = []): TopLevelSpec {
  const unit = field === 'txPerSec' ? 'tx/s' : 'Mgas/s'
  // The ordinal axis is sorted by each label's slot (its index in `order`), not by an explicit array: vega-lite
  // compiles an explicit sort into one expression per label, and ~1,000 labels (a 1,000-block chain beside real
  // blocks) overflowed the stack when vega compiled it.
  const slot = new Map(order.map((label, i) => [label, i]))
  return {
    ...base,
    // A slot of ≥ 22 px per block up to 50 blocks (the page is 1200 px wide); more blocks share the width.
    width: axis === 'ordinal' ? Math.min(1100, Math.max(W, 22 * order.length)) : W,
    title: axis === 'ordinal' ? `Throughput per block (${unit})` : `Throughput over block height (${unit})`,
    data: { values: axis === 'ordinal' ? points.map((p) => ({ ...p, slot: slot.get(p.blockLabel) ?? order.length })) : points },
    mark: { type: 'line', point: true, tooltip: true },
    encoding: {
      x:
        axis === 'ordinal'
          ? {
              field: 'blockLabel',
              type: 'ordinal',
              sort: { field: 'slot', op: 'min' },
              title: 'block (one slot per block, in height order)',
              // Beyond ~50 slots the labels would overlap: vega then keeps every other one, recursively.
              axis: { labelAngle: -45, ...(order.length > 50 ? { labelOverlap: 'parity' as const } : {}) },
            }
          : { field: 'block', type: 'quantitative', title: 'block', scale: { zero: false }, axis: { format: 'd' } },
      y: { field, type: 'quantitative', title: unit },
      color: { field: 'series', type: 'nominal', title: 'engine/mode', legend: legendFor([...new Set(points.map((p) => p.series))]) },
    },
  }
}

export function phasesSpec(rows: PhaseShare[]): TopLevelSpec {
  return {
    ...base,
    height: Math.max(60, 40 * new Set(rows.map((r) => r.series)).size),
    title: 'Time per phase (verified blocks)',
    data: { values: rows },
    mark: { type: 'bar', tooltip: true },
    encoding: {
      y: { field: 'series', type: 'nominal', title: null, axis: { labelLimit: 0 } },
      x: { field: 'ms', type: 'quantitative', title: 'ms', stack: 'zero' },
      color: { field: 'phase', type: 'nominal', sort: { field: 'order' }, title: 'phase', legend: LEGEND },
      order: { field: 'order' },
    },
  }
}

/**
 * An explicit category order. Layers sorted by a field (`sort: { field }`) cannot union their
 * domains (vega-lite warns and falls back to alphabetical), an explicit array can.
 */
function ordered<T extends { order: number }, K extends keyof T>(rows: readonly T[], key: K): string[] {
  return [...rows].sort((a, b) => a.order - b.order).map((r) => String(r[key]))
}

export function decompositionSpec(steps: FactorStep[]): TopLevelSpec {
  return {
    ...base,
    height: 220,
    title: 'Live vs historical sync: time relative to historical',
    data: { values: steps },
    layer: [
      {
        mark: { type: 'bar', tooltip: true },
        encoding: {
          x: { field: 'step', type: 'nominal', sort: ordered(steps, 'step'), title: null, axis: { labelAngle: 0 } },
          y: { field: 'from', type: 'quantitative', title: '× historical time' },
          y2: { field: 'to' },
          color: { field: 'step', type: 'nominal', legend: null },
        },
      },
      {
        mark: { type: 'text', dy: -8 },
        encoding: {
          x: { field: 'step', type: 'nominal', sort: ordered(steps, 'step') },
          y: { field: 'to', type: 'quantitative' },
          text: { field: 'factor', type: 'quantitative', format: '.2f' },
        },
      },
    ],
  }
}

export function paretoSpec(bars: ParetoBar[]): TopLevelSpec {
  return {
    ...base,
    title: `Top ${bars.length} opcodes by exclusive time (Pareto)`,
    data: { values: bars },
    encoding: { x: { field: 'opcode', type: 'nominal', sort: bars.map((b) => b.opcode), title: null, axis: { labelAngle: -60 } } },
    layer: [
      { mark: { type: 'bar', tooltip: true }, encoding: { y: { field: 'pct', type: 'quantitative', title: '% of opcode time' } } },
      {
        mark: { type: 'line', point: true, color: '#d62728', tooltip: true },
        encoding: { y: { field: 'cumulative', type: 'quantitative', title: 'cumulative %', scale: { domain: [0, 100] } } },
      },
    ],
    resolve: { scale: { y: 'independent' } },
  }
}

export function categoriesSpec(cats: CategoryShare[]): TopLevelSpec {
  return {
    $schema: base.$schema,
    width: 300,
    height: 300,
    title: 'Opcode time by category',
    data: { values: cats },
    mark: { type: 'arc', tooltip: true },
    encoding: {
      theta: { field: 'pct', type: 'quantitative' },
      color: { field: 'category', type: 'nominal', title: 'category', legend: LEGEND },
    },
  }
}

export function jitSpec(bounds: JitBound[]): TopLevelSpec {
  return {
    ...base,
    width: 300,
    height: 220,
    title: 'JIT upper bound (Amdahl over opcode time)',
    data: { values: bounds.map((b) => ({ ...b, bound: Number.isFinite(b.bound) ? b.bound : null })) },
    layer: [
      {
        mark: { type: 'bar', tooltip: true },
        encoding: {
          x: { field: 'speedup', type: 'nominal', sort: null, title: 'compilable opcodes run', axis: { labelAngle: 0 } },
          y: { field: 'bound', type: 'quantitative', title: 'execution speedup ≤' },
        },
      },
      {
        mark: { type: 'text', dy: -8 },
        encoding: { x: { field: 'speedup', type: 'nominal', sort: null }, y: { field: 'bound', type: 'quantitative' }, text: { field: 'bound', type: 'quantitative', format: '.2f' } },
      },
    ],
  }
}

const memoryAxis = { field: 'memory', type: 'ordinal', sort: { field: 'memoryBytes' }, title: 'memory limit', axis: { labelAngle: 0 } } as const

export function sweepCurvesSpec(points: SweepCurvePoint[]): TopLevelSpec {
  return {
    ...base,
    title: 'Memory sweep: time per limit (medians)',
    data: { values: points },
    mark: { type: 'line', point: true, tooltip: true },
    encoding: { x: memoryAxis, y: { field: 'ms', type: 'quantitative', title: 'ms' }, color: { field: 'curve', type: 'nominal', title: null, legend: LEGEND } },
  }
}

export function sweepEnginesSpec(points: SweepEnginePoint[]): TopLevelSpec {
  return {
    ...base,
    height: 220,
    title: 'Memory sweep: throughput per engine (medians)',
    data: { values: points },
    mark: { type: 'line', point: true, tooltip: true },
    encoding: {
      x: memoryAxis,
      y: { field: 'txPerSec', type: 'quantitative', title: 'tx/s', scale: { type: 'log' } },
      color: { field: 'engine', type: 'nominal', title: null, legend: LEGEND },
    },
  }
}

export function missRatioSpec(points: MissRatioPoint[]): TopLevelSpec {
  return {
    ...base,
    height: 220,
    title: 'Miss ratio per cache level',
    data: { values: points },
    mark: { type: 'line', point: true, tooltip: true },
    encoding: {
      x: memoryAxis,
      y: { field: 'ratio', type: 'quantitative', title: 'miss ratio', axis: { format: '%' }, scale: { domain: [0, 1] } },
      color: { field: 'level', type: 'nominal', title: null, legend: LEGEND },
    },
  }
}

export function histogramSpec(bars: HistogramBar[], title: string): TopLevelSpec {
  return {
    ...base,
    height: 220,
    title,
    data: { values: bars },
    mark: { type: 'bar', tooltip: true },
    encoding: {
      x: { field: 'bucket', type: 'ordinal', sort: { field: 'fromNs' }, title: 'LMDB read time', axis: { labelAngle: -45 } },
      y: { field: 'count', type: 'quantitative', title: 'reads' },
    },
  }
}

export function recapSpec(steps: RecapStep[]): TopLevelSpec {
  return {
    ...base,
    height: 240,
    title: 'Recap: throughput from historical to live to small memory',
    data: { values: steps },
    layer: [
      {
        mark: { type: 'bar', tooltip: true },
        encoding: {
          x: { field: 'step', type: 'nominal', sort: ordered(steps, 'step'), title: null, axis: { labelAngle: 0 } },
          y: { field: 'txPerSec', type: 'quantitative', title: 'tx/s' },
        },
      },
      {
        mark: { type: 'text', dy: -8 },
        encoding: { x: { field: 'step', type: 'nominal', sort: ordered(steps, 'step') }, y: { field: 'txPerSec', type: 'quantitative' }, text: { field: 'txPerSec', type: 'quantitative', format: ',.0f' } },
      },
    ],
  }
}


/** The CPU profile as an icicle chart: one rectangle per call-tree frame, callers on top. */
export function flameSpec(f: FlameData): TopLevelSpec {
  const depth = f.rects.reduce((d, r) => Math.max(d, r.depth), 0) + 1
  const values = f.rects.map((r) => ({ ...r, d1: r.depth + 1, mid: r.depth + 0.5, totalMs: Number(r.totalMs.toFixed(2)), selfMs: Number(r.selfMs.toFixed(2)) }))
  const yScale = { domain: [0, depth], reverse: true, nice: false }
  return {
    ...base,
    width: FLAME_WIDTH,
    height: Math.max(60, depth * 15),
    data: { values },
    layer: [
      {
        mark: { type: 'rect', stroke: 'white', strokeWidth: 0.5, tooltip: true },
        encoding: {
          x: { field: 'x0', type: 'quantitative', title: 'sampled time (ms)', scale: { domain: [0, f.totalMs], nice: false } },
          x2: { field: 'x1' },
          y: { field: 'depth', type: 'quantitative', scale: yScale, axis: null },
          y2: { field: 'd1' },
          color: { field: 'kind', type: 'nominal', title: 'code', legend: LEGEND, scale: { domain: ['megabench', '@ethereumjs', 'dependencies', 'node / V8'], range: ['#e4572e', '#f3a712', '#a8c686', '#8e9aaf'] } },
          tooltip: [
            { field: 'name', title: 'function' },
            { field: 'file', title: 'where' },
            { field: 'totalMs', title: 'inclusive ms' },
            { field: 'selfMs', title: 'self ms' },
          ],
        },
      },
      {
        mark: { type: 'text', align: 'left', baseline: 'middle', dx: 3, fontSize: 9, color: '#111' },
        encoding: { x: { field: 'x0', type: 'quantitative' }, y: { field: 'mid', type: 'quantitative', scale: yScale, axis: null }, text: { field: 'label' } },
      },
    ],
  }
}
