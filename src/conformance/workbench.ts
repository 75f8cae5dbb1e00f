/**
 * The same contracts on the fast EVM and on @ethereumjs, side by side: the workload's ERC20 tokens,
 * WETH9 and a Uniswap V2 factory/router/pair (deployed for real by `deployWorkloadContracts`), loaded
 * into a MemoryBackend and into an @ethereumjs VM. Used by the randomized differential test and by
 * the benchmark (scripts/bench-evm.mjs): whole signed transactions on both, or bare message calls.
 */
import { type Block, createBlock } from '@ethereumjs/block'
import type { Common } from '@ethereumjs/common'
import { type TypedTransaction, createFeeMarket1559Tx } from '@ethereumjs/tx'
import { Account, Address, bigIntToBytes, createAddressFromPrivateKey, createAddressFromString, hexToBytes, setLengthLeft, utf8ToBytes } from '@ethereumjs/util'
import { type VM, createVM, runTx } from '@ethereumjs/vm'

import type { StateManagerInterface } from '@ethereumjs/common'

import { createChainCommon } from '../chain/common.js'
import { MegaState, MegaStateManager } from '../engines/mega/megaState.js'
import { keccak256 } from '../util/keccak.js'
import { type SetupResult, deployWorkloadContracts } from '../workloads/setup.js'
import { blockEnvOf } from '../evm/block.js'
import { DEFAULT_EVM_TIER, type EvmTier } from '../evm/tiers.js'
import { type Rules, rulesFor } from '../evm/forks.js'
import { type BlockEnv, Evm, type Log } from '../evm/interpreter.js'
import { stateRoot } from '../evm/mptRoot.js'
import { type Precompiles, precompilesFor } from '../evm/precompiles.js'
import { MemoryBackend, WorldState, fromHex, hex } from '../evm/state.js'
import { type TxResult, runTransaction, txInputFromEthereumjs } from '../evm/transaction.js'

const SEED = 'fast-evm-workbench'

export interface CallOutcome {
  status: 0 | 1
  gasUsed: bigint
  output: Uint8Array
  logs: Log[]
}

export class Workbench {
  private nonceFast = 0n
  private nonceEjs = 0n
  readonly rules: Rules
  readonly env: BlockEnv
  readonly precompiles: Precompiles
  /** The sender as the fast EVM names addresses (40 hex digits). */
  readonly senderHex: string
  /** The fast EVM's tier for the next calls and transactions (the benchmark switches it). */
  tier: EvmTier = DEFAULT_EVM_TIER

  private constructor(
    readonly common: Common,
    readonly block: Block,
    readonly setup: SetupResult,
    readonly senderKey: Uint8Array,
    readonly sender: Address,
    readonly backend: MemoryBackend,
    readonly state: WorldState,
    readonly vm: VM,
  ) {
    this.rules = rulesFor('cancun')
    this.env = blockEnvOf(block, 1337n, () => 0n)
    this.precompiles = precompilesFor(this.rules)
    this.senderHex = hex(sender.bytes)
    this.nonceFast = backend.getAccount(this.senderHex)?.nonce ?? 0n
    this.nonceEjs = this.nonceFast
  }

  /**
   * `ejsState`: 'merkle' (createVM's default MerkleStateManager, an in-memory trie) or 'mega' (the mega
   * engine's in-memory MegaStateManager: what `--evm ethereumjs` runs on; no state roots then).
   */
  static async create(ejsState: 'merkle' | 'mega' = 'merkle'): Promise<Workbench> {
    const common = createChainCommon(1337n, 'cancun', { origin: 'workbench', block: 1n })
    const block = createBlock(
      {
        header: {
          number: 1n,
          timestamp: 1_700_000_000n,
          gasLimit: 30_000_000n,
          baseFeePerGas: 7n,
          coinbase: createAddressFromString('0x00000000000000000000000000000000c0ffee00'),
          excessBlobGas: 0n,
          blobGasUsed: 0n,
          parentBeaconBlockRoot: new Uint8Array(32),
        },
      },
      { common },
    )
    const setup = await deployWorkloadContracts({ common, block, seed: SEED, tokens: 2, pairs: 3 })
    const senderKey = keccak256(utf8ToBytes(`megabench/deployer/${SEED}`))
    const sender = createAddressFromPrivateKey(senderKey)
    const backend = new MemoryBackend()
    const mega = ejsState === 'mega' ? await MegaState.create({ expectedEntries: 4096, slotIndex: true }) : undefined
    const vm = await createVM({ common: common.copy(), ...(mega === undefined ? {} : { stateManager: new MegaStateManager(mega) as StateManagerInterface }) })
    for (const [addr, a] of Object.entries(setup.alloc)) {
      const key = addr.slice(2).toLowerCase()
      const code = a.code === undefined ? new Uint8Array(0) : hexToBytes(a.code as `0x${string}`)
      const codeHash = backend.putCode(code)
      backend.accounts.set(key, { nonce: BigInt(a.nonce), balance: BigInt(a.balance), codeHash })
      const m = new Map<bigint, bigint>()
      const address = createAddressFromString(addr)
      await vm.stateManager.putAccount(address, new Account(BigInt(a.nonce), BigInt(a.balance)))
      if (code.length > 0) await vm.stateManager.putCode(address, code)
      for (const [k, v] of Object.entries(a.storage ?? {})) {
        const value = BigInt(v)
        if (value === 0n) continue
        m.set(BigInt(k), value)
        await vm.stateManager.putStorage(address, setLengthLeft(hexToBytes(k as `0x${string}`), 32), bigIntToBytes(value))
      }
      if (m.size > 0) backend.storage.set(key, m)
    }
    if (mega !== undefined) {
      mega.resetTracking()
      mega.journal = []
    }
    return new Workbench(common, block, setup, senderKey, sender, backend, new WorldState(backend), vm)
  }

