import { PHASES } from '../probes/phases.js'
import { formatSize } from '../storage/memory.js'
import { type LabeledRun, type LabeledSweep, PHASE_LABELS, megaRows, profiledEngine, seriesName, studyVsMeasured } from './data.js'

const num = (x: number, d = 1) => x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d })
const cell = (s: string) => s.replaceAll('|', '\\|').replaceAll('\n', ' ')
const mdTable = (head: string[], rows: string[][]) =>
  [`| ${head.map(cell).join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)].join('\n')

/** The report's key tables as Markdown, e.g. for a CI job summary. */
export function renderMarkdown(runs: readonly LabeledRun[], sweeps: readonly LabeledSweep[]): string {
  const out: string[] = ['# megabench report', '']
  const failed = runs.reduce((s, r) => s + r.result.verification.failed.length, 0)
  if (failed > 0) out.push(`> **VERIFICATION FAILED**: ${failed} field mismatch(es); failed blocks count for no throughput.`, '')
  const engines = runs.flatMap((r) => r.result.engines.map((e) => ({ name: seriesName(runs, r, e), e })))
  if (engines.length > 0) {
    out.push('## Summary', '')
    out.push(
      mdTable(
        ['engine/mode', 'verified', 'tx/s', 'Mgas/s', ...PHASES.map((p) => `${PHASE_LABELS[p]} ms`)],
        engines.map(({ name, e }) => [
          name,
          `${e.totals.verifiedBlocks}/${e.totals.blocks}`,
          num(e.totals.txPerSec, 0),
          num(e.totals.mgasPerSec, 2),
          ...PHASES.map((p) => num(e.totals.phases[p], 0)),
        ]),
      ),
      '',
    )
  }
  for (const r of runs) {
    const d = r.result.decomposition
    if (d !== null) {
      out.push(
        `Live vs historical (${r.label}): ${num(d.slowdown, 2)}x = merkleization ${num(d.merkleizationFactor, 2)}x × persistence ${num(d.persistenceFactor, 2)}x (the study's Reth values: 14x = 9.3x × 1.5x).`,
        '',
      )
    }
  }
  const mega = megaRows(runs)
  if (mega.length > 0) {
    out.push('## Mega engine', '')
    const diff = mega.find((m) => m.differential !== null)?.differential
    if (diff !== undefined && diff !== null) out.push(`Differential: ${diff}.`, '')
    out.push(
      mdTable(
        ['engine', 'EVM', 'tx/s', '× baseline', 'fast EVM execution × vs @ethereumjs', 'parallel accepted', 'BucketTree key updates/s', 'MPT key updates/s', 'MPT LMDB reads / key'],
        mega.map((m) => [
          m.series,
          m.evm,
          num(m.txPerSec, 0),
          m.vsBaseline === null ? '–' : `${num(m.vsBaseline, 2)}x`,
          m.evmExecutionSpeedup === null ? '–' : `${num(m.evmExecutionSpeedup, 2)}x`,
          m.acceptedShare === null ? 'in order' : `${num(m.acceptedShare * 100)}%`,
          num(m.keyUpdatesPerSec, 0),
          m.mptKeyUpdatesPerSec === null ? '–' : num(m.mptKeyUpdatesPerSec, 0),
          m.mptLmdbReadsPerKey === null ? '–' : num(m.mptLmdbReadsPerKey, 2),
        ]),
      ),
      '',
    )
  }
  const prof = profiledEngine(runs)
  if (prof?.engine.opcodes) {
    out.push(`## Top 15 opcodes (${seriesName(runs, prof.run, prof.engine)})`, '')
    out.push(
      mdTable(
        ['#', 'opcode', 'category', 'count', 'total ms', '% time', 'cumulative %', 'avg ns'],
        prof.engine.opcodes.rows.slice(0, 15).map((r, i) => [String(i + 1), r.name, r.category, r.count.toLocaleString('en-US'), num(r.totalNs / 1e6, 2), num(r.pctTime), num(r.cumulativePct), num(r.avgNs, 0)]),
      ),
      '',
    )
  }
  for (const s of sweeps) {
    out.push(`## Memory sweep (${s.label}, ${s.result.config.mode} sync, working set ${formatSize(s.result.workingSetBytes)})`, '')
    out.push(
      mdTable(
        ['memory', 'total ms', 'execution ms', 'miss penalty ms', 'merkleization ms', 'write ms', 'tx/s', 'L1 miss', 'L2 miss', 'mean penalty'],
        s.result.points.map((p) => [
          formatSize(p.memoryBytes),
          num(p.median.totalMs, 0),
          num(p.median.executionMs, 0),
          num(p.median.missPenaltyMs, 1),
          num(p.median.merkleizationMs, 0),
          num(p.median.writeMs, 0),
          num(p.median.txPerSec, 0),
          `${num(p.median.l1MissRatio * 100)}%`,
          `${num(p.median.l2MissRatio * 100)}%`,
          `${num(p.median.meanPenaltyNs / 1000, 1)} µs`,
        ]),
      ),
      '',
    )
  }
  out.push('## The study vs measured', '')
  out.push(
    mdTable(
      ['#', 'figure', "the study's value (Reth)", 'measured here', 'measured on / how to measure'],
      studyVsMeasured(runs, sweeps).map((s) => [String(s.id), s.figure, s.study, s.measured ?? '—', s.measuredOn]),
    ),
    '',
  )
  return out.join('\n')
}
