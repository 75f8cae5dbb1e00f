/**
 * State-diff bandwidth: the bytes a full node must receive to follow the state without executing, per
 * transaction, per block and per window of k merged consecutive blocks, in the documented encoding
 * `megabench-diff-v1` (src/chain/stateDiff.ts) and in the study's model of 20 bytes per updated key,
 * raw and compressed, and the Mbps this means at a given transaction rate.
 */
import { brotliCompressSync, constants as zlibConstants, deflateRawSync } from 'node:zlib'

import { type StateDiff, diffDigest, diffKeys, encodeDiff } from '../chain/stateDiff.js'
import type { TxAccess } from '../probes/accessSets.js'
import { keccakHex } from './hash.js'
import { type Distribution, distribution, windowsOf } from './stats.js'
import type { AnalysedBlock } from './types.js'

/** The study's model (whitepaper): 20 bytes per state update. */
export const MODEL_BYTES_PER_UPDATE = 20
export const DEFAULT_TPS = 100_000

export const COMPRESSORS = {
  deflate: {
    detail: 'node:zlib deflateRawSync, level 9 (raw DEFLATE, RFC 1951, no zlib header)',
    compress: (b: Uint8Array) => deflateRawSync(b, { level: 9 }).length,
  },
  brotli: {
    detail: 'node:zlib brotliCompressSync, quality 11, size hint',
    compress: (b: Uint8Array) =>
      brotliCompressSync(b, { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 11, [zlibConstants.BROTLI_PARAM_SIZE_HINT]: b.length } }).length,
  },
} as const
export type CompressorName = keyof typeof COMPRESSORS
export const COMPRESSOR_NAMES = Object.keys(COMPRESSORS) as CompressorName[]

/**
 * Net state change over a sequence of access records (transactions, or a block's prelude, transactions
 * and postlude, or several blocks): for each key its value before the first record that touched it and
 * after the last; a key whose value ends where it began is not in the diff. A storage wipe puts the
 * account in `wipes` and lists every slot it holds afterwards (of those the records touched).
 */
export class DiffAccumulator {
  private readonly accounts = new Map<string, { before: TxAccess['accounts'][number]['before']; after: TxAccess['accounts'][number]['after'] }>()
  private readonly slots = new Map<string, { address: string; slot: string; before: string; after: string }>()
  private readonly wiped = new Set<string>()

  /** Adds a record; `skipAccount` leaves one account out (a transaction's fee credit to the coinbase). */
  add(t: TxAccess, skipAccount?: string): this {
    for (const a of t.accounts) {
      if (a.address === skipAccount) continue
      const prev = this.accounts.get(a.address)
      if (prev === undefined) this.accounts.set(a.address, { before: a.before, after: a.after })
      else prev.after = a.after
      if (a.wiped) {
        this.wiped.add(a.address)
        for (const [k, s] of this.slots) if (s.address === a.address) this.slots.delete(k)
      }
    }
    for (const s of t.slots) {
      const k = `${s.address}:${s.slot}`
      const prev = this.slots.get(k)
      if (prev === undefined) this.slots.set(k, { address: s.address, slot: s.slot, before: s.before, after: s.after })
      else prev.after = s.after
    }
    return this
  }

  diff(): StateDiff {
    const d: StateDiff = { accounts: [], storage: [], wipes: [] }
    for (const [address, { before, after }] of this.accounts) {
      const same =
        before === null || after === null
          ? before === after
          : before.nonce === after.nonce && before.balance === after.balance && before.codeHash === after.codeHash
      if (!same) d.accounts.push({ hashedAddress: keccakHex(address), account: after })
    }
    for (const a of this.wiped) d.wipes.push(keccakHex(a))
    for (const s of this.slots.values()) {
      const keep = this.wiped.has(s.address) ? s.after !== '0x' : s.after !== s.before
      if (keep) d.storage.push({ hashedAddress: keccakHex(s.address), hashedSlot: keccakHex(s.slot), value: s.after })
    }
    return d
  }
}

/** A transaction's own diff; the coinbase's fee credit is left out (it is one update per block, in the block's diff). */
export function txDiff(t: TxAccess, coinbase: string): StateDiff {
  return new DiffAccumulator().add(t, t.coinbase === 'fee' ? coinbase : undefined).diff()
}

/** The net diff of consecutive blocks: their preludes, transactions and postludes in order. */
export function blocksDiff(blocks: readonly AnalysedBlock[]): StateDiff {
  const acc = new DiffAccumulator()
  for (const b of blocks) {
    acc.add(b.access.prelude)
    for (const t of b.access.txs) acc.add(t)
    acc.add(b.access.postlude)
  }
  return acc.diff()
}

/** A compressed size, and whether compression made it larger than the raw encoding (then `sentBytes` = raw). */
export type Compressed = { bytes: number; expanded: boolean; sentBytes: number }

export function compressedSize(raw: Uint8Array, name: CompressorName): Compressed {
  const bytes = COMPRESSORS[name].compress(raw)
  return { bytes, expanded: bytes > raw.length, sentBytes: Math.min(bytes, raw.length) }
}

export type SizedDiff = { txs: number; keys: number; raw: number; model: number } & Record<CompressorName, Compressed>

