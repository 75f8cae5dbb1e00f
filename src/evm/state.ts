import { bytesOfHex, hexOf } from '../util/hex.js'
import { keccak256 } from '../util/keccak.js'
import type { FastEvmProbe } from './profile.js'

/** keccak256 of the empty string. */
export const EMPTY_CODE_HASH = keccak256(new Uint8Array(0))
const EMPTY = new Uint8Array(0)

/** An account as a backend stores it. Storage is separate. */
export interface AccountRecord {
  nonce: bigint
  balance: bigint
  codeHash: Uint8Array
}

/**
 * What the fast EVM's state runs over: reads of committed state, and the writes of finished
 * transactions. Addresses are 40-char lowercase hex (no 0x); slots are bigints (0 ≤ slot < 2^256).
 * `applyChanges` receives a transaction's (or block's) final values in one call.
 */
export interface StateBackend {
  getAccount(address: string): AccountRecord | undefined
  getCode(codeHash: Uint8Array): Uint8Array
  /** A slot's committed value; `key` is the same slot as the EVM's maps key it (unpadded lowercase hex), for backends that key by it. */
  getStorage(address: string, slot: bigint, key: string): bigint
  /** True if the account has any non-zero slot (EIP-7610 create collision). */
  hasStorage(address: string): boolean
  applyChanges(changes: StateChanges): void
}

export interface StateChanges {
  /** Accounts written (null = deleted; its storage is wiped too). */
  accounts: Map<string, AccountRecord | null>
  /** Accounts whose storage was wiped before the slot writes below apply. */
  wiped: Set<string>
  /**
   * Slot writes per account (0n = deleted), keyed by the slot as unpadded lowercase hex. Strings, as
   * every slot-keyed map of the EVM: V8 hashes a BigInt key by its low 64 bits, so slots chosen to share
   * them (`i << 64n`) would turn a Map<bigint, …> into one long collision chain.
   */
  storage: Map<string, Map<string, bigint>>
  /** New code by hash (hex, no 0x). */
  codes: Map<string, Uint8Array>
}

/** Lowercase hex, no 0x (util/hex.ts `hexOf`: Node's native encoder, a flat string). */
export const hex = hexOf

export function fromHex(h: string): Uint8Array {
  if (h.startsWith('0x')) h = h.slice(2)
  if (h.length % 2 === 1) h = '0' + h
  // Node's hex decoder (native; several times faster than parsing digit pairs), as a plain Uint8Array.
  return bytesOfHex(h)
}

/** A plain in-memory backend (tests, conformance, the benchmark). */
export class MemoryBackend implements StateBackend {
  readonly accounts = new Map<string, AccountRecord>()
  readonly storage = new Map<string, Map<bigint, bigint>>()
  readonly codes = new Map<string, Uint8Array>()

  getAccount(address: string): AccountRecord | undefined {
    return this.accounts.get(address)
  }
  getCode(codeHash: Uint8Array): Uint8Array {
    return this.codes.get(hex(codeHash)) ?? EMPTY
  }
  getStorage(address: string, slot: bigint): bigint {
    return this.storage.get(address)?.get(slot) ?? 0n
  }
  hasStorage(address: string): boolean {
    const m = this.storage.get(address)
    return m !== undefined && m.size > 0
  }
  /** Loads code and returns its hash. */
  putCode(code: Uint8Array): Uint8Array {
    const h = keccak256(code)
    this.codes.set(hex(h), code)
    return h
  }
  applyChanges(c: StateChanges): void {
    for (const a of c.wiped) this.storage.delete(a)
    for (const [a, rec] of c.accounts) {
      if (rec === null) {
        this.accounts.delete(a)
        this.storage.delete(a)
      } else this.accounts.set(a, { nonce: rec.nonce, balance: rec.balance, codeHash: rec.codeHash })
    }
    for (const [a, slots] of c.storage) {
      let m = this.storage.get(a)
      for (const [k, v] of slots) {
        const slot = BigInt(`0x${k}`)
        if (v === 0n) m?.delete(slot)
        else {
          if (m === undefined) this.storage.set(a, (m = new Map()))
          m.set(slot, v)
        }
      }
      if (m !== undefined && m.size === 0) this.storage.delete(a)
    }
    for (const [h, code] of c.codes) this.codes.set(h, code)
  }
}

