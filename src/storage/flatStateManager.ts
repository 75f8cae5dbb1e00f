import type { AccountFields, Common, StateManagerInterface } from '@ethereumjs/common'
import { MerklePatriciaTrie } from '@ethereumjs/mpt'
import { RLP } from '@ethereumjs/rlp'
import { OriginalStorageCache } from '@ethereumjs/statemanager'
import {
  Account,
  type Address,
  KECCAK256_NULL,
  KECCAK256_RLP,
  ValueEncoding,
  bytesToBigInt,
  bytesToHex,
  concatBytes,
  createAccountFromRLP,
  equalsBytes,
  hexToBytes,
  unpadBytes,
} from '@ethereumjs/util'

import type { StateDiff } from '../chain/stateDiff.js'
import { Phase, type PhaseClock } from '../probes/phases.js'
import { hexOf } from '../util/hex.js'
import { keccak256 } from '../util/keccak.js'
import { CacheKind, type StateStore, type StoreMeta, type TableName, type WriteOp } from './stateStore.js'
import { type AccountUpdate, applyAccountUpdates } from './merkleize.js'
import { TrieDb } from './trieDb.js'
import { MissingNodeSignal, UnprovenAccounts, describeAccount, describeSlot, unlessUnproven, whileReading } from '../trie/nodeStore.js'
import { trieGetSync } from './trieGet.js'

/** An RLP integer: big-endian without leading zeros (0 = empty). */
function bigBytes(v: bigint): Uint8Array {
  if (v === 0n) return new Uint8Array(0)
  const h = v.toString(16)
  return hexToBytes(`0x${h.length % 2 === 1 ? '0' : ''}${h}`)
}

/** Marks "not in the overlay before the block": the block's original value is the persisted one. */
const PERSISTED = Symbol('persisted')

/** Nonce, balance and code hash of an account RLP (null = absent): what a state diff carries. */
function accountFields(rlp: Uint8Array | null): StateDiff['accounts'][number]['account'] {
  if (rlp === null) return null
  const f = RLP.decode(rlp) as Uint8Array[]
  return { nonce: bytesToBigInt(f[0]!), balance: bytesToBigInt(f[1]!), codeHash: bytesToHex(f[3]!) }
}

function sameFields(a: StateDiff['accounts'][number]['account'], b: StateDiff['accounts'][number]['account']): boolean {
  if (a === null || b === null) return a === b
  return a.nonce === b.nonce && a.balance === b.balance && a.codeHash === b.codeHash
}

/** An account as the overlay holds it: RLP (immutable snapshot), or null once deleted. */
type AccountEntry = { address: Uint8Array; rlp: Uint8Array | null }

type Undo =
  | { t: 'account'; hex: string; prev: AccountEntry | undefined }
  | { t: 'slot'; hex: string; slot: string; prev: Uint8Array | undefined }
  | { t: 'wipe'; hex: string; prevWiped: boolean; prevSlots: Map<string, Uint8Array> | undefined }

/** Merkleization counters of one state root computation (or their sums). */
export type MerkleStats = {
  roots: number
  updatedAccounts: number
  updatedSlots: number
  /** Trie node reads (from pending nodes, level 1, level 2 or LMDB) and node writes (each one hashed). */
  nodeReads: number
  nodeWrites: number
  /** Of those reads, the ones that reached LMDB (level-2 misses). */
  lmdbReads: number
}

export function emptyMerkleStats(): MerkleStats {
  return { roots: 0, updatedAccounts: 0, updatedSlots: 0, nodeReads: 0, nodeWrites: 0, lmdbReads: 0 }
}

/** What one persistence wrote. */
export type PersistStats = {
  /** The LMDB write transaction: its puts, then its commit. */
  ms: number
  /** Of `ms`, the commit: LMDB writing the dirty pages out and syncing them (two fsyncs: data, then meta page). */
  syncMs: number
  bytes: Record<TableName, number>
  nodesWritten: number
  garbageNodes: number
}

/**
 * A state manager for @ethereumjs/vm over the flat state of a StateStore, as a client with flat
 * state executes: reads of accounts, slots and code are single lookups in the flat tables (through
 * the caches), never trie walks. Writes go into an overlay with a journal for checkpoints; the
 * overlay accumulates across blocks until `persist()`.
 *
 * `getStateRoot()` is merkleization: the keys changed since the last root are applied to the account
 * trie and storage tries (@ethereumjs/mpt over the trie tables, reading nodes through the caches;
 * new nodes stay in memory); `persist()` then writes, in one LMDB transaction, the flat state changes,
 * the new trie nodes that are reachable from the new root, and the head. Historical sync computes the
 * root once per batch; live sync after every block.
 *
 * When the DB holds only a witness (partial flat state), a flat miss is confirmed by a trie lookup,
 * so that an absent account is proven absent and a missing witness node is an error.
 */
