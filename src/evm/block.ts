/**
 * A whole block on the fast EVM: DAO fork, EIP-4788 beacon root (system call), transactions,
 * withdrawals (EIP-4895), proof-of-work rewards; receipts, bloom and receipts root as @ethereumjs/vm
 * builds them (its `encodeReceipt` and `Bloom`, so the encodings cannot drift).
 */
import type { Block } from '@ethereumjs/block'
import { MerklePatriciaTrie } from '@ethereumjs/mpt'
import { RLP } from '@ethereumjs/rlp'
import { KECCAK256_RLP } from '@ethereumjs/util'
import { Bloom, type TxReceipt, encodeReceipt } from '@ethereumjs/vm'

import { DAO_DRAIN_ACCOUNTS, DAO_REFUND_CONTRACT } from '../engines/baseline/dao.js'
import { type Fork, rulesFor } from './forks.js'
import { type BlockEnv, bytesToWord } from './interpreter.js'
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
      const acct = state.get(a)
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
  const blockBloom = new Bloom()
  for (const tx of block.transactions) {
    const input = txInputFromEthereumjs(tx, hex(tx.getSenderAddress().bytes))
    const res = runTransaction(state, rules, env, pre, input, h.gasLimit - gasUsed)
    gasUsed += res.gasUsed
    blobGasUsed += res.blobGasUsed
    txResults.push(res)
    const logs: [Uint8Array, Uint8Array[], Uint8Array][] = res.logs.map((l) => [fromHex(l.address), l.topics, l.data])
    const bloom = new Bloom()
    for (const [address, topics] of logs) {
      bloom.add(address)
      for (const t of topics) bloom.add(t)
    }
    blockBloom.or(bloom)
    let receipt: TxReceipt
    if (rules.byzantium) receipt = { status: res.status, cumulativeBlockGasUsed: gasUsed, bitvector: bloom.bitvector, logs }
    else {
      state.flush()
      receipt = { stateRoot: opts.intermediateRoot!(), cumulativeBlockGasUsed: gasUsed, bitvector: bloom.bitvector, logs }
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
  return { gasUsed, receipts, txResults, logsBloom: blockBloom.bitvector, encodedReceipts, blobGasUsed }
}

export async function receiptsRoot(encoded: readonly Uint8Array[]): Promise<Uint8Array> {
  if (encoded.length === 0) return KECCAK256_RLP
  const trie = new MerklePatriciaTrie()
  for (let i = 0; i < encoded.length; i++) await trie.put(RLP.encode(i), encoded[i]!)
  return trie.root()
}
