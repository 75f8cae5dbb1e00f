import type { AccountFields, StateManagerInterface } from '@ethereumjs/common'
import { OriginalStorageCache } from '@ethereumjs/statemanager'
import { RLP } from '@ethereumjs/rlp'
import {
  Account,
  type Address,
  KECCAK256_NULL,
  KECCAK256_RLP,
  bigIntToUnpaddedBytes,
  bytesToBigInt,
  bytesToHex,
  equalsBytes,
  unpadBytes,
} from '@ethereumjs/util'

import type { StateDiff } from '../../chain/stateDiff.js'
import { MegabenchError } from '../../errors/index.js'
import { bytesOfHex, flatString, hexOf, hexRange, writeHex } from '../../util/hex.js'
import { keccak256 } from '../../util/keccak.js'
import { BucketTree } from './bucketTree.js'

const EMPTY = new Uint8Array(0)

/** An account as the mega engine gives it out (`storageRoot` only tells whether the account has storage). */
export type MegaAccount = { nonce: bigint; balance: bigint; codeHash: Uint8Array; storageRoot: Uint8Array }

/** An account as the overlay holds it: what the tree commits to (storage emptiness is counted apart). */
type AccountFieldsRecord = { nonce: bigint; balance: bigint; codeHash: Uint8Array }

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
  | { t: 'account'; key: string; prev: AccountFieldsRecord | null | undefined; live: number }
  | { t: 'slot'; key: string; slot: string; prev: Uint8Array | undefined; live: number }
  | { t: 'wipe'; key: string; prev: Map<string, Uint8Array> | undefined; count: number; wasWiped: boolean; rootNonEmpty: boolean }

/** Options of a MegaState: how many entries to size the tree for, and whether wipes may hit stored slots. */
export type MegaStateOptions = {
  expectedEntries: number
  /**
   * Keep, per account, the keys of its stored slots, so that a wipe (self-destruct, re-creation) can remove
   * them from the tree. Needed before Cancun and for witnesses; from Cancun on (EIP-6780) a wipe only hits
   * storage written in the same transaction, which the overlay holds, so large generated states go without.
   */
  slotIndex: boolean
}

/**
 * The mega engine's state: every account, slot and code in memory, keyed by hashes (keccak(address),
 * keccak(slot)), so that a witness, which carries only hashed keys, can be loaded as well as a genesis.
 *
 * Stored compactly, off V8's heap: the entries live in the BucketTree's slab (its buckets are the store,
 * as in MegaETH's SALT), keys as 32 bytes, accounts as RLP [nonce, balance] (plus codeHash for contracts),
 * slots as their bytes under keccak(keccak(address) ‖ keccak(slot)); no JavaScript object per account or
 * slot. A block's writes go to an overlay (hex-keyed maps) with an undo journal for the EVM's checkpoints;
 * reads look there first, then in the tree. `flushToTree` moves the overlay into the tree at the end of a
 * block (the engine times it as merkleization, with the commit). Beside the tree: live-slot counts of the
 * accounts with storage (EIP-7610's emptiness, exact), codes by hash, and with `slotIndex` the slot keys.
 */
