import { createBlockFromRLP } from '@ethereumjs/block'
import type { EVM } from '@ethereumjs/evm'
import { MerklePatriciaTrie } from '@ethereumjs/mpt'
import { RLP } from '@ethereumjs/rlp'
import { CODEHASH_PREFIX, Caches } from '@ethereumjs/statemanager'
import { ValueEncoding, bytesToBigInt, bytesToHex, equalsBytes } from '@ethereumjs/util'
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
import type { BlockRun, Engine, RunUnitOptions } from '../types.js'
import { checkExpectedAgainstHeader, verifyComputed } from '../verify.js'
import { AncestorChain } from './ancestors.js'
import { createMainnetCommon } from './common.js'
import { executeBlock } from './executeBlock.js'
import { MissingNodeSignal, NodeStore } from './nodeStore.js'
import { ReplayStateManager } from './stateManager.js'

/**
 * The baseline engine: @ethereumjs/vm 10.1.3 over a Merkle Patricia trie, as a conventional client
 * executes. For fixture units the trie lives in an in-memory hash-keyed node store loaded from the
 * witness; the state root is computed and checked after every block.
 */
export function createBaselineEngine(): Engine {
  return {
    name: 'baseline',
    description: '@ethereumjs/vm 10.1.3, MPT state root per block, in-memory node store',
    runUnit,
  }
}

async function* runUnit(unit: ReplayUnit, opts: RunUnitOptions): AsyncGenerator<BlockRun> {
  const t0 = now()
  const store = NodeStore.fromWitness(unit.state.nodes, unit.state.codes, CODEHASH_PREFIX)
  let setupMs = now() - t0
  const clock = new PhaseClock()
  for (const input of unit.blocks) {
    const t1 = now()
    const { number, timestamp } = readHeaderNumbers(input)
    const common = createMainnetCommon({
      origin: input.origin,
      number,
      timestamp,
      declaredHardfork: input.hardfork,
      chainId: input.chainId,
    })
    const block = decodeBlock(input, common)
    const trie = new MerklePatriciaTrie({
      db: store,
      root: unit.state.stateRoot,
      useKeyHashing: true,
      common,
      valueEncoding: ValueEncoding.Bytes,
    })
    const stateManager = new ReplayStateManager({ trie, common, caches: new Caches(), clock, probe: opts.profiler })
    const vm = await createVM({
      common,
      stateManager,
      blockchain: new AncestorChain(input.ancestorHashes, input.origin, number),
    })
    setupMs += now() - t1

    const evm = vm.evm as EVM
    opts.profiler?.attach(evm)
    let executed
    try {
      executed = await executeBlock(vm, block, { clock, probe: opts.profiler })
    } catch (err) {
      throw asExecutionError(err, input, store)
    } finally {
      opts.profiler?.detach(evm)
    }
    const phases = clock.take()
    yield {
      origin: input.origin,
      number,
      hash: bytesToHex(block.hash()),
      hardfork: common.hardfork(),
      txCount: executed.txCount,
      gasUsed: executed.gasUsed,
      phases,
      stateReads: { ...stateManager.reads },
      mismatches: [...verifyComputed(input.expected, executed), ...checkExpectedAgainstHeader(input.expected, block.header)],
      setupMs,
    }
    setupMs = 0
  }
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

function decodeBlock(input: BlockInput, common: ReturnType<typeof createMainnetCommon>) {
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
