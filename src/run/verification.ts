import { CHECK_NAMES } from '../engines/verify.js'
import type { EngineResult } from './schema.js'

/**
 * What a run's per-block check records add up to: for each engine run and check, how many blocks passed,
 * failed or were not checked, how the checks were made and why some were not. The summary, the report and
 * the gate build their sentences about verification from this, never from a fixed string.
 */
export type CheckTally = {
  check: string
  label: string
  pass: number
  fail: number
  skipped: number
  /** Distinct methods of the checks made, and notes of the checks not made. */
  methods: string[]
  notes: string[]
}

export const CHECK_LABELS: Record<string, string> = {
  gasUsed: 'gas used',
  receiptsRoot: 'receipts root',
  logsBloom: 'logs bloom',
  txCount: 'tx count',
  perTxRoots: 'per-transaction state roots',
  stateRoot: 'state root',
  requestsHash: 'requests hash',
  fileMatchesHeader: "the source's expected values = header",
  senders: 'senders',
  diffVsBaseline: 'state diff vs baseline',
}

/** Per check, in CHECK_NAMES order (then any other check the rows carry). */
export function tallyChecks(e: EngineResult): CheckTally[] {
  const byName = new Map<string, CheckTally>()
  for (const row of e.blocks) {
    for (const [name, c] of Object.entries(row.checks)) {
      let t = byName.get(name)
      if (t === undefined) byName.set(name, (t = { check: name, label: CHECK_LABELS[name] ?? name, pass: 0, fail: 0, skipped: 0, methods: [], notes: [] }))
      t[c.status === 'pass' ? 'pass' : c.status === 'fail' ? 'fail' : 'skipped']++
      if (c.status !== 'skipped' && c.method !== undefined && !t.methods.includes(c.method)) t.methods.push(c.method)
      if (c.status === 'skipped' && c.note !== undefined && !t.notes.includes(c.note)) t.notes.push(c.note)
    }
  }
  const order = (n: string) => {
    const i = (CHECK_NAMES as readonly string[]).indexOf(n)
    return i < 0 ? CHECK_NAMES.length : i
  }
  return [...byName.values()].sort((a, b) => order(a.check) - order(b.check))
}

/** One sentence per check: "state root 1/1 match (how); 9 blocks not checked (why)". */
export function checkSentence(t: CheckTally, blocks: number): string {
  const checked = t.pass + t.fail
  const missing = blocks - checked - t.skipped
  const tail = missing > 0 ? `; ${missing} block${missing === 1 ? '' : 's'} without a record` : ''
  if (checked === 0) return `${t.label}: not checked (${t.notes.join('; ')})${tail}`
  const head = `${t.label} ${t.pass}/${checked} ${t.fail === 0 ? 'match' : `match, ${t.fail} FAIL`}${t.methods.length > 0 ? ` (${t.methods.join('; ')})` : ''}`
  const skipped = t.skipped > 0 ? `; ${t.skipped} block${t.skipped === 1 ? '' : 's'} not checked: ${t.notes.join('; ')}` : ''
  return `${head}${skipped}${tail}`
}

/**
 * The verification sentences of one engine run: one per check, except that checks with the same counts and
 * nothing more to say ("gas used, receipts root, logs bloom, tx count 13/13 match") share one.
 */
export function verificationSentences(e: EngineResult): string[] {
  const out: string[] = []
  let group: CheckTally[] = []
  const plain = (t: CheckTally) => t.methods.length === 0 && t.notes.length === 0 && t.fail === 0
  const flush = () => {
    if (group.length > 0) out.push(checkSentence({ ...group[0]!, label: group.map((g) => g.label).join(', ') }, e.blocks.length))
    group = []
  }
  for (const t of tallyChecks(e)) {
    if (plain(t) && (group.length === 0 || (group[0]!.pass === t.pass && group[0]!.skipped === t.skipped))) group.push(t)
    else {
      flush()
      if (plain(t)) group.push(t)
      else out.push(checkSentence(t, e.blocks.length))
    }
  }
  flush()
  return out
}

/** True when every block of the engine run had its state root checked (the summary says which did not). */
export function stateRootCoverage(e: EngineResult): { checked: number; blocks: number } {
  const t = tallyChecks(e).find((x) => x.check === 'stateRoot')
  return { checked: t === undefined ? 0 : t.pass + t.fail, blocks: e.blocks.length }
}
