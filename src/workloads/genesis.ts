import { RLP } from '@ethereumjs/rlp'
import { CODEHASH_PREFIX } from '@ethereumjs/statemanager'
import {
  KECCAK256_NULL,
  KECCAK256_RLP,
  bigIntToUnpaddedBytes,
  bytesToHex,
  concatBytes,
  hexToBytes,
  setLengthLeft,
  unpadBytes,
} from '@ethereumjs/util'
import { keccak256 } from '../util/keccak.js'

import type { NodeStore } from '../trie/nodeStore.js'
import type { AllocAccount, GenesisSpec } from '../sources/chainFormat.js'
import { StreamingTrieBuilder, sortedKeyOrder } from '../trie/streamingTrieBuilder.js'
import { AccountSet, dormantBalance } from './accounts.js'

/** What a genesis build produced. */
export type GenesisBuild = {
  stateRoot: Uint8Array
  accounts: number
  storageSlots: number
  /** Trie nodes and codes written to the store. */
  nodesWritten: number
}

export type GenesisProgress = (stage: 'addresses' | 'storage' | 'accounts', done: number, total: number) => void

/** The part of a genesis spec that determines its state (everything but headerRlp and stateRoot). */
export type GenesisStateSpec = Pick<GenesisSpec, 'accounts' | 'tokenHoldings' | 'alloc'>

/** Where a genesis build puts what it produces. `account` and `slot` receive the flat state (hashed keys). */
export interface GenesisSink {
  node(hash: Uint8Array, node: Uint8Array, trie: 'account' | 'storage'): void
  code(codeHash: Uint8Array, code: Uint8Array): void
  account?(hashedAddress: Uint8Array, rlp: Uint8Array): void
  slot?(hashedAddress: Uint8Array, hashedSlot: Uint8Array, value: Uint8Array): void
}

/** A sink into a NodeStore: trie nodes by hash, codes by `c ‖ hash` (as MerkleStateManager looks them up). */
export function nodeStoreSink(store: NodeStore): GenesisSink {
  return {
    node: (hash, node) => store.putBytes(hash, node),
    code: (hash, code) => store.putBytes(concatBytes(CODEHASH_PREFIX, hash), code),
  }
}

/**
 * Expands a genesis spec into its state and writes every trie node and code (and, if the sink wants
 * it, the flat state) into `sink`, in bulk: keys are hashed and sorted once and the tries are built
 * bottom-up by a streaming builder, so memory grows with the number of accounts (52 bytes each) and
 * not with trie size. This is how a 10-million-account genesis is built; `MerklePatriciaTrie.put`
 * would need ~8 KB per entry.
 */
export function buildGenesisState(spec: GenesisStateSpec, target: GenesisSink | NodeStore, onProgress?: GenesisProgress): GenesisBuild {
  const out: GenesisSink = 'putBytes' in target ? nodeStoreSink(target) : target
  let nodesWritten = 0
  const accountSink = (hash: Uint8Array, node: Uint8Array) => {
    nodesWritten++
    out.node(hash, node, 'account')
  }
  const storageSink = (hash: Uint8Array, node: Uint8Array) => {
    nodesWritten++
    out.node(hash, node, 'storage')
  }
  const set = new AccountSet(spec.accounts.count, spec.accounts.senders, spec.accounts.seed)
  const addresses = set.allAddresses(onProgress && ((d) => onProgress('addresses', d, set.count)))
  const senderAddress = (i: number) => addresses.subarray(i * 20, i * 20 + 20)

  // Storage tries of explicit accounts, with the token holdings of every sender added.
  const allocEntries = Object.entries(spec.alloc).map(([a, acct]) => ({ address: hexToBytes(a as `0x${string}`), acct }))
  const storageRoots = new Map<string, Uint8Array>()
  let storageSlots = 0
  for (const { address, acct } of allocEntries) {
    const key = bytesToHex(address)
    const holdings = spec.tokenHoldings.filter((h) => h.token.toLowerCase() === key)
    const explicit = Object.entries(acct.storage ?? {})
    if (explicit.length === 0 && holdings.length === 0) continue
    const slots: [Uint8Array, Uint8Array][] = explicit.map(([slot, value]) => [
      hexToBytes(slot as `0x${string}`),
      hexToBytes(value as `0x${string}`),
    ])
    for (const h of holdings) {
      const balance = setLengthLeft(bigIntToUnpaddedBytes(BigInt(h.balance)), 32)
      const allowances = h.allowances.map((a) => ({
        spender: setLengthLeft(hexToBytes(a.spender as `0x${string}`), 32),
        amount: setLengthLeft(bigIntToUnpaddedBytes(BigInt(a.amount)), 32),
      }))
      for (let i = 0; i < set.senders; i++) {
        const holder = setLengthLeft(senderAddress(i), 32)
        slots.push([mappingSlot(holder, h.balanceSlot), balance])
        const inner = mappingSlot(holder, h.allowanceSlot)
        for (const a of allowances) slots.push([keccak256(concatBytes(a.spender, inner)), a.amount])
      }
    }
    const hashedAddress = keccak256(address)
    storageRoots.set(key, buildStorageTrie(slots, storageSink, out.slot && ((hashedSlot, value) => out.slot!(hashedAddress, hashedSlot, value))))
    storageSlots += slots.length
    onProgress?.('storage', storageSlots, storageSlots)
  }

  // Codes.
  const codeHashes = new Map<string, Uint8Array>()
  for (const { address, acct } of allocEntries) {
    if (acct.code === undefined || acct.code === '0x') continue
    const code = hexToBytes(acct.code as `0x${string}`)
    const codeHash = keccak256(code)
    out.code(codeHash, code)
    nodesWritten++
    codeHashes.set(bytesToHex(address), codeHash)
  }

  // The account trie: bulk accounts, then explicit ones, sorted by keccak256(address).
  const total = set.count + allocEntries.length
  const keys = new Uint8Array(total * 32)
  for (let i = 0; i < set.count; i++) keys.set(keccak256(senderAddress(i)), i * 32)
  allocEntries.forEach(({ address }, j) => keys.set(keccak256(address), (set.count + j) * 32))
  const order = sortedKeyOrder(keys, total)
  const senderBalance = BigInt(spec.accounts.senderBalance)
  const builder = new StreamingTrieBuilder({ onNode: accountSink })
  let previous: Uint8Array | undefined
  for (let n = 0; n < total; n++) {
    const idx = order[n]!
    const key = keys.subarray(idx * 32, idx * 32 + 32)
    if (previous !== undefined && equal32(previous, key)) {
      throw new Error(`genesis lists the account with hashed address ${bytesToHex(key)} twice`)
    }
    previous = key
    let value: Uint8Array
    if (idx < set.count) {
      const balance = idx < set.senders ? senderBalance : dormantBalance(key)
      value = accountRlp(0n, balance, KECCAK256_RLP, KECCAK256_NULL)
    } else {
      const { address, acct } = allocEntries[idx - set.count]!
      const a = bytesToHex(address)
      value = allocAccountRlp(acct, storageRoots.get(a) ?? KECCAK256_RLP, codeHashes.get(a) ?? KECCAK256_NULL)
    }
    builder.add(key, value)
    out.account?.(key, value)
    if (onProgress !== undefined && (n & 0xffff) === 0xffff) onProgress('accounts', n + 1, total)
  }
  const stateRoot = builder.finish()
  return { stateRoot, accounts: total, storageSlots, nodesWritten }
}