  /** A signed EIP-1559 transaction from the sender (nonce supplied by the caller). */
  tx(p: { to: string; data: Uint8Array; gasLimit: bigint; nonce: bigint; value?: bigint }): TypedTransaction {
    return createFeeMarket1559Tx(
      { to: createAddressFromString(p.to), data: p.data, gasLimit: p.gasLimit, nonce: p.nonce, value: p.value ?? 0n, maxFeePerGas: 10n, maxPriorityFeePerGas: 1n, chainId: 1337n },
      { common: this.common },
    ).sign(this.senderKey)
  }

  /** The next transaction to `to`: nonces kept per engine (an invalid transaction does not use one). */
  nextNonce(): bigint {
    return this.nonceFast
  }

  /** Runs a transaction on the fast EVM (its changes flushed to the backend). */
  txFast(tx: TypedTransaction): TxResult {
    const r = runTransaction(this.state, this.rules, this.env, this.precompiles, txInputFromEthereumjs(tx, this.senderHex), this.block.header.gasLimit, this.tier)
    this.state.flush()
    this.nonceFast++
    return r
  }

  async txEjs(tx: TypedTransaction): Promise<CallOutcome> {
    const r = await runTx(this.vm, { tx, block: this.block })
    this.nonceEjs++
    return {
      status: r.execResult.exceptionError === undefined ? 1 : 0,
      gasUsed: r.totalGasSpent,
      output: r.execResult.returnValue,
      logs: (r.execResult.logs ?? []).map(([a, topics, data]) => ({ address: hex(a), topics, data })),
    }
  }

  /** `to`: 40 hex digits, no 0x (also for callEjs). A bare message call on the fast EVM (no fee or refund rules; caller and target warm; the caller's nonce incremented as runCall does). */
  callFast(to: string, data: Uint8Array, gas: number): CallOutcome {
    const st = this.state
    st.beginTx()
    const from = this.senderHex
    st.warmAddress(from)
    st.warmAddress(to)
    st.alwaysWarm = this.precompiles // as runTransaction does: warm by rule, not a set entry each
    // @ethereumjs's runCall increments the caller's nonce: so does this, to keep the states equal.
    const caller = st.get(from)
    st.setNonce(caller, caller.nonce + 1n)
    const evm = new Evm(st, this.rules, this.env, this.precompiles, this.tier)
    evm.setTx(from, 7n, [])
    const res = evm.callMessage(from, to, to, 0n, data, gas, 0, false, 'call')
    st.finalizeTx(true)
    return { status: res.status === 0 ? 1 : 0, gasUsed: BigInt(gas - res.gasLeft), output: res.output, logs: res.status === 0 ? evm.logs : [] }
  }

  async callEjs(to: string, data: Uint8Array, gas: number): Promise<CallOutcome> {
    const r = await this.vm.evm.runCall({ caller: this.sender, to: new Address(fromHex(to)), data, gasLimit: BigInt(gas), block: this.block })
    // As at the end of a transaction: touched empty accounts removed, access lists and EIP-2200
    // originals cleared (runTx does both; runCall does not).
    await this.vm.evm.journal.cleanup()
    ;(this.vm.stateManager as { originalStorageCache?: { clear(): void } }).originalStorageCache?.clear()
    return {
      status: r.execResult.exceptionError === undefined ? 1 : 0,
      gasUsed: r.execResult.executionGasUsed,
      output: r.execResult.returnValue,
      logs: (r.execResult.logs ?? []).map(([a, topics, data]) => ({ address: hex(a), topics, data })),
    }
  }

  /** State roots of both sides (the fast side flushed). */
  async roots(): Promise<{ fast: string; ejs: string }> {
    this.state.flush()
    const ejs = await this.vm.stateManager.getStateRoot()
    return { fast: hex(stateRoot(this.backend)), ejs: hex(ejs) }
  }
}

export { fromHex }
