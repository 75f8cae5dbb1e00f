import type { AccountFields, StateManagerInterface } from '@ethereumjs/common'
import { OriginalStorageCache } from '@ethereumjs/statemanager'
import {
  Account,
  type Address,
  KECCAK256_NULL,
  KECCAK256_RLP,
  bytesToHex,
  bytesToUnprefixedHex,
  equalsBytes,
  unpadBytes,
} from '@ethereumjs/util'

import type { StateDiff } from '../../chain/stateDiff.js'
import { keccak256 } from '../../util/keccak.js'

const EMPTY = new Uint8Array(0)

/** An account as the mega engine holds it (storage lives in its own map). */
export type MegaAccount = { nonce: bigint; balance: bigint; codeHash: Uint8Array; storageRoot: Uint8Array }

/** Stands in for "has storage" where only emptiness matters (EIP-7610's collision check). */
export const NON_EMPTY_STORAGE = keccak256(new TextEncoder().encode('megabench: non-empty storage'))

/** One key a block changed, with its new value (null = deleted), for the tree, diffs and checks. */
export type StateChange =
  | { kind: 'account'; key: string; address: Uint8Array | undefined; account: MegaAccount | null }
  | { kind: 'storage'; key: string; accountKey: string; slot: Uint8Array | undefined; value: Uint8Array }
  /** Storage wiped (self-destruct, re-creation): `slots` held a value or were written before the wipe. */
  | { kind: 'wipe'; accountKey: string; slots: readonly string[] }
  | { kind: 'code'; codeHash: string; code: Uint8Array }

type Undo =
  | { t: 'account'; key: string; prev: MegaAccount | null | undefined }
  | { t: 'slot'; key: string; slot: string; prev: Uint8Array | undefined }
  | { t: 'wipe'; key: string; prev: Map<string, Uint8Array> | undefined }

/**
 * The mega engine's state: every account, slot and code in memory, keyed by hashes
 * (keccak(address), keccak(slot)), so that a witness, which carries only hashed keys, can be loaded
 * as well as a genesis. Addresses and slots are hashed once each (memoised). Writes apply in place
 * with an undo journal for the EVM's checkpoints; the keys a block changed are collected for the
 * authenticated tree, the state diff and the differential check.
 */
export class MegaState {
  /**
   * Reads of the in-memory state by either EVM (MegaStateManager, MegaBackend): every read counts, since
   * no cache sits in front of this state. The engine takes them per block as the block's `state_reads`.
   */
  readonly reads = { accounts: 0, storageSlots: 0, code: 0, codeBytes: 0 }
  readonly accounts = new Map<string, MegaAccount | null>()
  readonly storage = new Map<string, Map<string, Uint8Array>>()
  readonly codes = new Map<string, Uint8Array>()
  /** Keys changed since `takeChanges()`: account keys, and slots per account key. */
  private changedAccounts = new Map<string, Uint8Array | undefined>()
  private changedSlots = new Map<string, Map<string, Uint8Array | undefined>>()
  private wiped = new Map<string, Set<string>>()
  private newCodes = new Set<string>()
  private readonly addressKeys = new Map<string, string>()
  private readonly slotKeys = new Map<string, string>()

  /** keccak(address), hex, memoised. */
  accountKey(address: Uint8Array): string {
    const a = bytesToUnprefixedHex(address)
    let k = this.addressKeys.get(a)
    if (k === undefined) this.addressKeys.set(a, (k = bytesToUnprefixedHex(keccak256(address))))
    return k
  }

  /** keccak(address) for a 40-digit lowercase hex address (no 0x), memoised: no byte conversion on a hit. */
  accountKeyOfHex(address: string): string {
    let k = this.addressKeys.get(address)
    if (k === undefined) this.addressKeys.set(address, (k = bytesToUnprefixedHex(keccak256(Buffer.from(address, 'hex')))))
    return k
  }

  /** keccak(slot), hex, memoised. */
  slotKey(slot: Uint8Array): string {
    return this.slotKeyOfHex(bytesToUnprefixedHex(slot))
  }

  /** keccak(slot) for a 64-digit lowercase hex slot (no 0x), memoised. */
  slotKeyOfHex(slot: string): string {
    let k = this.slotKeys.get(slot)
    if (k === undefined) {
      k = bytesToUnprefixedHex(keccak256(Buffer.from(slot, 'hex')))
      if (this.slotKeys.size < 4_000_000) this.slotKeys.set(slot, k)
    }
    return k
  }

  /** Loads an account by hashed key (imports). */
  loadAccount(key: string, account: MegaAccount): void {
    this.accounts.set(key, account)
  }

