import { closeSync, fdatasyncSync, openSync, writeSync } from 'node:fs'

import type { Block } from '@ethereumjs/block'
import type { Common, StateManagerInterface } from '@ethereumjs/common'
import type { EVM } from '@ethereumjs/evm'
import { Address, KECCAK256_NULL, bytesToHex, equalsBytes } from '@ethereumjs/util'
import { createVM } from '@ethereumjs/vm'

import { BlockExecutionError } from '../../errors/index.js'
import { now } from '../../probes/clock.js'
import { Phase, PhaseClock } from '../../probes/phases.js'
import type { BlockInput, ReplayUnit } from '../../types.js'
import { initKeccak } from '../../util/keccak.js'
import { AncestorChain } from '../../chain/ancestors.js'
import { ensurePrecompileCrypto } from '../../chain/crypto.js'
import { advanceNetworkCommon, createChainCommon, createNetworkCommon } from '../../chain/common.js'
import { asExecutionError, decodeBlock, readHeaderNumbers, unprovenError } from '../baseline/engine.js'
import { BlockExecution, type ExecutedBlock, executeBlock } from '../baseline/executeBlock.js'
import { encodeDiff, encodeDiffRecord, summarizeDiff } from '../../chain/stateDiff.js'
import type { BlockRun, Engine, MegaOptions, MegaUnitStats, RunUnitOptions } from '../types.js'
import { CheckRecorder, executionFailed, noteUnproven, recordHeaderChecks, recordStateRoot } from '../verify.js'
import { type SenderSource, recordSenders, setSender, useCachedSenders } from '../senders.js'
import { executeBlockOnFastEvm, fastForkOf } from './fastEvm.js'
import { loadMegaState } from './load.js'
import { settledHeldBytes } from '../../protocol/index.js'
import { type MegaState, MegaStateManager, type StateChange } from './megaState.js'
import { ParallelExecutor, type TxOutcome } from './parallel.js'
import { SenderPool } from './senders.js'

export const DEFAULT_MEGA_OPTIONS: MegaOptions = { mode: 'live', batch: null, verifyMpt: 'final', senderWorkers: 1, stateDiffs: undefined, threads: 0 }

/**
 * The mega engine, after MegaETH's design: the whole state in memory (no database on the execution
 * path), senders recovered in a separate stage that runs ahead on worker threads (or taken from a
 * chain's sender cache), optional parallel execution on worker threads (optimistic, validated in
 * block order), a new authenticated structure (BucketTree) updated in batches, and state diffs
 * streamed to a sequential log. It still executes with @ethereumjs/evm (the compiled EVM is separate).
 * Its root is not Ethereum's: correctness is proven by the per-block state diff, equal to the
 * baseline's, and with `--verify-mpt` by an MPT kept beside it and checked against every header.
 */
export function createMegaEngine(): Engine {
  // The sender-recovery pool lives as long as the engine: units (fixture files) are often one block.
  let pool: SenderPool | undefined
  // The memory a unit's loaded state holds, measured (between full GCs) the first time this engine loads it.
  const heldMemory = new Map<string, number>()
  const poolFor = async (size: number) => {
    if (size === 0) return undefined
    if (pool === undefined || pool.size !== size) {
      await pool?.close()
      pool = new SenderPool(size)
      await pool.warm()
    }
    return pool
  }
  return {
    name: 'mega',
    description: 'in-memory state, BucketTree root, senders ahead on workers',
    runUnit: (unit, opts) => runUnit(unit, opts, poolFor, heldMemory),
    close: async () => {
      await pool?.close()
      pool = undefined
    },
  }
}

