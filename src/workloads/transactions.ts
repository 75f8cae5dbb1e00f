import type { Common } from '@ethereumjs/common'
import { type FeeMarket1559Tx, createFeeMarket1559Tx } from '@ethereumjs/tx'
import { bytesToHex } from '@ethereumjs/util'
import { type Abi, type Hex, encodeFunctionData, maxUint256 } from 'viem'

import type { ChainContracts, WorkloadSpec } from '../sources/chainFormat.js'
import type { AccountSet } from './accounts.js'
import { loadArtifact } from './artifacts.js'
import { Rng } from './rng.js'
import { Permutation, ZipfSampler } from './zipf.js'

export type TxKind = 'eth' | 'erc20' | 'swap'

/** Gas limits the generator gives each kind of transaction (upper bounds of what they use). */
export const TX_GAS_LIMIT: Record<TxKind, bigint> = { eth: 21_000n, erc20: 80_000n, swap: 250_000n }

/** Priority fee of every generated transaction (1 gwei, a common wallet default). */
const TIP = 1_000_000_000n

/** A transaction the factory proposes; `accept()` commits its nonce once it is in a block. */
export type ProposedTx = { kind: TxKind; tx: FeeMarket1559Tx; sender: number; accept(): void }

/**
 * Produces the workload's transactions, deterministically from the seed. Popularity is Zipf with
 * exponent `zipf` (0 = uniform) over each role independently, each with its own permutation of the
 * population: senders (over the accounts with keys), recipients (over all accounts), tokens and
 * pairs. Amounts are small next to balances and reserves so that no transaction ever fails.
 */
export class TxFactory {
  private readonly rng: Rng
  private readonly senders: ZipfSampler
  private readonly senderOrder: Permutation
  private readonly recipients: ZipfSampler
  private readonly recipientOrder: Permutation
  private readonly tokenPick: ZipfSampler | undefined
  private readonly tokenOrder: Permutation | undefined
  private readonly pairPick: ZipfSampler | undefined
  private readonly pairOrder: Permutation | undefined
  private readonly nonces = new Map<number, bigint>()
  private readonly keys = new Map<number, Uint8Array>()
  private readonly tokenAbi: Abi
  private readonly routerAbi: Abi

  constructor(
    private readonly spec: WorkloadSpec,
    private readonly contracts: ChainContracts,
    private readonly accounts: AccountSet,
    private readonly common: Common,
    /** Addresses of all accounts (20 bytes each), if already computed. */
    private readonly addresses?: Uint8Array,
  ) {
    const seed = spec.seed
    this.rng = new Rng(`${seed}/txs`)
    this.senders = new ZipfSampler(accounts.senders, spec.zipf)
    this.senderOrder = new Permutation(accounts.senders, new Rng(`${seed}/perm/senders`))
    this.recipients = new ZipfSampler(accounts.count, spec.zipf)
    this.recipientOrder = new Permutation(accounts.count, new Rng(`${seed}/perm/recipients`))
    if (contracts.tokens.length > 0) {
      this.tokenPick = new ZipfSampler(contracts.tokens.length, spec.zipf)
      this.tokenOrder = new Permutation(contracts.tokens.length, new Rng(`${seed}/perm/tokens`))
    }
    if (contracts.pairs.length > 0) {
      this.pairPick = new ZipfSampler(contracts.pairs.length, spec.zipf)
      this.pairOrder = new Permutation(contracts.pairs.length, new Rng(`${seed}/perm/pairs`))
    }
    this.tokenAbi = loadArtifact('MegabenchToken').abi
    this.routerAbi = loadArtifact('UniswapV2Router02').abi
  }

  /** The kind of the next transaction, from the mix. */
  nextKind(): TxKind {
    const { eth, erc20 } = this.spec.mix
    const x = this.rng.nextFloat() * 100
    return x < eth ? 'eth' : x < eth + erc20 ? 'erc20' : 'swap'
  }

  /** Proposes a signed transaction of `kind` at the given base fee. */
  propose(kind: TxKind, baseFee: bigint): ProposedTx {
    const sender = this.senderOrder.at(this.senders.sample(this.rng) - 1)
    const nonce = this.nonces.get(sender) ?? 0n
    const fees = { maxPriorityFeePerGas: TIP, maxFeePerGas: 2n * baseFee + TIP, gasLimit: TX_GAS_LIMIT[kind], nonce }
    let to: string
    let value = 0n
    let data: Hex = '0x'
    if (kind === 'eth') {
      to = this.recipient()
      value = this.rng.nextBigIntBetween(10n ** 12n, 10n ** 15n)
    } else if (kind === 'erc20') {
      if (this.tokenPick === undefined || this.tokenOrder === undefined) throw new Error('erc20 transfers need tokens')
      to = this.contracts.tokens[this.tokenOrder.at(this.tokenPick.sample(this.rng) - 1)]!
      const amount = this.rng.nextBigIntBetween(10n ** 15n, 10n ** 18n)
      data = encodeFunctionData({ abi: this.tokenAbi, functionName: 'transfer', args: [this.recipient(), amount] })
    } else {
      ;({ to, value, data } = this.swap(this.address(sender)))
    }
    const unsigned = createFeeMarket1559Tx(
      { ...fees, to: to as Hex, value, data, chainId: this.common.chainId() },
      { common: this.common },
    )
    const tx = unsigned.sign(this.privateKey(sender))
    return { kind, tx, sender, accept: () => this.nonces.set(sender, nonce + 1n) }
  }

  private swap(sender: string): { to: string; value: bigint; data: Hex } {
    if (this.pairPick === undefined || this.pairOrder === undefined || this.contracts.router === null) {
      throw new Error('swaps need Uniswap pairs')
    }
    const pair = this.contracts.pairs[this.pairOrder.at(this.pairPick.sample(this.rng) - 1)]!
    const zeroForOne = this.rng.nextBelow(2) === 0
    const [tokenIn, tokenOut] = zeroForOne ? [pair.token0, pair.token1] : [pair.token1, pair.token0]
    const weth = this.contracts.weth
    const router = this.contracts.router
    const deadline = maxUint256
    if (tokenIn === weth) {
      const value = this.rng.nextBigIntBetween(10n ** 12n, 10n ** 15n)
      const data = encodeFunctionData({
        abi: this.routerAbi,
        functionName: 'swapExactETHForTokens',
        args: [0n, [tokenIn, tokenOut], sender, deadline],
      })
      return { to: router, value, data }
    }
    const amountIn = this.rng.nextBigIntBetween(10n ** 15n, 10n ** 18n)
    const functionName = tokenOut === weth ? 'swapExactTokensForETH' : 'swapExactTokensForTokens'
    const data = encodeFunctionData({
      abi: this.routerAbi,
      functionName,
      args: [amountIn, 0n, [tokenIn, tokenOut], sender, deadline],
    })
    return { to: router, value: 0n, data }
  }

  private recipient(): string {
    return this.address(this.recipientOrder.at(this.recipients.sample(this.rng) - 1))
  }

  private address(i: number): string {
    if (this.addresses !== undefined) return bytesToHex(this.addresses.subarray(i * 20, i * 20 + 20))
    return bytesToHex(this.accounts.address(i))
  }

  private privateKey(i: number): Uint8Array {
    let k = this.keys.get(i)
    if (k === undefined) this.keys.set(i, (k = this.accounts.privateKey(i)))
    return k
  }
}