/** Solidity mapping slot: keccak256(key ‖ slot), both 32 bytes. */
export function mappingSlot(key32: Uint8Array, slot: number): Uint8Array {
  return keccak256(concatBytes(key32, setLengthLeft(bigIntToUnpaddedBytes(BigInt(slot)), 32)))
}

function buildStorageTrie(
  slots: [Uint8Array, Uint8Array][],
  sink: (h: Uint8Array, n: Uint8Array) => void,
  onSlot?: (hashedSlot: Uint8Array, value: Uint8Array) => void,
): Uint8Array {
  const nonZero = slots.filter(([, v]) => unpadBytes(v).length > 0)
  const keys = new Uint8Array(nonZero.length * 32)
  nonZero.forEach(([slot], i) => keys.set(keccak256(slot), i * 32))
  const order = sortedKeyOrder(keys, nonZero.length)
  const builder = new StreamingTrieBuilder({ onNode: sink })
  let previous: Uint8Array | undefined
  for (const i of order) {
    const key = keys.subarray(i * 32, i * 32 + 32)
    if (previous !== undefined && equal32(previous, key)) throw new Error(`genesis sets storage slot ${bytesToHex(key)} twice`)
    previous = key
    const value = unpadBytes(nonZero[i]![1])
    builder.add(key, RLP.encode(value))
    onSlot?.(key.slice(), value)
  }
  return builder.finish()
}

/** RLP([nonce, balance, storageRoot, codeHash]), written directly (this runs once per account). */
export function accountRlp(nonce: bigint, balance: bigint, storageRoot: Uint8Array, codeHash: Uint8Array): Uint8Array {
  const n = quantityBytes(nonce)
  const b = quantityBytes(balance)
  const itemLength = (x: Uint8Array) => (x.length === 1 && x[0]! < 0x80 ? 1 : 1 + x.length) // both < 56 bytes
  const payload = itemLength(n) + itemLength(b) + 33 + 33
  const out = new Uint8Array((payload < 56 ? 1 : 2) + payload)
  let o = 0
  if (payload < 56) out[o++] = 0xc0 + payload
  else {
    out[o++] = 0xf8
    out[o++] = payload
  }
  for (const x of [n, b]) {
    if (x.length !== 1 || x[0]! >= 0x80) out[o++] = 0x80 + x.length
    out.set(x, o)
    o += x.length
  }
  for (const h of [storageRoot, codeHash]) {
    out[o++] = 0xa0
    out.set(h, o)
    o += 32
  }
  return out
}

/** Big-endian bytes of a quantity without leading zeros (empty for 0), as RLP encodes integers. */
function quantityBytes(v: bigint): Uint8Array {
  if (v === 0n) return new Uint8Array(0)
  let hex = v.toString(16)
  if (hex.length % 2 === 1) hex = `0${hex}`
  const out = new Uint8Array(hex.length / 2)
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16)
  return out
}

function allocAccountRlp(acct: AllocAccount, storageRoot: Uint8Array, codeHash: Uint8Array): Uint8Array {
  return accountRlp(BigInt(acct.nonce), BigInt(acct.balance), storageRoot, codeHash)
}

function equal32(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < 32; i++) if (a[i] !== b[i]) return false
  return true
}
