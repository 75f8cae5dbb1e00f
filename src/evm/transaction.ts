/**
 * Transaction-level rules of the fast EVM: validity (nonce, EIP-3607 sender code, intrinsic gas,
 * fee caps, balance, EIP-3860 initcode, blob fees), gas purchase, access lists (EIP-2929/2930, warm
 * coinbase EIP-3651), execution, refund cap (EIP-3529), fee burn and tip (EIP-1559), and the
 * end-of-transaction deletions (self-destructs, EIP-161 empty accounts).
 */
import type { TypedTransaction } from '@ethereumjs/tx'

import { DEFAULT_EVM_TIER, type EvmTier } from './tiers.js'
import { type Rules } from './forks.js'
import { type BlockEnv, type CallResult, Evm, type Log, bytesToWord, createAddress } from './interpreter.js'
import type { Precompiles } from './precompiles.js'
import { type WorldState, EMPTY_CODE_HASH, hex } from './state.js'

export interface TxInput {
  /** 0 legacy, 1 EIP-2930, 2 EIP-1559, 3 EIP-4844. */
  type: number
  from: string
  /** undefined = contract creation. */
  to: string | undefined
  nonce: bigint
  gasLimit: bigint
  /** Legacy/2930 gas price; for 1559+ the fee cap. */
  maxFeePerGas: bigint
  maxPriorityFeePerGas: bigint
  value: bigint
  data: Uint8Array
  accessList: { address: string; storageKeys: bigint[] }[]
  blobVersionedHashes: bigint[]
  maxFeePerBlobGas: bigint
}

export interface TxResult {
  /** Gas the block is charged (after the refund). */
  gasUsed: bigint
  /** 1 success, 0 failure (revert or exceptional halt). */
  status: 0 | 1
  logs: Log[]
  createdAddress: string | undefined
  output: Uint8Array
  /** Blob gas (EIP-4844). */
  blobGasUsed: bigint
}

/** The transaction is invalid (the block containing it is invalid). */
export class InvalidTransactionError extends Error {}

export const GAS_PER_BLOB = 131072n
const MAX_FRAME_GAS = BigInt(Number.MAX_SAFE_INTEGER)

export function txInputFromEthereumjs(tx: TypedTransaction, from: string): TxInput {
  const t = tx as TypedTransaction & {
    gasPrice?: bigint
    maxFeePerGas?: bigint
    maxPriorityFeePerGas?: bigint
    accessList?: [Uint8Array, Uint8Array[]][]
    blobVersionedHashes?: (Uint8Array | string)[]
    maxFeePerBlobGas?: bigint
  }
  const fee = t.maxFeePerGas ?? t.gasPrice ?? 0n
  return {
    type: tx.type,
    from,
    to: tx.to === undefined ? undefined : hex(tx.to.bytes),
    nonce: tx.nonce,
    gasLimit: tx.gasLimit,
    maxFeePerGas: fee,
    maxPriorityFeePerGas: t.maxPriorityFeePerGas ?? fee,
    value: tx.value,
    data: tx.data,
    accessList: (t.accessList ?? []).map(([a, keys]) => ({ address: hex(a), storageKeys: keys.map(bytesToWord) })),
    blobVersionedHashes: (t.blobVersionedHashes ?? []).map((h) => (typeof h === 'string' ? BigInt(h) : bytesToWord(h))),
    maxFeePerBlobGas: t.maxFeePerBlobGas ?? 0n,
  }
}

export function intrinsicGas(tx: TxInput, r: Rules): bigint {
  let g = 21000n
  const create = tx.to === undefined
  if (create && r.homestead) g += 32000n
  let zeros = 0
  for (let i = 0; i < tx.data.length; i++) if (tx.data[i] === 0) zeros++
  g += BigInt(zeros * 4 + (tx.data.length - zeros) * r.txDataNonZero)
  for (const e of tx.accessList) g += 2400n + 1900n * BigInt(e.storageKeys.length)
  if (create && r.shanghai) g += 2n * BigInt(Math.ceil(tx.data.length / 32))
  return g
}

/** EIP-4844's fake exponential: the blob base fee for an excess blob gas. */
export function blobBaseFee(excessBlobGas: bigint): bigint {
  const factor = 1n
  const denominator = 3338477n
  let i = 1n
  let output = 0n
  let acc = factor * denominator
  while (acc > 0n) {
    output += acc
    acc = (acc * excessBlobGas) / (denominator * i)
    i++
  }
  return output / denominator
}

/**
 * Runs one transaction on `state` (its changes stay in the state, finalized for the transaction;
 * `state.flush()` hands them to the backend). Throws InvalidTransactionError for an invalid one.
 * `gasAvailable`: the block's gas left (a transaction above it is invalid).
 */
