import { Worker } from 'node:worker_threads'
import { join } from 'node:path'

import { Capability, type TypedTransaction } from '@ethereumjs/tx'
import { type Address, bigIntToUnpaddedBytes, bytesToHex } from '@ethereumjs/util'

import { PACKAGE_ROOT } from '../../util/paths.js'

const SECP256K1_N_DIV_2 = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n

type Pending = { resolve: (keys: Uint8Array[]) => void; reject: (e: unknown) => void }

/**
 * The mega engine's sender-recovery stage: a pool of worker threads recovering public keys with
 * libsecp256k1, so that recovery runs on other cores, ahead of execution. Results go into each
 * transaction's own cache (`tx.cache.senderPubKey`), where @ethereumjs/tx looks first.
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
      w.on('message', (m: { id: number; keys: Uint8Array[] }) => {
        const p = this.pending.get(m.id)
        this.pending.delete(m.id)
        p?.resolve(m.keys)
      })
      w.on('error', (e) => {
        for (const p of this.pending.values()) p.reject(e)
        this.pending.clear()
      })
      w.unref()
      return w
    })
  }

  get size(): number {
    return this.workers.length
  }

  /** Recovers the senders of `txs` on the workers and caches them on the transactions. */
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
    const keys = (await Promise.all(jobs)).flat()
    txs.forEach((tx, i) => {
      const key = keys[i]!
      if (key.length !== 64) throw new Error(`invalid signature of transaction ${i}`)
      ;(tx as unknown as { cache: { senderPubKey?: Uint8Array } }).cache.senderPubKey = key
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

/**
 * A transaction whose sender is already known (a chain directory's sender cache): the same object
 * but for `getSenderAddress`, so that execution does not recover it again. (Transactions are frozen:
 * a proxy is the only way to hand the address in.)
 */
export function withKnownSender<T extends TypedTransaction>(tx: T, sender: Address): T {
  return new Proxy(tx, {
    get(target, prop) {
      if (prop === 'getSenderAddress') return () => sender
      const v = Reflect.get(target, prop, target)
      return typeof v === 'function' ? v.bind(target) : v
    },
  })
}
