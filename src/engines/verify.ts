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
