import { rmSync } from 'node:fs'

import { type Block, createBlockFromRLP } from '@ethereumjs/block'
import type { Common, StateManagerInterface } from '@ethereumjs/common'
import type { EVM } from '@ethereumjs/evm'
import { MerklePatriciaTrie } from '@ethereumjs/mpt'
import { RLP } from '@ethereumjs/rlp'
import { CODEHASH_PREFIX, Caches } from '@ethereumjs/statemanager'
import { ValueEncoding, bytesToBigInt, bytesToHex, equalsBytes, hexToBytes } from '@ethereumjs/util'
import type { VM } from '@ethereumjs/vm'
import { createVM } from '@ethereumjs/vm'

import { BlockExecutionError, FixtureError, KzgUnavailableError, MegabenchError, MissingTrieNodeError } from '../../errors/index.js'
import { now } from '../../probes/clock.js'
import { Phase, PhaseClock } from '../../probes/phases.js'
import { FlatStateManager } from '../../storage/flatStateManager.js'
import { type ImportStats, importGenesis, importWitness } from '../../storage/import.js'
import { CACHE_KINDS, type StateStore, StateStore as Store, type StoreStats } from '../../storage/stateStore.js'
import type { BlockInput, ReplayUnit } from '../../types.js'
import { initKeccak, keccak256 } from '../../util/keccak.js'
import { buildGenesisState } from '../../workloads/genesis.js'
import { summarizeDiff } from '../../chain/stateDiff.js'
import type { BlockDiffSummary, BlockRun, BlockStorageDelta, Engine, RunUnitOptions, StorageOptions, UnitStorageStats } from '../types.js'
import { CheckRecorder, executionFailed, noteUnproven, recordHeaderChecks, recordStateRoot } from '../verify.js'
import { recordSenders, useCachedSenders } from '../senders.js'
import { AncestorChain } from '../../chain/ancestors.js'
import { KzgUnavailable, ensurePrecompileCrypto, kzgBackend } from '../../chain/crypto.js'
import { advanceNetworkCommon, blockDecodeCommon, createChainCommon, createNetworkCommon } from '../../chain/common.js'
import { type ExecutedBlock, executeBlock, recoverSenders } from './executeBlock.js'
import { FlatBackend, TrieBackend } from './fastBackend.js'
import type { StateBackend } from '../../evm/state.js'
import { fastForkOf, runFastBlock } from '../fastBlock.js'
import type { Fork } from '../../evm/forks.js'
import type { EvmTier } from '../../evm/tiers.js'
import type { OpcodeProfiler } from '../../probes/opcodeProfiler.js'
import { MissingNodeSignal, NodeStore } from '../../trie/nodeStore.js'
import { ReplayStateManager, type StateReadCounts } from './stateManager.js'
import { onInterrupt } from '../../util/interrupt.js'
import { makeTempDbDir } from '../../util/paths.js'

/**
 * The baseline engine: @ethereumjs/vm 10.1.3 executing as a conventional client. With LMDB storage
 * (the default) execution reads flat state through two byte-bounded caches and merkleization
 * updates Merkle Patricia tries on LMDB (FlatStateManager), in live or historical sync; with memory
 * storage the trie lives in an in-memory node store (MerkleStateManager), root per block.
 */
export function createBaselineEngine(): Engine {
  return {
    name: 'baseline',
    description: '@ethereumjs/vm 10.1.3 on a Merkle Patricia trie state',
    runUnit,
  }
}

/** The state a unit runs on, by backend. */
type State =
  | { kind: 'memory'; stateManager: ReplayStateManager; nodeStore: NodeStore; stateRoot: Uint8Array }
  | {
      kind: 'lmdb'
      stateManager: FlatStateManager
      store: StateStore
      chainKey: string
      complete: boolean
      resumeHead: bigint | null
      import: ImportStats & { ms: number }
      close(): Promise<void>
    }

/** The VM and what it runs on, created at a unit's first block and kept for the rest. */
type Machine = { common: Common; vm: VM; ancestors: AncestorChain }