export function runTransaction(state: WorldState, rules: Rules, block: BlockEnv, precompiles: Precompiles, tx: TxInput, gasAvailable: bigint, tier: EvmTier = DEFAULT_EVM_TIER): TxResult {
  const r = rules
  state.beginTx()
  const sender = state.get(tx.from)
  const invalid = (why: string): never => {
    throw new InvalidTransactionError(why)
  }
  if (tx.gasLimit > gasAvailable) invalid(`gas limit ${tx.gasLimit} above the block's gas left ${gasAvailable}`)
  if (sender.nonce !== tx.nonce) invalid(`nonce ${tx.nonce}, sender has ${sender.nonce}`)
  if (sender.nonce >= 0xffffffffffffffffn) invalid('sender nonce at its maximum')
  if (state.code(sender).length > 0) invalid('sender has code (EIP-3607)')
  const intrinsic = intrinsicGas(tx, r)
  if (tx.gasLimit < intrinsic) invalid(`gas limit ${tx.gasLimit} below intrinsic gas ${intrinsic}`)
  if (tx.to === undefined && tx.data.length > r.maxInitcodeSize) invalid('initcode too large (EIP-3860)')
  let gasPrice = tx.maxFeePerGas
  if (r.london) {
    if (tx.maxFeePerGas < block.baseFee) invalid(`fee cap ${tx.maxFeePerGas} below base fee ${block.baseFee}`)
    if (tx.maxPriorityFeePerGas > tx.maxFeePerGas) invalid('priority fee above fee cap')
    const tip = tx.maxFeePerGas - block.baseFee
    gasPrice = block.baseFee + (tx.maxPriorityFeePerGas < tip ? tx.maxPriorityFeePerGas : tip)
  }
  const blobGas = GAS_PER_BLOB * BigInt(tx.blobVersionedHashes.length)
  if (tx.type === 3) {
    if (tx.maxFeePerBlobGas < block.blobBaseFee) invalid('blob fee cap below blob base fee')
  }
  const maxCost = tx.gasLimit * tx.maxFeePerGas + tx.value + blobGas * tx.maxFeePerBlobGas
  if (sender.balance < maxCost) invalid(`sender balance ${sender.balance} below ${maxCost}`)

  // Gas purchase and nonce.
  state.setBalance(sender, sender.balance - tx.gasLimit * gasPrice - blobGas * block.blobBaseFee)
  state.setNonce(sender, tx.nonce + 1n)

  if (r.berlin) {
    state.warmAtStart(tx.from)
    if (tx.to !== undefined) state.warmAtStart(tx.to)
    for (const a of precompiles.keys()) state.warmAtStart(a)
    for (const e of tx.accessList) {
      state.warmAtStart(e.address)
      for (const k of e.storageKeys) state.warmSlotAtStart(e.address, k.toString(16))
    }
    if (r.shanghai) state.warmAtStart(block.coinbase)
  }
  const evm = new Evm(state, r, block, precompiles, tier)
  evm.setTx(tx.from, gasPrice, tx.blobVersionedHashes)
  // Frame gas is a double: beyond 2^53 the excess is held back and returned unless the call halts
  // exceptionally (exact unless a nested frame forwarding more than 2^53 gas runs out of it).
  const total = tx.gasLimit - intrinsic
  const reserve = total > MAX_FRAME_GAS ? total - MAX_FRAME_GAS : 0n
  const gas = Number(total - reserve)
  let res: CallResult
  let created: string | undefined
  if (tx.to === undefined) {
    created = createAddress(tx.from, tx.nonce)
    res = evm.createMessage(tx.from, created, tx.value, tx.data, gas, 0)
  } else {
    res = evm.callMessage(tx.from, tx.to, tx.to, tx.value, tx.data, gas, 0, false, 'call')
  }
  let gasUsed = tx.gasLimit - BigInt(res.gasLeft) - (res.status === 2 ? 0n : reserve)
  const refundCap = gasUsed / BigInt(r.refundQuotient)
  const refund = evm.refund > 0 ? BigInt(evm.refund) : 0n
  gasUsed -= refund < refundCap ? refund : refundCap
  const s = state.get(tx.from)
  state.setBalance(s, s.balance + (tx.gasLimit - gasUsed) * gasPrice)
  const coinbase = state.get(block.coinbase)
  const tipPerGas = r.london ? gasPrice - block.baseFee : gasPrice
  state.setBalance(coinbase, coinbase.balance + gasUsed * tipPerGas)
  state.finalizeTx(r.eip158)
  return {
    gasUsed,
    status: res.status === 0 ? 1 : 0,
    logs: res.status === 0 ? evm.logs : [],
    createdAddress: res.status === 0 ? created : undefined,
    output: res.output,
    blobGasUsed: blobGas,
  }
}

/**
 * A system call (EIP-4788 beacon root): from SYSTEM_ADDRESS, 30M gas, no fee, no value; the system
 * address is neither charged nor touched. Does nothing if the contract has no code.
 */
export function systemCall(state: WorldState, rules: Rules, block: BlockEnv, precompiles: Precompiles, to: string, data: Uint8Array, tier: EvmTier = DEFAULT_EVM_TIER): void {
  state.beginTx()
  const target = state.get(to)
  if (target.codeHash === EMPTY_CODE_HASH) {
    state.finalizeTx(false)
    return
  }
  const evm = new Evm(state, rules, block, precompiles, tier)
  const system = 'fffffffffffffffffffffffffffffffffffffffe'
  evm.setTx(system, 0n, [])
  evm.callMessage(system, to, to, 0n, data, 30_000_000, 0, false, 'none')
  state.finalizeTx(false)
}