export class MegaState {
  /**
   * Reads of the in-memory state by either EVM (MegaStateManager, MegaBackend): every read counts, since
   * no cache sits in front of this state. The engine takes them per block as the block's `state_reads`.
   */
  readonly reads = { accounts: 0, storageSlots: 0, code: 0, codeBytes: 0 }
  readonly codes = new Map<string, Uint8Array>()
  /** Writes since the last flush (null / empty = deleted), and accounts whose stored slots a wipe removed. */
  private overlayAccounts = new Map<string, AccountFieldsRecord | null>()
  private overlaySlots = new Map<string, Map<string, Uint8Array>>()
  private wipedStored = new Set<string>()
  /** Live (non-empty) slots per account that has any; accounts a witness says have storage it does not hold. */
  private readonly slotCounts = new Map<string, number>()
  private readonly rootNonEmpty = new Set<string>()
  /** With `slotIndex`: the stored (flushed) slot keys per account. */
  private readonly slotIndex: Map<string, Set<string>> | undefined
  private liveAccounts = 0
  /** Keys changed since `takeChanges()`: account keys, and slots per account key. */
  private changedAccounts = new Map<string, Uint8Array | undefined>()
  private changedSlots = new Map<string, Map<string, Uint8Array | undefined>>()
  private wiped = new Map<string, Set<string>>()
  private newCodes = new Set<string>()
  private readonly addressKeys = new Map<string, string>()
  private readonly slotKeys = new Map<string, string>()
  /** Scratch for tree keys: an account key, and account key ‖ slot key (hashed to the slot's tree key). */
  private readonly keyScratch = Buffer.alloc(32)
  /**
   * Read-through caches of the tree until the next flush (its entries only change there): decoded accounts
   * (null = absent), and per slot its value and tree key, so that a block decodes an account and hashes a
   * slot's tree key once, however often it reads or writes them.
   */
  private storedAccounts = new Map<string, AccountFieldsRecord | null>()
  private storedSlots = new Map<string, Map<string, { value: Uint8Array; treeKey: Uint8Array }>>()
  private readonly pairScratch = Buffer.alloc(64)
  private readonly slotScratch = new Uint8Array(32)
  /** The last account key converted while loading (slots come grouped by account). */
  private lastLoadKey: { bytes: Uint8Array; hex: string } | undefined

  private constructor(
    readonly tree: BucketTree,
    opts: MegaStateOptions,
  ) {
    this.slotIndex = opts.slotIndex ? new Map() : undefined
  }

  static async create(opts: MegaStateOptions): Promise<MegaState> {
    return new MegaState(await BucketTree.create({ expectedEntries: opts.expectedEntries }), opts)
  }

  /** Accounts that exist now. */
  get accountCount(): number {
    return this.liveAccounts
  }

  /** keccak(address), hex, memoised. */
  accountKey(address: Uint8Array): string {
    const a = hexOf(address)
    let k = this.addressKeys.get(a)
    if (k === undefined) this.addressKeys.set(a, (k = hexOf(keccak256(address))))
    return k
  }

  /** keccak(address) for a 40-digit lowercase hex address (no 0x), memoised: no byte conversion on a hit. */
  accountKeyOfHex(address: string): string {
    let k = this.addressKeys.get(address)
    if (k === undefined) this.addressKeys.set(flatString(address), (k = hexOf(keccak256(bytesOfHex(address)))))
    return k
  }

  /** keccak(slot), hex, memoised. */
  slotKey(slot: Uint8Array): string {
    return this.slotKeyOfHex(hexOf(slot))
  }

  /**
   * keccak(slot) for a slot as lowercase hex (no 0x), with or without leading zeros (the fast EVM's slot keys
   * have none), memoised under the form given: both forms of one slot hash the same 32 bytes.
   */
  slotKeyOfHex(slot: string): string {
    let k = this.slotKeys.get(slot)
    if (k === undefined) {
      const word = this.slotScratch.fill(0)
      writeHex(word, 32 - ((slot.length + 1) >> 1), slot.length % 2 === 0 ? slot : '0' + slot)
      k = hexOf(keccak256(word))
      if (this.slotKeys.size < 1_000_000) this.slotKeys.set(flatString(slot), k)
    }
    return k
  }

  // Loading (imports): straight into the tree, staged as one bulk load until `finishLoad`.

  /** Starts an import: every load below is staged and applied at once by `finishLoad`. */
  beginLoad(): void {
    this.tree.beginBulkLoad()
  }

  /**
   * Loads an account from its Ethereum RLP [nonce, balance, storageRoot, codeHash] by hashed key.
   * `partial`: a witness, whose storage may be incomplete: a non-empty storage root then counts as storage.
   * Returns the account's storage root (a witness load walks its storage trie next).
   */
  loadAccountRlp(key: Uint8Array, rlp: Uint8Array, partial: boolean): Uint8Array {
    const f = RLP.decode(rlp) as Uint8Array[]
    const codeHash = f[3]!
    this.tree.set(key, encodeAccountParts(f[0]!, f[1]!, equalsBytes(codeHash, KECCAK256_NULL) ? undefined : codeHash))
    this.liveAccounts++
    if (partial && !equalsBytes(f[2]!, KECCAK256_RLP)) this.rootNonEmpty.add(hexOf(key))
    return f[2]!
  }