async function* runUnit(unit: ReplayUnit, opts: RunUnitOptions): AsyncGenerator<BlockRun> {
  await initKeccak()
  const clock = new PhaseClock()
  const t0 = now()
  const firstBlock = await firstOf(unit)
  if (firstBlock === undefined) return
  const common = createCommon(unit, firstBlock.input)
  const state = await openState(unit, common, opts.storage, clock)
  let setupMs = now() - t0
  const storage = opts.storage
  const historical = storage.kind === 'lmdb' && storage.mode === 'historical'
  const persistStats: UnitStorageStats['persist'] = {
    commits: 0,
    ms: 0,
    syncMs: 0,
    bytes: { accounts: 0, storage: 0, bytecodes: 0, account_trie: 0, storage_trie: 0 },
    nodesWritten: 0,
    garbageNodes: 0,
  }
  let machine: Machine | undefined
  let batch: BlockRun[] = []
  let uninstallAccessSets: (() => void) | undefined
  try {
    for await (const { input, next } of lookahead(firstBlock)) {
      if (state.kind === 'lmdb' && state.resumeHead !== null && input.number <= state.resumeHead) continue
      const t1 = now()
      const { number, timestamp } = readHeaderNumbers(input)
      if (machine === undefined) {
        const ancestors = new AncestorChain(input.ancestorHashes, input.origin, number)
        const vm = await createVM({ common, stateManager: state.stateManager as StateManagerInterface, blockchain: ancestors })
        ensurePrecompileCrypto(vm.evm)
        machine = { common, vm, ancestors }
        uninstallAccessSets = opts.accessSets?.install({ stateManager: state.stateManager as StateManagerInterface, evm: vm.evm })
      } else if (unit.rules.kind === 'network') {
        advanceNetworkCommon(machine.common, { origin: input.origin, number, timestamp, declaredHardfork: input.hardfork, chainId: input.chainId })
      }
      machine.ancestors.setBlock(input.ancestorHashes, input.origin, number)
      const sendersFromCache = opts.senders === 'cache'
      const block = decodeBlock(input, machine.common, sendersFromCache)
      if (sendersFromCache) useCachedSenders(block.transactions, input.senders)
      if (state.kind === 'lmdb') state.store.beginBlock() // re-limits a --cgroup binding (setup time, not the block's)
      setupMs += now() - t1

      const before = state.kind === 'lmdb' ? state.store.stats() : undefined
      const evm = machine.vm.evm as EVM
      const profiler = input.warmup === true ? undefined : opts.profiler // warm-up blocks are not measured
      // On LMDB the engine computes the root itself (live: every block; historical: per batch),
      // after taking the block's net diff: the diff reads pre-block values the root would move.
      const observer = input.warmup === true ? undefined : opts.accessSets
      // --evm fast: the fast EVM over the same state (flat state on LMDB, or the in-memory trie); not in the
      // access pass, whose probe hooks @ethereumjs.
      const fastFork = opts.baseline?.evm === 'fast' && observer === undefined ? fastForkOf(machine.common) : undefined
      // The fast path tells the probe where its per-transaction roots are itself (FastBlockRun.runAsync).
      if (state.kind === 'memory' && fastFork === undefined) state.stateManager.probe = profiler
      profiler?.attach(evm)
      let executed
      let evmUsed: 'ethereumjs' | 'fast' = 'ethereumjs'
      let diff: BlockDiffSummary | undefined
      let batchEnded = false
      const rec = new CheckRecorder()
      try {
        evmUsed = fastFork !== undefined ? 'fast' : 'ethereumjs'
        const fast = { fork: fastFork!, common: machine.common, ancestors: input.ancestorHashes, clock, tier: opts.baseline?.evmTier, probe: profiler }
        executed =
          fastFork === undefined
            ? await executeBlock(machine.vm, block, { clock, probe: profiler, stateRoot: state.kind === 'memory', observer })
            : state.kind === 'lmdb'
              ? await executeOnFastEvm(new FlatBackend(state.stateManager), block, fast, () => state.stateManager.getStateRoot())
              : await executeOnFastEvmInMemory(state.stateManager, state.nodeStore, block, fast)
        if (state.kind === 'lmdb') {
          if (opts.stateDiffs === true) diff = summarizeDiff(await state.stateManager.takeBlockDiff())
          else state.stateManager.resetBlockDiff()
          batchEnded = !historical || isBatchEnd(storage, batch.length + 1, next, input)
          if (batchEnded) {
            const root = await state.stateManager.getStateRoot()
            if (!historical) recordStateRoot(rec, input.expected.stateRoot, root, 'MPT on LMDB, root after every block')
            else {
              const first = batch[0]?.number ?? number
              recordStateRoot(rec, input.expected.stateRoot, root, `MPT on LMDB at the end of the batch (blocks ${first}…${number})`, `stateRoot (batch ${first}…${number})`)
            }
            const p = await state.stateManager.persist(
              { number: Number(number), hash: bytesToHex(block.hash()) },
              { schemaVersion: 1, chainKey: state.chainKey, complete: state.complete },
            )
            persistStats.commits++
            persistStats.ms += p.ms
            persistStats.syncMs += p.syncMs
            for (const [t, b] of Object.entries(p.bytes)) persistStats.bytes[t as keyof typeof p.bytes] += b
            persistStats.nodesWritten += p.nodesWritten
            persistStats.garbageNodes += p.garbageNodes
          }
        }
      } catch (err) {
        // An account read as absent without a proof comes first: the block may have failed because of it.
        throw unprovenError(state.stateManager.unproven.take(), input, err) ?? asExecutionError(err, input, state.kind === 'memory' ? state.nodeStore : undefined)
      } finally {
        profiler?.detach(evm)
        if (state.kind === 'memory') state.stateManager.probe = undefined
      }
      recordHeaderChecks(rec, input.expected, executed, block.header, !machine.common.gteHardfork('byzantium'))
      if (state.kind === 'memory' && executed.stateRoot !== undefined) recordStateRoot(rec, input.expected.stateRoot, executed.stateRoot, 'MPT root after every block (in-memory trie)')
      recordSenders(rec, opts.senders ?? 'recover', block.transactions, input.senders, 'recovered with ecrecover before execution')
      const unproven = state.stateManager.unproven.take()
      if (executionFailed(rec.mismatches)) {
        const e = unprovenError(unproven, input)
        if (e !== undefined) throw e
      }
      noteUnproven(rec, unproven.map((u) => u.reading))
      const run: BlockRun = {
        origin: input.origin,
        number,
        hash: bytesToHex(block.hash()),
        hardfork: machine.common.hardfork(),
        txCount: executed.txCount,
        gasUsed: executed.gasUsed,
        phases: clock.take(),
        stateReads: takeReads(state),
        mismatches: rec.mismatches,
        checks: rec.checks,
        setupMs,
        warmup: input.warmup === true,
        storage: before !== undefined && state.kind === 'lmdb' ? storageDelta(before, state.store.stats()) : undefined,
        diff,
        evm: evmUsed,
      }
      setupMs = 0
      if (!historical) {
        yield run
        continue
      }
      batch.push(run)
      if (batchEnded) {
        // The batch's root is checked at its end: a root failure fails every block of the batch; the
        // blocks before the end have no root of their own (historical sync computes none for them).
        const root = rec.checks.stateRoot!
        const failure = rec.mismatches.find((m) => m.field.startsWith('stateRoot (batch'))
        for (const r of batch.slice(0, -1)) {
          if (failure !== undefined) {
            r.mismatches.push(failure)
            r.checks.stateRoot = { ...root, note: `the batch's root at block ${number} does not match` }
          } else r.checks.stateRoot = { status: 'skipped', note: `historical sync: no root of its own; the batch's root at block ${number} matched` }
        }
        yield* batch
        batch = []
      }
    }
    yield* batch
  } finally {
    uninstallAccessSets?.()
    if (state.kind === 'lmdb') {
      opts.onUnitStats?.({
        store: state.store.stats(),
        merkle: { ...state.stateManager.merkle },
        persist: persistStats,
        import: { ...state.import, resumedAt: state.resumeHead === null ? null : Number(state.resumeHead) },
        tables: state.store.tableSizes(),
      })
      await state.close()
    }
  }
}

