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
import type { TypedTransaction } from '@ethereumjs/tx'
import { Bloom, type RunTxResult, type TxReceipt, type VM, encodeReceipt, runTx } from '@ethereumjs/vm'

import { Phase, type PhaseClock } from '../../probes/phases.js'
import { DAO_DRAIN_ACCOUNTS, DAO_REFUND_CONTRACT } from './dao.js'

/** What a transaction executed elsewhere produced, for its receipt and the block's gas (Byzantium+). */
export type ExecutedTx = {
  status: 0 | 1
  /** Gas the receipt counts (runTx's totalGasSpent). */
  totalGasSpent: bigint
  /** Gas the block counts (runTx's blockGasSpent). */
  blockGasSpent: bigint
  logs: [Uint8Array, Uint8Array[], Uint8Array][]
}

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

/**
 * Per-transaction boundaries for a probe that records what each transaction did (the access-set
 * probe): called only when given, around every `addTransaction` (not for `addExecuted`, whose
 * transaction ran elsewhere) and around the block's system-level work.
 */
export interface TxObserver {
  blockStart(block: Block): void
  txStart(tx: TypedTransaction, index: number): void
  txEnd(tx: TypedTransaction, index: number, result: RunTxResult | undefined): Promise<void>
  blockEnd(block: Block): Promise<void>
}

/** What executing a block computed, to compare with what its header commits to. */
export type ExecutedBlock = {
  /** Undefined when the state root was deferred (historical sync computes it once per batch). */
  stateRoot: Uint8Array | undefined
  receiptsRoot: Uint8Array
  logsBloom: Uint8Array
  gasUsed: bigint
  txCount: number
  receipts: TxReceipt[]
}

export type ExecuteBlockOptions = {
  clock: PhaseClock
  probe?: ExecutionProbe | undefined
  /**
   * Compute the state root after the block (default true). False defers it (historical sync); the
   * state manager must then keep changes across blocks (FlatStateManager does; MerkleStateManager
   * flushes into its trie at every outermost commit, so it always merkleizes).
   */
  stateRoot?: boolean
  /** Told where each transaction starts and ends (the access-set probe); off when undefined. */
  observer?: TxObserver | undefined
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
  const { clock } = opts
  clock.enter(Phase.senderRecovery)
  try {
    for (const tx of block.transactions) tx.getSenderAddress()
  } finally {
    clock.exit()
  }
  const execution = await BlockExecution.begin(vm, block, opts)
  for (const tx of block.transactions) await execution.addTransaction(tx)
  return execution.finish()
}

/**
 * One block's execution, step by step: `begin` (irregular state changes and system calls),
 * `addTransaction` for each transaction, `finish` (withdrawals, rewards, state root, commit).
 * `executeBlock` replays a given block with it; the chain generator builds blocks with it, adding
 * transactions until a gas target is reached. `block` supplies the header context (number,
 * timestamp, base fee, coinbase…); its transaction list is not read.
 */
export class BlockExecution {
  private gasUsed = 0n
  private receiptGasUsed = 0n
  private readonly bloom: Bloom
  private readonly receipts: TxReceipt[] = []
  private readonly receiptTrie: MerklePatriciaTrie
  private txCount = 0

  private constructor(
    private readonly vm: VM,
    private readonly block: Block,
    private readonly opts: ExecuteBlockOptions,
  ) {
    this.bloom = new Bloom(undefined, vm.common)
    this.receiptTrie = new MerklePatriciaTrie({ common: vm.common })
  }

  static async begin(vm: VM, block: Block, opts: ExecuteBlockOptions): Promise<BlockExecution> {
    const e = new BlockExecution(vm, block, opts)
    const { common, evm } = vm
    opts.observer?.blockStart(block)
    await e.inExecution(async () => {
      const number = block.header.number
      if (common.hardforkIsActiveOnBlock(Hardfork.Dao, number) && number === common.hardforkBlock(Hardfork.Dao)) {
        await evm.journal.checkpoint()
        await applyDaoFork(evm)
        await evm.journal.commit()
      }
      await evm.journal.checkpoint()
      if (common.isActivatedEIP(4788)) await storeParentBeaconBlockRoot(vm, block)
    })
    return e
  }

