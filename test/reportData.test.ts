import { describe, expect, test } from 'vitest'

import {
  avgNsRange,
  categoryShares,
  comparisons,
  decompositionChoice,
  decompositionSteps,
  jitBounds,
  megaRows,
  pareto,
  penaltyChoice,
  penaltyHistogram,
  phaseBreakdown,
  phasesNoData,
  probeOverheads,
  profileChoice,
  protocolSentence,
  recap,
  runWarnings,
  studyVsMeasured,
  summaryRows,
  sweepCurves,
  sweepMissRatios,
  sweepNoData,
  throughputAxis,
  throughputNoData,
  throughputSeries,
} from '../src/report/data.js'
import { renderMarkdown } from '../src/report/markdown.js'
import { throughputSpec } from '../src/report/specs.js'
import { runVerification, verificationBanner } from '../src/report/verification.js'
import { differences } from '../src/run/conditions.js'
import type { BlockRow } from '../src/run/schema.js'
import { block, engine, megaReport, runResult, spreadOf, storageReport, sweepResult } from './helpers/runResult.js'

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
    const ok = [block(1), block(2)]
    const verifiedRuns = [{ label: 'r', result: runResult([engine('historical', { execution: 75, merkleization: 5, persistence: 5 }, { blocks: ok }), engine('live', { execution: 75, merkleization: 95, persistence: 110 }, { blocks: ok })]) }]
    const rows = studyVsMeasured(verifiedRuns, [{ label: 's', result: sweepResult() }])
    expect(rows.map((r) => r.id)).toEqual(Array.from({ length: 18 }, (_, i) => i + 1))
    expect(rows.find((r) => r.id === 8)!.measured).toBe('total time at 1.0 MiB was 1.50x that at 1.0 GiB (slower; 50 tx/s at the smallest)')
    expect(rows.find((r) => r.id === 11)!.measured).toBe(
      'merkleization: live without persistence took 1.85x the time of historical (slower); persistence: live took 1.59x the time of live without persistence (slower)',
    )
    expect(rows.find((r) => r.id === 5)!.measured).toBe('top 30 = 100.0%; top five SLOAD, PUSH1, ADD; SLOAD 60.0%')
    expect(rows.find((r) => r.id === 15)).toMatchObject({ measured: null, measuredOn: 'replay --analyze parallelism (or megabench analyze parallelism)' })
    expect(rows.find((r) => r.id === 9)).toMatchObject({ measured: null })
  })

  test('comparisons: ratios to the first series', () => {
    const c = comparisons(runs)
    expect(c.series).toEqual(['baseline/historical', 'baseline/live'])
    expect(c.rows.find((r) => r.metric === 'block processing ms')).toEqual({ metric: 'block processing ms', values: [100, 295], ratios: [1, 2.95], spreads: [null, null] })
    expect(c.differs).toEqual([[], ['mode: live vs historical']])
  })

  test('markdown: key tables and a failure note', () => {
    const failed = runResult([live], [{ engine: 'baseline/live', block: 3, origin: 'b3', field: 'stateRoot', expected: '0x1', actual: '0x2' }])
    const md = renderMarkdown([{ label: 'f', result: failed }], [])
    expect(md).toContain('> **VERIFICATION FAILED**: baseline/live: 1 of 3 blocks not verified (state root 2/3 match, 1 FAIL (MPT on LMDB, root after every block))')
    expect(md).toContain('| baseline/live | @ethereumjs/evm | 2/3 |')
    // The profile also covers the failed block: no opcode table from it.
    expect(md).not.toContain('## Top 15 opcodes')
    expect(md).toContain('No data: the opcode profile of baseline/live also covers its 1 failed block')
    expect(md).toContain('| 1 | historical-sync throughput |')
    const ok = renderMarkdown([{ label: 'ok', result: runResult([engine('live', { execution: 75, merkleization: 95, persistence: 110 }, { blocks: [block(1), block(2)] })]) }], [])
    expect(ok).toContain('## Top 15 opcodes (baseline/live)')
  })
})