type FastRun = { fork: Fork; common: Common; ancestors: ReadonlyMap<bigint, Uint8Array>; clock: PhaseClock; tier: EvmTier | undefined; probe: OpcodeProfiler | undefined }

/**
 * A block on the fast EVM over `backend`: senders first (their own phase, as `executeBlock` does), then
 * execution (on LMDB, misses inside it are timed as stateLoad by the store); on LMDB the changes are left in
 * the overlay for the engine's merkleization and persistence. Before Byzantium, `stateRoot` is the state
 * manager's merkleization after every transaction (timed as merkleization by the state manager, inside
 * execution, as in @ethereumjs's `runTx`).
 */
async function executeOnFastEvm(backend: StateBackend, block: Block, p: FastRun, stateRoot: () => Promise<Uint8Array>): Promise<ExecutedBlock> {
  const { clock } = p
  recoverSenders(block, clock)
  clock.enter(Phase.execution)
  try {
    return await runFastBlock(backend, block, {
      fork: p.fork,
      chainId: p.common.chainId(),
      ancestors: p.ancestors,
      daoForkBlock: p.common.chainId() === 1n ? 1_920_000n : undefined,
      tier: p.tier,
      probe: p.probe,
      stateRoot,
    })
  } finally {
    clock.exit()
  }
}