/** One account in the EVM's working state. */
export class Acct {
  nonce = 0n
  balance = 0n
  codeHash: Uint8Array = EMPTY_CODE_HASH
  code: Uint8Array | undefined = EMPTY
  /** The interpreter's analysis of `code` (set by it; cleared when the code changes). */
  codeInfo: import('./interpreter.js').CodeInfo | undefined = undefined
  exists = false
  /** Storage not to be read from the backend (created or self-destructed here). */
  wiped = false
  /** Values as of the start of the current transaction (loaded or committed). Keys: slot hex. */
  readonly committed = new Map<string, bigint>()
  /** Values written in the current transaction. */
  readonly current = new Map<string, bigint>()
  /** Every slot written since the last flush. */
  readonly written = new Map<string, bigint>()
  /** Touched since the last flush (written to the backend at flush). */
  dirty = false
  /** Storage wiped since the last flush. */
  wipedSinceFlush = false
  /** Created in the current transaction (EIP-6780). */
  createdInTx = false
  /** EIP-2929: the slots (hex keys) warm in transaction `warmTx` of the state (`WorldState.txSerial`); stale otherwise. */
  readonly warmSlots = new Set<string>()
  warmTx = -1
  constructor(readonly address: string) {}

  isEmpty(): boolean {
    return this.nonce === 0n && this.balance === 0n && this.codeHash === EMPTY_CODE_HASH
  }
}

type Undo = () => void

/**
 * The EVM's journaled working state over a backend: accounts and slots are read through once and
 * kept; writes go in place with an undo closure per write (snapshots are journal lengths); at the
 * end of each transaction `finalizeTx` deletes self-destructed and (EIP-161) touched empty
 * accounts; `flush` hands every change since the last flush to the backend in one call.
 */
export class WorldState {
  private readonly accts = new Map<string, Acct>()
  journal: Undo[] = []
  /** Touched accounts in this transaction (EIP-161). */
  readonly touched = new Set<string>()
  readonly destructed = new Set<string>()
  readonly warmAddresses = new Set<string>()
  /**
   * Addresses warm for the whole transaction without being in `warmAddresses` (EIP-2929's precompiles:
   * set by `runTransaction` instead of adding them one by one; cleared by `beginTx`).
   */
  alwaysWarm: { has(address: string): boolean } | undefined = undefined
  /** Slots of the access list (EIP-2930) by address, until the account's warm set takes them (see `warmSlot`). */
  private readonly accessListSlots = new Map<string, string[]>()
  /** Counts transactions: an account's warm slots belong to the transaction `warmTx` names. */
  private txSerial = 0
  readonly transient = new Map<string, bigint>()
  private readonly newCodes = new Map<string, Uint8Array>()
  private readonly dirtyAccts = new Set<Acct>()
  /** Accounts marked in the current transaction (a superset of those with slot writes to commit). */
  private readonly txAccts = new Set<Acct>()

  /** The opcode probe every Evm over this state reports to (profile.ts); undefined = off. */
  probe: FastEvmProbe | undefined = undefined

  constructor(readonly backend: StateBackend) {}

  get(address: string): Acct {
    let a = this.accts.get(address)
    if (a === undefined) {
      a = new Acct(address)
      const rec = this.backend.getAccount(address)
      if (rec !== undefined) {
        a.exists = true
        a.nonce = rec.nonce
        a.balance = rec.balance
        a.codeHash = equalHash(rec.codeHash, EMPTY_CODE_HASH) ? EMPTY_CODE_HASH : rec.codeHash
        a.code = a.codeHash === EMPTY_CODE_HASH ? EMPTY : undefined
      }
      this.accts.set(address, a)
    }
    return a
  }

  code(a: Acct): Uint8Array {
    if (a.code === undefined) a.code = this.newCodes.get(hex(a.codeHash)) ?? this.backend.getCode(a.codeHash)
    return a.code
  }

  private mark(a: Acct): void {
    if (!a.dirty) {
      a.dirty = true
      this.dirtyAccts.add(a)
    }
    this.txAccts.add(a)
    if (!this.touched.has(a.address)) {
      this.touched.add(a.address)
      const addr = a.address
      this.journal.push(() => {
        // EIP-161's exception (mainnet block 2675119): the touch of RIPEMD-160 survives a revert.
        if (addr !== RIPEMD) this.touched.delete(addr)
      })
    }
  }

