import { type Block, createBlockFromRLP } from '@ethereumjs/block'
import type { Common } from '@ethereumjs/common'
import type { EVM } from '@ethereumjs/evm'
import { MerklePatriciaTrie } from '@ethereumjs/mpt'
import { RLP } from '@ethereumjs/rlp'
import { CODEHASH_PREFIX, Caches } from '@ethereumjs/statemanager'
import { ValueEncoding, bytesToBigInt, bytesToHex, equalsBytes, hexToBytes } from '@ethereumjs/util'
import type { VM } from '@ethereumjs/vm'
import { createVM } from '@ethereumjs/vm'

import {
  BlockExecutionError,
  FixtureError,
  MegabenchError,
  MissingTrieNodeError,
} from '../../errors/index.js'
import { now } from '../../probes/clock.js'
import { PhaseClock } from '../../probes/phases.js'
import type { BlockInput, ReplayUnit } from '../../types.js'
import { initKeccak } from '../../util/keccak.js'
import { buildGenesisState } from '../../workloads/genesis.js'
import type { BlockRun, Engine, RunUnitOptions } from '../types.js'
import { checkExpectedAgainstHeader, verifyComputed } from '../verify.js'
import { AncestorChain } from './ancestors.js'
import { advanceMainnetCommon, createChainCommon, createMainnetCommon } from './common.js'
import { executeBlock } from './executeBlock.js'
import { MissingNodeSignal, NodeStore } from './nodeStore.js'
import { ReplayStateManager } from './stateManager.js'

/**
 * The baseline engine: @ethereumjs/vm 10.1.3 over a Merkle Patricia trie, as a conventional client
 * executes. The trie lives in an in-memory hash-keyed node store, loaded from a fixture's witness or
 * built from a generated chain's genesis; the state root is computed and checked after every block.
 */
export function createBaselineEngine(): Engine {
  return {
    name: 'baseline',
    description: '@ethereumjs/vm 10.1.3, MPT state root per block, in-memory node store',
    runUnit,
  }
}

/** The VM and what it runs on, created at a unit's first block and kept for the rest. */
type Machine = { common: Common; vm: VM; stateManager: ReplayStateManager; ancestors: AncestorChain }

async function* runUnit(unit: ReplayUnit, opts: RunUnitOptions): AsyncGenerator<BlockRun> {
  await initKeccak()
  const t0 = now()
  const { store, stateRoot } = loadState(unit)
  let setupMs = now() - t0
  const clock = new PhaseClock()
  let machine: Machine | undefined
  for await (const input of unit.blocks) {
    const t1 = now()
    const { number, timestamp } = readHeaderNumbers(input)
    if (machine === undefined) {
      machine = await createMachine(unit, input, number, timestamp, store, stateRoot, clock)
    } else if (unit.rules.kind === 'mainnet') {
      advanceMainnetCommon(machine.common, { origin: input.origin, number, timestamp, declaredHardfork: input.hardfork, chainId: input.chainId })
    }
    machine.ancestors.setBlock(input.ancestorHashes, input.origin, number)
    const block = decodeBlock(input, machine.common)
    setupMs += now() - t1

    const evm = machine.vm.evm as EVM
    const profiler = input.warmup === true ? undefined : opts.profiler // warm-up blocks are not measured
    machine.stateManager.probe = profiler
    profiler?.attach(evm)
    let executed
    try {
      executed = await executeBlock(machine.vm, block, { clock, probe: profiler })
    } catch (err) {
      throw asExecutionError(err, input, store)
    } finally {
      profiler?.detach(evm)
      machine.stateManager.probe = undefined
    }
    const phases = clock.take()
    const stateReads = { ...machine.stateManager.reads }
    Object.assign(machine.stateManager.reads, { accounts: 0, storageSlots: 0, code: 0, codeBytes: 0 })
    yield {
      origin: input.origin,
      number,
      hash: bytesToHex(block.hash()),
      hardfork: machine.common.hardfork(),
      txCount: executed.txCount,
      gasUsed: executed.gasUsed,
      phases,
      stateReads,
      mismatches: [
        ...verifyComputed(input.expected, executed),
        ...checkExpectedAgainstHeader(input.expected, block.header),
        ...checkSenders(input, block),
      ],
      setupMs,
      warmup: input.warmup === true,
    }
    setupMs = 0
  }
}

