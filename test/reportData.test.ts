import { describe, expect, test } from 'vitest'

import {
  categoryShares,
  comparisons,
  decompositionSteps,
  jitBounds,
  pareto,
  phaseBreakdown,
  recap,
  studyVsMeasured,
  sweepCurves,
  sweepMissRatios,
  throughputSeries,
} from '../src/report/data.js'
import { renderMarkdown } from '../src/report/markdown.js'
import { engine, runResult, sweepResult } from './helpers/runResult.js'

const hist = engine('historical', { execution: 75, merkleization: 5, persistence: 5 }) // 100 ms
const live = engine('live', { execution: 75, merkleization: 95, persistence: 110 }) // 300 ms
const run = runResult([hist, live])
const runs = [{ label: 'r', result: run }]

describe('report data shaping', () => {
  test('default: throughput comes from verified blocks only', () => {
    const points = throughputSeries(runs)
    expect(points.map((p) => [p.series, p.block])).toEqual([
      ['baseline/historical', 1],
      ['baseline/historical', 2],
      ['baseline/live', 1],
      ['baseline/live', 2],
    ])
    expect(points[0]!.txPerSec).toBeCloseTo(10 / 0.11, 9)
  })

  test('phase breakdown: ms and shares per series', () => {
    const rows = phaseBreakdown(runs).filter((r) => r.series === 'baseline/live')
    expect(rows.map((r) => [r.phase, r.ms])).toEqual([
      ['sender recovery', 10],
      ['execution', 75],
      ['state load', 5],
      ['merkleization', 95],
      ['persistence', 110],
    ])
    expect(rows.find((r) => r.phase === 'persistence')!.share).toBeCloseTo(110 / 295, 12)
  })

  test('decomposition: 1 → × merkleization → × persistence = live', () => {
    // historical 100 ms; live 295 ms, 185 ms without persistence.
    const steps = decompositionSteps(run)
    expect(steps.map((s) => [s.step, s.from, s.to])).toEqual([
      ['historical sync', 0, 1],
      ['× merkleization', 1, 1.85],
      ['× persistence', 1.85, 2.95],
      ['live sync', 0, 2.95],
    ])
    expect(steps[2]!.factor).toBeCloseTo(295 / 185, 12)
  })

  test('pareto, categories and the JIT bound', () => {
    expect(pareto(hist, 2)).toEqual([
      { rank: 1, opcode: 'SLOAD', pct: 60, cumulative: 60 },
      { rank: 2, opcode: 'PUSH1', pct: 30, cumulative: 90 },
    ])
    const cats = categoryShares(hist)
    expect(cats.map((c) => [c.category, c.compilable])).toEqual([
      ['host', false],
      ['stack', true],
      ['arithmetic', true],
    ])
    const jit = jitBounds(cats)
    expect(jit.compilableShare).toBeCloseTo(0.4, 12)
    expect(jit.bounds.map((b) => b.bound)).toEqual([1 / (0.6 + 0.04), 1 / (0.6 + 0.004), 1 / 0.6])
  })

  test('sweep curves, miss ratios and the recap', () => {
    const s = sweepResult()
    const sweeps = [{ label: 's', result: s }]
    expect(sweepCurves(s).filter((c) => c.curve === 'total').map((c) => [c.memoryBytes, c.ms])).toEqual([
      [1 << 20, 300],
      [1 << 30, 200],
    ])
    expect(sweepMissRatios(s)).toHaveLength(4)
    expect(recap(runs, sweeps).map((x) => [x.step, x.txPerSec])).toEqual([
      ['historical sync', hist.totals.txPerSec],
      ['live, 1.0 MiB memory', 50],
    ])
  })

  test('study vs measured: every study row, ours where measured, otherwise the run that would', () => {
    const rows = studyVsMeasured(runs, [{ label: 's', result: sweepResult() }])
    expect(rows.map((r) => r.id)).toEqual(Array.from({ length: 18 }, (_, i) => i + 1))
    expect(rows.find((r) => r.id === 8)!.measured).toBe('1.50x total time from 1.0 GiB to 1.0 MiB (50 tx/s at the smallest)')
    expect(rows.find((r) => r.id === 11)!.measured).toBe('1.85x from merkleization, a further 1.59x from persistence')
    expect(rows.find((r) => r.id === 5)!.measured).toBe('top 30 = 100.0%; top five SLOAD, PUSH1, ADD; SLOAD 60.0%')
    expect(rows.find((r) => r.id === 15)).toMatchObject({ measured: null, measuredOn: 'replay --analyze parallelism (or megabench analyze parallelism)' })
    expect(rows.find((r) => r.id === 9)).toMatchObject({ measured: null })
  })

  test('comparisons: ratios to the first series', () => {
    const c = comparisons(runs)
    expect(c.series).toEqual(['baseline/historical', 'baseline/live'])
    expect(c.rows.find((r) => r.metric === 'block processing ms')).toEqual({ metric: 'block processing ms', values: [100, 295], ratios: [1, 2.95] })
  })

  test('markdown: key tables and a failure note', () => {
    const failed = runResult([live], [{ engine: 'baseline/live', block: 3, origin: 'b3', field: 'stateRoot', expected: '0x1', actual: '0x2' }])
    const md = renderMarkdown([{ label: 'f', result: failed }], [])
    expect(md).toContain('> **VERIFICATION FAILED**: 1 field mismatch(es)')
    expect(md).toContain('| baseline/live | 2/3 |')
    expect(md).toContain('## Top 15 opcodes (baseline/live)')
    expect(md).toContain('| 1 | historical-sync throughput |')
  })
})