export class FlatStateManager implements StateManagerInterface {
  readonly originalStorageCache: OriginalStorageCache
  /** Changes not yet persisted. */
  private accounts = new Map<string, AccountEntry>()
  private storage = new Map<string, Map<string, Uint8Array>>()
  private wiped = new Set<string>()
  private codes = new Map<string, Uint8Array>()
  /** Changes not yet merkleized (addresses; slots per address). */
  private dirty = new Set<string>()
  private dirtySlots = new Map<string, Set<string>>()
  /** Wipes since the last root that are still in effect (not reverted), per address. */
  private dirtyWipes = new Map<string, number>()
  private journal: Undo[] = []
  private marks: number[] = []
  /** Journal length when the last root was computed: reverting below it is not supported. */
  private rootMark = 0
  private root: Uint8Array
  private readonly accountTrieDb: TrieDb
  private readonly storageTrieDb: TrieDb
  readonly merkle = emptyMerkleStats()

  constructor(
    readonly common: Common,
    readonly store: StateStore,
    stateRoot: Uint8Array,
    private readonly complete: boolean,
    private readonly clock?: PhaseClock,
  ) {
    this.root = stateRoot
    this.persistedRoot = stateRoot
    this.originalStorageCache = new OriginalStorageCache(this.getStorage.bind(this))
    this.accountTrieDb = new TrieDb(store, 'account_trie')
    this.storageTrieDb = new TrieDb(store, 'storage_trie')
  }

  /** The state root as of the last `getStateRoot()` (or the one the state started from). */
  get currentRoot(): Uint8Array {
    return this.root
  }

  /** Accounts read as absent because the witness holds no path to them (taken per block by the engine). */
  readonly unproven = new UnprovenAccounts()

  /** True if there are changes not yet merkleized. */
  get hasUnmerkleizedChanges(): boolean {
    return this.dirty.size > 0
  }

  // ── reads ──────────────────────────────────────────────────────────────────────────────────────

  async getAccount(address: Address): Promise<Account | undefined> {
    const rlp = await this.accountRlp(address.bytes)
    return rlp === null ? undefined : createAccountFromRLP(rlp)
  }

  /** The account's RLP as execution sees it: the overlay, else the persisted state. */
  private async accountRlp(address: Uint8Array): Promise<Uint8Array | null> {
    const e = this.accounts.get(hexOf(address))
    return e !== undefined ? e.rlp : this.persistedAccountRlp(address)
  }

  /** The account's RLP as last persisted (flat table; for a witness DB, a flat miss is proven with the trie). */
  private async persistedAccountRlp(address: Uint8Array): Promise<Uint8Array | null> {
    const v = this.store.read(CacheKind.account, `a${hexOf(address)}`, 'accounts', () => keccak256(address))
    if (v !== null || this.complete) return v
    return this.proveAccount(address)
  }

  async getStorage(address: Address, key: Uint8Array): Promise<Uint8Array> {
    if (key.length !== 32) throw new Error('Storage key must be 32 bytes long')
    return this.storageValue(address.bytes, key)
  }

  private async storageValue(address: Uint8Array, key: Uint8Array): Promise<Uint8Array> {
    return this.knownStorageValue(address, key) ?? this.proveSlot(address, key)
  }

  /** A slot's value from the overlay or flat state; undefined when a witness DB must prove it with the trie. */
  private knownStorageValue(address: Uint8Array, key: Uint8Array): Uint8Array | undefined {
    const hex = hexOf(address)
    const slot = hexOf(key)
    const v = this.storage.get(hex)?.get(slot)
    if (v !== undefined) return v
    if (this.wiped.has(hex)) return new Uint8Array(0)
    const e = this.accounts.get(hex)
    if (e !== undefined && e.rlp === null) return new Uint8Array(0)
    const flat = this.store.read(CacheKind.storage, `s${hex}${slot}`, 'storage', () => concatBytes(keccak256(address), keccak256(key)))
    if (flat !== null) return flat
    if (this.complete) return new Uint8Array(0)
    return undefined
  }

  async getCode(address: Address): Promise<Uint8Array> {
    const rlp = await this.accountRlp(address.bytes)
    if (rlp === null) return new Uint8Array(0)
    const codeHash = (RLP.decode(rlp) as Uint8Array[])[3]!
    if (equalsBytes(codeHash, KECCAK256_NULL)) return new Uint8Array(0)
    const hashHex = hexOf(codeHash)
    const pending = this.codes.get(hashHex)
    if (pending !== undefined) return pending
    const code = this.store.read(CacheKind.code, `c${hashHex}`, 'bytecodes', () => codeHash)
    if (code === null) throw new Error(`code ${bytesToHex(codeHash)} of ${address.toString()} is missing from the state DB`)
    return code
  }

