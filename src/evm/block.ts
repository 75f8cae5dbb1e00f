/**
 * A whole block on the fast EVM: DAO fork, EIP-4788 beacon root (system call), transactions,
 * withdrawals (EIP-4895), proof-of-work rewards; receipts, bloom and receipts root as @ethereumjs/vm
 * builds them (its `encodeReceipt` and `Bloom`, so the encodings cannot drift).
 */
import type { Block } from '@ethereumjs/block'
import { RLP } from '@ethereumjs/rlp'
import { type TxReceipt, encodeReceipt } from '@ethereumjs/vm'

import { keccak256 } from '../util/keccak.js'
import { DAO_DRAIN_ACCOUNTS, DAO_REFUND_CONTRACT } from '../engines/baseline/dao.js'
import { type Fork, rulesFor } from './forks.js'
import { type BlockEnv, bytesToWord } from './interpreter.js'
import { trieRoot } from './mptRoot.js'
import { precompilesFor } from './precompiles.js'
import { type WorldState, fromHex, hex } from './state.js'
import { type TxResult, blobBaseFee, runTransaction, systemCall, txInputFromEthereumjs } from './transaction.js'

export const BEACON_ROOTS = '000f3df6d732807ef1319fb7b8bb8522d0beac02'

export interface FastBlockOptions {
  fork: Fork
  chainId: bigint
  /** Hash of ancestor block n (BLOCKHASH), 0n if unknown. */
  blockHash(n: bigint): bigint
  /** Mainnet block number of the DAO fork's irregular state change (mainnet: 1,920,000), if any. */
  daoForkBlock?: bigint | undefined
  /** Before Byzantium: the state root after each transaction (the state is flushed before the call). */
  intermediateRoot?: (() => Uint8Array) | undefined
}

export interface FastBlockResult {
  gasUsed: bigint
  receipts: TxReceipt[]
  txResults: TxResult[]
  logsBloom: Uint8Array
  /** Encoded receipts (the receipts root is over these). */
  encodedReceipts: Uint8Array[]
  blobGasUsed: bigint
}

export function blockEnvOf(block: Block, chainId: bigint, blockHash: (n: bigint) => bigint): BlockEnv {
  const h = block.header
  return {
    coinbase: hex(h.coinbase.bytes),
    number: h.number,
    timestamp: h.timestamp,
    gasLimit: h.gasLimit,
    difficulty: h.difficulty,
    prevRandao: bytesToWord(h.mixHash),
    baseFee: h.baseFeePerGas ?? 0n,
    chainId,
    blobBaseFee: h.excessBlobGas === undefined ? 0n : blobBaseFee(h.excessBlobGas),
    blockHash,
  }
}

const MINER_REWARD: Partial<Record<Fork, bigint>> = {}
function minerReward(fork: Fork): bigint {
  const r = rulesFor(fork)
  if (r.paris) return 0n
  if (r.constantinople) return 2_000_000_000_000_000_000n
  if (r.byzantium) return 3_000_000_000_000_000_000n
  return MINER_REWARD[fork] ?? 5_000_000_000_000_000_000n
}

/**
 * Executes the block's transactions and block-level changes on `state`. Throws
 * InvalidTransactionError for an invalid transaction. The state is flushed to its backend at the
 * end (and after every transaction before Byzantium, for the receipts' roots).
 */
export function executeBlockFast(state: WorldState, block: Block, opts: FastBlockOptions): FastBlockResult {
  const rules = rulesFor(opts.fork)
  const pre = precompilesFor(rules)
  const env = blockEnvOf(block, opts.chainId, opts.blockHash)
  const h = block.header
  if (opts.daoForkBlock !== undefined && h.number === opts.daoForkBlock) {
    state.beginTx()
    const refund = state.get(DAO_REFUND_CONTRACT.slice(2))
    for (const a of DAO_DRAIN_ACCOUNTS) {
      const acct = state.get(a.slice(2)) // the list is 0x-prefixed; the state's addresses are bare lowercase hex
      state.setBalance(refund, refund.balance + acct.balance)
      state.setBalance(acct, 0n)
    }
    state.finalizeTx(false)
  }
  if (rules.cancun && h.parentBeaconBlockRoot !== undefined) systemCall(state, rules, env, pre, BEACON_ROOTS, h.parentBeaconBlockRoot)
  let gasUsed = 0n
  let blobGasUsed = 0n
  const receipts: TxReceipt[] = []
  const encodedReceipts: Uint8Array[] = []
  const txResults: TxResult[] = []
  const blockBloom = new Uint8Array(BLOOM_BYTES)
  for (const tx of block.transactions) {
    const input = txInputFromEthereumjs(tx, hex(tx.getSenderAddress().bytes))
    const res = runTransaction(state, rules, env, pre, input, h.gasLimit - gasUsed)
    gasUsed += res.gasUsed
    blobGasUsed += res.blobGasUsed
    txResults.push(res)
    const logs: [Uint8Array, Uint8Array[], Uint8Array][] = res.logs.map((l) => [fromHex(l.address), l.topics, l.data])
    const bloom = new Uint8Array(BLOOM_BYTES)
    for (const [address, topics] of logs) {
      bloomAdd(bloom, address)
      for (const t of topics) bloomAdd(bloom, t)
    }
    for (let i = 0; i < BLOOM_BYTES; i++) blockBloom[i]! |= bloom[i]!
    let receipt: TxReceipt
    if (rules.byzantium) receipt = { status: res.status, cumulativeBlockGasUsed: gasUsed, bitvector: bloom, logs }
    else {
      state.flush()
      receipt = { stateRoot: opts.intermediateRoot!(), cumulativeBlockGasUsed: gasUsed, bitvector: bloom, logs }
    }
    receipts.push(receipt)
    encodedReceipts.push(encodeReceipt(receipt, tx.type))
  }
  state.beginTx()
  for (const w of block.withdrawals ?? []) {
    if (w.amount === 0n) continue
    const a = state.get(hex(w.address.bytes))
    state.setBalance(a, a.balance + w.amount * 1_000_000_000n)
  }
  const reward = minerReward(opts.fork)
  if (reward > 0n) {
    for (const ommer of block.uncleHeaders) {
      const r = ((8n - (h.number - ommer.number)) * reward) / 8n
      const a = state.get(hex(ommer.coinbase.bytes))
      state.setBalance(a, a.balance + (r > 0n ? r : 0n))
    }
    const c = state.get(hex(h.coinbase.bytes))
    state.setBalance(c, c.balance + reward + (reward / 32n) * BigInt(block.uncleHeaders.length))
  }
  state.finalizeTx(rules.eip158)
  state.flush()
  return { gasUsed, receipts, txResults, logsBloom: blockBloom, encodedReceipts, blobGasUsed }
}

/**
 * The receipts root: the MPT over (RLP(index), encoded receipt), computed synchronously with the
 * WebAssembly keccak (RLP indices are prefix-free, so no key ends at a branch).
 */
export function receiptsRoot(encoded: readonly Uint8Array[]): Uint8Array {
  return trieRoot(encoded.map((r, i) => [RLP.encode(i), r]))
}

const BLOOM_BYTES = 256

/** Adds an address or topic to a 2048-bit logs bloom (yellow paper M3:2048; as @ethereumjs/vm's Bloom.add). */
export function bloomAdd(bloom: Uint8Array, e: Uint8Array): void {
  const h = keccak256(e)
  for (let i = 0; i < 6; i += 2) {
    const loc = ((h[i]! << 8) | h[i + 1]!) & 2047
    bloom[BLOOM_BYTES - (loc >> 3) - 1]! |= 1 << (loc & 7)
  }
}