  /** Loads a slot (value without leading zeros) by hashed account key and hashed slot. */
  loadSlot(accountKey: Uint8Array, slotKey: Uint8Array, value: Uint8Array): void {
    if (value.length === 0) return
    let last = this.lastLoadKey
    if (last === undefined || !equalsBytes(last.bytes, accountKey)) this.lastLoadKey = last = { bytes: accountKey.slice(), hex: hexOf(accountKey) }
    this.pairScratch.set(accountKey, 0)
    this.pairScratch.set(slotKey, 32)
    this.tree.set(keccak256(this.pairScratch), value)
    this.slotCounts.set(last.hex, (this.slotCounts.get(last.hex) ?? 0) + 1)
    if (this.slotIndex !== undefined) {
      let set = this.slotIndex.get(last.hex)
      if (set === undefined) this.slotIndex.set(last.hex, (set = new Set()))
      set.add(hexOf(slotKey))
    }
  }

  loadCode(codeHash: Uint8Array, code: Uint8Array): void {
    this.codes.set(hexOf(codeHash), code)
  }

  /** Ends an import: applies it to the tree (packed) and computes the root. */
  finishLoad(): void {
    this.tree.endBulkLoad()
    this.lastLoadKey = undefined
  }

  // Reads: the overlay, then the tree.

  /** An account's fields by hashed key (undefined = absent), without the storage-root marker. */
  accountFieldsByKey(key: string): AccountFieldsRecord | undefined {
    const o = this.overlayAccounts.get(key)
    if (o !== undefined) return o ?? undefined
    let a = this.storedAccounts.get(key)
    if (a === undefined) {
      writeHex(this.keyScratch, 0, key)
      const v = this.tree.get(this.keyScratch)
      this.storedAccounts.set(key, (a = v === undefined ? null : decodeAccountValue(v)))
    }
    return a ?? undefined
  }

  /** An account by hashed key (undefined = absent), `storageRoot` telling whether it has storage. */
  getAccountByKey(key: string): MegaAccount | undefined {
    const a = this.accountFieldsByKey(key)
    return a === undefined ? undefined : { nonce: a.nonce, balance: a.balance, codeHash: a.codeHash, storageRoot: this.hasStorageByKey(key) ? NON_EMPTY_STORAGE : KECCAK256_RLP }
  }

  /** A slot's value by hashed keys (empty = zero). */
  getSlotByKey(key: string, slot: string): Uint8Array {
    const m = this.overlaySlots.get(key)
    const o = m?.get(slot)
    if (o !== undefined) return o
    if (this.wipedStored.has(key) || !this.slotCounts.has(key)) return EMPTY
    return this.storedSlot(key, slot).value
  }

  /** A slot as the tree holds it, with its tree key (cached until the next flush). */
  private storedSlot(key: string, slot: string): { value: Uint8Array; treeKey: Uint8Array } {
    let m = this.storedSlots.get(key)
    if (m === undefined) this.storedSlots.set(key, (m = new Map()))
    let e = m.get(slot)
    if (e === undefined) {
      const treeKey = this.slotTreeKey(key, slot)
      m.set(slot, (e = { value: this.tree.get(treeKey) ?? EMPTY, treeKey }))
    }
    return e
  }

  /** A slot's tree key, from the cache when the block read the slot. */
  private cachedSlotTreeKey(key: string, slot: string): Uint8Array {
    return this.storedSlots.get(key)?.get(slot)?.treeKey ?? this.slotTreeKey(key, slot)
  }

  /** True if the account has a non-zero slot (or, from a witness, a non-empty storage root not yet wiped). */
  hasStorageByKey(key: string): boolean {
    return this.slotCounts.has(key) || this.rootNonEmpty.has(key)
  }

  /** keccak(keccak(address) ‖ keccak(slot)): a slot's key in the tree. */
  slotTreeKey(key: string, slot: string): Uint8Array {
    writeHex(this.pairScratch, 0, key)
    writeHex(this.pairScratch, 32, slot)
    return keccak256(this.pairScratch)
  }