/**
 * `--storage memory`: the fast EVM reads the trie in the node store; its changes then go through the
 * state manager (execution), whose state root (merkleization) and commit into the node store
 * (persistence) follow, as `executeBlock` does them. Before Byzantium the changes go through after every
 * transaction, each followed by the state root its receipt carries.
 */
async function executeOnFastEvmInMemory(sm: ReplayStateManager, nodes: NodeStore, block: Block, p: FastRun): Promise<ExecutedBlock> {
  const backend = new TrieBackend(sm, nodes, p.clock)
  await sm.checkpoint()
  const executed = await executeOnFastEvm(backend, block, p, async () => {
    await backend.writeTo()
    return sm.getStateRoot()
  })
  await p.clock.time(Phase.execution, () => backend.writeTo())
  const stateRoot = await sm.getStateRoot()
  await p.clock.time(Phase.persistence, () => sm.commit())
  return { ...executed, stateRoot }
}

/** The end of a historical batch: the batch is full, the unit ends, or the warm-up range ends. */
function isBatchEnd(storage: StorageOptions, size: number, next: BlockInput | undefined, input: BlockInput): boolean {
  if (next === undefined) return true
  if ((next.warmup === true) !== (input.warmup === true)) return true
  return storage.kind === 'lmdb' && storage.batch !== null && size >= storage.batch
}

function createCommon(unit: ReplayUnit, input: BlockInput): Common {
  const { number, timestamp } = readHeaderNumbers(input)
  return unit.rules.kind === 'network'
    ? createNetworkCommon({ origin: input.origin, number, timestamp, declaredHardfork: input.hardfork, chainId: input.chainId })
    : createChainCommon(unit.rules.chainId, unit.rules.hardfork, { origin: input.origin, block: number })
}

/** Opens the unit's starting state on the chosen backend (importing it, or resuming an existing DB). */
async function openState(unit: ReplayUnit, common: Common, storage: StorageOptions, clock: PhaseClock): Promise<State> {
  const s = unit.state
  if (storage.kind === 'memory') {
    let nodeStore: NodeStore
    let stateRoot: Uint8Array
    if (s.kind === 'witness') {
      nodeStore = NodeStore.fromWitness(s.nodes, s.codes, CODEHASH_PREFIX)
      stateRoot = s.stateRoot
    } else {
      nodeStore = new NodeStore(true, Math.ceil(s.spec.accounts.count * 1.4) + 1024)
      stateRoot = checkGenesisRoot(unit, buildGenesisState(s.spec, nodeStore).stateRoot)
    }
    const trie = new MerklePatriciaTrie({ db: nodeStore, root: stateRoot, useKeyHashing: true, common, valueEncoding: ValueEncoding.Bytes })
    const stateManager = new ReplayStateManager({ trie, common, caches: new Caches(), clock })
    return { kind: 'memory', stateManager, nodeStore, stateRoot }
  }
  const temporary = storage.dir === undefined
  const dir = storage.dir ?? makeTempDbDir()
  const chainKey =
    s.kind === 'witness' ? `witness:${bytesToHex(s.stateRoot)}` : `chain:${s.spec.chainId}:${bytesToHex(keccak256(hexToBytes(s.spec.headerRlp as `0x${string}`)))}`
  // An interrupted run removes its temporary DB (src/util/interrupt.ts).
  const unregister = temporary ? onInterrupt(() => rmSync(dir, { recursive: true, force: true })) : () => {}
  let store: Store
  try {
    store = Store.open(dir, { chainKey, caches: storage.caches })
  } catch (err) {
    if (temporary) rmSync(dir, { recursive: true, force: true })
    unregister()
    throw err
  }
  const close = async () => {
    await store.close()
    if (temporary) rmSync(dir, { recursive: true, force: true })
    unregister()
  }
  try {
    const t0 = now()
    let importStats: ImportStats = { accounts: 0, slots: 0, nodes: 0, codes: 0 }
    let stateRoot: Uint8Array
    let resumeHead: bigint | null = null
    const meta = store.meta()
    if (meta === undefined) {
      if (s.kind === 'witness') {
        importStats = importWitness(store, s, chainKey)
        stateRoot = s.stateRoot
      } else {
        const g = importGenesis(store, s.spec, chainKey)
        importStats = g
        stateRoot = checkGenesisRoot(unit, g.stateRoot)
      }
    } else {
      stateRoot = meta.head === null ? hexToBytes((s.kind === 'witness' ? bytesToHex(s.stateRoot) : s.spec.stateRoot) as `0x${string}`) : hexToBytes(meta.head.stateRoot as `0x${string}`)
      resumeHead = meta.head === null ? null : BigInt(meta.head.number)
    }
    const complete = store.meta()?.complete ?? false
    const stateManager = new FlatStateManager(common, store, stateRoot, complete, clock)
    store.clock = clock
    return { kind: 'lmdb', stateManager, store, chainKey, complete, resumeHead, import: { ...importStats, ms: now() - t0 }, close }
  } catch (err) {
    await close()
    throw err
  }
}