  loadSlot(accountKey: string, slotKey: string, value: Uint8Array): void {
    let m = this.storage.get(accountKey)
    if (m === undefined) this.storage.set(accountKey, (m = new Map()))
    m.set(slotKey, value)
  }

  loadCode(codeHash: Uint8Array, code: Uint8Array): void {
    this.codes.set(bytesToUnprefixedHex(codeHash), code)
  }

  /** The changes since the last call (in no particular order), and resets the tracking. */
  takeChanges(): StateChange[] {
    const out: StateChange[] = []
    for (const [key, slots] of this.wiped) out.push({ kind: 'wipe', accountKey: key, slots: [...slots] })
    for (const [key, address] of this.changedAccounts) out.push({ kind: 'account', key, address, account: this.accounts.get(key) ?? null })
    for (const [accountKey, slots] of this.changedSlots) {
      const m = this.storage.get(accountKey)
      for (const [key, slot] of slots) out.push({ kind: 'storage', key, accountKey, slot, value: m?.get(key) ?? new Uint8Array(0) })
    }
    for (const h of this.newCodes) out.push({ kind: 'code', codeHash: h, code: this.codes.get(h)! })
    this.changedAccounts = new Map()
    this.changedSlots = new Map()
    this.wiped = new Map()
    this.newCodes = new Set()
    return out
  }

  // Journaled writes, used by MegaStateManager.
  journal: Undo[] = []

  /** Values before the block's first write (undefined = absent), for the block's net diff. */
  private blockAccounts = new Map<string, MegaAccount | null | undefined>()
  private blockSlots = new Map<string, Map<string, Uint8Array>>()
  private blockWipes = new Map<string, number>()

  /** The block's net state change (keys whose value differs from before the block); starts the next block. */
  takeBlockDiff(): StateDiff {
    const diff: StateDiff = { accounts: [], storage: [], wipes: [] }
    const fields = (a: MegaAccount | null | undefined) =>
      a === undefined || a === null ? null : { nonce: a.nonce, balance: a.balance, codeHash: bytesToHex(a.codeHash) }
    for (const [key, before] of this.blockAccounts) {
      const now = fields(this.accounts.get(key))
      const old = fields(before)
      const same = now === null || old === null ? now === old : now.nonce === old.nonce && now.balance === old.balance && now.codeHash === old.codeHash
      if (!same) diff.accounts.push({ hashedAddress: `0x${key}`, account: now })
    }
    for (const key of this.blockWipes.keys()) {
      diff.wipes.push(`0x${key}`)
      for (const [slot, v] of this.storage.get(key) ?? []) diff.storage.push({ hashedAddress: `0x${key}`, hashedSlot: `0x${slot}`, value: bytesToHex(v) })
    }
    for (const [key, slots] of this.blockSlots) {
      if (this.blockWipes.has(key)) continue
      const m = this.storage.get(key)
      for (const [slot, before] of slots) {
        const now = m?.get(slot) ?? EMPTY
        if (!equalsBytes(now, before)) diff.storage.push({ hashedAddress: `0x${key}`, hashedSlot: `0x${slot}`, value: bytesToHex(now) })
      }
    }
    this.blockAccounts = new Map()
    this.blockSlots = new Map()
    this.blockWipes = new Map()
    return diff
  }

  putAccount(address: Uint8Array, account: MegaAccount | null): void {
    this.putAccountByKey(this.accountKey(address), account, address)
  }

  /** A journaled account write by hashed key (`address` when known, for the MPT mirror's messages). */
  putAccountByKey(key: string, account: MegaAccount | null, address?: Uint8Array): void {
    if (!this.blockAccounts.has(key)) this.blockAccounts.set(key, this.accounts.get(key))
    this.journal.push({ t: 'account', key, prev: this.accounts.get(key) })
    this.accounts.set(key, account)
    this.changedAccounts.set(key, address)
  }

  putSlot(address: Uint8Array, slot: Uint8Array, value: Uint8Array): void {
    this.putSlotByKey(this.accountKey(address), this.slotKey(slot), value, slot)
  }

  /** A journaled slot write by hashed keys (empty value = delete). */
  putSlotByKey(key: string, s: string, value: Uint8Array, slot?: Uint8Array): void {
    let m = this.storage.get(key)
    if (m === undefined) this.storage.set(key, (m = new Map()))
    let originals = this.blockSlots.get(key)
    if (originals === undefined) this.blockSlots.set(key, (originals = new Map()))
    if (!originals.has(s)) originals.set(s, m.get(s) ?? EMPTY)
    this.journal.push({ t: 'slot', key, slot: s, prev: m.get(s) })
    if (value.length === 0) m.delete(s)
    else m.set(s, value)
    let c = this.changedSlots.get(key)
    if (c === undefined) this.changedSlots.set(key, (c = new Map()))
    c.set(s, slot)
  }

