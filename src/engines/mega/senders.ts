import { Worker } from 'node:worker_threads'
import { join } from 'node:path'

import { Capability, type TypedTransaction } from '@ethereumjs/tx'
import { Address, bigIntToUnpaddedBytes, bytesToHex } from '@ethereumjs/util'

import { PACKAGE_ROOT } from '../../util/paths.js'
import { setSender } from '../senders.js'

const SECP256K1_N_DIV_2 = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n

type Pending = { resolve: (addresses: Uint8Array[]) => void; reject: (e: unknown) => void }

/**
 * The mega engine's sender-recovery stage: a pool of worker threads recovering public keys with
 * libsecp256k1, so that recovery runs on other cores, ahead of execution. Each sender is handed to
 * its transaction with `setSender` (transactions must be decoded unfrozen).
 */
export class SenderPool {
  private readonly workers: Worker[]
  private readonly pending = new Map<number, Pending>()
  private nextId = 0
  private nextWorker = 0

  constructor(size: number) {
    const script = join(PACKAGE_ROOT, 'dist', 'engines', 'mega', 'senderWorker.js')
    this.workers = Array.from({ length: Math.max(1, size) }, () => {
      const w = new Worker(script)
      w.on('message', (m: { id: number; addresses: Uint8Array[] }) => {
        const p = this.pending.get(m.id)
        this.pending.delete(m.id)
        p?.resolve(m.addresses)
      })
      w.on('error', (e) => {
        for (const p of this.pending.values()) p.reject(e)
        this.pending.clear()
      })
      return w
    })
  }

  get size(): number {
    return this.workers.length
  }

  /** Resolves when every worker has started and answered once (setup, before anything is timed). */
  async warm(): Promise<void> {
    await Promise.all(this.workers.map(() => this.send([])))
  }

  /**
   * Recovers the senders of `txs` on the workers and sets them on the transactions. Rejects with the
   * index of the first transaction whose signature is invalid.
   */
  async recover(txs: readonly TypedTransaction[]): Promise<void> {
    if (txs.length === 0) return
    const items = txs.map((tx) => {
      const v = tx.v!
      const recovery = v === 0n || v === 1n ? v : tx.supports(Capability.EIP155ReplayProtection) ? v - (tx.common.chainId() * 2n + 35n) : v - 27n
      if (tx.common.gteHardfork('homestead') && tx.s! > SECP256K1_N_DIV_2) {
        throw new Error(`invalid signature of transaction ${bytesToHex(tx.hash())}: s-values greater than secp256k1n/2 are invalid`)
      }
      return { hash: tx.getMessageToVerifySignature(), recovery: Number(recovery), r: bigIntToUnpaddedBytes(tx.r!), s: bigIntToUnpaddedBytes(tx.s!) }
    })
    const per = Math.ceil(items.length / this.workers.length)
    const jobs: Promise<Uint8Array[]>[] = []
    for (let i = 0; i < items.length; i += per) jobs.push(this.send(items.slice(i, i + per)))
    const addresses = (await Promise.all(jobs)).flat()
    txs.forEach((tx, i) => {
      const a = addresses[i]!
      if (a.length !== 20) throw new Error(`invalid signature of transaction ${i}: no sender can be recovered`)
      setSender(tx, new Address(a))
    })
  }

  private send(items: { hash: Uint8Array; recovery: number; r: Uint8Array; s: Uint8Array }[]): Promise<Uint8Array[]> {
    const id = this.nextId++
    const worker = this.workers[this.nextWorker++ % this.workers.length]!
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject })
      worker.postMessage({ id, items })
    })
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()))
  }
}

export { setSender } from '../senders.js'