async function* runUnit(
  unit: ReplayUnit,
  opts: RunUnitOptions,
  poolFor: (size: number) => Promise<SenderPool | undefined>,
  heldMemory: Map<string, number>,
): AsyncGenerator<BlockRun> {
  const mega: MegaOptions = opts.mega ?? DEFAULT_MEGA_OPTIONS
  await initKeccak()
  const clock = new PhaseClock()
  const t0 = now()
  const blocks = unit.blocks
  const it = Symbol.asyncIterator in blocks ? (blocks as AsyncIterable<BlockInput>)[Symbol.asyncIterator]() : (blocks as Iterable<BlockInput>)[Symbol.iterator]()
  let r = await it.next()
  if (r.done === true) return
  let input: BlockInput = r.value
  const first = readHeaderNumbers(input)
  const common =
    unit.rules.kind === 'network'
      ? createNetworkCommon({ origin: input.origin, number: first.number, timestamp: first.timestamp, declaredHardfork: input.hardfork, chainId: input.chainId })
      : createChainCommon(unit.rules.chainId, unit.rules.hardfork, { origin: input.origin, block: first.number })
  // Workers start loading their replicas while this thread loads its own state.
  const parallel =
    mega.threads > 0 && opts.profiler === undefined && opts.accessSets === undefined
      ? new ParallelExecutor(mega.threads, {
          origin: unit.origin,
          rules: unit.rules,
          state: unit.state,
          first: { origin: input.origin, number: first.number, timestamp: first.timestamp, hardfork: input.hardfork, chainId: input.chainId },
        })
      : undefined
  const stats: MegaUnitStats = {
    importMs: 0,
    accounts: 0,
    treeEntries: 0,
    bucketBits: 0,
    tree: {},
    verifyMptMs: 0,
    senderWorkers: 0,
    threads: parallel?.threads ?? 0,
    parallel: { txs: 0, accepted: 0, conflicts: 0, coinbase: 0, failed: 0, sequential: 0 },
    stateDiffBytes: 0,
    evmBlocks: { fast: 0, ethereumjs: 0 },
  }
  let log: number | undefined
  let uninstallAccessSets: (() => void) | undefined
  try {
    // The MPT mirror proves the state root: every block's (--verify-mpt every), or the range's final one
    // (the default: the range's net changes applied once at its end). Pre-Byzantium receipts carry
    // per-transaction MPT roots: those units keep the mirror current after every transaction anyway.
    const verifyMpt = mega.verifyMpt
    const preByzantium = !common.gteHardfork('byzantium')
    const mirrorEveryBlock = verifyMpt === 'every' || preByzantium
    const needMirror = verifyMpt !== 'off' || preByzantium
    const rangeChanges: StateChange[] = []
    // Wipes of stored slots (self-destructs of existing contracts) happen before Cancun, and witnesses carry any fork.
    const slotIndex = unit.state.kind === 'witness' || !common.gteHardfork('cancun')
    // The held memory needs full GCs around the load; a full GC between passes throws away optimized code
    // (see collectGarbage), so it is measured on this engine's first load of the unit's state and reused for
    // the same load in later passes (the same source and options load the same state).
    const memoryKey = `${unit.origin}\u0000${needMirror}\u0000${slotIndex}`
    const measureMemory = !heldMemory.has(memoryKey)
    const before = measureMemory ? await settledHeldBytes() : 0
    const loaded = await loadMegaState(unit.origin, unit.state, { common, mirror: needMirror, slotIndex })
    const { state, mirror } = loaded
    const tree = state.tree
    // Building the tree is setup: the counters measure the blocks' updates only.
    Object.assign(tree.counters, { updates: 0, bucketHashes: 0, nodeHashes: 0, commits: 0 })
    if (measureMemory) heldMemory.set(memoryKey, (await settledHeldBytes()) - before)
    stats.memory = { bytes: heldMemory.get(memoryKey)!, treeBytes: tree.heldBytes, withMirror: needMirror, slotIndex }
    stats.importMs = now() - t0
    const sm = new MegaStateManager(state)
    const pendingForTree: StateChange[] = []
    // Pre-Byzantium per-transaction roots (receipts carry them), on either EVM: the MPT mirror. Timed inside
    // execution: the mega engine's merkleization phase is its BucketTree's (the summary's key updates per second).
    sm.rootProvider = async () => {
      const c = state.takeChanges()
      pendingForTree.push(...c)
      return mirror!.apply(c, state)
    }
    const ancestors = new AncestorChain(input.ancestorHashes, input.origin, first.number)
    const vm = await createVM({ common, stateManager: sm as StateManagerInterface, blockchain: ancestors })
    ensurePrecompileCrypto(vm.evm)
    uninstallAccessSets = opts.accessSets?.install({ stateManager: sm as StateManagerInterface, evm: vm.evm })
    const pool = await poolFor(mega.senderWorkers)
    stats.senderWorkers = pool?.size ?? 0
    log = mega.stateDiffs === undefined ? undefined : openSync(mega.stateDiffs, 'a')
    await parallel?.whenReady()
    let setupMs = now() - t0
    let batchSize = 0
    const batch: BlockRun[] = []
    let block = decodeBlock(input, common, true)
    const senders = opts.senders ?? 'recover'
    const recoveredBy = pool === undefined ? 'recovered with ecrecover on the main thread' : `recovered with ecrecover on ${pool.size} sender worker thread${pool.size === 1 ? '' : 's'}, a block ahead`
    let recovery = startRecovery(block, input, pool, senders)
    for (;;) {
      r = await it.next()
      const next = r.done === true ? undefined : r.value
      const t1 = now()
      const { number, timestamp } = readHeaderNumbers(input)
      if (unit.rules.kind === 'network' && number !== first.number) {
        advanceNetworkCommon(common, { origin: input.origin, number, timestamp, declaredHardfork: input.hardfork, chainId: input.chainId })
      }
      ancestors.setBlock(input.ancestorHashes, input.origin, number)
      // The next block is decoded, and its senders recovered, while this one executes.
      const nextBlock = next === undefined ? undefined : decodeBlock(next, common, true)
      setupMs += now() - t1
      try {
        await clock.time(Phase.senderRecovery, () => recovery)
      } catch (err) {
        throw new BlockExecutionError({ origin: input.origin, block: number }, (err as Error).message, { cause: err })
      }
      const nextRecovery = nextBlock === undefined ? undefined : startRecovery(nextBlock, next!, pool, senders)
      nextRecovery?.catch(() => {}) // surfaced when awaited

      const evm = vm.evm as EVM
      const profiler = input.warmup === true ? undefined : opts.profiler
      profiler?.attach(evm)
      let executed: ExecutedBlock
      try {
        const fastFork = mega.evm === 'fast' && parallel === undefined ? fastForkOf(common) : undefined
        if (input.warmup !== true) stats.evmBlocks[fastFork !== undefined ? 'fast' : 'ethereumjs']++
        executed =
          fastFork !== undefined
            ? await clock.time(Phase.execution, () =>
                executeBlockOnFastEvm(state, block, {
                  fork: fastFork,
                  chainId: common.chainId(),
                  ancestors: input.ancestorHashes,
                  daoForkBlock: common.chainId() === 1n ? 1_920_000n : undefined,
                  tier: mega.evmTier,
                  probe: profiler,
                  stateRoot: () => sm.getStateRoot(),
                }),
              )
            : parallel !== undefined && common.gteHardfork('byzantium') && block.transactions.length > 1
            ? await executeParallel(vm, block, input, state, parallel, clock, stats.parallel)
            : await executeBlock(vm, block, { clock, probe: profiler, stateRoot: false, observer: input.warmup === true ? undefined : opts.accessSets })
        if (parallel !== undefined && !(common.gteHardfork('byzantium') && block.transactions.length > 1)) stats.parallel.sequential += block.transactions.length
      } catch (err) {
        throw asExecutionError(err, input, undefined)
      } finally {
        profiler?.detach(evm)
      }
      const diff = state.takeBlockDiff()
      const changes = [...pendingForTree.splice(0), ...state.takeChanges()]
      parallel?.apply(changes)
      batchSize++
      const batchEnd = mega.mode === 'live' || next === undefined || (mega.batch !== null && batchSize >= mega.batch) || (next.warmup === true) !== (input.warmup === true)
      clock.enter(Phase.merkleization)
      state.flushToTree()
      if (batchEnd) tree.commit()
      clock.exit()
      const rec = new CheckRecorder()
      recordHeaderChecks(rec, input.expected, { ...executed, stateRoot: undefined }, block.header, !common.gteHardfork('byzantium'))
      recordSenders(rec, senders, block.transactions, input.senders, recoveredBy)
      if (mirror !== undefined) {
        const tv = now()
        // A node the witness lacks: named, with the key (asExecutionError).
        const apply = async (c: readonly StateChange[]) => {
          try {
            return await mirror.apply(c, state) // also keeps pre-Byzantium per-transaction roots right
          } catch (err) {
            throw asExecutionError(err, input, undefined)
          }
        }
        if (mirrorEveryBlock) {
          const root = await apply(changes)
          if (verifyMpt !== 'off') recordStateRoot(rec, input.expected.stateRoot, root, 'MPT kept beside the mega state, root after every block', 'stateRoot (MPT kept beside the mega state)')
        } else if (next !== undefined && (next.warmup === true) === (input.warmup === true)) {
          rangeChanges.push(...changes)
          rec.skip('stateRoot', 'checked once, at the end of the range (--verify-mpt final, the default); --verify-mpt every checks every block')
        } else {
          // The range's (or the warm-up's) last block: its net changes applied to the MPT at once.
          rangeChanges.push(...changes)
          const root = await apply(rangeChanges.splice(0))
          recordStateRoot(rec, input.expected.stateRoot, root, "MPT kept beside the mega state, the range's net changes applied at its final block", 'stateRoot (MPT kept beside the mega state)')
        }
        stats.verifyMptMs += now() - tv
      } else rec.skip('stateRoot', 'not checked (--verify-mpt off): the mega engine computes no MPT root of its own')
      if (mirror !== undefined) {
        const unproven = mirror.unproven.take()
        if (executionFailed(rec.mismatches)) {
          const e = unprovenError(unproven, input)
          if (e !== undefined) throw e
        }
        noteUnproven(rec, unproven.map((u) => u.reading))
      }
      const encoded = encodeDiff(diff)
      stats.stateDiffBytes += encoded.length
      if (log !== undefined) {
        clock.enter(Phase.persistence)
        writeSync(log, encodeDiffRecord(number, block.hash(), encoded))
        if (batchEnd) fdatasyncSync(log)
        clock.exit()
      }
      const run: BlockRun = {
        origin: input.origin,
        number,
        hash: bytesToHex(block.hash()),
        hardfork: common.hardfork(),
        txCount: executed.txCount,
        gasUsed: executed.gasUsed,
        phases: clock.take(),
        stateReads: takeMegaReads(state),
        mismatches: rec.mismatches,
        checks: rec.checks,
        setupMs,
        warmup: input.warmup === true,
        diff: summarizeDiff(diff, encoded),
      }
      setupMs = 0
      batch.push(run)
      if (batchEnd) {
        yield* batch.splice(0)
        batchSize = 0
      }
      if (next === undefined) break
      input = next
      block = nextBlock!
      recovery = nextRecovery!
    }
    stats.accounts = state.accountCount
    stats.treeEntries = tree.size
    stats.bucketBits = tree.bucketBits
    stats.tree = { ...tree.counters }
  } finally {
    uninstallAccessSets?.()
    if (log !== undefined) closeSync(log)
    await parallel?.close()
    opts.onMegaStats?.(stats)
  }
}

