import { closeSync, fdatasyncSync, openSync, writeSync } from 'node:fs'

import { type Block, createBlockFromRLP } from '@ethereumjs/block'
import type { Common, StateManagerInterface } from '@ethereumjs/common'
import type { EVM } from '@ethereumjs/evm'
import { RLP } from '@ethereumjs/rlp'
import { CODEHASH_PREFIX } from '@ethereumjs/statemanager'
import { Address, bytesToBigInt, bytesToHex, concatBytes, equalsBytes, hexToBytes } from '@ethereumjs/util'
import { createVM } from '@ethereumjs/vm'

import { FixtureError } from '../../errors/index.js'
import { now } from '../../probes/clock.js'
import { Phase, PhaseClock } from '../../probes/phases.js'
import { walkTrie } from '../../storage/import.js'
import type { BlockInput, ReplayUnit } from '../../types.js'
import { initKeccak, keccak256 } from '../../util/keccak.js'
import { buildGenesisState } from '../../workloads/genesis.js'
import { AncestorChain } from '../baseline/ancestors.js'
import { advanceMainnetCommon, createChainCommon, createMainnetCommon } from '../baseline/common.js'
import { asExecutionError, readHeaderNumbers } from '../baseline/engine.js'
import { executeBlock } from '../baseline/executeBlock.js'
import { NodeStore } from '../baseline/nodeStore.js'
import { diffDigest, encodeDiff } from '../stateDiff.js'
import type { BlockRun, Engine, MegaOptions, RunUnitOptions } from '../types.js'
import { type FieldMismatch, checkExpectedAgainstHeader, verifyComputed } from '../verify.js'
import { BucketTree } from './bucketTree.js'
import { type MegaAccount, MegaState, MegaStateManager, type StateChange } from './megaState.js'
import { MptMirror } from './mptMirror.js'
import { SenderPool, withKnownSender } from './senders.js'

/**
 * The mega engine, after MegaETH's design: the whole state in memory (no database on the execution
 * path), senders recovered in a separate stage that runs ahead on worker threads (or taken from a
 * chain's sender cache), a new authenticated structure (BucketTree) updated in batches, state diffs
 * streamed to a sequential log. It still executes with @ethereumjs/evm (the compiled EVM is separate).
 * Its root is not Ethereum's: correctness is proven by the per-block state diff, equal to the
 * baseline's, and with `--verify-mpt` by an MPT kept beside it and checked against every header.
 */
export function createMegaEngine(): Engine {
  return {
    name: 'mega',
    description: 'in-memory state, BucketTree root, senders ahead on workers, @ethereumjs/evm',
    runUnit,
  }
}

