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
  /** EIP-7685 requests hash (Prague and later); undefined before Prague. */
  requestsHash?: Uint8Array | undefined
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
  if (expected.requestsHash !== undefined || computed.requestsHash !== undefined) {
    const hex = (b: Uint8Array | undefined) => (b === undefined ? '(none)' : bytesToHex(b))
    if (expected.requestsHash === undefined || computed.requestsHash === undefined || !equalsBytes(expected.requestsHash, computed.requestsHash)) {
      out.push({ field: 'requestsHash', expected: hex(expected.requestsHash), actual: hex(computed.requestsHash) })
    }
  }
  return out
}

/**
 * A source's expected values must be the header's own: a disagreement means the fixture is
 * inconsistent, reported as a mismatch of `expected.<field>` (expected = header, actual = file).
 */
export function checkExpectedAgainstHeader(expected: ExpectedResult, header: BlockHeader): FieldMismatch[] {
  // A source that records no requests hash is not wrong about it (older fetches): only a recorded one is compared.
  return verifyComputed(
    {
      stateRoot: header.stateRoot,
      receiptsRoot: header.receiptTrie,
      logsBloom: header.logsBloom,
      gasUsed: header.gasUsed,
      txCount: expected.txCount,
      requestsHash: expected.requestsHash === undefined ? undefined : header.requestsHash,
    },
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
  'requestsHash',
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
  recordRequestsHash(rec, expected, computed, header)
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

/**
 * EIP-7685 (Prague and later): the hash of the requests the block produced (deposit logs, the EIP-7002 and
 * EIP-7251 system calls' return data) against the source's expected value, or the header's when the source
 * records none. Before Prague there are no requests: skipped, with a note.
 */
export function recordRequestsHash(rec: CheckRecorder, expected: ExpectedResult, computed: ComputedResult, header: BlockHeader): void {
  if (computed.requestsHash === undefined) {
    rec.skip('requestsHash', 'before Prague: no EIP-7685 execution-layer requests')
    return
  }
  const want = expected.requestsHash ?? header.requestsHash
  if (want === undefined) rec.fail('requestsHash', { expected: '(none: the header has no requestsHash)', actual: bytesToHex(computed.requestsHash) })
  else rec.compareBytes('requestsHash', want, computed.requestsHash, 'sha256 commitment to the deposit logs and the EIP-7002/7251 system calls\' return data')
}

/**
 * Whether a block's failures involve what execution computed: a mismatch of a field whose expected value
 * the source got wrong (the same field failed `fileMatchesHeader`: the file disagrees with the header)
 * says nothing about execution.
 */
export function executionFailed(mismatches: readonly FieldMismatch[]): boolean {
  const base = (f: string) => f.split(' ')[0]!
  const fileWrong = new Set(mismatches.filter((m) => m.field.startsWith('expected.')).map((m) => base(m.field.slice('expected.'.length))))
  return mismatches.some((m) => !m.field.startsWith('expected.') && !fileWrong.has(base(m.field)))
}

/**
 * Accounts the witness holds no path to that the block read as absent (see UnprovenAccounts): named on
 * the state-root check, which (with the other header checks) is what proves the block right anyway.
 */
export function noteUnproven(rec: CheckRecorder, all: readonly (string | undefined)[]): void {
  // One account may be read, then deleted (a touched empty account): counted once, by its trie key.
  const byKey = new Map<string, string | undefined>()
  for (const r of all) byKey.set(/trie key (0x[0-9a-f]{64})/.exec(r ?? '')?.[1] ?? r ?? '', r)
  const readings = [...byKey.values()]
  if (readings.length === 0) return
  const text = `${readings.length} account${readings.length === 1 ? '' : 's'} the witness holds no path to read as absent (${readings[0] ?? 'an account'}${readings.length > 1 ? ', …' : ''})`
  const c = rec.checks.stateRoot
  if (c === undefined) return
  if (c.status === 'skipped') c.note = `${c.note ?? ''}; ${text}: proven by the next root checked`
  else c.method = `${c.method ?? ''}; ${text}: proven by this root`
}

/** A state root compared with the header's (`method` says how and when it was computed). */
export function recordStateRoot(rec: CheckRecorder, expected: Uint8Array, actual: Uint8Array, method: string, field = 'stateRoot'): void {
  rec.compareBytes('stateRoot', expected, actual, method, field)
}