/**
 * One block on the parallel executor: every transaction runs on a worker against the block's
 * starting state; then, in block order, a transaction whose reads no earlier transaction of the
 * block wrote (and that touched the coinbase only for its fee) is accepted: its writes are applied
 * and the fee credited; any other is executed again here, in order, on the current state.
 */
async function executeParallel(
  vm: Awaited<ReturnType<typeof createVM>>,
  block: Block,
  input: BlockInput,
  state: MegaState,
  parallel: ParallelExecutor,
  clock: PhaseClock,
  counts: MegaUnitStats['parallel'],
): Promise<ExecutedBlock> {
  const txs = block.transactions
  const senders = new Uint8Array(txs.length * 20)
  txs.forEach((tx, i) => senders.set(tx.getSenderAddress().bytes, i * 20))
  const execution = await BlockExecution.begin(vm, block, { clock, stateRoot: false })
  const outcomes = await clock.time(Phase.execution, () =>
    parallel.execute(
      {
        origin: input.origin,
        number: block.header.number,
        timestamp: block.header.timestamp,
        hardfork: input.hardfork,
        chainId: input.chainId,
        blockRlp: input.blockRlp,
        senders,
        ancestorHashes: [...input.ancestorHashes],
      },
      txs.length,
    ),
  )
  const coinbase = block.header.coinbase
  const coinbaseKey = state.accountKey(coinbase.bytes)
  for (let i = 0; i < txs.length; i++) {
    const o = outcomes[i]!
    counts.txs++
    const verdict = judge(o, state)
    if (verdict === 'accept' && o.ok) {
      clock.enter(Phase.execution)
      try {
        applyOutcome(state, o.changes)
        if (o.fee !== 0n) creditFee(state, coinbaseKey, coinbase, o.fee!)
        else touchCoinbase(state, coinbaseKey, coinbase)
        execution.addExecuted(txs[i]!, o)
      } finally {
        clock.exit()
      }
      counts.accepted++
    } else {
      counts[verdict === 'accept' ? 'failed' : verdict]++
      await execution.addTransaction(txs[i]!)
    }
  }
  return execution.finish()
}