  wipe(address: Uint8Array): void {
    this.wipeByKey(this.accountKey(address))
  }

  /** A journaled storage wipe by hashed key. */
  wipeByKey(key: string): void {
    this.blockWipes.set(key, (this.blockWipes.get(key) ?? 0) + 1)
    const prev = this.storage.get(key)
    this.journal.push({ t: 'wipe', key, prev })
    let slots = this.wiped.get(key)
    if (slots === undefined) this.wiped.set(key, (slots = new Set()))
    for (const s of prev?.keys() ?? []) slots.add(s)
    for (const s of this.changedSlots.get(key)?.keys() ?? []) slots.add(s)
    this.storage.delete(key)
    this.changedSlots.delete(key)
  }

  /**
   * True if this account (`slot` undefined) or this slot now holds a different value than at the start
   * of the block (or the account's storage was wiped): the parallel executor's read-set validation.
   * Value-based, so a write that restored the old value (e.g. the zero-value balance credit every call
   * makes to its recipient) does not invalidate readers; a transaction whose reads all still hold the
   * values it saw would execute identically now.
   */
  changedInBlock(accountKey: string, slot?: string): boolean {
    if (slot === undefined) {
      if (!this.blockAccounts.has(accountKey)) return false
      return !sameAccount(this.blockAccounts.get(accountKey), this.accounts.get(accountKey))
    }
    if (this.blockWipes.has(accountKey)) return true
    const originals = this.blockSlots.get(accountKey)
    if (originals === undefined) return false
    const before = originals.get(slot)
    if (before === undefined) return false
    return !equalsBytes(before, this.storage.get(accountKey)?.get(slot) ?? EMPTY)
  }

  /** Drops the change tracking (keys changed, the block's originals) without touching the state. */
  resetTracking(): void {
    this.takeChanges()
    this.blockAccounts = new Map()
    this.blockSlots = new Map()
    this.blockWipes = new Map()
  }

  /**
   * Applies changes another copy of the state made (a replica catching up): values as given, no
   * journal and no tracking. Wipes first, then accounts, slots and codes.
   */
  applyReplicated(changes: readonly StateChange[]): void {
    for (const c of changes) if (c.kind === 'wipe') this.storage.delete(c.accountKey)
    for (const c of changes) {
      if (c.kind === 'account') {
        if (c.account === null) this.accounts.delete(c.key)
        else this.accounts.set(c.key, c.account)
      } else if (c.kind === 'storage') {
        let m = this.storage.get(c.accountKey)
        if (c.value.length === 0) m?.delete(c.key)
        else {
          if (m === undefined) this.storage.set(c.accountKey, (m = new Map()))
          m.set(c.key, c.value)
        }
      } else if (c.kind === 'code') this.codes.set(c.codeHash, c.code)
    }
  }

  undoTo(mark: number): void {
    while (this.journal.length > mark) {
      const u = this.journal.pop()!
      if (u.t === 'account') {
        if (u.prev === undefined) this.accounts.delete(u.key)
        else this.accounts.set(u.key, u.prev)
      } else if (u.t === 'slot') {
        const m = this.storage.get(u.key)
        if (u.prev === undefined) m?.delete(u.slot)
        else if (m !== undefined) m.set(u.slot, u.prev)
        else this.storage.set(u.key, new Map([[u.slot, u.prev]]))
      } else {
        if (u.prev === undefined) this.storage.delete(u.key)
        else this.storage.set(u.key, u.prev)
        const n = (this.blockWipes.get(u.key) ?? 1) - 1
        if (n > 0) this.blockWipes.set(u.key, n)
        else this.blockWipes.delete(u.key)
      }
      // Change marks stay: a reverted key is reported with its current (restored) value.
    }
  }

  addCode(code: Uint8Array): Uint8Array {
    const h = keccak256(code)
    const hex = bytesToUnprefixedHex(h)
    if (!this.codes.has(hex)) {
      this.codes.set(hex, code)
      this.newCodes.add(hex)
    }
    return h
  }
}

/**
 * @ethereumjs/vm's state manager over a MegaState: every read is a map lookup, every write goes in
 * place with an undo record. No caches, no trie, no database on the execution path.
 */
export class MegaStateManager implements StateManagerInterface {
  readonly originalStorageCache: OriginalStorageCache
  private marks: number[] = []

  constructor(readonly state: MegaState) {
    this.originalStorageCache = new OriginalStorageCache(this.getStorage.bind(this))
  }

  async getAccount(address: Address): Promise<Account | undefined> {
    this.state.reads.accounts++
    const a = this.state.accounts.get(this.state.accountKey(address.bytes))
    if (a === undefined || a === null) return undefined
    return new Account(a.nonce, a.balance, a.storageRoot, a.codeHash)
  }