/** A real fixture block: its file under `dir`, its fork, its hash. */
const real = (dir: string, number: number, hardfork: string, verified = true): BlockRow => ({ ...block(number, verified), origin: `${dir}/mainnet-${number}.json`, hash: `0x${number.toString(16)}`, hardfork })
const fixtures = (paths: string[]) => ({ kind: 'fixtures' as const, paths, units: 3, from: null, to: null })
const OK = () => [block(1), block(2)]
const hist100 = { execution: 75, merkleization: 5, persistence: 5 } // 100 ms
const FINAL_NOTE = 'checked once, at the end of the range (--verify-mpt final, the default); --verify-mpt every checks every block'

describe('reports tell the truth (issue 18)', () => {
  test('failed blocks feed no chart; a chart with no data or only zeros says why instead', () => {
    const failed = engine('live', hist100, { blocks: [block(1, false), block(2, false)], storage: storageReport('live', null) })
    const runs = [{ label: 'f', result: runResult([failed]) }]
    expect(throughputSeries(runs)).toEqual([])
    expect(throughputNoData(throughputSeries(runs), 'txPerSec')).toBe('no verified blocks (failed blocks feed no chart)')
    expect(phaseBreakdown(runs)).toEqual([])
    expect(phasesNoData(phaseBreakdown(runs))).toBe('no verified blocks (failed blocks feed no chart)')
    expect(summaryRows(runs)[0]).toMatchObject({ verified: 0, blocks: 2, txPerSec: null, processingMs: null, phases: null })
    expect(recap(runs, [])).toEqual([])
    expect(comparisons(runs).series).toEqual([])
    // Counters kept per run, not per block, cover the failed blocks: not drawn.
    expect(profileChoice(runs)).toEqual({ none: 'the opcode profile of baseline/live also covers its 2 failed blocks (a profile is not kept per block), so it feeds no chart' })
    expect(penaltyChoice(runs, [])).toEqual({ none: 'the miss penalties of baseline/live also cover failed blocks (not kept per block), so they feed no chart' })
    // No "0 tx/s" for a run that verified nothing.
    const study = studyVsMeasured(runs, [])
    expect(study.find((r) => r.id === 1)).toMatchObject({ measured: null, measuredOn: 'replay --mode historical' })
    const md = renderMarkdown(runs, [])
    expect(md).toContain('| baseline/live | @ethereumjs/evm | 0/2 | no data: no verified block | – | – | – | – | – | – | – |')

    // Verified blocks without transactions: an all-zero tx/s chart is not drawn either.
    const empty = [{ label: 'e', result: runResult([engine('live', hist100, { blocks: [block(1, true, 0), block(2, true, 0)] })]) }]
    expect(throughputNoData(throughputSeries(empty), 'txPerSec')).toBe('every verified block has 0 transactions')
    expect(throughputNoData(throughputSeries(empty), 'mgasPerSec')).toBeNull()

    // A verified run's counters are drawn; a sweep limit at which a run failed is left out.
    const ok = [{ label: 'ok', result: runResult([engine('live', hist100, { blocks: OK(), storage: storageReport('live', null) })]) }]
    expect(penaltyChoice(ok, [])).toMatchObject({ source: 'baseline/live', buckets: [{ fromNs: 1024, toNs: 2048, count: 2 }, { fromNs: 2048, toNs: 4096, count: 2 }] })
    const s = sweepResult()
    s.points[0]!.runs = [{ dir: 'x', verified: false } as (typeof s.points)[number]['runs'][number]]
    expect(sweepCurves(s).filter((c) => c.curve === 'total').map((c) => c.memoryBytes)).toEqual([1 << 30])
    expect(sweepMissRatios(s).map((m) => m.memoryBytes)).toEqual([1 << 30, 1 << 30])
    s.points[1]!.runs = s.points[0]!.runs
    expect(sweepNoData({ label: 's', result: s })).toBe('no limit of sweep s at which every run verified')
    expect(sweepNoData(undefined)).toBe('no sweep result in this report (megabench sweep --memory 16MB,64MB,256MB,1GB …)')
  })

  test('study vs measured: each row names the conditions that differ from the study, and ratios are worded by direction', () => {
    const blocks = [real('/f', 97, 'chainstart'), real('/f', 46147, 'chainstart'), real('/f', 21230867, 'cancun')]
    // Live (150 ms) faster than historical (300 ms): it must not read "below historical".
    const h = engine('historical', { execution: 275, merkleization: 5, persistence: 5 }, { blocks, unprofiled: true, storage: storageReport('historical', 1 << 20) })
    const l = engine('live', { execution: 75, merkleization: 30, persistence: 30 }, { blocks, unprofiled: true, storage: storageReport('live', 1 << 20) })
    const r = runResult([h, l], [], { source: fixtures(['/f']), machine: { memoryBytes: 16 * 2 ** 30 } })
    const rows = studyVsMeasured([{ label: 'fx', result: r }], [])
    const row = (id: number) => rows.find((x) => x.id === id)!
    expect(row(1).conditions).toEqual([
      "3 real blocks (Frontier to Cancun; blocks 97…21,230,867, not consecutive) vs the study's last 1M mainnet blocks",
      "historical: state root and commit once, at the end of the range vs the study's every 500k blocks",
      "--memory 1.0 MiB, caches only (the OS page cache unbounded), working set 4.0 MiB, on a 16.0 GiB machine vs the study's 512 GB server with the full mainnet state (>100 GB)",
      'timings without the opcode probe',
      "@ethereumjs/evm 10.1.3 (TypeScript on Node v20) vs Reth's revm (Rust)",
    ])
    expect(row(10).measured).toBe('133 tx/s: live took 0.50x the time of historical (67 tx/s) (faster)')
    expect(row(11).measured).toBe(
      'merkleization: live without persistence took 0.40x the time of historical (faster); persistence: live took 1.25x the time of live without persistence (slower)',
    )
    expect(rows.map((x) => x.measured ?? '').join(' ')).not.toMatch(/below|slower than|faster than/)
    expect(row(9).conditions).toContain("LMDB, level 2 a byte-bounded cache standing in for the OS page cache vs the study's MDBX under the OS page cache")
    expect(row(4).conditions).toEqual([]) // not measured: nothing to qualify

    // A live-only chain run with the probe's overhead measured, a failed block and cached senders.
    const c = runResult([engine('live', hist100, { senders: 'cache' })], [], { machine: { memoryBytes: 2 ** 30 } })
    const one = studyVsMeasured([{ label: 'c', result: c }], [])
    expect(one.find((x) => x.id === 1)!.conditions).toEqual([
      "2 blocks of chain c (Cancun; blocks 1…2) vs the study's last 1M mainnet blocks; 1 failed block left out",
      "live sync (state root and commit after every block) vs the study's historical sync",
      "tries in an in-memory node store (--storage memory, no caches) on a 1.0 GiB machine vs the study's 512 GB server with the full mainnet state (>100 GB)",
      'timings from passes without the opcode probe; the profiled passes took 1.20x the time of unprofiled ones (slower)',
      "@ethereumjs/evm 10.1.3 (TypeScript on Node v20) vs Reth's revm (Rust)",
      "senders from the source's cache (not recovered) vs the study's sender recovery",
    ])
    // The sweep rows: the smaller limit faster reads "faster", not "slower".
    const s = sweepResult()
    Object.assign(s.points[0]!.median, { totalMs: 150, merkleizationMs: 7.5 })
    const sw = studyVsMeasured([], [{ label: 's', result: s }])
    expect(sw.find((x) => x.id === 8)!.measured).toBe('total time at 1.0 MiB was 0.75x that at 1.0 GiB (faster; 50 tx/s at the smallest)')
    expect(sw.find((x) => x.id === 13)!.measured).toBe(
      'merkleization at 1.0 MiB took 0.75x the time it took at 1.0 GiB (faster); tx/s at 1.0 MiB was 0.50x the tx/s at 1.0 GiB (lower)',
    )
    expect(sw.find((x) => x.id === 8)!.conditions).toEqual([
      "live sync vs the study's historical sync",
      "limits 1.0 MiB … 1.0 GiB over a working set of 4.0 MiB vs the study's 8 … 512 GB over the full mainnet state",
      "replay --chain c (medians of 1 run per limit) vs the study's last 1M mainnet blocks",
    ])
  })

  test('verification comes from the per-block check records: what was checked, how, and what was not and why', () => {
    const checked = (n: number, last: boolean): BlockRow => ({
      ...block(n),
      checks: {
        gasUsed: { status: 'pass' },
        stateRoot: last ? { status: 'pass', method: "MPT kept beside the mega state, the range's net changes applied at its final block" } : { status: 'skipped', note: FINAL_NOTE },
      },
    })
    const mega = engine('live', hist100, { name: 'mega', blocks: [checked(1, false), checked(2, false), checked(3, true)], mega: megaReport() })
    const runs = [{ label: 'm', result: runResult([mega]) }]
    expect(runVerification(runs)).toEqual([
      {
        label: 'm',
        differential: null,
        engines: [
          {
            series: 'mega/live',
            blocks: 3,
            verified: 3,
            failures: [],
            sentences: ['gas used 3/3 match', `state root 1/1 match (MPT kept beside the mega state, the range's net changes applied at its final block); 2 blocks not checked: ${FINAL_NOTE}`],
          },
        ],
      },
    ])
    expect(verificationBanner(runs)).toBeNull()
    // A failed check without expected/actual values (the differential) is not in verification.failed: the banner still names it.
    const diffFail: BlockRow = { ...block(2, false), checks: { gasUsed: { status: 'pass' }, diffVsBaseline: { status: 'fail', method: 'net state diff digest' } } }
    const failing = engine('live', hist100, { name: 'mega', blocks: [block(1), diffFail], mega: megaReport() })
    const fr = [{ label: 'f', result: runResult([failing], [], { differential: { compared: 1, mismatches: 1, expected: 2, notCompared: [{ engine: 'mega/live', block: 1, origin: 'b1', reason: 'the baseline did not verify this block' }] } }) }]
    expect(fr[0]!.result.verification.failed).toEqual([])
    expect(verificationBanner(fr)).toEqual([
      'mega/live: 1 of 2 blocks not verified (state diff vs baseline 0/1 match, 1 FAIL (net state diff digest); 1 block without a record)',
      'state diffs vs the baseline: 1 of 1 compared DIFFER; 1 not compared (the baseline did not verify this block)',
    ])
    const md = renderMarkdown(fr, [])
    expect(md).toContain('> **VERIFICATION FAILED**: mega/live: 1 of 2 blocks not verified')
    expect(md).toContain('  - state diff vs baseline 0/1 match, 1 FAIL (net state diff digest); 1 block without a record')
  })

  test('spreads: medians ± spread over passes, opcode avg-ns ranges, the measured probe overhead and the protocol', () => {
    const e = engine('historical', hist100, { blocks: OK(), repeats: { passes: 2, txPerSec: spreadOf(200, 160, 250), processingMs: spreadOf(100, 80, 125) } })
    e.opcodes!.passes = 2
    Object.assign(e.opcodes!.rows[0]!, { totalNsMin: 5e6, totalNsMax: 7e6 })
    const r = runResult([e], [], { repeat: 2 })
    const runs = [{ label: 'r', result: r }]
    expect(summaryRows(runs)[0]).toMatchObject({ txPerSec: '200 ±22.5% (160–250, 2 passes)', processingMs: '100 ±22.5% (80–125, 2 passes) ms', mgasPerSec: '20.00' })
    expect(avgNsRange(e.opcodes!.rows[0]!, 2)).toEqual([5e5, 7e5])
    expect(avgNsRange(e.opcodes!.rows[0]!, 1)).toBeNull()
    expect(avgNsRange(e.opcodes!.rows[1]!, 2)).toBeNull() // no range recorded
    expect(probeOverheads(runs)).toEqual(['baseline/historical: profiled passes took 1.20x the time of unprofiled ones (slower) (120 ms vs 100 ms of block processing on the same warm blocks)'])
    expect(protocolSentence(r)).toBe(
      '1 warm-up pass of every variant (not reported), then 2 measured passes interleaved A B B A (medians, ± half the range over passes); timings from unprofiled passes, the opcode profile from separate profiled ones; measured order: baseline/historical',
    )
    const c = comparisons([{ label: 'r', result: runResult([e, engine('live', hist100, { blocks: OK() })]) }])
    expect(c.rows[0]!.spreads).toEqual([spreadOf(200, 160, 250), null])
    const md = renderMarkdown(runs, [])
    expect(md).toContain('| baseline/historical | @ethereumjs/evm | 2/2 | 200 ±22.5% (160–250, 2 passes) | 20.00 | 100 ±22.5% (80–125, 2 passes) ms |')
    expect(md).toContain('| avg ns (range over 2 passes) |')
    expect(md).toContain('| 1 | SLOAD | host | 10 | 6.00 | 60.0 | 60.0 | 600,000 (500,000–700,000) |')
    expect(md).toContain('Opcode-probe overhead: baseline/historical: profiled passes took 1.20x the time of unprofiled ones (slower)')
  })

  test('comparisons name what differs besides the engine: blocks (by file name, number and hash), EVM, memory budget, protocol, machine', () => {
    const a = runResult([engine('live', hist100, { blocks: [real('/a', 1, 'cancun'), real('/a', 2, 'cancun')], storage: storageReport('live', null), unprofiled: true })], [], { source: fixtures(['/a']) })
    // The same blocks from another directory: nothing differs.
    const b = runResult([engine('live', hist100, { blocks: [real('/elsewhere', 1, 'cancun'), real('/elsewhere', 2, 'cancun')], storage: storageReport('live', null), unprofiled: true })], [], { source: fixtures(['/elsewhere']) })
    expect(runWarnings([{ label: 'a', result: a }, { label: 'b', result: b }])).toEqual([])
    // Other blocks, a memory budget, two measured passes, another machine.
    const c = runResult(
      [engine('live', hist100, { blocks: [real('/c', 2, 'cancun'), real('/c', 3, 'cancun'), real('/c', 4, 'cancun')], storage: storageReport('live', 1 << 20), unprofiled: true, repeats: { passes: 2 } })],
      [],
      { source: fixtures(['/c']), repeat: 2, machine: { cores: 16 } },
    )
    const runs = [{ label: 'a', result: a }, { label: 'c', result: c }]
    expect(runWarnings(runs)).toEqual([
      {
        label: 'c',
        reference: 'a',
        differences: [
          { what: 'verified blocks', value: '3', reference: '2 (1 in common)' },
          { what: 'memory budget', value: '--memory 1.0 MiB, caches only (the OS page cache unbounded)', reference: 'unbounded caches' },
          { what: 'protocol', value: '1 warm-up + 2 measured passes', reference: '1 warm-up + 1 measured pass' },
          { what: 'machine', value: 'cpu, 16 cores, Node v20', reference: 'cpu, 2 cores, Node v20' },
        ],
      },
    ])
    expect(comparisons(runs).differs).toEqual([
      [],
      ['verified blocks: 3 vs 2 (1 in common)', 'memory budget: --memory 1.0 MiB, caches only (the OS page cache unbounded) vs unbounded caches', 'measured passes: 2 vs 1', 'machine: cpu, 16 cores, Node v20 vs cpu, 2 cores, Node v20'],
    ])
    expect(renderMarkdown(runs, [])).toContain(
      '> ⚠ **c differs from a** besides what is compared: verified blocks: 3 vs 2 (1 in common); memory budget: --memory 1.0 MiB, caches only (the OS page cache unbounded) vs unbounded caches; protocol: 1 warm-up + 2 measured passes vs 1 warm-up + 1 measured pass; machine: cpu, 16 cores, Node v20 vs cpu, 2 cores, Node v20.',
    )

    // A run from before the caches were accounted at their heap cost: the same budget is not the same memory.
    const oldStorage = storageReport('live', 1 << 20)
    delete oldStorage.config.cacheAccounting
    const old = engine('live', hist100, { blocks: OK(), storage: oldStorage })
    expect(differences(old, engine('live', hist100, { blocks: OK(), storage: storageReport('live', 1 << 20) }))).toEqual([
      'memory budget: --memory 1.0 MiB, caches only (the OS page cache unbounded), caches counted at key + value + 64 B (before 2026-12-07: they held 2.5–7x the budget) vs --memory 1.0 MiB, caches only (the OS page cache unbounded)',
    ])

    // Engines of one run: the mega engine verified fewer blocks, on the fast EVM (the summary's differences() is the same function).
    const base = engine('live', hist100, { blocks: OK() })
    const mega = engine('live', hist100, { name: 'mega', label: 'mega/live/fast EVM', evm: 'fast', blocks: [block(1), block(2, false)], mega: megaReport('fast') })
    // ... and recovered its senders on a worker thread, a block ahead, where the baseline recovers them inside the block.
    const besides = ['EVM: fast EVM vs @ethereumjs/evm', 'verified blocks: 1 vs 2 (1 in common)', 'sender recovery: ecrecover on 1 worker thread, a block ahead (the wait timed) vs ecrecover on the main thread (timed)']
    expect(differences(mega, base)).toEqual(besides)
    const [row] = megaRows([{ label: 'm', result: runResult([base, mega]) }])
    expect(row!.besides).toEqual(besides)
    // Live vs historical over different verified blocks: the decomposition says so.
    const d = decompositionChoice([{ label: 'd', result: runResult([engine('historical', hist100, { blocks: OK() }), engine('live', hist100, { blocks: [block(1), block(2, false), block(3)] })]) }])
    expect('none' in d ? d.none : d.besides).toEqual(['verified blocks: 2 vs 2 (1 in common)'])
    const md = renderMarkdown([{ label: 'd', result: runResult([engine('historical', hist100, { blocks: OK() }), engine('live', hist100, { blocks: [block(1), block(2, false), block(3)] })]) }], [])
    expect(md).toContain('live took 1.00x the time of historical (about the same) = merkleization 0.95x × persistence 1.05x (⚠ they differ besides the mode: verified blocks: 2 vs 2 (1 in common))')
  })

  test('real blocks are plotted per block on an ordinal axis; chains keep block height', () => {
    const blocks = [real('/f', 21230867, 'cancun'), real('/f', 97, 'chainstart'), real('/f', 46147, 'chainstart')]
    const runs = [{ label: 'fx', result: runResult([engine('live', hist100, { blocks })], [], { source: fixtures(['/f']) }) }]
    expect(throughputAxis(runs)).toBe('ordinal')
    expect(throughputAxis([{ label: 'c', result: runResult([engine('live', hist100)]) }])).toBe('quantitative')
    const points = throughputSeries(runs)
    expect(points.map((p) => p.blockLabel)).toEqual(['21230867', '97', '46147'])
    const spec = throughputSpec(points, 'txPerSec', 'ordinal', ['97', '46147', '21230867']) as { encoding: { x: unknown }; title: string; data: { values: { blockLabel: string; slot: number }[] } }
    expect(spec.encoding.x).toEqual({ field: 'blockLabel', type: 'ordinal', sort: { field: 'slot', op: 'min' }, title: 'block (one slot per block, in height order)', axis: { labelAngle: -45 } })
    expect(spec.data.values.map((v) => [v.blockLabel, v.slot])).toEqual([['21230867', 2], ['97', 0], ['46147', 1]])
    expect(spec.title).toBe('Throughput per block (tx/s)')
  })

  test('the ordinal throughput axis renders in height order, also with a thousand blocks beside real ones', async () => {
    const { renderSvg } = await import('../src/report/render.js')
    const p = (n: number) => ({ series: 's', block: n, blockLabel: String(n), txPerSec: 1 + (n % 7), mgasPerSec: 1 })
    const small = await renderSvg(throughputSpec([p(21230867), p(97), p(46147)], 'txPerSec', 'ordinal', ['97', '46147', '21230867']))
    const labels = [...small.matchAll(/>(97|46147|21230867)</g)].map((m) => m[1])
    expect(labels).toEqual(['97', '46147', '21230867'])
    // A 1,000-block chain and 50 real blocks on one axis: an explicit sort array overflowed vega's expression compiler.
    const many = [...Array.from({ length: 1000 }, (_, i) => p(i + 1)), ...Array.from({ length: 50 }, (_, i) => p(5_000_000 + i * 1000))]
    const order = many.map((x) => x.blockLabel)
    const svg = await renderSvg(throughputSpec(many, 'txPerSec', 'ordinal', order))
    expect(svg.startsWith('<svg')).toBe(true)
  }, 60_000)

  test('histogram bucket labels are short enough to print whole', () => {
    expect(penaltyHistogram([{ fromNs: 2097152, toNs: 4194304, count: 1 }, { fromNs: 1024, toNs: 2048, count: 1 }, { fromNs: 256, toNs: 512, count: 1 }]).map((b) => b.bucket)).toEqual([
      '2.1 ms–4.19 ms',
      '1.02 µs–2.05 µs',
      '256 ns–512 ns',
    ])
  })
})