function checkGenesisRoot(unit: ReplayUnit, built: Uint8Array): Uint8Array {
  const s = unit.state
  if (s.kind !== 'genesis') return built
  const declared = hexToBytes(s.spec.stateRoot as `0x${string}`)
  if (!equalsBytes(built, declared)) {
    throw new FixtureError(unit.origin, `genesis expands to state root ${bytesToHex(built)}, not the ${s.spec.stateRoot} it declares`)
  }
  return declared
}

/** The unit's blocks with the first one already read (its header decides the Common). */
async function firstOf(unit: ReplayUnit): Promise<{ input: BlockInput; rest: AsyncIterator<BlockInput> | Iterator<BlockInput> } | undefined> {
  const it =
    Symbol.asyncIterator in unit.blocks
      ? (unit.blocks as AsyncIterable<BlockInput>)[Symbol.asyncIterator]()
      : (unit.blocks as Iterable<BlockInput>)[Symbol.iterator]()
  const r = await it.next()
  return r.done === true ? undefined : { input: r.value, rest: it }
}

/** Each block with the one after it (undefined for the last), so that batch ends are known. */
async function* lookahead(first: { input: BlockInput; rest: AsyncIterator<BlockInput> | Iterator<BlockInput> }) {
  let current = first.input
  for (;;) {
    const r = await first.rest.next()
    const next = r.done === true ? undefined : r.value
    yield { input: current, next }
    if (next === undefined) return
    current = next
  }
}

function takeReads(state: State): StateReadCounts {
  if (state.kind === 'memory') {
    const reads = { ...state.stateManager.reads }
    Object.assign(state.stateManager.reads, { accounts: 0, storageSlots: 0, code: 0, codeBytes: 0 })
    return reads
  }
  const r = state.store.stateReads
  const reads = { ...r }
  Object.assign(r, { accounts: 0, storageSlots: 0, code: 0, codeBytes: 0 })
  return reads
}

function storageDelta(a: StoreStats, b: StoreStats): BlockStorageDelta {
  const level = (x: StoreStats['l1'], y: StoreStats['l1']) =>
    Object.fromEntries(CACHE_KINDS.map((k) => [k, { hits: y[k].hits - x[k].hits, misses: y[k].misses - x[k].misses }])) as BlockStorageDelta['l1']
  const lmdb = (s: StoreStats) => Object.values(s.lmdbReads).reduce((x, y) => x + y, 0)
  return {
    l1: level(a.l1, b.l1),
    l2: level(a.l2, b.l2),
    lmdbReads: lmdb(b) - lmdb(a),
    penaltyCount: b.executionPenaltyCount - a.executionPenaltyCount,
    penaltyMs: (b.executionPenaltySumNs - a.executionPenaltySumNs) / 1e6,
  }
}

