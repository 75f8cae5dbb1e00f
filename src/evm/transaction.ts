/**
 * Transaction-level rules of the fast EVM: validity (nonce, EIP-3607 sender code, intrinsic gas,
 * EIP-7623 calldata floor, EIP-7825 gas cap, fee caps, balance, EIP-3860 initcode, blob fees and
 * EIP-7594 blobs per transaction), gas purchase, access lists (EIP-2929/2930, warm coinbase
 * EIP-3651), EIP-7702 authorizations, execution, refund cap (EIP-3529), fee burn and tip (EIP-1559),
 * and the end-of-transaction deletions (self-destructs, EIP-161 empty accounts).
 */
import { RLP } from '@ethereumjs/rlp'
import type { TypedTransaction } from '@ethereumjs/tx'
import { secp256k1 } from '@noble/curves/secp256k1.js'

import { MegabenchError } from '../errors/base.js'
import { keccak256 } from '../util/keccak.js'
import { publicKeyRecover } from '../util/secp256k1.js'

import { DEFAULT_EVM_TIER, type EvmTier } from './tiers.js'
import { type Rules } from './forks.js'
import { type BlockEnv, type CallResult, DELEGATION_PREFIX, Evm, type Log, bytesToWord, createAddress, delegateOf, wordToBytes } from './interpreter.js'
import type { Precompiles } from './precompiles.js'
import { type WorldState, EMPTY_CODE_HASH, fromHex, hex } from './state.js'

const EMPTY = new Uint8Array(0)

/** One EIP-7702 authorization tuple, as signed (fields as the transaction carries them). */
export interface Authorization {
  chainId: bigint
  /** The delegate (bare lowercase hex). */
  address: string
  nonce: bigint
  yParity: bigint
  r: Uint8Array
  s: Uint8Array
}

