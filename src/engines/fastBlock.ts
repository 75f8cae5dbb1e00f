/**
 * A block on the fast EVM (src/evm/) over any engine's state (its `StateBackend`): what both engines'
 * `--evm fast` paths share, Frontier … BPO2. The block's result is the `ExecutedBlock` the checks read, as
 * from @ethereumjs's execution; the state root is the engine's business (before Byzantium, after every
 * transaction too).
 */
import type { Block } from '@ethereumjs/block'
import type { Common } from '@ethereumjs/common'

import { type FastBlockOptions, FastBlockRun, receiptsRoot } from '../evm/block.js'
import type { Fork } from '../evm/forks.js'
import { bytesToWord } from '../evm/interpreter.js'
import { forkOfEthereumjs } from '../evm/precompiles.js'
import { type FastBlockProbe, executeBlockFastProfiled } from '../evm/profile.js'
import { type StateBackend, WorldState } from '../evm/state.js'
import type { EvmTier } from '../evm/tiers.js'
import type { ExecutedBlock } from './baseline/executeBlock.js'

/**
 * The fast-EVM fork for this Common (Frontier … BPO2), or undefined for a fork the fast EVM does not run.
 * Before Byzantium, receipts carry the state root after each transaction: `runFastBlock` takes it from the
 * engine (`stateRoot`).
 */
export function fastForkOf(common: Common): Fork | undefined {
  return forkOfEthereumjs(common.hardfork())
}

/**
 * Runs `block` on the fast EVM over `backend` (its changes handed over at the block's end, and before
 * Byzantium after every transaction too: `stateRoot` then computes the root for its receipt with the
 * engine's own trie). With `probe`, in the instrumented interpreter (src/evm/profile.ts), whatever the tier.
 */
export async function runFastBlock(
  backend: StateBackend,
  block: Block,
  p: {
    fork: Fork
    chainId: bigint
    ancestors: ReadonlyMap<bigint, Uint8Array>
    daoForkBlock?: bigint | undefined
    tier?: EvmTier | undefined
    probe?: FastBlockProbe | undefined
    /** Before Byzantium: the state root after the transaction whose changes the backend has just received. */
    stateRoot?: (() => Promise<Uint8Array>) | undefined
  },
): Promise<ExecutedBlock> {
  const world = new WorldState(backend)
  // The chain's EIP-6110 deposit contract (Prague+): @ethereumjs's chain config, which has no public getter.
  const chainParams = (block.common as unknown as { _chainParams?: { depositContractAddress?: string } })._chainParams
  const opts: FastBlockOptions = {
    fork: p.fork,
    chainId: p.chainId,
    daoForkBlock: p.daoForkBlock,
    tier: p.tier,
    depositContract: chainParams?.depositContractAddress,
    blockHash: (n) => {
      const h = p.ancestors.get(n)
      if (h === undefined) throw new Error(`BLOCKHASH of block ${n}: not among the recorded ancestors`)
      return bytesToWord(h)
    },
  }
  const r = p.probe === undefined ? await new FastBlockRun(world, block, opts).runAsync(p.stateRoot) : await executeBlockFastProfiled(world, block, opts, p.probe, p.stateRoot)
  return {
    stateRoot: undefined,
    receiptsRoot: receiptsRoot(r.encodedReceipts),
    logsBloom: r.logsBloom,
    gasUsed: r.gasUsed,
    txCount: block.transactions.length,
    receipts: r.receipts,
    requestsHash: r.requestsHash,
    requests: r.requests,
  }
}
