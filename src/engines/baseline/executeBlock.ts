import type { Block } from '@ethereumjs/block'
import { ConsensusType, Hardfork } from '@ethereumjs/common'
import { MerklePatriciaTrie } from '@ethereumjs/mpt'
import { RLP } from '@ethereumjs/rlp'
import type { EVMInterface } from '@ethereumjs/evm'
import {
  Account,
  type Address,
  KECCAK256_RLP,
  bigIntToBytes,
  createAddressFromString,
  setLengthLeft,
} from '@ethereumjs/util'
import { Bloom, type TxReceipt, type VM, encodeReceipt, runTx } from '@ethereumjs/vm'

import { Phase, type PhaseClock } from '../../probes/phases.js'
import { DAO_DRAIN_ACCOUNTS, DAO_REFUND_CONTRACT } from './dao.js'

/** Hooks an execution probe may implement; the executor calls them only when a probe is given. */
export interface ExecutionProbe {
  blockStart(): void
  blockEnd(): void
  txStart(): void
  txEnd(): void
  /** Around every state-root computation (the state manager calls these). */
  stateRootStart(): void
  stateRootEnd(): void
}

/** What executing a block computed, to compare with what its header commits to. */
export type ExecutedBlock = {
  stateRoot: Uint8Array
  receiptsRoot: Uint8Array
  logsBloom: Uint8Array
  gasUsed: bigint
  txCount: number
  receipts: TxReceipt[]
}

export type ExecuteBlockOptions = {
  clock: PhaseClock
  probe?: ExecutionProbe | undefined
}

const BEACON_ROOTS_ADDRESS = createAddressFromString('0x000F3df6D732807Ef1319fB7B8bB8522d0Beac02')

/**
 * Executes one block on `vm` with mainnet block rules (chainstart … cancun), mirroring
 * @ethereumjs/vm's runBlock, but with the phases apart so that each can be timed:
 *   senderRecovery: every transaction's sender, recovered once and cached on the frozen tx;
 *   execution:      DAO fork, system calls, transactions (runTx), withdrawals, block rewards;
 *   merkleization:  the state root (before Byzantium also inside execution: receipts carry roots);
 *   persistence:    the final commit, which writes new trie nodes to the node store.
 * Senders are recovered in a separate phase, as clients do in a pipeline stage before execution.
 */
export async function executeBlock(vm: VM, block: Block, opts: ExecuteBlockOptions): Promise<ExecutedBlock> {
  const { clock, probe } = opts
  const common = vm.common
  const evm = vm.evm

  clock.enter(Phase.senderRecovery)
  try {
    for (const tx of block.transactions) tx.getSenderAddress()
  } finally {
    clock.exit()
  }

  clock.enter(Phase.execution)
  probe?.blockStart()
  let gasUsed = 0n
  const bloom = new Bloom(undefined, common)
  const receipts: TxReceipt[] = []
  const receiptTrie = new MerklePatriciaTrie({ common })
  try {
    const number = block.header.number
    if (common.hardforkIsActiveOnBlock(Hardfork.Dao, number) && number === common.hardforkBlock(Hardfork.Dao)) {
      await evm.journal.checkpoint()
      await applyDaoFork(evm)
      await evm.journal.commit()
    }
    await evm.journal.checkpoint()
    try {
      if (common.isActivatedEIP(4788)) await storeParentBeaconBlockRoot(vm, block)
      let receiptGasUsed = 0n
      for (let i = 0; i < block.transactions.length; i++) {
        const tx = block.transactions[i]!
        if (block.header.gasLimit < tx.gasLimit + gasUsed) {
          throw new Error(`transaction ${i} has a higher gas limit than the block has left`)
        }
        probe?.txStart()
        let res
        try {
          res = await runTx(vm, { tx, block, blockGasUsed: receiptGasUsed })
        } finally {
          probe?.txEnd()
        }
        gasUsed += res.blockGasSpent
        receiptGasUsed += res.totalGasSpent
        bloom.or(res.bloom)
        receipts.push(res.receipt)
        await receiptTrie.put(RLP.encode(i), encodeReceipt(res.receipt, tx.type))
      }
      if (common.isActivatedEIP(4895)) {
        for (const w of block.withdrawals ?? []) await credit(evm, w.address, w.amount * 1_000_000_000n)
        await evm.journal.cleanup()
      }
      if (common.consensusType() === ConsensusType.ProofOfWork) await payBlockRewards(vm, block)
    } catch (err) {
      await evm.journal.revert()
      throw err
    }
  } finally {
    probe?.blockEnd()
    clock.exit()
  }

  // MerkleStateManager.getStateRoot flushes the caches into the trie and hashes (merkleization).
  const stateRoot = await vm.stateManager.getStateRoot()
  await clock.time(Phase.persistence, () => evm.journal.commit())

  return {
    stateRoot,
    receiptsRoot: block.transactions.length === 0 ? KECCAK256_RLP : receiptTrie.root(),
    logsBloom: bloom.bitvector,
    gasUsed,
    txCount: block.transactions.length,
    receipts,
  }
}

async function credit(evm: EVMInterface, address: Address, amount: bigint): Promise<void> {
  const account = (await evm.stateManager.getAccount(address)) ?? new Account()
  account.balance += amount
  await evm.journal.putAccount(address, account)
}

/** Miner and ommer rewards (proof of work), as in the yellow paper, section 11.3. */
async function payBlockRewards(vm: VM, block: Block): Promise<void> {
  const minerReward = vm.common.param('minerReward')
  for (const ommer of block.uncleHeaders) {
    const reward = ((8n - (block.header.number - ommer.number)) * minerReward) / 8n
    await credit(vm.evm, ommer.coinbase, reward > 0n ? reward : 0n)
  }
  const niblingReward = (minerReward / 32n) * BigInt(block.uncleHeaders.length)
  await credit(vm.evm, block.header.coinbase, minerReward + niblingReward)
}

/** EIP-4788: the parent beacon block root into the beacon-roots contract's ring buffer. */
async function storeParentBeaconBlockRoot(vm: VM, block: Block): Promise<void> {
  const code = await vm.stateManager.getCode(BEACON_ROOTS_ADDRESS)
  if (code.length === 0) return
  const ringSize = BigInt(vm.common.param('historicalRootsLength'))
  const timestamp = block.header.timestamp
  const index = timestamp % ringSize
  await vm.stateManager.putStorage(BEACON_ROOTS_ADDRESS, setLengthLeft(bigIntToBytes(index), 32), bigIntToBytes(timestamp))
  await vm.stateManager.putStorage(
    BEACON_ROOTS_ADDRESS,
    setLengthLeft(bigIntToBytes(index + ringSize), 32),
    block.header.parentBeaconBlockRoot!,
  )
  await vm.evm.journal.cleanup()
}

/** EIP-779: the DAO fork's irregular state change. */
async function applyDaoFork(evm: EVMInterface): Promise<void> {
  const refundAddress = createAddressFromString(DAO_REFUND_CONTRACT)
  const refund = (await evm.stateManager.getAccount(refundAddress)) ?? new Account()
  for (const a of DAO_DRAIN_ACCOUNTS) {
    const address = createAddressFromString(a)
    const account = (await evm.stateManager.getAccount(address)) ?? new Account()
    refund.balance += account.balance
    account.balance = 0n
    await evm.journal.putAccount(address, account)
  }
  await evm.journal.putAccount(refundAddress, refund)
}