/** Loads the unit's starting state into a node store: a witness as is, a genesis spec built in bulk. */
function loadState(unit: ReplayUnit): { store: NodeStore; stateRoot: Uint8Array } {
  const state = unit.state
  if (state.kind === 'witness') {
    return { store: NodeStore.fromWitness(state.nodes, state.codes, CODEHASH_PREFIX), stateRoot: state.stateRoot }
  }
  const store = new NodeStore(true, Math.ceil(state.spec.accounts.count * 1.4) + 1024)
  const built = buildGenesisState(state.spec, store)
  const stateRoot = hexToBytes(state.spec.stateRoot as `0x${string}`)
  if (!equalsBytes(built.stateRoot, stateRoot)) {
    throw new FixtureError(
      unit.origin,
      `genesis expands to state root ${bytesToHex(built.stateRoot)}, not the ${state.spec.stateRoot} it declares`,
    )
  }
  return { store, stateRoot }
}

async function createMachine(
  unit: ReplayUnit,
  input: BlockInput,
  number: bigint,
  timestamp: bigint,
  store: NodeStore,
  stateRoot: Uint8Array,
  clock: PhaseClock,
): Promise<Machine> {
  const where = { origin: input.origin, block: number }
  const common =
    unit.rules.kind === 'mainnet'
      ? createMainnetCommon({ origin: input.origin, number, timestamp, declaredHardfork: input.hardfork, chainId: input.chainId })
      : createChainCommon(unit.rules.chainId, unit.rules.hardfork, where)
  const trie = new MerklePatriciaTrie({ db: store, root: stateRoot, useKeyHashing: true, common, valueEncoding: ValueEncoding.Bytes })
  const stateManager = new ReplayStateManager({ trie, common, caches: new Caches(), clock })
  const ancestors = new AncestorChain(input.ancestorHashes, input.origin, number)
  const vm = await createVM({ common, stateManager, blockchain: ancestors })
  return { common, vm, stateManager, ancestors }
}

/** Number and timestamp straight from the header RLP: the hardfork must be known before decoding. */
function readHeaderNumbers(input: BlockInput): { number: bigint; timestamp: bigint } {
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

function decodeBlock(input: BlockInput, common: Common): Block {
  let block
  try {
    block = createBlockFromRLP(input.blockRlp, { common })
  } catch (cause) {
    throw new FixtureError(input.origin, `field blockRlp: not a valid block (${firstLine(cause)})`, { cause })
  }
  if (!equalsBytes(block.hash(), input.hash)) {
    throw new FixtureError(
      input.origin,
      `field blockHash: ${bytesToHex(input.hash)} does not match the header in blockRlp (${bytesToHex(block.hash())})`,
    )
  }
  return block
}

/** Senders the source cached must be the ones recovered from the signatures. */
function checkSenders(input: BlockInput, block: Block) {
  if (input.senders === undefined) return []
  const recovered = block.transactions.map((tx) => tx.getSenderAddress().bytes)
  const cached = input.senders
  const ok = cached.length === recovered.length * 20 && recovered.every((s, i) => equalsBytes(s, cached.subarray(i * 20, i * 20 + 20)))
  return ok ? [] : [{ field: 'senders', expected: `${recovered.length} recovered senders`, actual: `a cache of ${cached.length / 20} that differs` }]
}

function asExecutionError(err: unknown, input: BlockInput, store: NodeStore): MegabenchError {
  const loc = { origin: input.origin, block: input.number }
  if (err instanceof MegabenchError) return err
  const chain: unknown[] = []
  for (let e = err; e instanceof Error; e = e.cause) chain.push(e)
  const signal = chain.find((e) => e instanceof MissingNodeSignal)
  if (signal !== undefined || chain.some((e) => (e as Error).message.includes('Missing node in DB'))) {
    const key = signal?.key ?? store.lastMissingKey
    return new MissingTrieNodeError(loc, key === undefined ? undefined : `0x${key}`, err)
  }
  return new BlockExecutionError(loc, `execution failed: ${firstLine(err)}`, err)
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? ''
}
