import { type Block, genRequestsRoot } from '@ethereumjs/block'
import { ConsensusType, Hardfork } from '@ethereumjs/common'
import { MerklePatriciaTrie } from '@ethereumjs/mpt'
import { RLP } from '@ethereumjs/rlp'
import type { EVMInterface } from '@ethereumjs/evm'
import {
  Account,
  Address,
  CLRequest,
  CLRequestType,
  KECCAK256_RLP,
  bigIntToAddressBytes,
  bigIntToBytes,
  bytesToBigInt,
  bytesToHex,
  concatBytes,
  createAddressFromString,
  setLengthLeft,
} from '@ethereumjs/util'
import { sha256 } from '@noble/hashes/sha2.js'
import type { TypedTransaction } from '@ethereumjs/tx'
import { Bloom, type RunTxResult, type TxReceipt, type VM, encodeReceipt, runTx } from '@ethereumjs/vm'

import type { ExecutionProbe, TxObserver } from '../../probes/hooks.js'
import { Phase, type PhaseClock } from '../../probes/phases.js'
import { DEFAULT_DEPOSIT_CONTRACT, DEPOSIT_TOPIC, parseDepositLog } from '../../evm/requests.js'
import { InvalidBlockError } from '../../evm/transaction.js'
import { takeUnseenKzgFailure } from '../../chain/crypto.js'
import { DAO_DRAIN_ACCOUNTS, DAO_REFUND_CONTRACT } from '../../chain/dao.js'

/** The probe hooks this executor calls (defined below the engines, in src/probes/hooks.ts). */
export type { ExecutionProbe, TxObserver } from '../../probes/hooks.js'

/** What a transaction executed elsewhere produced, for its receipt and the block's gas (Byzantium+). */
export type ExecutedTx = {
  status: 0 | 1
  /** Gas the receipt counts (runTx's totalGasSpent). */
  totalGasSpent: bigint
  /** Gas the block counts (runTx's blockGasSpent). */
  blockGasSpent: bigint
  logs: [Uint8Array, Uint8Array[], Uint8Array][]
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
  /** EIP-7685 (Prague and later): the commitment to the block's execution-layer requests; undefined before. */
  requestsHash?: Uint8Array | undefined
  /** The requests themselves (type byte ‖ data), Prague and later. */
  requests?: Uint8Array[] | undefined
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
  /**
   * EIP-7002/7251 system calls as the EIPs say: a predeploy without code, or a call that fails, makes the
   * block invalid (the conformance runner; EEST tests it). Default false: as @ethereumjs/vm 10.1.3, an
   * empty request instead, which is what devnets without the predeploys (anvil) produce.
   */
  strictSystemCalls?: boolean | undefined
}

const BEACON_ROOTS_ADDRESS = createAddressFromString('0x000F3df6D732807Ef1319fB7B8bB8522d0Beac02')

/**
 * Executes one block on `vm` with the block rules of chainstart … bpo2, mirroring @ethereumjs/vm
 * 10.1.3's runBlock, but with the phases apart so that each can be timed:
 *   senderRecovery: every transaction's sender, recovered once and cached on the frozen tx;
 *   execution:      DAO fork, pre-block system calls (EIP-4788 beacon root, EIP-2935 parent hash),
 *                   transactions (runTx: every type, incl. EIP-4844 blob and EIP-7702 set-code
 *                   transactions), withdrawals, block rewards, EIP-7685 requests (EIP-6110 deposit
 *                   logs, the EIP-7002 and EIP-7251 post-block system calls) and their hash;
 *   merkleization:  the state root (before Byzantium also inside execution: receipts carry roots);
 *   persistence:    the final commit, which writes new trie nodes to the node store.
 * Senders are recovered in a separate phase, as clients do in a pipeline stage before execution.
 */
export async function executeBlock(vm: VM, block: Block, opts: ExecuteBlockOptions): Promise<ExecutedBlock> {
  recoverSenders(block, opts.clock)
  const execution = await BlockExecution.begin(vm, block, opts)
  for (const tx of block.transactions) await execution.addTransaction(tx)
  return execution.finish()
}