  /** The changes since the last call (in no particular order), and resets the tracking. */
  takeChanges(): StateChange[] {
    const out: StateChange[] = []
    for (const [key, slots] of this.wiped) out.push({ kind: 'wipe', accountKey: key, slots: [...slots] })
    for (const [key, address] of this.changedAccounts) out.push({ kind: 'account', key, address, account: this.getAccountByKey(key) ?? null })
    for (const [accountKey, slots] of this.changedSlots) {
      for (const [key, slot] of slots) out.push({ kind: 'storage', key, accountKey, slot, value: this.getSlotByKey(accountKey, key) })
    }
    for (const h of this.newCodes) out.push({ kind: 'code', codeHash: h, code: this.codes.get(h)! })
    this.changedAccounts = new Map()
    this.changedSlots = new Map()
    this.wiped = new Map()
    this.newCodes = new Set()
    return out
  }

  // Journaled writes, used by MegaStateManager and MegaBackend.
  journal: Undo[] = []

  /** Values before the block's first write (undefined = absent), for the block's net diff. */
  private blockAccounts = new Map<string, AccountFieldsRecord | undefined>()
  private blockSlots = new Map<string, Map<string, Uint8Array>>()
  private blockWipes = new Map<string, number>()

  /** The block's net state change (keys whose value differs from before the block); starts the next block. */
  takeBlockDiff(): StateDiff {
    const diff: StateDiff = { accounts: [], storage: [], wipes: [] }
    const fields = (a: AccountFieldsRecord | null | undefined) =>
      a === undefined || a === null ? null : { nonce: a.nonce, balance: a.balance, codeHash: bytesToHex(a.codeHash) }
    for (const [key, before] of this.blockAccounts) {
      const now = fields(this.accountFieldsByKey(key))
      const old = fields(before)
      const same = now === null || old === null ? now === old : now.nonce === old.nonce && now.balance === old.balance && now.codeHash === old.codeHash
      if (!same) diff.accounts.push({ hashedAddress: `0x${key}`, account: now })
    }
    for (const key of this.blockWipes.keys()) {
      diff.wipes.push(`0x${key}`)
      // After a wipe, the account's live slots are all in the overlay.
      for (const [slot, v] of this.overlaySlots.get(key) ?? []) {
        if (v.length > 0) diff.storage.push({ hashedAddress: `0x${key}`, hashedSlot: `0x${slot}`, value: bytesToHex(v) })
      }
    }
    for (const [key, slots] of this.blockSlots) {
      if (this.blockWipes.has(key)) continue
      for (const [slot, before] of slots) {
        const now = this.getSlotByKey(key, slot)
        if (!equalsBytes(now, before)) diff.storage.push({ hashedAddress: `0x${key}`, hashedSlot: `0x${slot}`, value: bytesToHex(now) })
      }
    }
    this.blockAccounts = new Map()
    this.blockSlots = new Map()
    this.blockWipes = new Map()
    return diff
  }

  putAccount(address: Uint8Array, account: AccountFieldsRecord | null): void {
    this.putAccountByKey(this.accountKey(address), account, address)
  }

  /** A journaled account write by hashed key (`address` when known, for the MPT mirror's messages). */
  putAccountByKey(key: string, account: AccountFieldsRecord | null, address?: Uint8Array): void {
    const before = this.accountFieldsByKey(key)
    if (!this.blockAccounts.has(key)) this.blockAccounts.set(key, before)
    const prev = this.overlayAccounts.get(key)
    this.journal.push({ t: 'account', key, prev, live: this.setAccount(key, account, before) })
    this.changedAccounts.set(key, address)
  }

  /** Writes an account into the overlay (no journal, no tracking); returns the change in live accounts. */
  private setAccount(key: string, account: AccountFieldsRecord | null, before: AccountFieldsRecord | undefined): number {
    const live = (account === null ? 0 : 1) - (before === undefined ? 0 : 1)
    this.overlayAccounts.set(key, account === null ? null : { nonce: account.nonce, balance: account.balance, codeHash: account.codeHash })
    this.liveAccounts += live
    return live
  }

