import Table from 'cli-table3'

import type { Analyses } from './schema.js'

/** The study's values (docs: measurements.md rows 15, 16, 7), shown only in columns labelled as the study's. */
export const STUDY_ANALYSIS_VALUES = {
  parallelismMedian: 'median < 2 per block; 2.75 when several blocks are merged',
  erc20Mbps: 152.6,
  swapMbps: 476.1,
  jit: '≤ ~2x on the historical workload',
} as const

const plain = {
  style: { head: [] as string[], border: [] as string[] },
  chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
}
const f = (x: number | null | undefined, digits = 2) =>
  x === null || x === undefined || !Number.isFinite(x) ? '–' : x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })

/** The analyses as terminal text (plain tables, no colours). */
export function formatAnalyses(a: Analyses): string {
  const out: string[] = []
  if (a.accessPass !== null) {
    const p = a.accessPass
    out.push(`Access sets: ${p.workload}, ${p.blocks} verified blocks, ${p.txs} transactions (${p.engine} engine; ${p.note})`)
    if (p.unverified.length > 0) out.push(`  left out (did not verify): ${p.unverified.map((u) => `${u.origin}#${u.number}`).join(', ')}`)
  }
  if (a.parallelism !== null) {
    out.push('', 'Transaction parallelism (txs / critical path; gas / critical-path gas); study: ' + STUDY_ANALYSIS_VALUES.parallelismMedian)
    const cores = a.parallelism.summaries[0]?.speedup.map((s) => s.cores) ?? []
    const t = new Table({
      head: ['k blocks', 'coinbase fee', 'windows', 'parallelism p10 / median / p90', 'gas-weighted median', ...cores.map((c) => `${c} cores`)],
      ...plain,
      colAligns: ['right', 'left', 'right', 'right', 'right', ...cores.map(() => 'right' as const)],
    })
    for (const s of a.parallelism.summaries) {
      const d = s.parallelism
      t.push([
        s.k,
        s.treatment,
        s.windows,
        d === null ? 'no windows' : `${f(d.p10)} / ${f(d.median)} / ${f(d.p90)}`,
        f(s.gasParallelism?.median),
        ...s.speedup.map((x) => f(x.median)),
      ])
    }
    out.push(t.toString(), '  speedup: list-scheduling bound on n cores (gas-weighted), median over windows; k > 1 only where k consecutive blocks exist')
  }
  if (a.statediff !== null) {
    const s = a.statediff
    out.push('', `State-diff bandwidth at ${s.tps.toLocaleString('en-US')} tx/s (study: ERC20 transfers ${STUDY_ANALYSIS_VALUES.erc20Mbps} Mbps, Uniswap swaps ${STUDY_ANALYSIS_VALUES.swapMbps} Mbps)`)
    if (s.perTx.raw !== null) {
      out.push(
        `  per transaction, alone (megabench-diff-v1): median ${f(s.perTx.raw.median, 0)} B (p10 ${f(s.perTx.raw.p10, 0)}, p90 ${f(s.perTx.raw.p90, 0)}); keys median ${f(s.perTx.keys?.median, 0)} → model ${f(s.perTx.model?.median, 0)} B`,
      )
    }
    const t = new Table({
      head: ['k blocks', 'windows', 'B/tx raw', 'B/tx deflate', 'B/tx brotli', 'B/tx model (20 B/key)', 'Mbps raw', 'Mbps deflate', 'Mbps brotli', 'Mbps model'],
      ...plain,
      colAligns: Array(10).fill('right'),
    })
    for (const w of s.windows) {
      if (w.windows === 0) {
        t.push([w.k, '0 (no run of k consecutive blocks)', ...Array<string>(8).fill('–')])
        continue
      }
      const exp = (n: number) => (n > 0 ? ` (${n} expanded: sent raw)` : '')
      t.push([
        w.k,
        w.windows,
        f(w.bytesPerTx.raw, 1),
        f(w.bytesPerTx.deflate, 1) + exp(w.compressed.deflate.expanded),
        f(w.bytesPerTx.brotli, 1) + exp(w.compressed.brotli.expanded),
        f(w.bytesPerTx.model, 1),
        f(w.mbps.raw, 1),
        f(w.mbps.deflate, 1),
        f(w.mbps.brotli, 1),
        f(w.mbps.model, 1),
      ])
    }
    out.push(t.toString())
    out.push(`  compressors: deflate = ${s.compressors.deflate}; brotli = ${s.compressors.brotli} (zstd is not in Node 20's node:zlib)`)
    out.push(`  check: the probe's block diffs equal the engine's in ${s.check.matched} of ${s.check.compared} blocks${s.check.mismatched.length > 0 ? ` (differ: ${s.check.mismatched.join(', ')})` : ''}`)
  }
  if (a.jit !== null) {
    const j = a.jit
    out.push('', `JIT bound (Amdahl; study: ${STUDY_ANALYSIS_VALUES.jit}), from ${j.source}`)
    out.push(`  compilable categories: ${j.categories.join(', ')} (${j.opcodes.length} opcodes: ${j.opcodes.join(' ')})`)
    out.push(`  compilable share: ${f(j.shares.opcodes * 100, 1)}% of opcode time, ${f(j.shares.execution * 100, 1)}% of execution (${f(j.shares.executionAndInterpreter * 100, 1)}% with the interpreter loop)`)
    const t = new Table({ head: ['compilable part', 'over opcode time', 'over execution', 'over execution, interpreter loop too'], ...plain, colAligns: ['left', 'right', 'right', 'right'] })
    for (const b of j.bounds) t.push([b.label, `${f(b.opcodes)}x`, `${f(b.execution)}x`, `${f(b.executionAndInterpreter)}x`])
    out.push(t.toString())
  }
  if (a.bounds !== null) {
    const b = a.bounds
    out.push('', `Hardware ceilings (modelled) for ${b.machine.cores} cores, ${b.machine.iops.toLocaleString('en-US')} IOPS, ${b.machine.mbps} Mbps; ${b.note}`)
    out.push(`  measured: ${f(b.measured.cpuUsPerTx, 1)} µs CPU per tx (${b.measured.cpuSource}); ${f(b.measured.updatesPerTx)} updated keys per tx`)
    const t = new Table({ head: ['resource', 'tx/s ceiling (modelled)', 'arithmetic'], ...plain, colAligns: ['left', 'right', 'left'] })
    for (const c of b.ceilings) t.push([c.resource, f(c.tps, 0), c.arithmetic])
    out.push(t.toString())
    if (b.binding !== null) out.push(`  binds first: ${b.binding.resource} (${f(b.binding.tps, 0)} tx/s)`)
  }
  return out.join('\n')
}
