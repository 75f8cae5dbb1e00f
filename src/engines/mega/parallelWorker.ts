/**
 * A parallel-execution worker of the mega engine. It holds a replica of the mega state, executes the
 * transactions it is given, each against the state at the start of the block (after its system
 * calls), records what each one read and wrote, and reverts it. The main thread validates the read
 * sets in block order and sends every block's final changes back, so the replica stays in step.
 */
import { parentPort, workerData } from 'node:worker_threads'

import { createBlockFromRLP } from '@ethereumjs/block'
import type { Common, StateManagerInterface } from '@ethereumjs/common'
import { Address } from '@ethereumjs/util'
import { createVM, runTx } from '@ethereumjs/vm'

import { PhaseClock } from '../../probes/phases.js'
import { initKeccak } from '../../util/keccak.js'
import { AncestorChain } from '../../chain/ancestors.js'
import { ensurePrecompileCrypto } from '../../chain/crypto.js'
import { advanceNetworkCommon, blockDecodeCommon, createChainCommon, createNetworkCommon } from '../../chain/common.js'
import { BlockExecution } from '../baseline/executeBlock.js'
import { loadMegaState } from './load.js'
import { type MegaState, MegaStateManager, type StateChange } from './megaState.js'
import type { BlockJob, TxOutcome, WorkerInit, WorkerMessage } from './parallel.js'
import { setSender } from './senders.js'

/**
 * MegaStateManager that records the keys a transaction reads, and counts the coinbase accesses made by
 * EVM code (inside the top-level call): the fee credit and the end-of-transaction cleanup read it too,
 * outside the call, and those commute.
 */
class RecordingStateManager extends MegaStateManager {
  readonly reads = new Set<string>()
  coinbaseKey = ''
  coinbaseAccesses = 0
  inEvm = false

  private note(key: string, slot?: string): void {
    if (key === this.coinbaseKey) {
      if (this.inEvm) this.coinbaseAccesses++
      if (slot === undefined) return
    }
    this.reads.add(slot === undefined ? key : `${key}:${slot}`)
  }

  override async getAccount(address: Address) {
    this.note(this.state.accountKey(address.bytes))
    return super.getAccount(address)
  }

  override async putAccount(address: Address, account?: Parameters<MegaStateManager['putAccount']>[1]) {
    // A write carries the account's storage root over from its current value: a read of it.
    const key = this.state.accountKey(address.bytes)
    if (key !== this.coinbaseKey) this.reads.add(key)
    return super.putAccount(address, account)
  }

  override async getCode(address: Address) {
    this.note(this.state.accountKey(address.bytes))
    return super.getCode(address)
  }

  override async getCodeSize(address: Address) {
    this.note(this.state.accountKey(address.bytes))
    return super.getCodeSize(address)
  }

  override async getStorage(address: Address, key: Uint8Array) {
    this.note(this.state.accountKey(address.bytes), this.state.slotKey(key))
    return super.getStorage(address, key)
  }
}

const init = workerData as WorkerInit
await initKeccak()
const first = init.first
const common: Common =
  init.rules.kind === 'network'
    ? createNetworkCommon({ origin: first.origin, number: first.number, timestamp: first.timestamp, declaredHardfork: first.hardfork, chainId: first.chainId })
    : createChainCommon(init.rules.chainId, init.rules.hardfork, { origin: first.origin, block: first.number })
const { state } = await loadMegaState(init.origin, init.state, { mirror: false, slotIndex: init.state.kind === 'witness' || !common.gteHardfork('cancun') })
const sm = new RecordingStateManager(state)
const ancestors = new AncestorChain(new Map(), first.origin, first.number)
const vm = await createVM({ common, stateManager: sm as StateManagerInterface, blockchain: ancestors })
ensurePrecompileCrypto(vm.evm)
// Mark the top-level call (this worker's own EVM only): coinbase accesses inside it are EVM reads.
const runCall = vm.evm.runCall.bind(vm.evm)
vm.evm.runCall = async (opts) => {
  sm.inEvm = true
  try {
    return await runCall(opts)
  } finally {
    sm.inEvm = false
  }
}

