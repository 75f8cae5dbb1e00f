import type { TypedTransaction } from '@ethereumjs/tx'
import { Address, equalsBytes } from '@ethereumjs/util'

import type { CheckRecorder } from './verify.js'

/**
 * Where transaction senders come from, the same for every engine of a run (ratios compare like with like):
 * `recover` (default) recovers every sender from its signature, as a client does; `cache` takes them from
 * the source's sender cache (generated chains carry one), as a pipeline that recovered them earlier would.
 */
export type SenderSource = 'recover' | 'cache'

/**
 * Hands a transaction its sender (from the recovery stage or a chain's sender cache) so that
 * execution does not recover it again: an own `getSenderAddress` on an unfrozen transaction.
 */
export function setSender(tx: TypedTransaction, sender: Address): void {
  if (Object.isFrozen(tx)) throw new Error('setSender needs a transaction decoded with freeze: false')
  ;(tx as { getSenderAddress: () => Address }).getSenderAddress = () => sender
}

/** Sets the cached senders on unfrozen transactions; false when the cache does not cover them. */
export function useCachedSenders(txs: readonly TypedTransaction[], cached: Uint8Array | undefined): boolean {
  if (cached === undefined || cached.length !== txs.length * 20) return false
  for (let i = 0; i < txs.length; i++) setSender(txs[i]!, new Address(cached.slice(i * 20, i * 20 + 20)))
  return true
}

/**
 * Records the `senders` check: recovered senders (compared with the source's cache when it has one), or
 * the note that they were taken from the cache unverified (their effects are still proven by the header checks).
 */
export function recordSenders(rec: CheckRecorder, source: SenderSource, txs: readonly TypedTransaction[], cached: Uint8Array | undefined, how: string): void {
  if (source === 'cache') {
    rec.skip('senders', "taken from the source's sender cache (--senders cache), not recovered; the header checks prove their effects")
    return
  }
  if (cached === undefined) {
    rec.pass('senders', how)
    return
  }
  const ok = cached.length === txs.length * 20 && txs.every((tx, i) => equalsBytes(tx.getSenderAddress().bytes, cached.subarray(i * 20, i * 20 + 20)))
  if (ok) rec.pass('senders', `${how}; the source's sender cache agrees`)
  else rec.fail('senders', { expected: `${txs.length} recovered senders`, actual: `a cache of ${cached.length / 20} that differs` }, how)
}
