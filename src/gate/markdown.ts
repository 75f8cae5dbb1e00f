import type { Verdict } from './gate.js'

const pct = (x: number | null) => (x === null ? '—' : `${x >= 0 ? '+' : ''}${(x * 100).toFixed(2)}%`)
const STATISTIC = {
  'trimmed-geomean': 'geometric mean of the per-block ratios current/baseline, 20% trimmed at each end',
  'median-ratio': 'median of the per-block ratios current/baseline',
  'ratio-of-sums': 'ratio of summed times',
} as const
const STATUS = { pass: 'PASS', regression: 'REGRESSION', 'insufficient-data': 'INSUFFICIENT DATA', inconclusive: 'INCONCLUSIVE' } as const

/** The verdict as Markdown (a CI job summary). */
export function verdictMarkdown(v: Verdict, maxRows = 30): string {
  const out: string[] = []
  out.push(`## megabench gate: ${STATUS[v.status]} (exit ${v.exitCode})`, '')
  const side = (s: Verdict['baseline']) => `${s.files.map((f) => `\`${f}\``).join(', ')}${s.gitCommit === null ? '' : ` (commit ${s.gitCommit.slice(0, 10)})`}`
  out.push(`- baseline: ${side(v.baseline)}`, `- current: ${side(v.current)}`, `- engine runs: ${v.engines.join(', ')}`)
  const runs = (n: number) => (n === 0 ? 'a counters file' : `${n} run${n === 1 ? '' : 's'}`)
  for (const s of v.sources) out.push(`- source: ${s.name}, ${s.blocks} blocks; baseline: ${runs(s.runs.baseline)}, current: ${runs(s.runs.current)}`)
  if (v.status === 'inconclusive') out.push('- **inconclusive**: an interval straddles the floor, the data cannot tell a change from noise (exit 3): add runs (`compare --repeat`), blocks, or a quieter machine')
  for (const n of v.notes) out.push(`- note: ${n}`)
  out.push('')
  const sides = [['baseline', v.verification.baseline], ['current', v.verification.current]] as const
  if (sides.some(([, x]) => x.length > 0)) {
    out.push('### Verification', '', "Built from each side's first run's per-block check records.", '')
    for (const [name, list] of sides) {
      for (const e of list) out.push(`- ${name} ${e.engine}: ${e.verified}/${e.blocks} blocks verified; ${e.checks.join('; ')}`)
      if (list.length === 0) out.push(`- ${name}: a counters file (its check counters are compared under Counters)`)
    }
    out.push('')
  }
  if (v.counters.enabled) {
    const c = v.counters
    out.push(`### Counters`, '', `${c.compared} counters compared${c.ignored > 0 ? ` (${c.ignored} ignored by the policy)` : ''}: ${c.changed.length === 0 ? 'all identical (within tolerance)' : `**${c.changed.length} changed**`}.`, '')
    if (c.changed.length > 0) {
      out.push('| engine | block | counter | baseline | current | tolerance |', '|---|---|---|---:|---:|---:|')
      for (const x of c.changed.slice(0, maxRows)) {
        out.push(`| ${x.engine} | ${x.block ?? 'run'} | ${x.metric} | ${x.baseline ?? 'missing'} | ${x.current ?? 'missing'} | ${x.tolerance === 0 ? 'exact' : pct(x.tolerance).slice(1)} |`)
      }
      if (c.changed.length > maxRows) out.push('', `… and ${c.changed.length - maxRows} more (see the JSON verdict).`)
      out.push('')
    }
  }
  if (v.timings.length > 0) {
    const t = v.policy.timings
    out.push(
      '### Timings',
      '',
      `Per block, paired by block; each side's runs per block: ${t.runs === 'mean' ? 'geometric mean' : 'median'}; statistic: ${STATISTIC[t.statistic]}; ${Math.round(t.confidence * 100)}% interval of a two-stage bootstrap (runs resampled per side, then blocks; ${t.resamples} resamples, seed "${t.seed}"). A change is called only when the whole interval clears the floor.`,
      '',
      '| engine | metric | runs (baseline/current) | blocks (excluded) | baseline ms | current ms | change | interval | floor | call |',
      '|---|---|---:|---:|---:|---:|---:|---|---:|---|',
    )
    for (const x of v.timings) {
      const ci = x.lo === null || x.hi === null ? '—' : `[${pct(x.lo)}, ${pct(x.hi)}]`
      const call = x.call === 'regression' ? '**regression**' : x.call === 'insufficient-data' ? `**insufficient data** (${x.reason ?? ''})` : x.call === 'inconclusive' ? '**inconclusive**' : x.call
      out.push(`| ${x.engine} | ${x.metric} | ${x.runs.baseline}/${x.runs.current} | ${x.pairs} (${x.excluded}) | ${x.baselineMs.toFixed(1)} | ${x.currentMs.toFixed(1)} | ${pct(x.estimate)} | ${ci} | ${(x.floor * 100).toFixed(1)}% | ${call} |`)
    }
    out.push('')
  }
  return `${out.join('\n')}\n`
}
