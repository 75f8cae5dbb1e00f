/**
 * A whole block on the fast EVM: DAO fork, EIP-4788 beacon root (system call), EIP-2935 parent hash,
 * transactions, withdrawals (EIP-4895), proof-of-work rewards, EIP-7685 requests (EIP-6110 deposit
 * logs, EIP-7002 / EIP-7251 post-block system calls) and their hash; receipts, bloom and receipts
 * root as @ethereumjs/vm builds them (byte-equal to its `encodeReceipt` and `Bloom`: tested in
 * test/evmBlock.test.ts).
 */
import type { Block } from '@ethereumjs/block'
import type { TypedTransaction } from '@ethereumjs/tx'
import { RLP } from '@ethereumjs/rlp'
import type { TxReceipt } from '@ethereumjs/vm'
import { CLRequestType, bytesToHex } from '@ethereumjs/util'

import { keccak256 } from '../util/keccak.js'
import { rlpListLength as listLen, rlpStringLength as strLen, writeRlpListHeader as writeListHeader, writeRlpString as writeStr } from '../util/rlpHeader.js'
import { DAO_DRAIN_ACCOUNTS, DAO_REFUND_CONTRACT } from '../chain/dao.js'
import { DEFAULT_EVM_TIER, type EvmTier } from './tiers.js'
import { type Fork, type Rules, rulesFor } from './forks.js'
import { type BlockEnv, bytesToWord } from './interpreter.js'
import { trieRoot } from './mptRoot.js'
import { type Precompiles, precompilesFor } from './precompiles.js'
import { DEFAULT_DEPOSIT_CONTRACT, DEPOSIT_TOPIC, parseDepositLog, requestsHash } from './requests.js'
import { type WorldState, equalHash, fromHex, hex } from './state.js'
import { InvalidBlockError, type TxResult, runTransaction, systemCall, txInputFromEthereumjs } from './transaction.js'

export const BEACON_ROOTS = '000f3df6d732807ef1319fb7b8bb8522d0beac02'
/** EIP-2935: the block-hash history contract and its ring buffer's size. */
export const HISTORY_STORAGE = '0000f90827f1c53a10cb7a02335b175320002935'
const HISTORY_SERVE_WINDOW = 8191n
/** EIP-7002 withdrawal and EIP-7251 consolidation request predeploys. */
export const WITHDRAWAL_REQUESTS = '00000961ef480eb55e80d19ad83579a64c007002'
export const CONSOLIDATION_REQUESTS = '0000bbddc7ce488642fb579f8b00f3a590007251'

export interface FastBlockOptions {
  fork: Fork
  chainId: bigint
  /** Hash of ancestor block n (BLOCKHASH), 0n if unknown. */
  blockHash(n: bigint): bigint
  /** Mainnet block number of the DAO fork's irregular state change (mainnet: 1,920,000), if any. */
  daoForkBlock?: bigint | undefined
  /** Before Byzantium: the state root after each transaction (the state is flushed before the call), synchronously (`FastBlockRun.runAsync` also takes an asynchronous one). */
  intermediateRoot?: (() => Uint8Array) | undefined
  /** Which tier runs the code (default DEFAULT_EVM_TIER; see compiler.ts). */
  tier?: EvmTier | undefined
  /** EIP-6110: the chain's deposit contract (0x-prefixed; default mainnet's). */
  depositContract?: string | undefined
  /**
   * EIP-7002/7251 system calls as the EIPs say: a predeploy without code or a failing call makes the block
   * invalid (InvalidBlockError). Default false: an empty request, as @ethereumjs/vm 10.1.3 and the baseline
   * engine by default (devnets without the predeploys, e.g. anvil, produce those).
   */
  strictSystemCalls?: boolean | undefined
}