  putSlot(address: Uint8Array, slot: Uint8Array, value: Uint8Array): void {
    this.putSlotByKey(this.accountKey(address), this.slotKey(slot), value, slot)
  }

  /** A journaled slot write by hashed keys (empty value = delete). */
  putSlotByKey(key: string, s: string, value: Uint8Array, slot?: Uint8Array): void {
    const before = this.getSlotByKey(key, s)
    let originals = this.blockSlots.get(key)
    if (originals === undefined) this.blockSlots.set(key, (originals = new Map()))
    if (!originals.has(s)) originals.set(s, before)
    const prev = this.overlaySlots.get(key)?.get(s)
    this.journal.push({ t: 'slot', key, slot: s, prev, live: this.setSlot(key, s, value, before) })
    let c = this.changedSlots.get(key)
    if (c === undefined) this.changedSlots.set(key, (c = new Map()))
    c.set(s, slot)
  }

  /** Writes a slot into the overlay (no journal, no tracking); returns the change in the account's live slots. */
  private setSlot(key: string, s: string, value: Uint8Array, before: Uint8Array): number {
    let m = this.overlaySlots.get(key)
    if (m === undefined) this.overlaySlots.set(key, (m = new Map()))
    m.set(s, value.length === 0 ? EMPTY : value)
    const live = (value.length > 0 ? 1 : 0) - (before.length > 0 ? 1 : 0)
    if (live !== 0) this.countSlots(key, live)
    return live
  }

  /** Drops an account's storage in the overlay (no journal, no tracking): stored slots read as gone until the flush. */
  private dropStorage(key: string): void {
    this.overlaySlots.set(key, new Map())
    this.slotCounts.delete(key)
    this.rootNonEmpty.delete(key)
    this.wipedStored.add(key)
  }

  private countSlots(key: string, delta: number): void {
    const n = (this.slotCounts.get(key) ?? 0) + delta
    if (n > 0) this.slotCounts.set(key, n)
    else this.slotCounts.delete(key)
  }

  wipe(address: Uint8Array): void {
    this.wipeByKey(this.accountKey(address))
  }

  /** A journaled storage wipe by hashed key. */
  wipeByKey(key: string): void {
    const prev = this.overlaySlots.get(key)
    const count = this.slotCounts.get(key) ?? 0
    const wasWiped = this.wipedStored.has(key)
    let slots = this.wiped.get(key)
    if (slots === undefined) this.wiped.set(key, (slots = new Set()))
    if (!wasWiped) {
      if (this.slotIndex !== undefined) for (const s of this.slotIndex.get(key) ?? []) slots.add(s)
      else {
        // Without a slot index, the stored slots cannot be listed: from Cancun on a wipe only meets slots the
        // overlay holds (EIP-6780). Any live slot outside the overlay is one this state could not remove.
        let inOverlay = 0
        for (const v of prev?.values() ?? []) if (v.length > 0) inOverlay++
        if (count > inOverlay) {
          throw new MegabenchError(`the mega state cannot wipe the storage of account 0x${key}: ${count - inOverlay} stored slot(s) and no slot index (a self-destruct of a pre-existing contract, before Cancun)`)
        }
      }
    }
    for (const s of prev?.keys() ?? []) slots.add(s)
    for (const s of this.changedSlots.get(key)?.keys() ?? []) slots.add(s)
    this.blockWipes.set(key, (this.blockWipes.get(key) ?? 0) + 1)
    this.journal.push({ t: 'wipe', key, prev, count, wasWiped, rootNonEmpty: this.rootNonEmpty.has(key) })
    this.dropStorage(key)
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
      return !sameAccount(this.blockAccounts.get(accountKey), this.accountFieldsByKey(accountKey))
    }
    if (this.blockWipes.has(accountKey)) return true
    const originals = this.blockSlots.get(accountKey)
    if (originals === undefined) return false
    const before = originals.get(slot)
    if (before === undefined) return false
    return !equalsBytes(before, this.getSlotByKey(accountKey, slot))
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
   * journal and no tracking, then flushed into the tree. Wipes first, then accounts, slots and codes.
   */
  applyReplicated(changes: readonly StateChange[]): void {
    for (const c of changes) if (c.kind === 'wipe') this.dropStorage(c.accountKey)
    for (const c of changes) {
      if (c.kind === 'account') this.setAccount(c.key, c.account, this.accountFieldsByKey(c.key))
      else if (c.kind === 'storage') this.setSlot(c.accountKey, c.key, c.value, this.getSlotByKey(c.accountKey, c.key))
      else if (c.kind === 'code') this.codes.set(c.codeHash, c.code)
    }
    this.flushToTree()
  }

