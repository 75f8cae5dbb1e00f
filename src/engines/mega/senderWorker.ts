/**
 * Worker of the mega engine's sender-recovery stage: receives batches of (message hash, recovery id,
 * r, s) and answers with 20-byte sender addresses (empty for an invalid signature), recovering
 * public keys with libsecp256k1 and hashing them here too.
 */
import { parentPort } from 'node:worker_threads'

import { publicKeyRecover } from '../../chain/crypto.js'
import { initKeccak, keccak256 } from '../../util/keccak.js'

type Job = { id: number; items: { hash: Uint8Array; recovery: number; r: Uint8Array; s: Uint8Array }[] }

await initKeccak()
parentPort!.on('message', (job: Job) => {
  const addresses = job.items.map((it) => {
    try {
      return keccak256(publicKeyRecover(it.hash, it.recovery, it.r, it.s)).slice(12)
    } catch {
      return new Uint8Array(0)
    }
  })
  parentPort!.postMessage({ id: job.id, addresses })
})
