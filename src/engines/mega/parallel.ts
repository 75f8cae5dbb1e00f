import { join } from 'node:path'
import { Worker } from 'node:worker_threads'

import type { ChainRules, GenesisState, WitnessState } from '../../types.js'
import { PACKAGE_ROOT } from '../../util/paths.js'
import type { StateChange } from './megaState.js'

/** What a worker needs to build its replica and its VM. */
export type WorkerInit = {
  origin: string
  rules: ChainRules
  state: WitnessState | GenesisState
  first: { origin: string; number: bigint; timestamp: bigint; hardfork: string; chainId: bigint }
}

/** One block's share of transactions for one worker. */
export type BlockJob = {
  id: number
  origin: string
  number: bigint
  timestamp: bigint
  hardfork: string
  chainId: bigint
  blockRlp: Uint8Array
  /** 20 bytes per transaction: the senders, recovered once by the main thread's stage. */
  senders: Uint8Array
  ancestorHashes: [bigint, Uint8Array][]
  /** Indexes of the transactions this worker executes. */
  indexes: number[]
}

/** A transaction executed against the block's starting state, with what it read and wrote. */
export type TxOutcome =
  | {
      index: number
      ok: true
      /** Account keys and `account:slot` keys read (the coinbase's fee-credit read excluded). */
      reads: string[]
      /** The coinbase fee as a delta, or null if the transaction depends on the coinbase otherwise. */
      fee: bigint | null
      /** Final values of every key written (the coinbase's fee credit left out when `fee` is set). */
      changes: StateChange[]
      status: 0 | 1
      totalGasSpent: bigint
      blockGasSpent: bigint
      logs: [Uint8Array, Uint8Array[], Uint8Array][]
    }
  | { index: number; ok: false; error: string; reads: string[] }

export type WorkerMessage = { type: 'block'; job: BlockJob } | { type: 'apply'; changes: StateChange[] }

type Reply = { type: 'ready' } | { type: 'results'; id: number; outcomes: TxOutcome[] } | { type: 'failed'; message: string }

/**
 * The mega engine's parallel executor (main-thread side): `threads` workers, each with a replica of
 * the state. A block's transactions are dealt round-robin; each runs optimistically against the
 * block's starting state; the engine then validates them in block order (read sets against what
 * earlier transactions wrote) and runs the invalid ones again, in order, itself.
 */
export class ParallelExecutor {
  private readonly workers: Worker[]
  private readonly ready: Promise<void>
  private waiting = new Map<number, { resolve: (o: TxOutcome[]) => void; reject: (e: Error) => void }>()
  private nextId = 0
  private failure: Error | undefined

  constructor(threads: number, init: WorkerInit) {
    const script = join(PACKAGE_ROOT, 'dist', 'engines', 'mega', 'parallelWorker.js')
    const readies: Promise<void>[] = []
    this.workers = Array.from({ length: threads }, () => {
      const w = new Worker(script, { workerData: init })
      readies.push(
        new Promise<void>((resolve, reject) => {
          w.on('message', (m: Reply) => {
            if (m.type === 'ready') resolve()
            else if (m.type === 'results') {
              const p = this.waiting.get(m.id)
              this.waiting.delete(m.id)
              p?.resolve(m.outcomes)
            } else this.fail(new Error(`parallel worker: ${m.message}`), reject)
          })
          w.on('error', (e) => this.fail(e, reject))
          w.on('exit', (code) => {
            if (code !== 0) this.fail(new Error(`parallel worker exited with code ${code}`), reject)
          })
        }),
      )
      return w
    })
    this.ready = Promise.all(readies).then(() => undefined)
    this.ready.catch(() => {}) // surfaced by execute()
  }

  get threads(): number {
    return this.workers.length
  }

  /** Resolves when every worker has loaded its replica. */
  whenReady(): Promise<void> {
    return this.ready
  }

  /** Executes the block's transactions on the workers; outcomes by transaction index. */
  async execute(job: Omit<BlockJob, 'id' | 'indexes'>, txCount: number): Promise<TxOutcome[]> {
    await this.ready
    if (this.failure !== undefined) throw this.failure
    const shares: number[][] = this.workers.map(() => [])
    for (let i = 0; i < txCount; i++) shares[i % this.workers.length]!.push(i)
    const parts = await Promise.all(
      this.workers.map((w, k) => {
        if (shares[k]!.length === 0) return Promise.resolve([])
        const id = this.nextId++
        return new Promise<TxOutcome[]>((resolve, reject) => {
          this.waiting.set(id, { resolve, reject })
          w.postMessage({ type: 'block', job: { ...job, id, indexes: shares[k]! } } satisfies WorkerMessage)
        })
      }),
    )
    const out = new Array<TxOutcome>(txCount)
    for (const p of parts) for (const o of p) out[o.index] = o
    return out
  }

  /** Brings every replica to the main state after a block (the block's changes, final values). */
  apply(changes: StateChange[]): void {
    for (const w of this.workers) w.postMessage({ type: 'apply', changes } satisfies WorkerMessage)
  }

  async close(): Promise<void> {
    this.closed = true
    await Promise.all(this.workers.map((w) => w.terminate()))
  }

  private closed = false

  private fail(e: Error, reject: (e: Error) => void): void {
    if (this.closed) return
    this.failure ??= e
    reject(e)
    for (const p of this.waiting.values()) p.reject(e)
    this.waiting.clear()
  }
}