  undoTo(mark: number): void {
    while (this.journal.length > mark) {
      const u = this.journal.pop()!
      if (u.t === 'account') {
        if (u.prev === undefined) this.overlayAccounts.delete(u.key)
        else this.overlayAccounts.set(u.key, u.prev)
        this.liveAccounts -= u.live
      } else if (u.t === 'slot') {
        let m = this.overlaySlots.get(u.key)
        if (u.prev === undefined) m?.delete(u.slot)
        else {
          if (m === undefined) this.overlaySlots.set(u.key, (m = new Map()))
          m.set(u.slot, u.prev)
        }
        if (u.live !== 0) this.countSlots(u.key, -u.live)
      } else {
        if (u.prev === undefined) this.overlaySlots.delete(u.key)
        else this.overlaySlots.set(u.key, u.prev)
        if (u.count > 0) this.slotCounts.set(u.key, u.count)
        else this.slotCounts.delete(u.key)
        if (u.rootNonEmpty) this.rootNonEmpty.add(u.key)
        if (!u.wasWiped) this.wipedStored.delete(u.key)
        const n = (this.blockWipes.get(u.key) ?? 1) - 1
        if (n > 0) this.blockWipes.set(u.key, n)
        else this.blockWipes.delete(u.key)
      }
      // Change marks stay: a reverted key is reported with its current (restored) value.
    }
  }

  addCode(code: Uint8Array): Uint8Array {
    const h = keccak256(code)
    const hex = hexOf(h)
    if (!this.codes.has(hex)) {
      this.codes.set(hex, code)
      this.newCodes.add(hex)
    }
    return h
  }

  /**
   * Moves the overlay into the tree (staged updates, applied before this returns) and drops the journal:
   * the end of a block. Wiped accounts lose their stored slots first (through the slot index), then every
   * written account and slot takes its value (deleted ones leave the tree). The root is the tree's `commit`.
   */
  flushToTree(): void {
    const tree = this.tree
    const index = this.slotIndex
    for (const key of this.wipedStored) {
      for (const s of index?.get(key) ?? []) tree.set(this.slotTreeKey(key, s), null)
      index?.delete(key)
    }
    // tree.set copies the key: one scratch array serves every account.
    const scratch = this.keyScratch
    for (const [key, a] of this.overlayAccounts) {
      scratch.write(key, 0, 'hex')
      tree.set(scratch, a === null ? null : encodeAccount(a))
    }
    for (const [key, m] of this.overlaySlots) {
      let set = index?.get(key)
      for (const [s, v] of m) {
        tree.set(this.cachedSlotTreeKey(key, s), v.length === 0 ? null : v)
        if (index === undefined) continue
        if (v.length > 0) {
          if (set === undefined) index.set(key, (set = new Set()))
          set.add(s)
        } else set?.delete(s)
      }
      if (set !== undefined && set.size === 0) index?.delete(key)
    }
    this.overlayAccounts = new Map()
    this.overlaySlots = new Map()
    this.wipedStored = new Set()
    this.storedAccounts = new Map()
    this.storedSlots = new Map()
    this.journal = []
    tree.flush()
  }
}

/** An account's tree value: RLP [nonce, balance] for an account without code, [nonce, balance, codeHash] with. */
export function encodeAccount(a: AccountFieldsRecord): Uint8Array {
  return encodeAccountParts(bigIntToUnpaddedBytes(a.nonce), bigIntToUnpaddedBytes(a.balance), equalsBytes(a.codeHash, KECCAK256_NULL) ? undefined : a.codeHash)
}

/**
 * RLP [nonce, balance] or [nonce, balance, codeHash] from unpadded big-endian bytes (a body over 55 bytes, a
 * 32-byte balance beside a code hash, takes the long list header).
 */
