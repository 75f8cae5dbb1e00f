/**
 * Worker of the mega engine's sender-recovery stage: receives batches of (message hash, recovery id,
 * r, s) and answers with 64-byte public keys (empty for an invalid signature), on libsecp256k1.
 */
import { parentPort } from 'node:worker_threads'

import { publicKeyRecover } from '../baseline/crypto.js'

type Job = { id: number; items: { hash: Uint8Array; recovery: number; r: Uint8Array; s: Uint8Array }[] }

parentPort!.on('message', (job: Job) => {
  const keys = job.items.map((it) => {
    try {
      return publicKeyRecover(it.hash, it.recovery, it.r, it.s)
    } catch {
      return new Uint8Array(0)
    }
  })
  parentPort!.postMessage({ id: job.id, keys })
})
