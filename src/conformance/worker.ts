/** A conformance worker thread: runs one test unit at a time (see pool.ts). */
import { readlinkSync } from 'node:fs'
import { parentPort } from 'node:worker_threads'

import { initKeccak } from '../util/keccak.js'
import { type Unit, type UnitResult, type WorkerReady, threadCpuMs } from './pool.js'
import { safeRunBlockchainTest } from './runTest.js'
import type { BlockchainTest } from './types.js'

const port = parentPort
if (port === null) throw new Error('conformance worker: not started as a worker thread')
await initKeccak()
/** This thread's /proc stat file (Linux), for the pool's CPU-time limit. */
function threadStat(): string | undefined {
  try {
    return `/proc/${readlinkSync('/proc/thread-self')}/stat`
  } catch {
    return undefined
  }
}
const stat = threadStat()
port.on('message', (unit: Unit) => {
  const started = performance.now()
  const cpu0 = stat === undefined ? undefined : threadCpuMs(stat)
  void safeRunBlockchainTest(JSON.parse(unit.test) as BlockchainTest, unit.evm, unit.tier).then((outcome) => {
    const cpu1 = stat === undefined ? undefined : threadCpuMs(stat)
    const result: UnitResult = { id: unit.id, outcome, ms: performance.now() - started, cpuMs: cpu0 === undefined || cpu1 === undefined ? undefined : cpu1 - cpu0 }
    port.postMessage(result)
  })
})
const ready: WorkerReady = { ready: true, stat }
port.postMessage(ready)