export interface TxInput {
  /** 0 legacy, 1 EIP-2930, 2 EIP-1559, 3 EIP-4844, 4 EIP-7702. */
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
  /** EIP-7702 (type 4). */
  authorizationList: Authorization[]
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
export class InvalidTransactionError extends MegabenchError {
  override name = 'InvalidTransactionError'
}

/** The block is invalid for a reason of its own (e.g. a failing EIP-7002/7251 system call). */
export class InvalidBlockError extends MegabenchError {
  override name = 'InvalidBlockError'
}

export const GAS_PER_BLOB = 131072n
const MAX_FRAME_GAS = BigInt(Number.MAX_SAFE_INTEGER)

const NONE: never[] = []

export function txInputFromEthereumjs(tx: TypedTransaction, from: string): TxInput {
  const t = tx as TypedTransaction & {
    gasPrice?: bigint
    maxFeePerGas?: bigint
    maxPriorityFeePerGas?: bigint
    accessList?: [Uint8Array, Uint8Array[]][]
    blobVersionedHashes?: (Uint8Array | string)[]
    maxFeePerBlobGas?: bigint
    authorizationList?: Uint8Array[][]
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
    // Empty lists (most transactions) share one array: nothing writes to a TxInput's lists.
    accessList: t.accessList === undefined || t.accessList.length === 0 ? NONE : t.accessList.map(([a, keys]) => ({ address: hex(a), storageKeys: keys.map(bytesToWord) })),
    blobVersionedHashes: t.blobVersionedHashes === undefined || t.blobVersionedHashes.length === 0 ? NONE : t.blobVersionedHashes.map((h) => (typeof h === 'string' ? BigInt(h) : bytesToWord(h))),
    maxFeePerBlobGas: t.maxFeePerBlobGas ?? 0n,
    authorizationList: t.authorizationList === undefined || t.authorizationList.length === 0 ? NONE : t.authorizationList.map(([chainId, address, nonce, yParity, r, s]) => ({
      chainId: bytesToWord(chainId!),
      address: hex(address!),
      nonce: bytesToWord(nonce!),
      yParity: bytesToWord(yParity!),
      r: r!,
      s: s!,
    })),
  }
}

/** EIP-7702: gas per authorization in the intrinsic gas, and what an existing authority refunds of it. */
const PER_EMPTY_ACCOUNT_COST = 25000n
const PER_AUTH_BASE_COST = 12500n
const SECP256K1_N = secp256k1.Point.CURVE().n
const MAX_NONCE = 0xffffffffffffffffn

/** EIP-7623: the calldata floor (21000 + 10 per token; a zero byte is one token, any other four). */
export function calldataFloor(tx: TxInput, zeros = zeroBytes(tx.data)): bigint {
  return 21000n + 10n * BigInt(zeros + (tx.data.length - zeros) * 4)
}

function zeroBytes(data: Uint8Array): number {
  let zeros = 0
  for (let i = 0; i < data.length; i++) if (data[i] === 0) zeros++
  return zeros
}

/** EIP-7702: the authority that signed an authorization (keccak256(0x05 ‖ rlp([chain id, address, nonce])); libsecp256k1 when it loads, as sender recovery), or undefined if the signature is invalid. */
export function recoverAuthority(a: Authorization): string | undefined {
  if (a.yParity > 1n) return undefined
  const r = bytesToWord(a.r)
  const s = bytesToWord(a.s)
  if (r === 0n || r >= SECP256K1_N || s === 0n || s > SECP256K1_N / 2n) return undefined
  const msg = RLP.encode([a.chainId, fromHex(a.address), a.nonce])
  const payload = new Uint8Array(msg.length + 1)
  payload[0] = 0x05
  payload.set(msg, 1)
  try {
    return hex(keccak256(publicKeyRecover(keccak256(payload), Number(a.yParity), wordToBytes(r), wordToBytes(s))).subarray(12))
  } catch {
    return undefined
  }
}

/**
 * EIP-7702: applies the authorizations in order (after the sender's nonce increment), as
 * @ethereumjs/vm 10.1.3's processAuthorizationList: an invalid one is skipped; each valid one warms
 * its authority, sets its code to the designator (or clears it for the zero address) and increments
 * its nonce. Returns the refund for authorities that already existed.
 */
function applyAuthorizations(state: WorldState, tx: TxInput, chainId: bigint): bigint {
  let refund = 0n
  for (const a of tx.authorizationList) {
    if (a.chainId !== 0n && a.chainId !== chainId) continue
    if (a.nonce >= MAX_NONCE) continue
    const authority = recoverAuthority(a)
    if (authority === undefined) continue
    state.warmAddress(authority)
    const acct = state.get(authority)
    const code = state.code(acct)
    if (code.length > 0 && delegateOf(code) === undefined) continue
    if (acct.nonce !== a.nonce) continue
    if (acct.exists) refund += PER_EMPTY_ACCOUNT_COST - PER_AUTH_BASE_COST
    if (!acct.exists) state.create(acct)
    state.setNonce(acct, acct.nonce + 1n)
    if (/^0+$/.test(a.address)) state.setCode(acct, EMPTY)
    else {
      const designator = new Uint8Array(23)
      designator.set(DELEGATION_PREFIX)
      designator.set(fromHex(a.address), 3)
      state.setCode(acct, designator)
    }
  }
  return refund
}

/** `zeros`: the zero bytes of the data (counted once for this and the calldata floor). */
export function intrinsicGas(tx: TxInput, r: Rules, zeros = zeroBytes(tx.data)): bigint {
  let g = 21000n
  const create = tx.to === undefined
  if (create && r.homestead) g += 32000n
  g += BigInt(zeros * 4 + (tx.data.length - zeros) * r.txDataNonZero)
  for (const e of tx.accessList) g += 2400n + 1900n * BigInt(e.storageKeys.length)
  if (create && r.shanghai) g += 2n * BigInt(Math.ceil(tx.data.length / 32))
  g += PER_EMPTY_ACCOUNT_COST * BigInt(tx.authorizationList.length)
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
  if (state.code(sender).length > 0 && !(r.prague && delegateOf(state.code(sender)) !== undefined)) invalid('sender has code (EIP-3607)')
  if (r.txGasCap !== undefined && tx.gasLimit > r.txGasCap) invalid(`gas limit ${tx.gasLimit} above the cap ${r.txGasCap} (EIP-7825)`)
  const zeros = zeroBytes(tx.data)
  const intrinsic = intrinsicGas(tx, r, zeros)
  if (tx.gasLimit < intrinsic) invalid(`gas limit ${tx.gasLimit} below intrinsic gas ${intrinsic}`)
  const floor = r.prague ? calldataFloor(tx, zeros) : 0n
  if (tx.gasLimit < floor) invalid(`gas limit ${tx.gasLimit} below the calldata floor ${floor} (EIP-7623)`)
  if (tx.type === 4) {
    if (!r.prague) invalid('set-code transaction before Prague')
    if (tx.to === undefined) invalid('set-code transaction without a recipient')
    if (tx.authorizationList.length === 0) invalid('set-code transaction with an empty authorization list')
  }
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
    if (r.maxBlobsPerTx !== undefined && tx.blobVersionedHashes.length > r.maxBlobsPerTx) invalid(`${tx.blobVersionedHashes.length} blobs, at most ${r.maxBlobsPerTx} per transaction (EIP-7594)`)
  }
  const maxCost = tx.gasLimit * tx.maxFeePerGas + tx.value + blobGas * tx.maxFeePerBlobGas
  if (sender.balance < maxCost) invalid(`sender balance ${sender.balance} below ${maxCost}`)