  async getCodeSize(address: Address): Promise<number> {
    return (await this.getCode(address)).length
  }

  // ── writes ─────────────────────────────────────────────────────────────────────────────────────

  async putAccount(address: Address, account?: Account): Promise<void> {
    this.setAccount(address.bytes, account === undefined ? null : account.serialize())
  }

  async deleteAccount(address: Address): Promise<void> {
    this.setAccount(address.bytes, null)
    this.wipe(hexOf(address.bytes))
  }

  async modifyAccountFields(address: Address, fields: AccountFields): Promise<void> {
    const account = (await this.getAccount(address)) ?? new Account()
    if (fields.nonce !== undefined) account.nonce = fields.nonce
    if (fields.balance !== undefined) account.balance = fields.balance
    if (fields.codeHash !== undefined) account.codeHash = fields.codeHash
    if (fields.storageRoot !== undefined) account.storageRoot = fields.storageRoot
    await this.putAccount(address, account)
  }

  async putCode(address: Address, value: Uint8Array): Promise<void> {
    const codeHash = keccak256(value)
    this.codes.set(hexOf(codeHash), value)
    await this.modifyAccountFields(address, { codeHash })
  }

  async putStorage(address: Address, key: Uint8Array, value: Uint8Array): Promise<void> {
    if (key.length !== 32) throw new Error('Storage key must be 32 bytes long')
    if (value.length > 32) throw new Error('Storage value cannot be longer than 32 bytes')
    if ((await this.accountRlp(address.bytes)) === null) throw new Error('putStorage() called on non-existing account')
    const hex = hexOf(address.bytes)
    const slot = hexOf(key)
    let slots = this.storage.get(hex)
    if (slots === undefined) this.storage.set(hex, (slots = new Map()))
    let originals = this.blockSlots.get(hex)
    if (originals === undefined) this.blockSlots.set(hex, (originals = new Map()))
    if (!originals.has(slot)) originals.set(slot, slots.get(slot) ?? (this.wiped.has(hex) ? new Uint8Array(0) : PERSISTED))
    this.journal.push({ t: 'slot', hex, slot, prev: slots.get(slot) })
    slots.set(slot, unpadBytes(value))
    this.markSlot(hex, slot)
  }

  async clearStorage(address: Address): Promise<void> {
    this.wipe(hexOf(address.bytes))
    const account = await this.getAccount(address)
    if (account !== undefined) {
      account.storageRoot = KECCAK256_RLP
      await this.putAccount(address, account)
    }
  }

  private setAccount(address: Uint8Array, rlp: Uint8Array | null): void {
    const hex = hexOf(address)
    // Before the block's first write: the overlay's value, or (absent) the persisted one.
    if (!this.blockAccounts.has(hex)) this.blockAccounts.set(hex, this.accounts.get(hex)?.rlp ?? PERSISTED)
    this.journal.push({ t: 'account', hex, prev: this.accounts.get(hex) })
    this.accounts.set(hex, { address, rlp })
    this.dirty.add(hex)
  }

  private wipe(hex: string): void {
    this.blockWipes.set(hex, (this.blockWipes.get(hex) ?? 0) + 1)
    this.journal.push({ t: 'wipe', hex, prevWiped: this.wiped.has(hex), prevSlots: this.storage.get(hex) })
    this.storage.delete(hex)
    this.wiped.add(hex)
    this.dirtyWipes.set(hex, (this.dirtyWipes.get(hex) ?? 0) + 1)
    this.dirty.add(hex)
  }

  private markSlot(hex: string, slot: string): void {
    let s = this.dirtySlots.get(hex)
    if (s === undefined) this.dirtySlots.set(hex, (s = new Set()))
    s.add(slot)
    this.dirty.add(hex)
  }

  // ── per-block net diff ─────────────────────────────────────────────────────────────────────────

  /** Values before the block's first write (PERSISTED = not in the overlay then: the persisted value). */
  private blockAccounts = new Map<string, Uint8Array | null | typeof PERSISTED>()
  private blockSlots = new Map<string, Map<string, Uint8Array | typeof PERSISTED>>()
  private blockWipes = new Map<string, number>()