function judge(o: TxOutcome, state: MegaState): 'accept' | 'conflicts' | 'coinbase' | 'failed' {
  for (const key of o.reads) {
    const colon = key.indexOf(':')
    if (colon < 0 ? state.changedInBlock(key) : state.changedInBlock(key.slice(0, colon), key.slice(colon + 1))) return 'conflicts'
  }
  if (!o.ok) return 'failed'
  if (o.fee === null) return 'coinbase'
  return 'accept'
}

/** A worker's final values, applied through the journal (so that the block's diff and tree see them). */
function applyOutcome(state: MegaState, changes: readonly StateChange[]): void {
  for (const c of changes) if (c.kind === 'wipe') state.wipeByKey(c.accountKey)
  for (const c of changes) {
    if (c.kind === 'account') state.putAccountByKey(c.key, c.account, c.address)
    else if (c.kind === 'storage') state.putSlotByKey(c.accountKey, c.key, c.value, c.slot)
    else if (c.kind === 'code') state.addCode(c.code)
  }
}

/** The fee credit as runTx makes it on the current coinbase account. */
function creditFee(state: MegaState, key: string, coinbase: Address, fee: bigint): void {
  const a = state.accountFieldsByKey(key)
  const account = a === undefined ? { nonce: 0n, balance: fee, codeHash: KECCAK256_NULL } : { ...a, balance: a.balance + fee }
  state.putAccountByKey(key, account, coinbase.bytes)
}