  /** Touches an account (EIP-161) without changing it; creates nothing. */
  touch(a: Acct): void {
    this.mark(a)
  }

  /** Makes the account exist (pre-EIP-161 empty accounts, CREATE, value transfers). */
  create(a: Acct): void {
    this.mark(a)
    if (!a.exists) {
      a.exists = true
      this.journal.push(() => {
        a.exists = false
      })
    }
  }

  setBalance(a: Acct, v: bigint): void {
    this.mark(a)
    const prev = a.balance
    const existed = a.exists
    a.balance = v
    a.exists = true
    this.journal.push(() => {
      a.balance = prev
      a.exists = existed
    })
  }

  setNonce(a: Acct, v: bigint): void {
    this.mark(a)
    const prev = a.nonce
    const existed = a.exists
    a.nonce = v
    a.exists = true
    this.journal.push(() => {
      a.nonce = prev
      a.exists = existed
    })
  }

  setCode(a: Acct, code: Uint8Array): void {
    this.mark(a)
    const prevHash = a.codeHash
    const prevCode = a.code
    a.codeInfo = undefined
    if (code.length === 0) {
      a.codeHash = EMPTY_CODE_HASH
      a.code = EMPTY
    } else {
      a.codeHash = keccak256(code)
      a.code = code
      this.newCodes.set(hex(a.codeHash), code)
    }
    this.journal.push(() => {
      a.codeHash = prevHash
      a.code = prevCode
      a.codeInfo = undefined
    })
  }

  /**
   * A contract created at an address: storage wiped (it may hold a balance only), nonce set by the
   * caller, `createdInTx` for EIP-6780.
   */
  createContract(a: Acct): void {
    this.create(a)
    const prevWiped = a.wiped
    const prevWipedFlush = a.wipedSinceFlush
    const prevCommitted = new Map(a.committed)
    const prevCurrent = new Map(a.current)
    const prevCreated = a.createdInTx
    a.wiped = true
    a.wipedSinceFlush = true
    a.committed.clear()
    a.current.clear()
    a.createdInTx = true
    this.journal.push(() => {
      a.wiped = prevWiped
      a.wipedSinceFlush = prevWipedFlush
      restore(a.committed, prevCommitted)
      restore(a.current, prevCurrent)
      a.createdInTx = prevCreated
    })
  }

  /** The slot's value as of the start of the transaction. */
  original(a: Acct, key: string, slot: bigint): bigint {
    let v = a.committed.get(key)
    if (v === undefined) {
      v = a.wiped ? 0n : this.backend.getStorage(a.address, slot, key)
      a.committed.set(key, v)
    }
    return v
  }

  sload(a: Acct, key: string, slot: bigint): bigint {
    const v = a.current.get(key)
    return v !== undefined ? v : this.original(a, key, slot)
  }

  sstore(a: Acct, key: string, value: bigint): void {
    this.mark(a)
    const prev = a.current.get(key)
    a.current.set(key, value)
    this.journal.push(() => {
      if (prev === undefined) a.current.delete(key)
      else a.current.set(key, prev)
    })
  }

  tload(address: string, key: string): bigint {
    return this.transient.get(address + key) ?? 0n
  }

  tstore(address: string, key: string, value: bigint): void {
    const k = address + key
    const prev = this.transient.get(k)
    this.transient.set(k, value)
    this.journal.push(() => {
      if (prev === undefined) this.transient.delete(k)
      else this.transient.set(k, prev)
    })
  }

  /**
   * Warms an address at the start of a transaction, before its first frame (EIP-2929's sender,
   * recipient, precompiles, access list; EIP-3651's coinbase): no journal entry, since no revert of
   * the transaction's frames reaches below it.
   */
  warmAtStart(address: string): void {
    this.warmAddresses.add(address)
  }

  warmSlotAtStart(address: string, key: string): void {
    let keys = this.accessListSlots.get(address)
    if (keys === undefined) this.accessListSlots.set(address, (keys = []))
    keys.push(key)
  }

  /** Warms an address; true if it was cold. */
  warmAddress(address: string): boolean {
    if (this.warmAddresses.has(address) || this.alwaysWarm?.has(address) === true) return false
    this.warmAddresses.add(address)
    this.journal.push(() => this.warmAddresses.delete(address))
    return true
  }