/** Every sender of the block recovered (cached on the transactions), in the sender-recovery phase. */
export function recoverSenders(block: Block, clock: PhaseClock): void {
  clock.enter(Phase.senderRecovery)
  try {
    for (const tx of block.transactions) tx.getSenderAddress()
  } finally {
    clock.exit()
  }
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
      if (common.isActivatedEIP(2935)) await storeParentBlockHash(vm, block)
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

  /**
   * Withdrawals and rewards, the EIP-7685 requests (Prague and later: deposit logs, then the EIP-7002 and
   * EIP-7251 system calls, as runBlock accumulates them after applying the block), then the state root
   * (unless deferred) and the commit.
   */
  async finish(): Promise<ExecutedBlock> {
    const { vm, block } = this
    const { common, evm } = vm
    let requests: CLRequest<CLRequestType>[] | undefined
    await this.inExecution(async () => {
      for (const [k, v] of this.pendingReceipts.splice(0)) await this.receiptTrie.put(k, v)
      if (common.isActivatedEIP(4895)) {
        for (const w of block.withdrawals ?? []) await credit(evm, w.address, w.amount * 1_000_000_000n)
        await evm.journal.cleanup()
      }
      if (common.consensusType() === ConsensusType.ProofOfWork) await payBlockRewards(vm, block)
      if (common.isActivatedEIP(7685)) requests = await accumulateRequests(vm, block, this.receipts, this.opts.strictSystemCalls === true)
    })
    // ethereumjs's point-evaluation precompile turns any exception into a revert: a KZG backend that
    // could not be loaded during the block is the block's error, not a silently different result.
    const kzgFailure = takeUnseenKzgFailure()
    if (kzgFailure !== undefined) throw kzgFailure
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
      requestsHash: requests === undefined ? undefined : genRequestsRoot(requests, common.customCrypto.sha256 ?? sha256),
      requests: requests?.map((r) => r.bytes),
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

/**
 * EIP-2935: the parent's hash into the history contract's ring buffer (slot (n − 1) mod 8191), as
 * @ethereumjs/vm's accumulateParentBlockHash: written directly, no EVM call; nothing if the contract
 * has no code (before its deployment).
 */
async function storeParentBlockHash(vm: VM, block: Block): Promise<void> {
  const history = new Address(bigIntToAddressBytes(vm.common.param('historyStorageAddress')))
  const code = await vm.stateManager.getCode(history)
  if (code.length === 0) return
  const ring = (block.header.number - 1n) % vm.common.param('historyServeWindow')
  await vm.stateManager.putStorage(history, setLengthLeft(bigIntToBytes(ring), 32), block.header.parentHash)
  await vm.evm.journal.cleanup()
}

/**
 * EIP-7685: the block's execution-layer requests in type order, as @ethereumjs/vm 10.1.3's
 * accumulateRequests (not exported) makes them: EIP-6110 deposits from the deposit contract's logs in
 * the receipts, then the EIP-7002 withdrawal and EIP-7251 consolidation requests, each the return data
 * of a system call (caller 0xff…fe, 30M gas) to its predeploy.
 */
async function accumulateRequests(vm: VM, block: Block, receipts: readonly TxReceipt[], strict: boolean): Promise<CLRequest<CLRequestType>[]> {
  const common = vm.common
  const out: CLRequest<CLRequestType>[] = []
  if (common.isActivatedEIP(6110)) {
    const chainParams = (common as unknown as { _chainParams: { depositContractAddress?: string } })._chainParams
    const deposit = (chainParams.depositContractAddress ?? DEFAULT_DEPOSIT_CONTRACT).toLowerCase()
    let data = new Uint8Array(0)
    for (const r of receipts) {
      for (const [address, topics, logData] of r.logs) {
        if (topics.length > 0 && bytesToHex(topics[0]!) === DEPOSIT_TOPIC && bytesToHex(address) === deposit) data = concatBytes(data, parseDepositLog(logData))
      }
    }
    out.push(new CLRequest(CLRequestType.Deposit, data))
  }
  if (common.isActivatedEIP(7002)) out.push(await systemCallRequest(vm, block, CLRequestType.Withdrawal, 'withdrawalRequestPredeployAddress', strict))
  if (common.isActivatedEIP(7251)) out.push(await systemCallRequest(vm, block, CLRequestType.Consolidation, 'consolidationRequestPredeployAddress', strict))
  return out
}

/**
 * An EIP-7002/7251 post-block system call: the predeploy's code run with caller 0xff…fe and 30M gas, in a
 * checkpoint (reverted on an exception). Unlike ethereumjs's `evm.runCall` it never reads or writes the
 * system account: the call transfers nothing and the account is restored afterwards anyway, and the
 * clients whose witnesses megabench replays (reth, geth) do not read it, so their witnesses hold no proof
 * of it. An absent predeploy or a failing call (exception or revert) gives an empty request, as
 * @ethereumjs/vm 10.1.3 does, unless `strict`: then, as the EIPs say, it makes the block invalid.
 */
async function systemCallRequest(vm: VM, block: Block, type: CLRequestType, addressParam: string, strict: boolean): Promise<CLRequest<CLRequestType>> {
  const to = new Address(setLengthLeft(bigIntToBytes(vm.common.param(addressParam)), 20))
  const system = new Address(bigIntToAddressBytes(vm.common.param('systemAddress')))
  const code = (await vm.stateManager.getAccount(to)) === undefined ? new Uint8Array(0) : await vm.stateManager.getCode(to)
  const eip = type === CLRequestType.Withdrawal ? 7002 : 7251
  if (code.length === 0) {
    if (strict) throw new InvalidBlockError(`the system contract ${to.toString()} has no code (EIP-${eip})`)
    return new CLRequest(type, new Uint8Array(0))
  }
  const evm = vm.evm
  await evm.journal.checkpoint()
  const result = await evm.runCode({ code, data: new Uint8Array(0), caller: system, origin: system, to, gasLimit: vm.common.param('systemCallGasLimit'), block })
  if (result.exceptionError !== undefined) {
    await evm.journal.revert()
    if (strict) throw new InvalidBlockError(`the system call to ${to.toString()} failed (EIP-${eip}): ${result.exceptionError.error}`)
    return new CLRequest(type, new Uint8Array(0))
  }
  await evm.journal.commit()
  return new CLRequest(type, result.returnValue)
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
