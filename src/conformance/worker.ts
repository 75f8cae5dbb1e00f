/** A conformance worker thread: runs one test unit at a time (see pool.ts). */
import { readlinkSync } from 'node:fs'
import { parentPort } from 'node:worker_threads'

import { initKeccak } from '../util/keccak.js'
import type { Unit, UnitResult, WorkerReady } from './pool.js'
import { safeRunBlockchainTest } from './runTest.js'
import type { BlockchainTest } from './types.js'

const port = parentPort
if (port === null) throw new Error('conformance worker: not started as a worker thread')
await initKeccak()
port.on('message', (unit: Unit) => {
  const started = performance.now()
  void safeRunBlockchainTest(JSON.parse(unit.test) as BlockchainTest, unit.evm).then((outcome) => {
    const result: UnitResult = { id: unit.id, outcome, ms: performance.now() - started }
    port.postMessage(result)
  })
})
/** This thread's /proc stat file (Linux), for the pool's CPU-time limit. */
function threadStat(): string | undefined {
  try {
    return `/proc/${readlinkSync('/proc/thread-self')}/stat`
  } catch {
    return undefined
  }
}
const ready: WorkerReady = { ready: true, stat: threadStat() }
port.postMessage(ready)