  /**
   * The block's net state change (what changed since the previous call), then starts the next block.
   * Only keys whose value differs from before the block are in it.
   */
  async takeBlockDiff(): Promise<StateDiff> {
    // Verification work: its reads bypass the caches and counters (same numbers with or without --engine both).
    this.store.uncounted = true
    try {
      return await this.blockDiff()
    } finally {
      this.store.uncounted = false
    }
  }

  private async blockDiff(): Promise<StateDiff> {
    const diff: StateDiff = { accounts: [], storage: [], wipes: [] }
    const hashed = (hex: string) => bytesToHex(keccak256(hexToBytes(`0x${hex}`)))
    for (const [hex, before] of this.blockAccounts) {
      const address = hexToBytes(`0x${hex}`)
      const now = await this.accountRlp(address)
      const old = before === PERSISTED ? await this.persistedAccountRlp(address) : before
      const a = accountFields(now)
      if (!sameFields(a, accountFields(old))) diff.accounts.push({ hashedAddress: hashed(hex), account: a })
    }
    for (const hex of this.blockWipes.keys()) {
      diff.wipes.push(hashed(hex))
      for (const [slot, v] of this.storage.get(hex) ?? []) {
        if (v.length > 0) diff.storage.push({ hashedAddress: hashed(hex), hashedSlot: hashed(slot), value: bytesToHex(v) })
      }
    }
    for (const [hex, slots] of this.blockSlots) {
      if (this.blockWipes.has(hex)) continue
      const address = hexToBytes(`0x${hex}`)
      for (const [slot, before] of slots) {
        const key = hexToBytes(`0x${slot}`)
        const now = await this.storageValue(address, key)
        const old = before === PERSISTED ? await this.persistedSlot(address, key) : before
        if (!equalsBytes(now, old)) diff.storage.push({ hashedAddress: hashed(hex), hashedSlot: hashed(slot), value: bytesToHex(now) })
      }
    }
    this.blockAccounts = new Map()
    this.blockSlots = new Map()
    this.blockWipes = new Map()
    return diff
  }

  /** Starts the next block without computing the diff (when no diff is wanted: keeps tracking bounded). */
  resetBlockDiff(): void {
    this.blockAccounts = new Map()
    this.blockSlots = new Map()
    this.blockWipes = new Map()
  }

  /** A slot's value as last persisted. */
  private async persistedSlot(address: Uint8Array, key: Uint8Array): Promise<Uint8Array> {
    const hex = hexOf(address)
    const flat = this.store.read(CacheKind.storage, `s${hex}${hexOf(key)}`, 'storage', () => concatBytes(keccak256(address), keccak256(key)))
    if (flat !== null) return flat
    return this.complete ? new Uint8Array(0) : this.proveSlot(address, key)
  }

  // ── checkpoints ────────────────────────────────────────────────────────────────────────────────

  async checkpoint(): Promise<void> {
    this.marks.push(this.journal.length)
  }

  async commit(): Promise<void> {
    this.marks.pop()
    if (this.marks.length === 0) {
      this.journal = []
      this.rootMark = 0
    }
  }

  async revert(): Promise<void> {
    const mark = this.marks.pop() ?? 0
    if (mark < this.rootMark) throw new Error('reverting state that a state root was already computed from is not supported')
    while (this.journal.length > mark) {
      const u = this.journal.pop()!
      if (u.t === 'account') {
        if (u.prev === undefined) this.accounts.delete(u.hex)
        else this.accounts.set(u.hex, u.prev)
      } else if (u.t === 'slot') {
        const slots = this.storage.get(u.hex)
        if (u.prev === undefined) slots?.delete(u.slot)
        else slots?.set(u.slot, u.prev)
      } else {
        if (!u.prevWiped) this.wiped.delete(u.hex)
        if (u.prevSlots === undefined) this.storage.delete(u.hex)
        else this.storage.set(u.hex, u.prevSlots)
        const n = (this.dirtyWipes.get(u.hex) ?? 1) - 1
        if (n > 0) this.dirtyWipes.set(u.hex, n)
        else this.dirtyWipes.delete(u.hex)
        const b = (this.blockWipes.get(u.hex) ?? 1) - 1
        if (b > 0) this.blockWipes.set(u.hex, b)
        else this.blockWipes.delete(u.hex)
      }
      // Other dirty marks stay: merkleization reads current values, so an undone change rewrites
      // what was there before (same root).
    }
    if (this.marks.length === 0) {
      this.journal = []
      this.rootMark = 0
    }
  }

  // ── merkleization and persistence ──────────────────────────────────────────────────────────────