export function sizeDiff(d: StateDiff, txs: number): SizedDiff {
  const raw = encodeDiff(d)
  return {
    txs,
    keys: diffKeys(d),
    raw: raw.length,
    model: diffKeys(d) * MODEL_BYTES_PER_UPDATE,
    deflate: compressedSize(raw, 'deflate'),
    brotli: compressedSize(raw, 'brotli'),
  }
}

export type BytesPerTx = { raw: number; model: number } & Record<CompressorName, number>

export type WindowDiffSummary = {
  k: number
  windows: number
  txs: number
  keys: number
  raw: number
  model: number
  /** Compressed totals; `sentBytes` uses the raw size where compression would expand a window; `expanded` counts those windows. */
  compressed: Record<CompressorName, { bytes: number; sentBytes: number; expanded: number }>
  /** Bytes per transaction (totals / txs; compressed = sent bytes). */
  bytesPerTx: BytesPerTx
  /** Megabits per second at the analysis's transaction rate. */
  mbps: BytesPerTx
}

export type StateDiffAnalysis = {
  encoding: string
  model: string
  compressors: Record<CompressorName, string>
  tps: number
  perTx: { txs: number; raw: Distribution | null; model: Distribution | null; keys: Distribution | null; note: string }
  blocks: ({ number: number; origin: string } & SizedDiff)[]
  windows: WindowDiffSummary[]
  /** The probe's per-block diff digests against the engine's own (equal = the access sets are complete). */
  check: { compared: number; matched: number; mismatched: number[] }
}

const mbps = (bytesPerTx: number, tps: number) => (bytesPerTx * tps * 8) / 1e6

export function analyzeStateDiff(blocks: readonly AnalysedBlock[], opts: { tps?: number; windows?: readonly number[] } = {}): StateDiffAnalysis {
  const tps = opts.tps ?? DEFAULT_TPS
  const ks = opts.windows ?? [1, 2, 5, 10]
  const perTx = blocks.flatMap((b) => b.access.txs.map((t) => txDiff(t, b.access.coinbase)))
  const txRaw = perTx.map((d) => encodeDiff(d).length)
  const check = { compared: 0, matched: 0, mismatched: [] as number[] }
  const blockRows = blocks.map((b) => {
    const d = blocksDiff([b])
    if (b.engineDiffDigest !== null) {
      check.compared++
      if (diffDigest(d) === b.engineDiffDigest) check.matched++
      else check.mismatched.push(b.number)
    }
    return { number: b.number, origin: b.origin, ...sizeDiff(d, b.access.txs.length) }
  })
  const windows: WindowDiffSummary[] = ks.map((k) => {
    const sized = k === 1 ? blockRows : windowsOf(blocks, k).map((w) => sizeDiff(blocksDiff(w), w.reduce((s, b) => s + b.access.txs.length, 0)))
    const sum = (f: (s: SizedDiff) => number) => sized.reduce((x, s) => x + f(s), 0)
    const txs = sum((s) => s.txs)
    const compressed = Object.fromEntries(
      COMPRESSOR_NAMES.map((c) => [c, { bytes: sum((s) => s[c].bytes), sentBytes: sum((s) => s[c].sentBytes), expanded: sized.filter((s) => s[c].expanded).length }]),
    ) as WindowDiffSummary['compressed']
    const per = (bytes: number) => (txs === 0 ? 0 : bytes / txs)
    const bytesPerTx = {
      raw: per(sum((s) => s.raw)),
      model: per(sum((s) => s.model)),
      ...(Object.fromEntries(COMPRESSOR_NAMES.map((c) => [c, per(compressed[c].sentBytes)])) as Record<CompressorName, number>),
    }
    return {
      k,
      windows: sized.length,
      txs,
      keys: sum((s) => s.keys),
      raw: sum((s) => s.raw),
      model: sum((s) => s.model),
      compressed,
      bytesPerTx,
      mbps: Object.fromEntries(Object.entries(bytesPerTx).map(([key, v]) => [key, mbps(v, tps)])) as BytesPerTx,
    }
  })
  return {
    encoding:
      'megabench-diff-v1 (src/chain/stateDiff.ts): RLP([wipes, accounts, storage]) of hashed keys, sorted; accounts [keccak(address), nonce, balance, codeHash] or [keccak(address)] when deleted; storage grouped by account, [keccak(slot), value without leading zeros]',
    model: `${MODEL_BYTES_PER_UPDATE} bytes per updated key (accounts + slots + wipes): the study's whitepaper model`,
    compressors: Object.fromEntries(COMPRESSOR_NAMES.map((c) => [c, COMPRESSORS[c].detail])) as Record<CompressorName, string>,
    tps,
    perTx: {
      txs: perTx.length,
      raw: distribution(txRaw),
      model: distribution(perTx.map((d) => diffKeys(d) * MODEL_BYTES_PER_UPDATE)),
      keys: distribution(perTx.map(diffKeys)),
      note: "each transaction's own net diff, encoded alone; the coinbase's fee credit is left out (it is one update per block, counted in the block's diff)",
    },
    blocks: blockRows,
    windows,
    check,
  }
}
