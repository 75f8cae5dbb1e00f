import type { BlockHeader } from '@ethereumjs/block'
import { bytesToHex, equalsBytes } from '@ethereumjs/util'

import type { ExpectedResult } from '../types.js'

/** One field a block did not reproduce. Values are 0x-hex (roots, bloom) or decimal (gas, counts). */
export type FieldMismatch = { field: string; expected: string; actual: string }

/** What an engine computed for a block (no stateRoot: deferred, not compared). */
export type ComputedResult = {
  stateRoot: Uint8Array | undefined
  receiptsRoot: Uint8Array
  logsBloom: Uint8Array
  gasUsed: bigint
  txCount: number
}

/** Compares what execution computed with what the block must produce. Empty = verified. */
export function verifyComputed(expected: ExpectedResult, computed: ComputedResult): FieldMismatch[] {
  const out: FieldMismatch[] = []
  const bytes = (field: string, e: Uint8Array, a: Uint8Array) => {
    if (!equalsBytes(e, a)) out.push({ field, expected: bytesToHex(e), actual: bytesToHex(a) })
  }
  if (computed.stateRoot !== undefined) bytes('stateRoot', expected.stateRoot, computed.stateRoot)
  bytes('receiptsRoot', expected.receiptsRoot, computed.receiptsRoot)
  bytes('logsBloom', expected.logsBloom, computed.logsBloom)
  if (expected.gasUsed !== computed.gasUsed) {
    out.push({ field: 'gasUsed', expected: expected.gasUsed.toString(), actual: computed.gasUsed.toString() })
  }
  if (expected.txCount !== computed.txCount) {
    out.push({ field: 'txCount', expected: String(expected.txCount), actual: String(computed.txCount) })
  }
  return out
}

/**
 * A source's expected values must be the header's own: a disagreement means the fixture is
 * inconsistent, reported as a mismatch of `expected.<field>` (expected = header, actual = file).
 */
export function checkExpectedAgainstHeader(expected: ExpectedResult, header: BlockHeader): FieldMismatch[] {
  return verifyComputed(
    { stateRoot: header.stateRoot, receiptsRoot: header.receiptTrie, logsBloom: header.logsBloom, gasUsed: header.gasUsed, txCount: expected.txCount },
    { ...expected },
  ).map((m) => ({ ...m, field: `expected.${m.field}` }))
}

/**
 * Verification as data: every check an engine or the run makes on a block, with its outcome. A block is
 * verified when no check failed; what was not checked says why (`note`), so that every sentence a
 * summary or report makes about verification is built from this record.
 */
export type CheckStatus = 'pass' | 'fail' | 'skipped'
export type Check = {
  status: CheckStatus
  method?: string | undefined
  note?: string | undefined
  /** On failure: the field as printed (e.g. `stateRoot (batch 1…10)`), and the values. */
  field?: string | undefined
  expected?: string | undefined
  actual?: string | undefined
}
export type Checks = Record<string, Check>

/** The names of the checks megabench makes, in the order summaries list them. */
export const CHECK_NAMES = [
  'gasUsed',
  'receiptsRoot',
  'logsBloom',
  'txCount',
  'perTxRoots',
  'stateRoot',
  'fileMatchesHeader',
  'senders',
  'diffVsBaseline',
] as const
export type CheckName = (typeof CHECK_NAMES)[number]

/** Collects a block's checks; its failures are the block's mismatches. */
export class CheckRecorder {
  readonly checks: Checks = {}
  private readonly failures: FieldMismatch[] = []

  pass(name: string, method?: string): void {
    this.checks[name] = { status: 'pass', ...(method === undefined ? {} : { method }) }
  }

  fail(name: string, m: { field?: string; expected: string; actual: string }, method?: string): void {
    const field = m.field ?? name
    const prior = this.checks[name]
    // Several failures of one check (e.g. two header fields of the file) are kept together.
    this.checks[name] =
      prior?.status === 'fail'
        ? { ...prior, field: `${prior.field ?? name}; ${field}`, expected: `${prior.expected}; ${m.expected}`, actual: `${prior.actual}; ${m.actual}` }
        : { status: 'fail', field, expected: m.expected, actual: m.actual, ...(method === undefined ? {} : { method }) }
    this.failures.push({ field, expected: m.expected, actual: m.actual })
  }

  skip(name: string, note: string): void {
    this.checks[name] = { status: 'skipped', note }
  }

  /** Records a byte comparison. */
  compareBytes(name: string, expected: Uint8Array, actual: Uint8Array, method?: string, field?: string): void {
    if (equalsBytes(expected, actual)) this.pass(name, method)
    else this.fail(name, { field, expected: bytesToHex(expected), actual: bytesToHex(actual) }, method)
  }

  get mismatches(): FieldMismatch[] {
    return this.failures
  }
}

/**
 * The header checks of a block: gas used, receipts root, logs bloom and transaction count against the
 * expected values; the per-transaction state roots of pre-Byzantium receipts (proven by the receipts
 * root); and the source's expected values against the header itself. The state root is the engine's to
 * record (it knows how and when it computed one).
 */
export function recordHeaderChecks(rec: CheckRecorder, expected: ExpectedResult, computed: ComputedResult, header: BlockHeader, preByzantium: boolean): void {
  rec.compareBytes('receiptsRoot', expected.receiptsRoot, computed.receiptsRoot)
  rec.compareBytes('logsBloom', expected.logsBloom, computed.logsBloom)
  if (expected.gasUsed === computed.gasUsed) rec.pass('gasUsed')
  else rec.fail('gasUsed', { expected: expected.gasUsed.toString(), actual: computed.gasUsed.toString() })
  if (expected.txCount === computed.txCount) rec.pass('txCount')
  else rec.fail('txCount', { expected: String(expected.txCount), actual: String(computed.txCount) })
  if (!preByzantium) rec.skip('perTxRoots', 'Byzantium and later receipts carry a status code, not a state root')
  else {
    const r = rec.checks.receiptsRoot!
    if (r.status === 'pass') rec.pass('perTxRoots', 'proven by the receipts root: pre-Byzantium receipts carry the state root after each transaction')
    else rec.checks.perTxRoots = { status: 'fail', method: 'receipts root', note: 'the receipts root (which carries them) does not match' }
  }
  const file = checkExpectedAgainstHeader(expected, header)
  if (file.length === 0) rec.pass('fileMatchesHeader')
  else for (const m of file) rec.fail('fileMatchesHeader', m)
}

/** A state root compared with the header's (`method` says how and when it was computed). */
export function recordStateRoot(rec: CheckRecorder, expected: Uint8Array, actual: Uint8Array, method: string, field = 'stateRoot'): void {
  rec.compareBytes('stateRoot', expected, actual, method, field)
}