/** Number and timestamp straight from the header RLP: the hardfork must be known before decoding. */
export function readHeaderNumbers(input: BlockInput): { number: bigint; timestamp: bigint } {
  let header: unknown
  try {
    header = (RLP.decode(input.blockRlp) as unknown[])[0]
  } catch (cause) {
    throw new FixtureError(input.origin, `field blockRlp: not valid RLP (${(cause as Error).message})`, { cause })
  }
  if (!Array.isArray(header) || !(header[8] instanceof Uint8Array) || !(header[11] instanceof Uint8Array)) {
    throw new FixtureError(input.origin, 'field blockRlp: not a block (header list expected)')
  }
  const number = bytesToBigInt(header[8])
  if (number !== input.number) {
    throw new FixtureError(input.origin, `field blockNumber: ${input.number} but the header in blockRlp is block ${number}`)
  }
  return { number, timestamp: bytesToBigInt(header[11]) }
}

/**
 * A block of the input, decoded with @ethereumjs/block (one Common shared by its header and transactions,
 * `blockDecodeCommon`) and checked against the input's hash; unfrozen when senders are handed to its
 * transactions afterwards (cached, or recovered ahead).
 */
export function decodeBlock(input: BlockInput, common: Common, unfrozen = false): Block {
  let block
  try {
    const c = blockDecodeCommon(common)
    block = createBlockFromRLP(input.blockRlp, unfrozen ? { common: c, freeze: false } : { common: c })
  } catch (cause) {
    throw new FixtureError(input.origin, `field blockRlp: not a valid block (${firstLine(cause)})`, { cause })
  }
  if (!equalsBytes(block.hash(), input.hash)) {
    throw new FixtureError(
      input.origin,
      `field blockHash: ${bytesToHex(input.hash)} does not match the header in blockRlp (${bytesToHex(block.hash())})`,
    )
  }
  requireKzg(block, input)
  return block
}

/**
 * A block with a blob (type-3) transaction loads the KZG backend before it executes (construction needs
 * `customCrypto.kzg`; the block's RLP carries no blobs, but the point-evaluation precompile may be called);
 * without one it is refused in one line. Other blocks never load it.
 */
export function requireKzg(block: Block, input: BlockInput): void {
  const i = block.transactions.findIndex((tx) => tx.type === 3)
  if (i < 0) return
  try {
    kzgBackend()
  } catch (err) {
    if (!(err instanceof KzgUnavailable)) throw err
    throw new KzgUnavailableError({ origin: input.origin, block: input.number }, `transaction ${i} is a blob transaction (type 3), which needs KZG: ${err.message}`, err)
  }
}

/**
 * The block read accounts the witness holds no path to as absent (UnprovenAccounts) and then failed: the
 * first such read, as the MissingTrieNodeError it would have been in a strict replay.
 */
export function unprovenError(unproven: readonly MissingNodeSignal[], input: BlockInput, cause?: unknown): MissingTrieNodeError | undefined {
  const first = unproven[0]
  if (first === undefined) return undefined
  return new MissingTrieNodeError({ origin: input.origin, block: input.number }, `0x${first.key}`, cause ?? first, first.reading)
}

/** Senders the source cached must be the ones recovered from the signatures. */
export function asExecutionError(err: unknown, input: BlockInput, store: NodeStore | undefined): MegabenchError {
  const loc = { origin: input.origin, block: input.number }
  if (err instanceof MegabenchError) return err
  const chain: unknown[] = []
  for (let e = err; e instanceof Error; e = e.cause) chain.push(e)
  const kzg = chain.find((e) => e instanceof KzgUnavailable)
  if (kzg !== undefined) return new KzgUnavailableError(loc, `a point-evaluation (0x0a) call needs KZG: ${(kzg as KzgUnavailable).message}`, err)
  const signal = chain.find((e) => e instanceof MissingNodeSignal)
  if (signal !== undefined || chain.some((e) => (e as Error).message.includes('Missing node in DB'))) {
    const key = signal?.key ?? store?.lastMissingKey
    return new MissingTrieNodeError(loc, key === undefined ? undefined : `0x${key}`, err, signal?.reading)
  }
  return new BlockExecutionError(loc, `execution failed: ${firstLine(err)}`, err)
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? ''
}