  /**
   * Merkleization: applies the changes since the last root to the tries and returns the new root.
   * Every changed account's leaf is rebuilt from its current value, with the storage root this
   * manager computed (never one an EVM-held Account object carried), and the flat overlay is updated
   * to the same leaf, so that flat state and trie agree when persisted.
   */
  async getStateRoot(): Promise<Uint8Array> {
    if (this.dirty.size === 0) return this.root
    this.clock?.enter(Phase.merkleization)
    this.store.context = 'merkleization'
    const readsBefore = this.accountTrieDb.counters.reads + this.storageTrieDb.counters.reads
    const writesBefore = this.accountTrieDb.counters.writes + this.storageTrieDb.counters.writes
    const lmdbBefore = this.store.lmdbReads.account_trie + this.store.lmdbReads.storage_trie
    try {
      const updates: (AccountUpdate & { hex: string; address: Uint8Array })[] = []
      for (const hex of this.dirty) {
        const address = hexToBytes(`0x${hex}`)
        const wiped = this.dirtyWipes.has(hex)
        // Slots changed since the last root; after a wipe, every slot written since the wipe.
        const changed = wiped ? [...(this.storage.get(hex)?.keys() ?? [])] : [...(this.dirtySlots.get(hex) ?? [])]
        const slots = []
        for (const s of changed) {
          const key = hexToBytes(`0x${s}`)
          slots.push({ hashedSlot: keccak256(key), slot: key, value: await this.storageValue(address, key) })
        }
        this.merkle.updatedSlots += slots.length
        updates.push({
          hex,
          address,
          hashedAddress: keccak256(address),
          account: await this.accountRlp(address),
          baseStorageRoot: wiped ? KECCAK256_RLP : await this.storageRootOf(hex, address),
          slots,
        })
      }
      const result = await applyAccountUpdates(this.trie(this.accountTrieDb, this.root), (root) => this.trie(this.storageTrieDb, root), updates, { accounts: this.unproven, check: 'read' })
      for (const u of updates) {
        this.roots.set(u.hex, result.storageRoots.get(u)!)
        const leaf = result.leaves.get(u)!
        // The leaf's storage root is derived state, not an execution change: no journal entry.
        if (leaf !== null) this.accounts.set(u.hex, { address: u.address, rlp: leaf })
      }
      this.merkle.updatedAccounts += updates.length
      this.root = result.root
      this.merkle.roots++
      this.dirty.clear()
      this.dirtySlots.clear()
      this.dirtyWipes.clear()
      this.rootMark = this.journal.length
      return this.root
    } finally {
      this.merkle.nodeReads += this.accountTrieDb.counters.reads + this.storageTrieDb.counters.reads - readsBefore
      this.merkle.nodeWrites += this.accountTrieDb.counters.writes + this.storageTrieDb.counters.writes - writesBefore
      this.merkle.lmdbReads += this.store.lmdbReads.account_trie + this.store.lmdbReads.storage_trie - lmdbBefore
      this.store.context = 'execution'
      this.clock?.exit()
    }
  }

  /** Storage roots computed by merkleization and not yet persisted. */
  private readonly roots = new Map<string, Uint8Array>()

  /** The account's current storage root: the last one merkleization computed, else the persisted one. */
  private async storageRootOf(hex: string, address: Uint8Array): Promise<Uint8Array> {
    const known = this.roots.get(hex)
    if (known !== undefined) return known
    const rlp = await this.persistedAccountRlp(address)
    return rlp === null ? KECCAK256_RLP : (RLP.decode(rlp) as Uint8Array[])[2]!
  }

