/**
 * Runs test units on worker threads: each worker takes the next unit (units come sorted by estimated
 * cost, largest first, so that the longest tests start early and the tail is short), one at a time.
 * A unit that runs past the time limit is stopped by terminating its worker (the fast EVM is
 * synchronous: nothing short of that interrupts it) and reported as `timeout`; a worker that dies
 * (out of memory, an uncaught error) fails its unit with the reason. A replacement worker is started
 * whenever one is lost and units remain.
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { Worker } from 'node:worker_threads'

import { PACKAGE_ROOT } from '../util/paths.js'
import type { EvmKind, Outcome } from './types.js'

export type Unit = { id: number; evm: EvmKind; /** The test as JSON text. */ test: string }
export type UnitResult = { id: number; outcome: Outcome; ms: number }

export const WORKER_SCRIPT = join(PACKAGE_ROOT, 'dist', 'conformance', 'worker.js')

/** Heap limit per worker: a runaway test fails alone instead of taking the machine's memory. */
const WORKER_HEAP_MB = 4096

export async function runOnWorkers(
  units: readonly Unit[],
  opts: { workers: number; timeoutMs: number | undefined; onResult: (r: UnitResult) => void },
): Promise<void> {
  if (!existsSync(WORKER_SCRIPT)) throw new Error(`${WORKER_SCRIPT} is missing: build megabench first (npm run build)`)
  let next = 0
  let running = 0
  return new Promise((resolve, reject) => {
    const start = () => {
      if (next >= units.length) return
      running++
      const worker = new Worker(WORKER_SCRIPT, { resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB } })
      let current: { unit: Unit; started: number } | undefined
      let done = false
      let ready = false
      let timer: NodeJS.Timeout | undefined
      const finish = (result: UnitResult | undefined, replace: boolean) => {
        if (timer !== undefined) clearTimeout(timer)
        current = undefined
        if (result !== undefined) opts.onResult(result)
        if (replace) {
          if (done) return
          done = true
          running--
          void worker.terminate()
          start()
          if (running === 0) resolve()
        }
      }
      const feed = () => {
        const unit = units[next]
        if (unit === undefined) {
          done = true
          running--
          void worker.terminate()
          if (running === 0) resolve()
          return
        }
        next++
        current = { unit, started: performance.now() }
        if (opts.timeoutMs !== undefined) {
          const limit = opts.timeoutMs
          timer = setTimeout(() => {
            if (current?.unit !== unit) return
            finish({ id: unit.id, outcome: { status: 'timeout', reason: `stopped after ${limit / 1000} s (time limit)` }, ms: performance.now() - current.started }, true)
          }, limit)
        }
        worker.postMessage(unit)
      }
      worker.on('message', (m: UnitResult | 'ready') => {
        if (m === 'ready') {
          ready = true
          return feed()
        }
        if (current === undefined || m.id !== current.unit.id) return
        finish(m, false)
        feed()
      })
      const lost = (why: string) => {
        if (done) return
        if (!ready) {
          done = true
          return reject(new Error(`conformance worker failed to start: ${why}`))
        }
        const c = current
        finish(c === undefined ? undefined : { id: c.unit.id, outcome: { status: 'fail', reason: `crash: ${why}` }, ms: performance.now() - c.started }, true)
      }
      worker.on('error', (err) => lost(`worker error: ${err.message.split('\n')[0]}`))
      worker.on('exit', (code) => lost(`worker exited (code ${code})`))
    }
    const n = Math.max(1, Math.min(opts.workers, units.length))
    if (units.length === 0) return resolve()
    for (let i = 0; i < n; i++) start()
  })
}