async function executeJob(job: BlockJob): Promise<TxOutcome[]> {
  if (init.rules.kind === 'network') {
    advanceNetworkCommon(common, { origin: job.origin, number: job.number, timestamp: job.timestamp, declaredHardfork: job.hardfork, chainId: job.chainId })
  }
  ancestors.setBlock(new Map(job.ancestorHashes), job.origin, job.number)
  const block = createBlockFromRLP(job.blockRlp, { common: blockDecodeCommon(common), freeze: false })
  const txs = block.transactions
  for (let i = 0; i < txs.length; i++) setSender(txs[i]!, new Address(job.senders.slice(i * 20, i * 20 + 20)))
  sm.coinbaseKey = state.accountKey(block.header.coinbase.bytes)
  // The block's system calls (EIP-4788), inside a checkpoint that is reverted at the end.
  await BlockExecution.begin(vm, block, { clock: new PhaseClock() })
  state.resetTracking()
  const out: TxOutcome[] = []
  for (const index of job.indexes) {
    const tx = txs[index]!
    sm.reads.clear()
    sm.coinbaseAccesses = 0
    const before = state.accountFieldsByKey(sm.coinbaseKey) ?? null
    const mark = state.journal.length
    const sender = tx.getSenderAddress()
    // The coinbase as sender or recipient is read outside the call as well: such a transaction depends on it.
    const touchesCoinbase = sender.equals(block.header.coinbase) || (tx.to !== undefined && tx.to.equals(block.header.coinbase))
    try {
      const res = await runTx(vm, { tx, block, blockGasUsed: 0n })
      const changes = state.takeChanges()
      const after = state.accountFieldsByKey(sm.coinbaseKey) ?? null
      const fee = touchesCoinbase ? 'dependent' : classifyCoinbase(sm.coinbaseKey, before, after, changes, sm.coinbaseAccesses)
      out.push({
        index,
        ok: true,
        reads: [...sm.reads],
        fee: fee === 'dependent' ? null : fee,
        changes: fee === 'dependent' ? changes : changes.filter((c) => !(c.kind === 'account' && c.key === sm.coinbaseKey)),
        status: res.execResult.exceptionError === undefined ? 1 : 0,
        totalGasSpent: res.totalGasSpent,
        blockGasSpent: res.blockGasSpent,
        logs: (res.execResult.logs ?? []) as [Uint8Array, Uint8Array[], Uint8Array][],
      })
    } catch (err) {
      // Reads still tell whether the failure came from an earlier transaction's writes (a nonce, a balance).
      out.push({ index, ok: false, error: (err as Error).message, reads: [...sm.reads] })
    }
    state.undoTo(mark)
    state.resetTracking()
  }
  await vm.evm.journal.revert()
  state.resetTracking()
  return out
}

/**
 * The coinbase's fee credit commutes with other transactions when EVM code did not access the
 * coinbase and only its balance changed: then the fee is a delta the main thread adds in block
 * order. Anything else makes the transaction coinbase-dependent (run again in order on the main thread).
 */
function classifyCoinbase(
  key: string,
  before: ReturnType<MegaState['accountFieldsByKey']> | null,
  after: ReturnType<MegaState['accountFieldsByKey']> | null,
  changes: readonly StateChange[],
  accesses: number,
): bigint | 'dependent' {
  if (accesses > 0) return 'dependent'
  if (changes.some((c) => (c.kind === 'storage' || c.kind === 'wipe') && c.accountKey === key)) return 'dependent'
  if (after === null || after === undefined) return before === null || before === undefined ? 0n : 'dependent'
  if (before !== null && before !== undefined) {
    if (after.nonce !== before.nonce || !sameBytes(after.codeHash, before.codeHash)) return 'dependent'
    return after.balance - before.balance
  }
  return after.nonce === 0n ? after.balance : 'dependent'
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

// Messages are handled strictly one after another.
let queue: Promise<unknown> = Promise.resolve()
parentPort!.on('message', (m: WorkerMessage) => {
  queue = queue.then(async () => {
    try {
      if (m.type === 'block') parentPort!.postMessage({ type: 'results', id: m.job.id, outcomes: await executeJob(m.job) })
      else if (m.type === 'apply') state.applyReplicated(m.changes)
    } catch (err) {
      parentPort!.postMessage({ type: 'failed', message: (err as Error).message })
    }
  })
})
parentPort!.postMessage({ type: 'ready' })