  /**
   * Persistence: writes everything not yet persisted in one LMDB transaction, with `head` as the new
   * head. Computes the state root first if needed. Only trie nodes reachable from the new roots are
   * written (nodes superseded within the batch are garbage and dropped).
   */
  async persist(head: { number: number; hash: string }, meta: Omit<StoreMeta, 'head'>): Promise<PersistStats> {
    const root = await this.getStateRoot()
    this.clock?.enter(Phase.persistence)
    try {
      const ops: WriteOp[] = []
      const cache: Parameters<StateStore['write']>[2] & object = []
      const bytes = { accounts: 0, storage: 0, bytecodes: 0, account_trie: 0, storage_trie: 0 } as Record<TableName, number>
      const add = (table: TableName, kind: CacheKind, l1Key: string | null, key: Uint8Array, value: Uint8Array | null) => {
        ops.push({ table, key, value })
        ;(cache as { kind: CacheKind; l1Key: string | null; table: TableName; key: Uint8Array; value: Uint8Array | null }[]).push({ kind, l1Key, table, key, value })
        bytes[table] += key.length + (value?.length ?? 0)
      }
      for (const hex of this.wiped) ops.push({ table: 'storage', prefix: keccak256(hexToBytes(`0x${hex}`)), l1Prefix: `s${hex}` })
      for (const [hex, e] of this.accounts) add('accounts', CacheKind.account, `a${hex}`, keccak256(e.address), e.rlp)
      for (const [hex, slots] of this.storage) {
        const hashedAddress = keccak256(hexToBytes(`0x${hex}`))
        for (const [slot, v] of slots) {
          add('storage', CacheKind.storage, `s${hex}${slot}`, concatBytes(hashedAddress, keccak256(hexToBytes(`0x${slot}`))), v.length === 0 ? null : v)
        }
      }
      for (const [hashHex, code] of this.codes) add('bytecodes', CacheKind.code, `c${hashHex}`, hexToBytes(`0x${hashHex}`), code)
      const { accountNodes, storageNodes } = this.reachablePendingNodes(root)
      for (const [h, n] of accountNodes) add('account_trie', CacheKind.trieNode, `t${h}`, hexToBytes(`0x${h}`), n)
      for (const [h, n] of storageNodes) add('storage_trie', CacheKind.trieNode, `u${h}`, hexToBytes(`0x${h}`), n)
      const pendingTotal = this.accountTrieDb.pending.size + this.storageTrieDb.pending.size
      const t0 = this.store.writes.commitMs
      const s0 = this.store.writes.syncMs
      this.store.write(ops, { ...meta, head: { ...head, stateRoot: bytesToHex(root) } }, cache)
      this.persistedRoot = root
      this.accounts.clear()
      this.roots.clear()
      this.storage.clear()
      this.wiped.clear()
      this.codes.clear()
      this.accountTrieDb.pending.clear()
      this.storageTrieDb.pending.clear()
      return {
        ms: this.store.writes.commitMs - t0,
        syncMs: this.store.writes.syncMs - s0,
        bytes,
        nodesWritten: accountNodes.size + storageNodes.size,
        garbageNodes: pendingTotal - accountNodes.size - storageNodes.size,
      }
    } finally {
      this.clock?.exit()
    }
  }

  /** Pending nodes reachable from `root` (account trie) and from the storage roots of its leaves. */
  private reachablePendingNodes(root: Uint8Array) {
    const accountNodes = new Map<string, Uint8Array>()
    const storageNodes = new Map<string, Uint8Array>()
    const storageRoots: Uint8Array[] = []
    walkPending(this.accountTrieDb.pending, hexOf(root), accountNodes, (leaf) => {
      const fields = RLP.decode(leaf) as Uint8Array[]
      if (fields[2] !== undefined) storageRoots.push(fields[2])
    })
    for (const r of storageRoots) walkPending(this.storageTrieDb.pending, hexOf(r), storageNodes, () => {})
    return { accountNodes, storageNodes }
  }

  private trie(db: TrieDb, root: Uint8Array): MerklePatriciaTrie {
    return new MerklePatriciaTrie({ db, root, useKeyHashing: false, common: this.common, valueEncoding: ValueEncoding.Bytes })
  }

  // ── partial (witness) state: flat misses are proven with the trie ──────────────────────────────

  /**
   * The root as last persisted: what flat misses are proven against. A root computed since (live
   * sync before persisting, pre-Byzantium per-transaction roots) already holds this block's changes,
   * and would give a changed account's new value as its "persisted" one.
   */
  private persistedRoot: Uint8Array

  /*
   * A proof walks the trie with `throwIfMissing`, so that a node the witness lacks is an error rather
   * than an absent key. An empty trie (root keccak(RLP(""))) has no node to walk: its keys are absent
   * without any lookup. @ethereumjs/mpt's `get(key, true)` on the empty root would report "Missing
   * node in DB" (the DB rightly holds no node under that hash): a contract with no storage yet, read
   * (SLOAD) or diffed (the EIP-4788 contract at the first Cancun block) on a witness DB.
   */

  private async proveAccount(address: Uint8Array): Promise<Uint8Array | null> {
    const hashedAddress = keccak256(address)
    const v = equalsBytes(this.persistedRoot, KECCAK256_RLP)
      ? null
      : await unlessUnproven(
          this.unproven,
          () => `reading ${describeAccount(address, hashedAddress)}`,
          null,
          () => this.trie(this.accountTrieDb, this.persistedRoot).get(hashedAddress, true),
          hashedAddress,
        )
    this.store.l1.set(`a${hexOf(address)}`, v)
    return v
  }