  /** Gas used by the block so far (what the header's gasUsed will be). */
  get blockGasUsed(): bigint {
    return this.gasUsed
  }

  /** Runs one transaction (it must fit in the block's remaining gas) and records its receipt. */
  async addTransaction(tx: TypedTransaction): Promise<RunTxResult> {
    return this.inExecution(async () => {
      if (this.block.header.gasLimit < tx.gasLimit + this.gasUsed) {
        throw new Error(`transaction ${this.txCount} has a higher gas limit than the block has left`)
      }
      const { probe, observer } = this.opts
      observer?.txStart(tx, this.txCount)
      probe?.txStart()
      let res: RunTxResult | undefined
      try {
        res = await runTx(this.vm, { tx, block: this.block, blockGasUsed: this.receiptGasUsed })
      } finally {
        probe?.txEnd()
        await observer?.txEnd(tx, this.txCount, res)
      }
      this.gasUsed += res.blockGasSpent
      this.receiptGasUsed += res.totalGasSpent
      this.bloom.or(res.bloom)
      this.receipts.push(res.receipt)
      await this.receiptTrie.put(RLP.encode(this.txCount), encodeReceipt(res.receipt, tx.type))
      this.txCount++
      return res
    })
  }

  /**
   * Records a transaction executed elsewhere (the mega engine's parallel workers) whose state
   * changes the caller has applied: its receipt is built here as runTx would (Byzantium and later).
   */
  addExecuted(tx: TypedTransaction, r: ExecutedTx): void {
    if (this.block.header.gasLimit < tx.gasLimit + this.gasUsed) {
      throw new Error(`transaction ${this.txCount} has a higher gas limit than the block has left`)
    }
    const bloom = new Bloom(undefined, this.vm.common)
    for (const [address, topics] of r.logs) {
      bloom.add(address)
      for (const t of topics) bloom.add(t)
    }
    this.gasUsed += r.blockGasSpent
    this.receiptGasUsed += r.totalGasSpent
    this.bloom.or(bloom)
    const receipt: TxReceipt = { status: r.status, cumulativeBlockGasUsed: this.receiptGasUsed, bitvector: bloom.bitvector, logs: r.logs }
    this.receipts.push(receipt)
    this.pendingReceipts.push([RLP.encode(this.txCount), encodeReceipt(receipt, tx.type)])
    this.txCount++
  }

  /** Receipts of `addExecuted` transactions, put into the receipt trie in one go at `finish`. */
  private pendingReceipts: [Uint8Array, Uint8Array][] = []

  /** Withdrawals and rewards, then the state root (unless deferred) and the commit. */
  async finish(): Promise<ExecutedBlock> {
    const { vm, block } = this
    const { common, evm } = vm
    await this.inExecution(async () => {
      for (const [k, v] of this.pendingReceipts.splice(0)) await this.receiptTrie.put(k, v)
      if (common.isActivatedEIP(4895)) {
        for (const w of block.withdrawals ?? []) await credit(evm, w.address, w.amount * 1_000_000_000n)
        await evm.journal.cleanup()
      }
      if (common.consensusType() === ConsensusType.ProofOfWork) await payBlockRewards(vm, block)
    })
    // getStateRoot is merkleization (MerkleStateManager flushes its caches into the trie and hashes).
    await this.opts.observer?.blockEnd(block)
    const stateRoot = this.opts.stateRoot === false ? undefined : await vm.stateManager.getStateRoot()
    await this.opts.clock.time(Phase.persistence, () => evm.journal.commit())
    return {
      stateRoot,
      receiptsRoot: this.txCount === 0 ? KECCAK256_RLP : this.receiptTrie.root(),
      logsBloom: this.bloom.bitvector,
      gasUsed: this.gasUsed,
      txCount: this.txCount,
      receipts: this.receipts,
    }
  }

  /**
   * Runs `fn` in the execution phase and the probe's block region. An error leaves the block's
   * checkpoint open: the state is not usable afterwards (replay and generation both stop).
   */
  private async inExecution<T>(fn: () => Promise<T>): Promise<T> {
    const { clock, probe } = this.opts
    clock.enter(Phase.execution)
    probe?.blockStart()
    try {
      return await fn()
    } finally {
      probe?.blockEnd()
      clock.exit()
    }
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
