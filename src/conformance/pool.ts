/**
 * Runs test units on worker threads: each worker takes the next unit (units come sorted by estimated
 * cost, largest first, so that the longest tests start early and the tail is short), one at a time.
 * A unit that runs past the time limit is stopped by terminating its worker (the fast EVM is
 * synchronous: nothing short of that interrupts it) and reported as `timeout`; a worker that dies
 * (out of memory, an uncaught error) fails its unit with the reason. A replacement worker is started
 * whenever one is lost and units remain.
 *
 * The limit is on the CPU time of the worker's thread where Linux says it (/proc/<pid>/task/<tid>/stat),
 * so that a busy machine does not turn slow passes into timeouts; elsewhere on wall time. A unit also
 * stops after five times the limit in wall time, whatever its CPU time.
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Worker } from 'node:worker_threads'

import { PACKAGE_ROOT } from '../util/paths.js'
import type { EvmTier } from '../evm/tiers.js'
import type { EvmKind, Outcome } from './types.js'

export type Unit = { id: number; evm: EvmKind; /** The test as JSON text. */ test: string; /** The fast EVM's tier (default DEFAULT_EVM_TIER). */ tier?: EvmTier | undefined }
/** `ms`: wall time; `cpuMs`: CPU time of the worker's thread (Linux), when known. */
export type UnitResult = { id: number; outcome: Outcome; ms: number; cpuMs?: number | undefined }
/** A worker's first message: the /proc stat file of its thread, if there is one. */
export type WorkerReady = { ready: true; stat: string | undefined }

export const WORKER_SCRIPT = join(PACKAGE_ROOT, 'dist', 'conformance', 'worker.js')

/** Heap limit per worker: a runaway test fails alone instead of taking the machine's memory. */
const WORKER_HEAP_MB = 4096
/** Linux's USER_HZ: the unit of utime/stime in /proc stat files. */
const CLOCK_TICKS_PER_S = 100
const CHECK_EVERY_MS = 200

/** CPU time (ms) a thread has used, from its /proc stat file; undefined if unreadable. */
export function threadCpuMs(stat: string): number | undefined {
  try {
    const text = readFileSync(stat, 'utf8')
    // "tid (comm) state ppid …": fields after the command name; utime and stime are fields 14 and 15.
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ')
    const ticks = Number(rest[11]) + Number(rest[12])
    return Number.isFinite(ticks) ? (ticks * 1000) / CLOCK_TICKS_PER_S : undefined
  } catch {
    return undefined
  }
}

export async function runOnWorkers(
  units: readonly Unit[],
  opts: { workers: number; timeoutMs: number | undefined; onResult: (r: UnitResult) => void },
): Promise<void> {
  if (!existsSync(WORKER_SCRIPT)) throw new Error(`${WORKER_SCRIPT} is missing: build megabench first (npm run build)`)
  if (units.length === 0) return
  let next = 0
  let running = 0
  /** Checks of the running units against the time limit, one per worker. */
  const checks = new Set<() => void>()
  const interval = opts.timeoutMs === undefined ? undefined : setInterval(() => checks.forEach((c) => c()), CHECK_EVERY_MS)
  try {
    await new Promise<void>((resolve, reject) => {
      const start = () => {
        if (next >= units.length) return
        running++
        const worker = new Worker(WORKER_SCRIPT, { resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB } })
        let current: { unit: Unit; started: number; cpu0: number | undefined } | undefined
        let stat: string | undefined
        let done = false
        let ready = false
        const retire = () => {
          if (done) return
          done = true
          running--
          checks.delete(check)
          void worker.terminate()
          start()
          if (running === 0) resolve()
        }
        const check = () => {
          const c = current
          const limit = opts.timeoutMs
          if (c === undefined || limit === undefined) return
          const wall = performance.now() - c.started
          const cpu = c.cpu0 === undefined || stat === undefined ? undefined : (threadCpuMs(stat) ?? c.cpu0) - c.cpu0
          if ((cpu ?? wall) <= limit && wall <= 5 * limit) return
          const reason = cpu !== undefined && cpu > limit ? `stopped after ${limit / 1000} s of CPU time (time limit)` : `stopped after ${(wall / 1000).toFixed(0)} s (time limit)`
          current = undefined
          opts.onResult({ id: c.unit.id, outcome: { status: 'timeout', reason }, ms: wall, cpuMs: cpu })
          retire()
        }
        const feed = () => {
          const unit = units[next]
          if (unit === undefined) return retire()
          next++
          current = { unit, started: performance.now(), cpu0: stat === undefined ? undefined : threadCpuMs(stat) }
          worker.postMessage(unit)
        }
        worker.on('message', (m: UnitResult | WorkerReady) => {
          if ('ready' in m) {
            ready = true
            stat = m.stat !== undefined && threadCpuMs(m.stat) !== undefined ? m.stat : undefined
            checks.add(check)
            return feed()
          }
          if (current === undefined || m.id !== current.unit.id) return
          current = undefined
          // A unit that finished between two checks but used more than the limit is a timeout too: the
          // outcome must not depend on where the check interval fell (a 0.3 s test and a 0.05 s limit).
          const limit = opts.timeoutMs
          const used = m.cpuMs ?? m.ms
          if (limit !== undefined && used > limit && m.outcome.status !== 'timeout') {
            opts.onResult({ ...m, outcome: { status: 'timeout', reason: `used ${(used / 1000).toFixed(2)} s of ${m.cpuMs !== undefined ? 'CPU ' : ''}time, over the ${limit / 1000} s limit (time limit)` } })
          } else {
            opts.onResult(m)
          }
          feed()
        })
        const lost = (why: string) => {
          if (done) return
          if (!ready) {
            done = true
            return reject(new Error(`conformance worker failed to start: ${why}`))
          }
          const c = current
          current = undefined
          if (c !== undefined) opts.onResult({ id: c.unit.id, outcome: { status: 'fail', reason: `crash: ${why}` }, ms: performance.now() - c.started })
          retire()
        }
        worker.on('error', (err) => lost(`worker error: ${err.message.split('\n')[0]}`))
        worker.on('exit', (code) => lost(`worker exited (code ${code})`))
      }
      const n = Math.max(1, Math.min(opts.workers, units.length))
      for (let i = 0; i < n; i++) start()
    })
  } finally {
    if (interval !== undefined) clearInterval(interval)
  }
}