  private async proveSlot(address: Uint8Array, key: Uint8Array): Promise<Uint8Array> {
    const rlp = await this.persistedAccountRlp(address)
    if (rlp === null) return new Uint8Array(0)
    const storageRoot = (RLP.decode(rlp) as Uint8Array[])[2]!
    let value: Uint8Array = new Uint8Array(0)
    if (!equalsBytes(storageRoot, KECCAK256_RLP)) {
      const hashedSlot = keccak256(key)
      const v = await whileReading(
        () => `reading ${describeSlot(key, hashedSlot, describeAccount(address, keccak256(address)))}`,
        () => this.trie(this.storageTrieDb, storageRoot).get(hashedSlot, true),
      )
      if (v !== null) value = RLP.decode(v) as Uint8Array
    }
    this.store.l1.set(`s${hexOf(address)}${hexOf(key)}`, value)
    return value
  }

  // ── the fast EVM's synchronous access (src/engines/baseline/fastBackend.ts) ─────────────────────
  //
  // The same reads as the async interface (overlay, else flat state through the caches, a witness DB's
  // flat misses proven with the trie: synchronously, trieGetSync) and the same writes (overlay,
  // journal-free: the fast EVM journals itself and hands over only a block's final values), so that the
  // counters, the block diff, merkleization and persistence are the ones @ethereumjs's execution gets.

  /** The account's RLP as execution sees it (null = absent), synchronously. */
  accountRlpSync(address: Uint8Array): Uint8Array | null {
    const e = this.accounts.get(hexOf(address))
    return e !== undefined ? e.rlp : this.persistedAccountRlpSync(address)
  }

  private persistedAccountRlpSync(address: Uint8Array): Uint8Array | null {
    const v = this.store.read(CacheKind.account, `a${hexOf(address)}`, 'accounts', () => keccak256(address))
    if (v !== null || this.complete) return v
    const hashedAddress = keccak256(address)
    let proven: Uint8Array | null = null
    if (!equalsBytes(this.persistedRoot, KECCAK256_RLP)) {
      try {
        proven = trieGetSync((h) => this.accountTrieDb.getSync(h), this.persistedRoot, hashedAddress)
      } catch (err) {
        if (!(err instanceof MissingNodeSignal)) throw err
        err.reading ??= `reading ${describeAccount(address, hashedAddress)}`
        this.unproven.add(err, hashedAddress)
        return null
      }
    }
    this.store.l1.set(`a${hexOf(address)}`, proven)
    return proven
  }

  /** A slot's value as execution sees it (unpadded bytes; empty = zero), synchronously. `key`: 32 bytes. */
  storageValueSync(address: Uint8Array, key: Uint8Array): Uint8Array {
    return this.knownStorageValue(address, key) ?? this.proveSlotSync(address, key)
  }

  private proveSlotSync(address: Uint8Array, key: Uint8Array): Uint8Array {
    const rlp = this.persistedAccountRlpSync(address)
    let value: Uint8Array = new Uint8Array(0)
    const storageRoot = rlp === null ? KECCAK256_RLP : (RLP.decode(rlp) as Uint8Array[])[2]!
    if (!equalsBytes(storageRoot, KECCAK256_RLP)) {
      const hashedSlot = keccak256(key)
      try {
        const found = trieGetSync((h) => this.storageTrieDb.getSync(h), storageRoot, hashedSlot)
        if (found !== null) value = RLP.decode(found) as Uint8Array
      } catch (err) {
        if (err instanceof MissingNodeSignal) err.reading ??= `reading ${describeSlot(key, hashedSlot, describeAccount(address, keccak256(address)))}`
        throw err
      }
    }
    this.store.l1.set(`s${hexOf(address)}${hexOf(key)}`, value)
    return value
  }

  /** Code by hash (new code of the batch first), synchronously. */
  codeSync(codeHash: Uint8Array): Uint8Array {
    if (equalsBytes(codeHash, KECCAK256_NULL)) return new Uint8Array(0)
    const hashHex = hexOf(codeHash)
    const pending = this.codes.get(hashHex)
    if (pending !== undefined) return pending
    const code = this.store.read(CacheKind.code, `c${hashHex}`, 'bytecodes', () => codeHash)
    if (code === null) throw new Error(`code ${bytesToHex(codeHash)} is missing from the state DB`)
    return code
  }

  /** Whether the account may hold storage (EIP-7610): a non-zero slot written, else a non-empty storage root. */
  hasStorageSync(address: Uint8Array): boolean {
    const hex = hexOf(address)
    for (const v of this.storage.get(hex)?.values() ?? []) if (v.length > 0) return true
    if (this.wiped.has(hex)) return false
    const known = this.roots.get(hex)
    if (known !== undefined) return !equalsBytes(known, KECCAK256_RLP)
    const rlp = this.accountRlpSync(address)
    return rlp !== null && !equalsBytes((RLP.decode(rlp) as Uint8Array[])[2]!, KECCAK256_RLP)
  }

