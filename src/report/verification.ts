import type { RunResult } from '../run/schema.js'
import { checkSentence, tallyChecks, verificationSentences } from '../run/verification.js'
import { type LabeledRun, seriesName } from './data.js'

/**
 * What the report says about verification, built from the per-block check records (run/verification.ts):
 * per engine run the checks made, how, and what was not checked and why; the red banner from the checks
 * that failed. Never a fixed sentence.
 */

export type EngineVerification = {
  series: string
  blocks: number
  verified: number
  /** One sentence per check (or group of plain checks), as the terminal summary prints them. */
  sentences: string[]
  /** The sentences of checks with a failure. */
  failures: string[]
}

export type RunVerification = {
  label: string
  engines: EngineVerification[]
  /** The state diffs of the mega engine against the baseline's (`--engine both`), or null when not compared. */
  differential: string | null
}

/** The differential in one sentence, from run.json's `differential` record. */
export function differentialSentence(r: RunResult): string | null {
  const d = r.differential
  if (d === null || d === undefined) return null
  const reasons = [...new Set(d.notCompared.map((n) => n.reason))]
  const missing = d.notCompared.length > 0 ? `; ${d.notCompared.length} not compared (${reasons.join('; ')})` : d.compared < d.expected ? `; ${d.expected - d.compared} not compared` : ''
  return d.mismatches === 0
    ? `state diffs vs the baseline: ${d.compared} of ${d.expected} compared (blocks × mega variants), all equal (every account field and slot)${missing}`
    : `state diffs vs the baseline: ${d.mismatches} of ${d.compared} compared DIFFER${missing}`
}

export function runVerification(runs: readonly LabeledRun[]): RunVerification[] {
  return runs.map((r) => ({
    label: r.label,
    engines: r.result.engines.map((e) => {
      return {
        series: seriesName(runs, r, e),
        blocks: e.blocks.length,
        verified: e.blocks.filter((b) => b.verified).length,
        sentences: verificationSentences(e),
        failures: tallyChecks(e)
          .filter((t) => t.fail > 0)
          .map((t) => checkSentence(t, e.blocks.length)),
      }
    }),
    differential: differentialSentence(r.result),
  }))
}

/**
 * The red banner's lines: every engine run with a block that did not verify or a check that failed, named
 * with the failing checks' sentences (null when everything verified).
 */
export function verificationBanner(runs: readonly LabeledRun[]): string[] | null {
  const lines: string[] = []
  for (const rv of runVerification(runs)) {
    for (const e of rv.engines) {
      if (e.verified === e.blocks && e.failures.length === 0) continue
      const head = `${e.series}: ${e.blocks - e.verified} of ${e.blocks} block${e.blocks === 1 ? '' : 's'} not verified`
      lines.push(e.failures.length > 0 ? `${head} (${e.failures.join('; ')})` : head)
    }
    const d = runs.find((r) => r.label === rv.label)?.result.differential
    if (d !== null && d !== undefined && d.mismatches > 0 && rv.differential !== null) lines.push(`${runs.length > 1 ? `${rv.label}: ` : ''}${rv.differential}`)
  }
  return lines.length > 0 ? lines : null
}
