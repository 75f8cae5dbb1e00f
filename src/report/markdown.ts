import { PHASES } from '../probes/phases.js'
import { describeDifference, timeRatioWords } from '../run/conditions.js'
import { formatSize } from '../storage/memory.js'
import {
  type LabeledRun,
  type LabeledSweep,
  PHASE_LABELS,
  avgNsRange,
  decompositionChoice,
  megaRows,
  probeOverheads,
  profileChoice,
  protocolSentence,
  runWarnings,
  seriesName,
  studyVsMeasured,
  summaryRows,
  tierNotes,
} from './data.js'
import { runVerification, verificationBanner } from './verification.js'

const num = (x: number, d = 1) => x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d })
/** A Markdown table cell: pipes escaped, newlines folded (also used by study.md). */
export const cell = (s: string) => s.replaceAll('|', '\\|').replaceAll('\n', ' ')
const mdTable = (head: string[], rows: string[][]) =>
  [`| ${head.map(cell).join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)].join('\n')

/** The report's key tables as Markdown, e.g. for a CI job summary. */
export function renderMarkdown(runs: readonly LabeledRun[], sweeps: readonly LabeledSweep[]): string {
  const out: string[] = ['# megabench report', '']
  const banner = verificationBanner(runs)
  if (banner !== null) out.push(`> **VERIFICATION FAILED**: ${banner.join(' · ')}. Failed blocks feed no chart and count for no throughput.`, '')
  for (const w of runWarnings(runs)) {
    out.push(`> ⚠ **${w.label} differs from ${w.reference}** besides what is compared: ${w.differences.map(describeDifference).join('; ')}.`, '')
  }
  const rows = summaryRows(runs)
  if (rows.length > 0) {
    out.push('## Summary', '')
    out.push(
      mdTable(
        ['engine/mode', 'EVM', 'verified', 'tx/s', 'Mgas/s', 'block processing', ...PHASES.map((p) => `${PHASE_LABELS[p]} ms`)],
        rows.map((r) => [
          r.series,
          r.evm,
          `${r.verified}/${r.blocks}`,
          r.txPerSec ?? 'no data: no verified block',
          r.mgasPerSec ?? '–',
          r.processingMs ?? '–',
          ...(r.phases === null ? PHASES.map(() => '–') : r.phases.map((p) => num(p.ms, 0))),
        ]),
      ),
      '',
    )
    for (const r of runs) out.push(`Protocol${runs.length > 1 ? ` (${r.label})` : ''}: ${protocolSentence(r.result)}.`, '')
    for (const t of tierNotes(runs)) out.push(`${t}.`, '')
    out.push('### Verification', '')
    for (const v of runVerification(runs)) {
      for (const e of v.engines) {
        out.push(`- **${e.series}**: ${e.verified}/${e.blocks} blocks verified`)
        for (const s of e.sentences) out.push(`  - ${s}`)
      }
      if (v.differential !== null) out.push(`- ${runs.length > 1 ? `${v.label}: ` : ''}${v.differential}`)
    }
    out.push('')
  }
  const dec = decompositionChoice(runs)
  if (!('none' in dec)) {
    const d = dec.run.result.decomposition!
    out.push(
      `Live vs historical (${dec.run.label}): live ${timeRatioWords(d.slowdown, 'historical')} = merkleization ${num(d.merkleizationFactor, 2)}x × persistence ${num(d.persistenceFactor, 2)}x` +
        `${dec.besides.length > 0 ? ` (⚠ they differ besides the mode: ${dec.besides.join('; ')})` : ''} (the study's Reth values: 14x = 9.3x × 1.5x).`,
      '',
    )
  }
  const mega = megaRows(runs)
  if (mega.length > 0) {
    out.push('## Mega engine', '')
    const diff = mega.find((m) => m.differential !== null)?.differential
    if (diff !== undefined && diff !== null) out.push(`Differential: ${diff}.`, '')
    out.push(
      mdTable(
        ['engine', 'EVM', 'tx/s', '× baseline', 'differs besides the engine', 'fast EVM execution × vs @ethereumjs', 'parallel accepted', 'BucketTree key updates/s', 'MPT key updates/s', 'MPT LMDB reads / key'],
        mega.map((m) => [
          m.series,
          m.evm,
          num(m.txPerSec, 0),
          m.vsBaseline === null ? '–' : `${num(m.vsBaseline, 2)}x`,
          m.besides.length > 0 ? `⚠ ${m.besides.join('; ')}` : '',
          m.evmExecutionSpeedup === null ? '–' : `${num(m.evmExecutionSpeedup, 2)}x${m.evmBesides.length > 0 ? ` (⚠ ${m.evmBesides.join('; ')})` : ''}`,
          m.acceptedShare === null ? 'in order' : `${num(m.acceptedShare * 100)}%`,
          num(m.keyUpdatesPerSec, 0),
          m.mptKeyUpdatesPerSec === null ? '–' : num(m.mptKeyUpdatesPerSec, 0),
          m.mptLmdbReadsPerKey === null ? '–' : num(m.mptLmdbReadsPerKey, 2),
        ]),
      ),
      '',
    )
  }
  const overheads = probeOverheads(runs)
  const prof = profileChoice(runs)
  if (!('none' in prof) && prof.engine.opcodes) {
    const passes = prof.engine.opcodes.passes
    out.push(`## Top 15 opcodes (${seriesName(runs, prof.run, prof.engine)})`, '')
    if (overheads.length > 0) out.push(`Opcode-probe overhead: ${overheads.join('; ')}.`, '')
    out.push(
      mdTable(
        ['#', 'opcode', 'category', 'count', 'total ms', '% time', 'cumulative %', (passes ?? 1) > 1 ? `avg ns (range over ${passes} passes)` : 'avg ns'],
        prof.engine.opcodes.rows.slice(0, 15).map((r, i) => {
          const range = avgNsRange(r, passes)
          return [
            String(i + 1),
            r.name,
            r.category,
            r.count.toLocaleString('en-US'),
            num(r.totalNs / 1e6, 2),
            num(r.pctTime),
            num(r.cumulativePct),
            range === null ? num(r.avgNs, 0) : `${num(r.avgNs, 0)} (${num(range[0], 0)}–${num(range[1], 0)})`,
          ]
        }),
      ),
      '',
    )
  } else if ('none' in prof && !prof.none.startsWith('no opcode profile')) {
    out.push('## Opcodes', '', `No data: ${prof.none}.`, '')
  }
  for (const s of sweeps) {
    out.push(`## Memory sweep (${s.label}, ${s.result.config.mode} sync, working set ${formatSize(s.result.workingSetBytes)})`, '')
    out.push(
      mdTable(
        ['memory', 'verified', 'total ms', 'execution ms', 'miss penalty ms', 'merkleization ms', 'write ms', 'tx/s', 'L1 miss', 'L2 miss', 'mean penalty'],
        s.result.points.map((p) => [
          formatSize(p.memoryBytes),
          p.runs.every((x) => x.verified) ? 'yes' : `NO (${p.runs.filter((x) => !x.verified).length} of ${p.runs.length} runs)`,
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
      ['#', 'figure', "the study's value (Reth)", 'measured here', 'measured on / how to measure', "conditions (ours vs the study's)"],
      studyVsMeasured(runs, sweeps).map((s) => [String(s.id), s.figure, s.study, s.measured ?? '—', s.measuredOn, s.conditions.join('; ')]),
    ),
    '',
  )
  return out.join('\n')
}