export function encodeAccountParts(nonce: Uint8Array, balance: Uint8Array, codeHash: Uint8Array | undefined): Uint8Array {
  const item = (b: Uint8Array) => (b.length === 1 && b[0]! < 0x80 ? 1 : 1 + b.length)
  const body = item(nonce) + item(balance) + (codeHash === undefined ? 0 : 33)
  const head = body <= 55 ? 1 : 2
  const out = new Uint8Array(head + body)
  if (head === 1) out[0] = 0xc0 + body
  else {
    out[0] = 0xf8
    out[1] = body
  }
  let o = head
  for (const b of codeHash === undefined ? [nonce, balance] : [nonce, balance, codeHash]) {
    if (b.length === 1 && b[0]! < 0x80) out[o++] = b[0]!
    else {
      out[o++] = 0x80 + b.length
      out.set(b, o)
      o += b.length
    }
  }
  return out
}

/**
 * The inverse of `encodeAccountParts`, without a general RLP decoder: the shape is fixed (two unsigned
 * integers, then an optional 32-byte hash), and an account is decoded on every first read of it in a
 * block (@ethereumjs/rlp's decode and bytesToBigInt were a third of the mega engine's account reads).
 * The code hash is copied: `v` may be a view of the tree's storage.
 */
export function decodeAccountValue(v: Uint8Array): AccountFieldsRecord {
  const h = v[0]!
  if (h < 0xc0 || h > 0xf8) throw new MegabenchError(`mega state: an account value is not an RLP list (first byte 0x${h.toString(16)})`)
  cursor = h === 0xf8 ? 2 : 1
  const nonce = readUint(v)
  const balance = readUint(v)
  const codeHash = cursor < v.length ? v.slice(cursor + 1, cursor + 33) : KECCAK256_NULL
  return { nonce, balance, codeHash }
}

let cursor = 0

/** The RLP unsigned integer at `cursor` in `v` (advancing it): short ones summed as numbers, longer through hex. */
function readUint(v: Uint8Array): bigint {
  const b = v[cursor]!
  if (b < 0x80) {
    cursor++
    return BigInt(b)
  }
  const len = b - 0x80
  const start = cursor + 1
  cursor = start + len
  if (len <= 6) {
    let n = 0
    for (let i = start; i < cursor; i++) n = n * 256 + v[i]!
    return BigInt(n)
  }
  return BigInt('0x' + hexRange(v, start, cursor))
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
    const a = this.state.getAccountByKey(this.state.accountKey(address.bytes))
    if (a === undefined) return undefined
    return new Account(a.nonce, a.balance, a.storageRoot, a.codeHash)
  }

  async putAccount(address: Address, account?: Account): Promise<void> {
    if (account === undefined) {
      this.state.putAccount(address.bytes, null)
      return
    }
    this.state.putAccount(address.bytes, { nonce: account.nonce, balance: account.balance, codeHash: account.codeHash })
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
    const a = this.state.accountFieldsByKey(this.state.accountKey(address.bytes))
    if (a === undefined || equalsBytes(a.codeHash, KECCAK256_NULL)) return new Uint8Array(0)
    const code = this.state.codes.get(hexOf(a.codeHash))
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
    return this.state.getSlotByKey(this.state.accountKey(address.bytes), this.state.slotKey(key))
  }

  async putStorage(address: Address, key: Uint8Array, value: Uint8Array): Promise<void> {
    if (this.state.accountFieldsByKey(this.state.accountKey(address.bytes)) === undefined) throw new Error('putStorage() called on non-existing account')
    // Only emptiness of storage is observable to the EVM (EIP-7610): the state counts live slots.
    this.state.putSlot(address.bytes, key, unpadBytes(value))
  }

  async clearStorage(address: Address): Promise<void> {
    this.state.wipe(address.bytes)
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

function sameAccount(a: AccountFieldsRecord | undefined, b: AccountFieldsRecord | undefined): boolean {
  if (a === undefined || b === undefined) return a === b
  return a.nonce === b.nonce && a.balance === b.balance && equalsBytes(a.codeHash, b.codeHash)
}