  // Gas purchase and nonce.
  state.setBalance(sender, sender.balance - tx.gasLimit * gasPrice - blobGas * block.blobBaseFee)
  state.setNonce(sender, tx.nonce + 1n)

  if (r.berlin) {
    state.warmAtStart(tx.from)
    if (tx.to !== undefined) state.warmAtStart(tx.to)
    state.alwaysWarm = precompiles // warm for the whole transaction (EIP-2929), without a set entry each
    for (const e of tx.accessList) {
      state.warmAtStart(e.address)
      for (const k of e.storageKeys) state.warmSlotAtStart(e.address, k.toString(16))
    }
    if (r.shanghai) state.warmAtStart(block.coinbase)
  }
  const authRefund = tx.authorizationList.length > 0 ? applyAuthorizations(state, tx, block.chainId) : 0n
  if (r.prague && tx.to !== undefined) {
    // EIP-7702: a delegated recipient's delegate is accessed (warm, free) to run its code.
    const d = delegateOf(state.code(state.get(tx.to)))
    if (d !== undefined) state.warmAddress(d)
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
  const refund = (evm.refund > 0 ? BigInt(evm.refund) : 0n) + authRefund
  gasUsed -= refund < refundCap ? refund : refundCap
  if (gasUsed < floor) gasUsed = floor
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
 * A system call (EIP-4788 beacon root, EIP-7002 / EIP-7251 requests): from SYSTEM_ADDRESS, 30M gas,
 * no fee, no value; the system address is neither charged nor touched. Does nothing if the contract
 * has no code (returns undefined); else the call's outcome.
 */
export function systemCall(state: WorldState, rules: Rules, block: BlockEnv, precompiles: Precompiles, to: string, data: Uint8Array, tier: EvmTier = DEFAULT_EVM_TIER): CallResult | undefined {
  state.beginTx()
  const target = state.get(to)
  if (target.codeHash === EMPTY_CODE_HASH) {
    state.finalizeTx(false)
    return undefined
  }
  const evm = new Evm(state, rules, block, precompiles, tier)
  const system = 'fffffffffffffffffffffffffffffffffffffffe'
  evm.setTx(system, 0n, [])
  const res = evm.callMessage(system, to, to, 0n, data, 30_000_000, 0, false, 'none')
  state.finalizeTx(false)
  return res
}