/** A zero fee still touches the coinbase: an empty one is removed (EIP-158), as runTx's cleanup does. */
function touchCoinbase(state: MegaState, key: string, coinbase: Address): void {
  const a = state.accountFieldsByKey(key)
  if (a === undefined) return
  if (a.nonce === 0n && a.balance === 0n && equalsBytes(a.codeHash, KECCAK256_NULL)) state.putAccountByKey(key, null, coinbase.bytes)
}

/** Senders from the chain's cache, or recovery started on the worker pool (or left to execution). */
/**
 * Senders of a block: from the source's cache (--senders cache), or recovered on the sender workers (ahead
 * of execution), or on this thread when there are none. Each is set on its transaction once.
 */
function startRecovery(block: Block, input: BlockInput, pool: SenderPool | undefined, source: SenderSource): Promise<void> {
  const txs = block.transactions
  if (source === 'cache' && useCachedSenders(txs, input.senders)) return Promise.resolve()
  if (pool !== undefined) return pool.recover(txs)
  try {
    for (const tx of txs) setSender(tx, tx.getSenderAddress())
    return Promise.resolve()
  } catch (err) {
    return Promise.reject(err)
  }
}

/** The block's reads of the in-memory state (counted by MegaState's accessors), reset for the next block. */
function takeMegaReads(state: MegaState): BlockRun['stateReads'] {
  const r = { ...state.reads }
  Object.assign(state.reads, { accounts: 0, storageSlots: 0, code: 0, codeBytes: 0 })
  return r
}