  /** Warms a slot of `a` (hex key); true if it was cold. Kept on the account: no address ‖ slot string per access. */
  warmSlot(a: Acct, key: string): boolean {
    const warm = a.warmSlots
    if (a.warmTx !== this.txSerial) {
      // The account's first slot access in this transaction: its set starts from the access list's slots.
      a.warmTx = this.txSerial
      warm.clear()
      const listed = this.accessListSlots.get(a.address)
      if (listed !== undefined) for (const k of listed) warm.add(k)
    }
    if (warm.has(key)) return false
    warm.add(key)
    this.journal.push(() => warm.delete(key))
    return true
  }

  selfDestruct(a: Acct): boolean {
    if (this.destructed.has(a.address)) return false
    this.destructed.add(a.address)
    this.journal.push(() => this.destructed.delete(a.address))
    return true
  }

  revertTo(mark: number): void {
    const j = this.journal
    while (j.length > mark) j.pop()!()
  }

  /** Starts a transaction: access lists, transient storage and touches cleared. */
  beginTx(): void {
    this.journal = []
    // V8's clear() allocates a fresh table even for an empty collection: most of these are empty here.
    if (this.txAccts.size > 0) this.txAccts.clear()
    if (this.touched.size > 0) this.touched.clear()
    if (this.destructed.size > 0) this.destructed.clear()
    if (this.warmAddresses.size > 0) this.warmAddresses.clear()
    this.alwaysWarm = undefined
    if (this.accessListSlots.size > 0) this.accessListSlots.clear()
    this.txSerial++
    if (this.transient.size > 0) this.transient.clear()
  }

  /** Ends a transaction: deletes self-destructed and (EIP-161) touched empty accounts; commits slots. */
  finalizeTx(clearEmpty: boolean): void {
    for (const addr of this.destructed) this.kill(this.get(addr))
    if (clearEmpty) {
      for (const addr of this.touched) {
        const a = this.get(addr)
        if (!a.exists || a.isEmpty()) this.kill(a)
      }
    }
    // Only accounts this transaction marked can hold uncommitted slots (iterating every account dirty
    // since the last flush would make a block quadratic in its transactions).
    for (const a of this.txAccts) {
      if (a.current.size > 0) {
        for (const [k, v] of a.current) {
          a.committed.set(k, v)
          a.written.set(k, v)
        }
        a.current.clear()
      }
      a.createdInTx = false
    }
    this.txAccts.clear()
    this.journal = []
  }

  private kill(a: Acct): void {
    a.exists = false
    a.nonce = 0n
    a.balance = 0n
    a.codeHash = EMPTY_CODE_HASH
    a.code = EMPTY
    a.codeInfo = undefined
    a.wiped = true
    a.wipedSinceFlush = true
    a.committed.clear()
    a.current.clear()
    a.written.clear()
    if (!a.dirty) {
      a.dirty = true
      this.dirtyAccts.add(a)
    }
  }

  /** Writes every change since the last flush to the backend. */
  flush(): StateChanges {
    const changes: StateChanges = { accounts: new Map(), wiped: new Set(), storage: new Map(), codes: new Map() }
    for (const a of this.dirtyAccts) {
      changes.accounts.set(a.address, a.exists ? { nonce: a.nonce, balance: a.balance, codeHash: a.codeHash } : null)
      if (a.wipedSinceFlush) changes.wiped.add(a.address)
      if (a.written.size > 0) {
        changes.storage.set(a.address, new Map(a.written))
      }
      a.written.clear()
      a.wipedSinceFlush = false
      a.dirty = false
    }
    for (const [h, code] of this.newCodes) changes.codes.set(h, code)
    this.newCodes.clear()
    this.dirtyAccts.clear()
    this.backend.applyChanges(changes)
    return changes
  }

  /** Forgets cached accounts (after the backend changed behind this state's back). */
  clearCache(): void {
    this.accts.clear()
  }
}

export const RIPEMD = '0000000000000000000000000000000000000003'

function restore<K, V>(m: Map<K, V>, from: Map<K, V>): void {
  m.clear()
  for (const [k, v] of from) m.set(k, v)
}

export function equalHash(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