  async putAccount(address: Address, account?: Account): Promise<void> {
    if (account === undefined) {
      this.state.putAccount(address.bytes, null)
      return
    }
    const key = this.state.accountKey(address.bytes)
    const prev = this.state.accounts.get(key)
    this.state.putAccount(address.bytes, {
      nonce: account.nonce,
      balance: account.balance,
      codeHash: account.codeHash,
      storageRoot: prev?.storageRoot ?? KECCAK256_RLP,
    })
  }

  async deleteAccount(address: Address): Promise<void> {
    this.state.putAccount(address.bytes, null)
    this.state.wipe(address.bytes)
  }

  async modifyAccountFields(address: Address, fields: AccountFields): Promise<void> {
    const account = (await this.getAccount(address)) ?? new Account()
    if (fields.nonce !== undefined) account.nonce = fields.nonce
    if (fields.balance !== undefined) account.balance = fields.balance
    if (fields.codeHash !== undefined) account.codeHash = fields.codeHash
    await this.putAccount(address, account)
  }

  async putCode(address: Address, value: Uint8Array): Promise<void> {
    await this.modifyAccountFields(address, { codeHash: this.state.addCode(value) })
  }

  async getCode(address: Address): Promise<Uint8Array> {
    const a = this.state.accounts.get(this.state.accountKey(address.bytes))
    if (a === undefined || a === null || equalsBytes(a.codeHash, KECCAK256_NULL)) return new Uint8Array(0)
    const code = this.state.codes.get(bytesToUnprefixedHex(a.codeHash))
    if (code === undefined) throw new Error(`code of ${address.toString()} is not in the mega state`)
    this.state.reads.code++
    this.state.reads.codeBytes += code.length
    return code
  }

  async getCodeSize(address: Address): Promise<number> {
    return (await this.getCode(address)).length
  }

  async getStorage(address: Address, key: Uint8Array): Promise<Uint8Array> {
    this.state.reads.storageSlots++
    return this.state.storage.get(this.state.accountKey(address.bytes))?.get(this.state.slotKey(key)) ?? new Uint8Array(0)
  }

  async putStorage(address: Address, key: Uint8Array, value: Uint8Array): Promise<void> {
    const k = this.state.accountKey(address.bytes)
    const a = this.state.accounts.get(k)
    if (a === undefined || a === null) throw new Error('putStorage() called on non-existing account')
    const v = unpadBytes(value)
    this.state.putSlot(address.bytes, key, v)
    if (v.length > 0 && equalsBytes(a.storageRoot, KECCAK256_RLP)) {
      // Only emptiness is observable to the EVM (EIP-7610); keep it right without a trie.
      this.state.putAccount(address.bytes, { ...a, storageRoot: NON_EMPTY_STORAGE })
    }
  }

  async clearStorage(address: Address): Promise<void> {
    this.state.wipe(address.bytes)
    const k = this.state.accountKey(address.bytes)
    const a = this.state.accounts.get(k)
    if (a !== undefined && a !== null) this.state.putAccount(address.bytes, { ...a, storageRoot: KECCAK256_RLP })
  }

  async checkpoint(): Promise<void> {
    this.marks.push(this.state.journal.length)
  }

  async commit(): Promise<void> {
    this.marks.pop()
    if (this.marks.length === 0) this.state.journal = []
  }

  async revert(): Promise<void> {
    this.state.undoTo(this.marks.pop() ?? 0)
    if (this.marks.length === 0) this.state.journal = []
  }

  /** The mega engine's root is its BucketTree's; the EVM only asks for it before Byzantium (receipts). */
  getStateRoot(): Promise<Uint8Array> {
    if (this.rootProvider === undefined) throw new Error('no state root provider')
    return this.rootProvider()
  }

  /** Set by the engine: how to compute a state root (MPT mirror for pre-Byzantium receipts). */
  rootProvider: (() => Promise<Uint8Array>) | undefined

  async setStateRoot(): Promise<void> {
    throw new Error('MegaStateManager has no historical roots')
  }

  async hasStateRoot(): Promise<boolean> {
    return false
  }

  clearCaches(): void {}

  shallowCopy(): StateManagerInterface {
    throw new Error('MegaStateManager cannot be copied')
  }
}

function sameAccount(a: MegaAccount | null | undefined, b: MegaAccount | null | undefined): boolean {
  if (a === undefined || a === null || b === undefined || b === null) return (a ?? null) === (b ?? null)
  return a.nonce === b.nonce && a.balance === b.balance && equalsBytes(a.codeHash, b.codeHash) && equalsBytes(a.storageRoot, b.storageRoot)
}