  /**
   * A block's final values from the fast EVM, into the overlay (as the async writes would put them):
   * wipes first, then code, slots and accounts. An account's storage root in the overlay is a placeholder:
   * merkleization rebuilds every changed leaf with the root it computes.
   */
  applyChangesSync(c: { accounts: Map<string, { nonce: bigint; balance: bigint; codeHash: Uint8Array } | null>; wiped: Set<string>; storage: Map<string, Map<string, bigint>>; codes: Map<string, Uint8Array> }): void {
    for (const hex of c.wiped) this.wipe(hex)
    for (const [h, code] of c.codes) this.codes.set(h, code)
    for (const [hex, slots] of c.storage) {
      let overlay = this.storage.get(hex)
      if (overlay === undefined) this.storage.set(hex, (overlay = new Map()))
      let originals = this.blockSlots.get(hex)
      if (originals === undefined) this.blockSlots.set(hex, (originals = new Map()))
      for (const [k, v] of slots) {
        const slot = k.padStart(64, '0')
        if (!originals.has(slot)) originals.set(slot, overlay.get(slot) ?? (this.wiped.has(hex) ? new Uint8Array(0) : PERSISTED))
        overlay.set(slot, bigBytes(v))
        this.markSlot(hex, slot)
      }
    }
    for (const [hex, rec] of c.accounts) {
      const address = hexToBytes(`0x${hex}`)
      if (rec === null) {
        if (this.accountRlpSync(address) === null) continue
        this.setAccount(address, null)
        this.wipe(hex)
        continue
      }
      // As an EVM-held Account would carry it: the last known storage root (stale until merkleization).
      const prev = this.wiped.has(hex) ? null : this.accountRlpSync(address)
      const storageRoot = this.wiped.has(hex) ? KECCAK256_RLP : (this.roots.get(hex) ?? (prev === null ? KECCAK256_RLP : (RLP.decode(prev) as Uint8Array[])[2]!))
      this.setAccount(address, RLP.encode([bigBytes(rec.nonce), bigBytes(rec.balance), storageRoot, rec.codeHash]))
    }
    // No checkpoint is open: nothing here can be reverted.
    this.journal = []
  }

  // ── the rest of the interface ──────────────────────────────────────────────────────────────────

  async setStateRoot(stateRoot: Uint8Array): Promise<void> {
    if (!equalsBytes(stateRoot, this.root)) throw new Error('FlatStateManager cannot switch to another state root')
  }

  async hasStateRoot(root: Uint8Array): Promise<boolean> {
    return equalsBytes(root, this.root)
  }

  clearCaches(): void {}

  shallowCopy(): StateManagerInterface {
    throw new Error('FlatStateManager cannot be copied')
  }
}


/**
 * Collects the pending nodes reachable from `rootHex`: a node referenced by hash is followed only if
 * it is pending (a node not pending is already persisted, and so is everything below it).
 * `onLeafValue` receives the value of every leaf reached (for the account trie: account RLPs).
 */
function walkPending(
  pending: ReadonlyMap<string, Uint8Array>,
  rootHex: string,
  out: Map<string, Uint8Array>,
  onLeafValue: (value: Uint8Array) => void,
): void {
  const stack = [rootHex]
  while (stack.length > 0) {
    const h = stack.pop()!
    if (out.has(h)) continue
    const node = pending.get(h)
    if (node === undefined) continue
    out.set(h, node)
    visitNode(RLP.decode(node) as NodeItem[], (ref) => stack.push(hexOf(ref)), onLeafValue)
  }
}

type NodeItem = Uint8Array | NodeItem[]

/** Calls `onRef` for every child referenced by hash and `onLeafValue` for leaf values (embedded nodes followed inline). */
function visitNode(items: NodeItem[], onRef: (hash: Uint8Array) => void, onLeafValue: (v: Uint8Array) => void): void {
  const child = (c: NodeItem | undefined) => {
    if (c === undefined) return
    if (Array.isArray(c)) visitNode(c, onRef, onLeafValue)
    else if (c.length === 32) onRef(c)
  }
  if (items.length === 17) {
    for (let i = 0; i < 16; i++) child(items[i])
    const v = items[16]
    if (v instanceof Uint8Array && v.length > 0) onLeafValue(v)
    return
  }
  const path = items[0] as Uint8Array
  const isLeaf = ((path[0] ?? 0) & 0x20) !== 0
  if (isLeaf) onLeafValue(items[1] as Uint8Array)
  else child(items[1])
}