async function* runUnit(unit: ReplayUnit, opts: RunUnitOptions): AsyncGenerator<BlockRun> {
  const mega: MegaOptions = opts.mega ?? { mode: 'live', batch: null, verifyMpt: false, senderWorkers: 1, stateDiffs: undefined }
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
    unit.rules.kind === 'mainnet'
      ? createMainnetCommon({ origin: input.origin, number: first.number, timestamp: first.timestamp, declaredHardfork: input.hardfork, chainId: input.chainId })
      : createChainCommon(unit.rules.chainId, unit.rules.hardfork, { origin: input.origin, block: first.number })
  // Pre-Byzantium receipts carry per-transaction MPT roots: those units need the MPT mirror too.
  const needMirror = mega.verifyMpt || !common.gteHardfork('byzantium')
  const loaded = await loadState(unit, common, needMirror)
  const { state, tree, mirror } = loaded
  const sm = new MegaStateManager(state)
  const pendingForTree: StateChange[] = []
  sm.rootProvider = async () => {
    const c = state.takeChanges()
    pendingForTree.push(...c)
    return mirror!.apply(c, state)
  }
  const ancestors = new AncestorChain(input.ancestorHashes, input.origin, first.number)
  const vm = await createVM({ common, stateManager: sm as StateManagerInterface, blockchain: ancestors })
  const pool = mega.senderWorkers > 0 ? new SenderPool(mega.senderWorkers) : undefined
  const log = mega.stateDiffs === undefined ? undefined : openSync(mega.stateDiffs, 'a')
  let setupMs = now() - t0
  let verifyMs = 0
  let batchSize = 0
  const batch: BlockRun[] = []
  try {
    let block = decode(input, common)
    let recovery = startRecovery(block, input, pool)
    for (;;) {
      r = await it.next()
      const next = r.done === true ? undefined : r.value
      const t1 = now()
      const { number, timestamp } = readHeaderNumbers(input)
      if (unit.rules.kind === 'mainnet' && number !== first.number) {
        advanceMainnetCommon(common, { origin: input.origin, number, timestamp, declaredHardfork: input.hardfork, chainId: input.chainId })
      }
      ancestors.setBlock(input.ancestorHashes, input.origin, number)
      // The next block's senders are recovered while this one executes.
      const nextBlock = next === undefined ? undefined : decode(next, common)
      setupMs += now() - t1
      await clock.time(Phase.senderRecovery, () => recovery)
      const nextRecovery = nextBlock === undefined ? undefined : startRecovery(nextBlock, next!, pool)

      const evm = vm.evm as EVM
      const profiler = input.warmup === true ? undefined : opts.profiler
      profiler?.attach(evm)
      let executed
      try {
        executed = await executeBlock(vm, block, { clock, probe: profiler, stateRoot: false })
      } catch (err) {
        throw asExecutionError(err, input, undefined)
      } finally {
        profiler?.detach(evm)
      }
      const diff = state.takeBlockDiff()
      const changes = [...pendingForTree.splice(0), ...state.takeChanges()]
      batchSize++
      const batchEnd = mega.mode === 'live' || next === undefined || (mega.batch !== null && batchSize >= mega.batch) || (next.warmup === true) !== (input.warmup === true)
      clock.enter(Phase.merkleization)
      applyToTree(tree, changes, state)
      if (batchEnd) tree.commit()
      clock.exit()
      const mismatches: FieldMismatch[] = [
        ...verifyComputed(input.expected, { ...executed, stateRoot: undefined }),
        ...checkExpectedAgainstHeader(input.expected, block.header),
      ]
      if (mirror !== undefined && mega.verifyMpt) {
        const tv = now()
        const root = await mirror.apply(changes, state)
        verifyMs += now() - tv
        if (!equalsBytes(root, input.expected.stateRoot)) {
          mismatches.push({ field: 'stateRoot (MPT kept beside the mega state)', expected: bytesToHex(input.expected.stateRoot), actual: bytesToHex(root) })
        }
      } else if (mirror !== undefined) {
        await mirror.apply(changes, state) // keeps pre-Byzantium per-transaction roots right
      }
      const encoded = encodeDiff(diff)
      if (log !== undefined) {
        clock.enter(Phase.persistence)
        const header = new Uint8Array(4)
        new DataView(header.buffer).setUint32(0, encoded.length)
        writeSync(log, concatBytes(header, encoded))
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
        stateReads: { accounts: 0, storageSlots: 0, code: 0, codeBytes: 0 },
        mismatches,
        setupMs,
        warmup: input.warmup === true,
        diff: { digest: diffDigest(diff), bytes: encoded.length, keys: diff.accounts.length + diff.storage.length + diff.wipes.length },
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
  } finally {
    if (log !== undefined) closeSync(log)
    await pool?.close()
    opts.onMegaStats?.({
      importMs: loaded.importMs,
      accounts: state.accounts.size,
      treeEntries: tree.size,
      bucketBits: tree.bucketBits,
      tree: { ...tree.counters },
      verifyMptMs: verifyMs,
      senderWorkers: pool?.size ?? 0,
    })
  }
}

function decode(input: BlockInput, common: Common): Block {
  let block: Block
  try {
    block = createBlockFromRLP(input.blockRlp, { common })
  } catch (cause) {
    throw new FixtureError(input.origin, `field blockRlp: not a valid block (${(cause as Error).message.split('\n')[0]})`, { cause })
  }
  if (!equalsBytes(block.hash(), input.hash)) {
    throw new FixtureError(input.origin, `field blockHash: ${bytesToHex(input.hash)} does not match the header in blockRlp (${bytesToHex(block.hash())})`)
  }
  return block
}

/** Senders from the chain's cache, or recovery started on the worker pool (or deferred to execution). */
function startRecovery(block: Block, input: BlockInput, pool: SenderPool | undefined): Promise<void> {
  const cached = input.senders
  if (cached !== undefined && cached.length === block.transactions.length * 20) {
    const txs = block.transactions as unknown as Block['transactions'][number][]
    for (let i = 0; i < txs.length; i++) txs[i] = withKnownSender(txs[i]!, new Address(cached.slice(i * 20, i * 20 + 20)))
    return Promise.resolve()
  }
  return pool === undefined ? Promise.resolve() : pool.recover(block.transactions)
}

/** Account value in the tree: RLP [nonce, balance, codeHash]. Storage value: the slot's bytes. */
function accountValue(a: MegaAccount): Uint8Array {
  return RLP.encode([a.nonce, a.balance, a.codeHash])
}

function storageTreeKey(accountKey: string, slotKey: string): Uint8Array {
  return keccak256(hexToBytes(`0x${accountKey}${slotKey}`))
}

/** Applies a batch of changes to the tree (deleted accounts and wiped storage remove their entries). */
function applyToTree(tree: BucketTree, changes: readonly StateChange[], state: MegaState): void {
  for (const c of changes) {
    if (c.kind === 'account') {
      const a = state.accounts.get(c.key)
      tree.set(hexToBytes(`0x${c.key}`), a === undefined || a === null ? null : accountValue(a))
    } else if (c.kind === 'storage') {
      const v = state.storage.get(c.accountKey)?.get(c.key)
      tree.set(storageTreeKey(c.accountKey, c.key), v === undefined || v.length === 0 ? null : v)
    } else if (c.kind === 'wipe') {
      // Every slot the wipe touched takes its current value (absent unless rewritten, or the wipe reverted).
      const m = state.storage.get(c.accountKey)
      for (const slot of c.slots) tree.set(storageTreeKey(c.accountKey, slot), m?.get(slot) ?? null)
    }
  }
}

/** Loads the unit's starting state into memory, the tree, and (when needed) the MPT mirror. */
async function loadState(unit: ReplayUnit, common: Common, needMirror: boolean) {
  const t0 = now()
  const state = new MegaState()
  let mirror: MptMirror | undefined
  const s = unit.state
  if (s.kind === 'witness') {
    const nodes = new Map<string, Uint8Array>()
    for (const n of s.nodes) if (!(n.length === 1 && n[0] === 0x80)) nodes.set(bytesToHex(keccak256(n)).slice(2), n)
    const storageRoots: [string, Uint8Array][] = []
    walkTrie(nodes, s.stateRoot, () => {}, (key, value) => {
      const f = RLP.decode(value) as Uint8Array[]
      const k = bytesToHex(key).slice(2)
      state.loadAccount(k, { nonce: bytesToBigInt(f[0]!), balance: bytesToBigInt(f[1]!), storageRoot: f[2]!, codeHash: f[3]! })
      storageRoots.push([k, f[2]!])
    })
    for (const [k, root] of storageRoots) {
      walkTrie(nodes, root, () => {}, (slot, value) => state.loadSlot(k, bytesToHex(slot).slice(2), RLP.decode(value) as Uint8Array))
    }
    for (const c of s.codes) state.loadCode(keccak256(c), c)
    if (needMirror) mirror = new MptMirror(common, NodeStore.fromWitness(s.nodes, s.codes, CODEHASH_PREFIX), s.stateRoot)
  } else {
    const store = needMirror ? new NodeStore(true, Math.ceil(s.spec.accounts.count * 1.4) + 1024) : undefined
    const built = buildGenesisState(s.spec, {
      node: (hash, node) => store?.putBytes(hash, node),
      code: (hash, code) => {
        state.loadCode(hash, code)
        store?.putBytes(concatBytes(CODEHASH_PREFIX, hash), code)
      },
      account: (key, rlp) => {
        const f = RLP.decode(rlp) as Uint8Array[]
        state.loadAccount(bytesToHex(key).slice(2), { nonce: bytesToBigInt(f[0]!), balance: bytesToBigInt(f[1]!), storageRoot: f[2]!, codeHash: f[3]! })
      },
      slot: (hashedAddress, hashedSlot, value) => state.loadSlot(bytesToHex(hashedAddress).slice(2), bytesToHex(hashedSlot).slice(2), value),
    })
    if (!equalsBytes(built.stateRoot, hexToBytes(s.spec.stateRoot as `0x${string}`))) {
      throw new FixtureError(unit.origin, `genesis expands to state root ${bytesToHex(built.stateRoot)}, not the ${s.spec.stateRoot} it declares`)
    }
    if (store !== undefined) mirror = new MptMirror(common, store, built.stateRoot)
  }
  let entries = 0
  for (const m of state.storage.values()) entries += m.size
  const tree = await BucketTree.create({ expectedEntries: state.accounts.size + entries })
  for (const [k, a] of state.accounts) if (a !== null) tree.set(hexToBytes(`0x${k}`), accountValue(a))
  for (const [k, m] of state.storage) for (const [slot, v] of m) tree.set(storageTreeKey(k, slot), v)
  tree.commit()
  return { state, tree, mirror, importMs: now() - t0 }
}