export interface FastBlockResult {
  gasUsed: bigint
  receipts: TxReceipt[]
  txResults: TxResult[]
  logsBloom: Uint8Array
  /** Encoded receipts (the receipts root is over these). */
  encodedReceipts: Uint8Array[]
  blobGasUsed: bigint
  /** EIP-7685 (Prague and later): the requests' commitment, and the requests (type byte ‖ data); undefined before. */
  requestsHash?: Uint8Array | undefined
  requests?: Uint8Array[] | undefined
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
    // The fork's EIP-4844 / EIP-7691 / EIP-7892 update fraction, from the block's Common (the chain's schedule).
    blobBaseFee: h.excessBlobGas === undefined ? 0n : h.getBlobGasPrice(),
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
 * end (and after every transaction before Byzantium, for the receipts' roots from `intermediateRoot`).
 */
export function executeBlockFast(state: WorldState, block: Block, opts: FastBlockOptions): FastBlockResult {
  const run = new FastBlockRun(state, block, opts)
  for (const tx of block.transactions) {
    const res = run.execute(tx)
    run.addReceipt(tx, res, run.rules.byzantium ? undefined : opts.intermediateRoot!())
  }
  return run.finish()
}

/** Where `FastBlockRun.runAsync` tells a probe each transaction and each pre-Byzantium state root starts and ends. */
export interface FastBlockHooks {
  txStart(): void
  txEnd(): void
  stateRootStart(): void
  stateRootEnd(): void
}

/**
 * One block on the fast EVM in steps, for callers that need to do something between transactions
 * (e.g. an asynchronous state root for a pre-Byzantium receipt): the constructor applies the block's
 * start (DAO fork, EIP-4788 system call); `execute` then `addReceipt` for each transaction in order;
 * `finish` the block's end (withdrawals, rewards) and flushes the state. `runAsync` drives
 * them all with an asynchronous state root per pre-Byzantium receipt (the engines' tries).
 */
export class FastBlockRun {
  readonly rules: Rules
  private readonly tier: EvmTier
  private readonly pre: Precompiles
  private readonly env: BlockEnv
  private gasUsed = 0n
  private blobGasUsed = 0n
  private readonly receipts: TxReceipt[] = []
  private readonly encodedReceipts: Uint8Array[] = []
  private readonly txResults: TxResult[] = []
  private readonly blockBloom = new Uint8Array(BLOOM_BYTES)
  /** The receipts' blooms and encodings, carved from shared buffers (one allocation per 64 KiB, not two per receipt). */
  private readonly slab = new Slab()

  constructor(
    private readonly state: WorldState,
    private readonly block: Block,
    private readonly opts: FastBlockOptions,
  ) {
    const rules = (this.rules = rulesFor(opts.fork))
    this.tier = opts.tier ?? DEFAULT_EVM_TIER
    const pre = (this.pre = precompilesFor(rules))
    const env = (this.env = blockEnvOf(block, opts.chainId, opts.blockHash))
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
    if (rules.cancun && h.parentBeaconBlockRoot !== undefined) systemCall(state, rules, env, pre, BEACON_ROOTS, h.parentBeaconBlockRoot, this.tier)
    if (rules.prague) {
      // EIP-2935: the parent's hash into the history contract's ring buffer, written directly as
      // @ethereumjs/vm does (the contract's system-caller path stores exactly this), if it has code.
      state.beginTx()
      const history = state.get(HISTORY_STORAGE)
      if (state.code(history).length > 0) {
        const slot = (h.number - 1n) % HISTORY_SERVE_WINDOW
        state.sstore(history, slot.toString(16), bytesToWord(h.parentHash))
      }
      state.finalizeTx(false)
    }
  }

  /** Runs the next transaction (before Byzantium, its changes are flushed to the backend: the receipt needs the root). */
  execute(tx: TypedTransaction): TxResult {
    const input = txInputFromEthereumjs(tx, hex(tx.getSenderAddress().bytes))
    const res = runTransaction(this.state, this.rules, this.env, this.pre, input, this.block.header.gasLimit - this.gasUsed, this.tier)
    this.gasUsed += res.gasUsed
    this.blobGasUsed += res.blobGasUsed
    this.txResults.push(res)
    if (!this.rules.byzantium) this.state.flush()
    return res
  }

  /** The receipt of the transaction just executed (`stateRoot`: the state root after it, before Byzantium). */
  addReceipt(tx: TypedTransaction, res: TxResult, stateRoot: Uint8Array | undefined): void {
    const logs: [Uint8Array, Uint8Array[], Uint8Array][] = new Array(res.logs.length)
    const bloom = this.slab.alloc(BLOOM_BYTES)
    for (let i = 0; i < logs.length; i++) {
      const l = res.logs[i]!
      const address = addressBytes(l.address)
      logs[i] = [address, l.topics, l.data]
      bloomAdd(bloom, address, this.blockBloom)
      for (const t of l.topics) bloomAdd(bloom, t, this.blockBloom)
    }
    const receipt: TxReceipt =
      stateRoot === undefined
        ? { status: res.status, cumulativeBlockGasUsed: this.gasUsed, bitvector: bloom, logs }
        : { stateRoot, cumulativeBlockGasUsed: this.gasUsed, bitvector: bloom, logs }
    this.receipts.push(receipt)
    this.encodedReceipts.push(encodeReceiptFast(receipt, tx.type, this.slab))
  }

  /**
   * The block's transactions in order, then its end (`finish`). Before Byzantium each receipt's state root
   * is awaited from `stateRoot` (else taken from `FastBlockOptions.intermediateRoot`) after the
   * transaction's changes are flushed to the backend: an engine's own merkleization is asynchronous. From
   * Byzantium on nothing is awaited between transactions. `hooks` are told where each transaction and each
   * such root starts and ends (the opcode probe).
   */
  async runAsync(stateRoot: (() => Promise<Uint8Array>) | undefined, hooks?: FastBlockHooks): Promise<FastBlockResult> {
    for (const tx of this.block.transactions) {
      hooks?.txStart()
      let res: TxResult
      try {
        res = this.execute(tx)
      } finally {
        hooks?.txEnd()
      }
      let root: Uint8Array | undefined
      if (!this.rules.byzantium) {
        const sync = this.opts.intermediateRoot
        if (stateRoot === undefined && sync === undefined) throw new Error('a pre-Byzantium block needs the state root after every transaction')
        hooks?.stateRootStart()
        try {
          root = stateRoot !== undefined ? await stateRoot() : sync!()
        } finally {
          hooks?.stateRootEnd()
        }
      }
      this.addReceipt(tx, res, root)
    }
    return this.finish()
  }

  /** Withdrawals (EIP-4895) and proof-of-work rewards; flushes the state. */
  finish(): FastBlockResult {
    const { state, block } = this
    const h = block.header
    state.beginTx()
    for (const w of block.withdrawals ?? []) {
      if (w.amount === 0n) continue
      const a = state.get(hex(w.address.bytes))
      state.setBalance(a, a.balance + w.amount * 1_000_000_000n)
    }
    const reward = minerReward(this.opts.fork)
    if (reward > 0n) {
      for (const ommer of block.uncleHeaders) {
        const r = ((8n - (h.number - ommer.number)) * reward) / 8n
        const a = state.get(hex(ommer.coinbase.bytes))
        state.setBalance(a, a.balance + (r > 0n ? r : 0n))
      }
      const c = state.get(hex(h.coinbase.bytes))
      state.setBalance(c, c.balance + reward + (reward / 32n) * BigInt(block.uncleHeaders.length))
    }
    state.finalizeTx(this.rules.eip158)
    const requests = this.rules.prague ? this.requests() : undefined
    state.flush()
    const { gasUsed, receipts, txResults, blockBloom: logsBloom, encodedReceipts, blobGasUsed } = this
    return {
      gasUsed,
      receipts,
      txResults,
      logsBloom,
      encodedReceipts,
      blobGasUsed,
      requestsHash: requests === undefined ? undefined : requestsHash(requests),
      requests: requests?.map((r) => concatType(r.type, r.data)),
    }
  }

  /**
   * EIP-7685: the block's requests in type order: deposits from the deposit contract's logs
   * (EIP-6110), then the return data of the EIP-7002 and EIP-7251 system calls (see `strictSystemCalls`
   * for a predeploy without code or a failing call).
   */
  private requests(): { type: CLRequestType; data: Uint8Array }[] {
    const deposit = (this.opts.depositContract ?? DEFAULT_DEPOSIT_CONTRACT).toLowerCase()
    const parts: Uint8Array[] = []
    for (const r of this.receipts) {
      for (const [address, topics, data] of r.logs) {
        if (topics.length > 0 && bytesToHex(topics[0]!) === DEPOSIT_TOPIC && bytesToHex(address) === deposit) parts.push(parseDepositLog(data))
      }
    }
    const deposits = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
    let o = 0
    for (const p of parts) {
      deposits.set(p, o)
      o += p.length
    }
    return [
      { type: CLRequestType.Deposit, data: deposits },
      { type: CLRequestType.Withdrawal, data: this.checkedSystemCall(WITHDRAWAL_REQUESTS, 'EIP-7002') },
      { type: CLRequestType.Consolidation, data: this.checkedSystemCall(CONSOLIDATION_REQUESTS, 'EIP-7251') },
    ]
  }

  /** A post-block system call (EIP-7002/7251): its output; empty, or with `strictSystemCalls` an invalid block, if the predeploy has no code or the call fails. */
  private checkedSystemCall(to: string, eip: string): Uint8Array {
    const res = systemCall(this.state, this.rules, this.env, this.pre, to, EMPTY_BYTES, this.tier)
    const strict = this.opts.strictSystemCalls === true
    if (res === undefined) {
      if (strict) throw new InvalidBlockError(`the ${eip} system contract 0x${to} has no code`)
      return EMPTY_BYTES
    }
    if (res.status !== 0) {
      if (strict) throw new InvalidBlockError(`the ${eip} system call to 0x${to} failed`)
      return EMPTY_BYTES
    }
    return res.output
  }
}

function concatType(type: number, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length + 1)
  out[0] = type
  out.set(data, 1)
  return out
}

/**
 * The receipts root: the MPT over (RLP(index), encoded receipt), computed synchronously with the
 * WebAssembly keccak (RLP indices are prefix-free, so no key ends at a branch).
 */
export function receiptsRoot(encoded: readonly Uint8Array[]): Uint8Array {
  return trieRoot(encoded.map((r, i) => [RLP.encode(i), r]))
}

const BLOOM_BYTES = 256

/**
 * Adds an address or topic to a 2048-bit logs bloom (yellow paper M3:2048; as @ethereumjs/vm's
 * Bloom.add), and to `also` (the block's bloom) when given. The three bit positions come from
 * keccak256(e); they are kept in a direct-mapped cache keyed by the bytes themselves (compared in full,
 * so a hit is exact): log addresses and event topics repeat from transaction to transaction.
 */
export function bloomAdd(bloom: Uint8Array, e: Uint8Array, also?: Uint8Array): void {
  // The cache slot from the last four bytes (an address's, a topic's: hash bytes or a padded value's low bytes).
  const n = e.length
  let x = n
  if (n >= 4) x ^= e[n - 1]! | (e[n - 2]! << 8) | (e[n - 3]! << 16) | (e[n - 4]! << 24)
  else for (let i = 0; i < n; i++) x = (x << 8) | e[i]!
  const slot = (x ^ (x >>> 12) ^ (x >>> 24)) & (BLOOM_CACHE_SIZE - 1)
  const k = bloomCacheKeys[slot]
  if (k === undefined || !equalHash(k, e)) {
    const h = keccak256(e)
    for (let i = 0; i < 3; i++) bloomCacheLocs[3 * slot + i] = ((h[2 * i]! << 8) | h[2 * i + 1]!) & 2047
    bloomCacheKeys[slot] = e.slice()
  }
  for (let i = 0; i < 3; i++) {
    const loc = bloomCacheLocs[3 * slot + i]!
    const at = BLOOM_BYTES - (loc >> 3) - 1
    const bit = 1 << (loc & 7)
    bloom[at]! |= bit
    if (also !== undefined) also[at]! |= bit
  }
}

const BLOOM_CACHE_SIZE = 4096
const bloomCacheKeys: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(BLOOM_CACHE_SIZE).fill(undefined)
/** Each cached entry's three bit positions (0..2047). */
const bloomCacheLocs = new Uint16Array(BLOOM_CACHE_SIZE * 3)

/** A log address's bytes (bare hex → 20 bytes), cached: receipts share them (never written to). */
function addressBytes(address: string): Uint8Array {
  let b = addressCache.get(address)
  if (b === undefined) {
    if (addressCache.size >= 4096) addressCache.clear()
    addressCache.set(address, (b = fromHex(address)))
  }
  return b
}
const addressCache = new Map<string, Uint8Array>()

/**
 * A receipt's consensus encoding (EIP-2718 type byte, then RLP [status or root, cumulative gas, bloom,
 * logs]) written straight into one buffer: @ethereumjs/vm's `encodeReceipt` builds it from nested
 * arrays with a copy per level, ~10% of a block's fast-EVM execution.
 */
export function encodeReceiptFast(r: TxReceipt, txType: number, slab?: Slab): Uint8Array {
  const first = 'stateRoot' in r ? r.stateRoot : r.status === 0 ? EMPTY_BYTES : ONE
  const gas = bigBytes(r.cumulativeBlockGasUsed)
  const logs = r.logs
  const logLens: number[] = []
  let logsPayload = 0
  for (const [address, topics, data] of logs) {
    let topicsPayload = 0
    for (const t of topics) topicsPayload += strLen(t)
    const payload = strLen(address) + listLen(topicsPayload) + strLen(data)
    logLens.push(payload, topicsPayload)
    logsPayload += listLen(payload)
  }
  const payload = strLen(first) + strLen(gas) + strLen(r.bitvector) + listLen(logsPayload)
  const typed = txType === 0 ? 0 : 1
  const size = typed + listLen(payload)
  const out = slab === undefined ? new Uint8Array(size) : slab.alloc(size)
  let o = 0
  if (typed === 1) out[o++] = txType
  o = writeListHeader(out, o, payload)
  o = writeStr(out, o, first)
  o = writeStr(out, o, gas)
  o = writeStr(out, o, r.bitvector)
  o = writeListHeader(out, o, logsPayload)
  for (let i = 0; i < logs.length; i++) {
    const [address, topics, data] = logs[i]!
    o = writeListHeader(out, o, logLens[2 * i]!)
    o = writeStr(out, o, address)
    o = writeListHeader(out, o, logLens[2 * i + 1]!)
    for (const t of topics) o = writeStr(out, o, t)
    o = writeStr(out, o, data)
  }
  return out
}

const EMPTY_BYTES = new Uint8Array(0)

/**
 * Zeroed byte arrays carved from 64 KiB buffers (larger requests get their own): a typed array above 64
 * bytes otherwise allocates its own backing store outside the JS heap, which costs more than the view.
 * Nothing is reused: a view stays valid (and keeps its buffer alive) as long as it is referenced.
 */
export class Slab {
  private buf = new Uint8Array(0)
  private off = 0

  alloc(n: number): Uint8Array {
    if (n > SLAB_BYTES >> 2) return new Uint8Array(n)
    if (this.off + n > this.buf.length) {
      this.buf = new Uint8Array(SLAB_BYTES)
      this.off = 0
    }
    const v = new Uint8Array(this.buf.buffer, this.off, n)
    this.off += n
    return v
  }
}
const SLAB_BYTES = 1 << 16
const ONE = Uint8Array.of(1)

/** As @ethereumjs/util's bigIntToBytes (0 is one zero byte). */
function bigBytes(v: bigint): Uint8Array {
  if (v >= 0n && v <= 0xffff_ffff_ffffn) {
    // Gas totals fit in a double: the bytes without a hex round trip.
    let n = Number(v)
    let len = 1
    while (len < 6 && n >= 2 ** (8 * len)) len++
    const out = new Uint8Array(len)
    for (let i = len - 1; i >= 0; i--) {
      out[i] = n % 256
      n = Math.floor(n / 256)
    }
    return out
  }
  return fromHex(v.toString(16))
}
