/**
 * The access-set probe: what each transaction read and wrote (accounts: nonce, balance, code; storage
 * slots), with every key's value before and after the transaction. It works on any engine's
 * StateManagerInterface: `install` overrides the state manager's methods on that one instance (and the
 * EVM's `runCall`, to tell EVM code's accesses from runTx's own), and the returned function restores
 * them. Nothing is installed unless a run asks for access sets: with the probe off, the engines run
 * untouched. Transaction boundaries come from the block executor (`TxObserver`).
 *
 * Definitions:
 * - read: the transaction asked for the key's value (getAccount/getCode/getCodeSize/getStorage, or a
 *   read-modify-write such as modifyAccountFields). Calls a state manager makes to itself are not
 *   counted (only the outermost call is).
 * - written: the key's value after the transaction differs from its value before (value-based: a write
 *   of the same value, or one undone by a revert, is no write). Accounts compare nonce, balance, code
 *   hash and existence (the storage root follows from the slots); a storage wipe is a write.
 * - before: the value at the transaction's first access; after: read back when the transaction ends.
 * Accesses outside transactions go to the block's `prelude` (system calls) and `postlude` (withdrawals,
 * rewards) records.
 */
import type { Block } from '@ethereumjs/block'
import type { StateManagerInterface } from '@ethereumjs/common'
import type { TypedTransaction } from '@ethereumjs/tx'
import { type Account, type Address, bytesToHex, createAddressFromString, hexToBytes } from '@ethereumjs/util'
import type { RunTxResult } from '@ethereumjs/vm'

import type { TxObserver } from './hooks.js'

export type AccountValue = { nonce: bigint; balance: bigint; codeHash: string }

export type AccountAccess = {
  /** 0x-prefixed lower-case address. */
  address: string
  read: boolean
  /** Code (or its size) was read. */
  codeRead: boolean
  written: boolean
  /** The account's storage was cleared (deleted: self-destruct, EIP-161 cleanup; or created over storage), not undone by a revert. */
  wiped: boolean
  /** null: the account did not exist. */
  before: AccountValue | null
  after: AccountValue | null
  /** Accessed by EVM code (inside a call frame), not only by runTx's own bookkeeping. */
  inEvm: boolean
}

export type SlotAccess = {
  address: string
  /** The 32-byte slot, 0x-hex. */
  slot: string
  read: boolean
  written: boolean
  /** Values without leading zero bytes, 0x-hex ('0x' = zero). */
  before: string
  after: string
  inEvm: boolean
}

/**
 * How a transaction touched the block's coinbase: not at all; only for the fee credit (runTx's own
 * read-modify-write, outside the EVM); or as EVM code, sender or recipient.
 */
export type CoinbaseUse = 'none' | 'fee' | 'evm'

export type TxAccess = {
  index: number
  hash: string
  /** Gas the receipt counts. */
  gasUsed: bigint
  accounts: AccountAccess[]
  slots: SlotAccess[]
  coinbase: CoinbaseUse
}

export type BlockAccess = {
  number: bigint
  hash: string
  coinbase: string
  txs: TxAccess[]
  /** Accesses before the first transaction: the DAO fork, system writes (EIP-4788 beacon root, EIP-2935 parent hash). */
  prelude: TxAccess
  /** Accesses after the last transaction: withdrawals, block rewards, the EIP-7002/7251 system calls (Prague and later). */
  postlude: TxAccess
}

/** What the probe needs of an engine: its state manager and its EVM (for `runCall`). */
export type AccessTarget = { stateManager: StateManagerInterface; evm: { runCall: (opts: never) => Promise<unknown> } }

type Recording = { accounts: Map<string, AccountAccess & { wipes: number }>; slots: Map<string, SlotAccess> }

export class AccessSetProbe implements TxObserver {
  private readonly blocks = new Map<string, BlockAccess>()
  private block: BlockAccess | undefined
  private rec: Recording | undefined
  private pre: Recording | undefined
  private post: Recording | undefined
  private depth = 0
  /** Wipes (clearStorage, deleteAccount) in order, and the log length at each open checkpoint. */
  private wipeLog: { wipes: number }[] = []
  private wipeMarks: number[] = []
  private evmDepth = 0
  private orig: Pick<StateManagerInterface, 'getAccount' | 'getStorage'> | undefined

  /**
   * Wraps `target`'s state manager and EVM on the instance; returns the function that restores them.
   * One target at a time.
   */
  install(target: AccessTarget): () => void {
    if (this.orig !== undefined) throw new Error('access-set probe already installed')
    const sm = target.stateManager as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>
    const saved = new Map<string, unknown>()
    const own = (name: string) => (Object.prototype.hasOwnProperty.call(sm, name) ? sm[name] : undefined)
    const call = <T>(name: string, args: unknown[]): Promise<T> => (base[name] as (...a: unknown[]) => Promise<T>).apply(sm, args)
    const base: Record<string, unknown> = {}
    for (const name of ['getAccount', 'putAccount', 'deleteAccount', 'modifyAccountFields', 'putCode', 'getCode', 'getCodeSize', 'getStorage', 'putStorage', 'clearStorage', 'checkpoint', 'commit', 'revert']) {
      saved.set(name, own(name))
      base[name] = sm[name]
    }
    this.orig = {
      getAccount: (a: Address) => this.inner(() => call<Account | undefined>('getAccount', [a])),
      getStorage: (a: Address, k: Uint8Array) => this.inner(() => call<Uint8Array>('getStorage', [a, k])),
    }
    const wrap = (name: string, before: (args: unknown[]) => Promise<void>, after?: (args: unknown[], result: unknown) => void) => {
      sm[name] = async (...args: unknown[]) => {
        if (this.depth > 0 || this.block === undefined) return call(name, args)
        await before(args)
        const result = await this.inner(() => call(name, args))
        after?.(args, result)
        return result
      }
    }
    // Wipes are undone with the checkpoint they were made in: the log is cut back on revert.
    sm.checkpoint = async () => {
      if (this.depth === 0) this.wipeMarks.push(this.wipeLog.length)
      return call('checkpoint', [])
    }
    sm.commit = async () => {
      if (this.depth === 0) this.wipeMarks.pop()
      return call('commit', [])
    }
    sm.revert = async () => {
      if (this.depth === 0) {
        const mark = this.wipeMarks.pop() ?? 0
        for (const a of this.wipeLog.splice(mark)) a.wipes--
      }
      return call('revert', [])
    }
    const addr = (args: unknown[]) => args[0] as Address
    wrap('getAccount', (a) => this.touchAccount(addr(a), 'read'))
    wrap('getCode', (a) => this.touchAccount(addr(a), 'code'))
    wrap('getCodeSize', (a) => this.touchAccount(addr(a), 'code'))
    wrap('modifyAccountFields', (a) => this.touchAccount(addr(a), 'read'))
    wrap('putAccount', (a) => this.touchAccount(addr(a), 'write'))
    wrap('deleteAccount', (a) => this.touchAccount(addr(a), 'wipe'))
    wrap('putCode', (a) => this.touchAccount(addr(a), 'write'))
    wrap('clearStorage', (a) => this.touchAccount(addr(a), 'wipe'))
    wrap('getStorage', (a) => this.touchSlot(addr(a), a[1] as Uint8Array, 'read'))
    wrap('putStorage', (a) => this.touchSlot(addr(a), a[1] as Uint8Array, 'write'))
    const evm = target.evm as unknown as Record<string, unknown>
    const savedRunCall = Object.prototype.hasOwnProperty.call(evm, 'runCall') ? evm.runCall : undefined
    const runCall = target.evm.runCall
    evm.runCall = async (opts: never) => {
      this.evmDepth++
      try {
        return await runCall.call(target.evm, opts)
      } finally {
        this.evmDepth--
      }
    }
    return () => {
      for (const [name, fn] of saved) {
        if (fn === undefined) delete sm[name]
        else sm[name] = fn as (...a: unknown[]) => Promise<unknown>
      }
      if (savedRunCall === undefined) delete evm.runCall
      else evm.runCall = savedRunCall
      this.orig = undefined
    }
  }

  /** The recorded block with this hash (0x-hex), removed from the probe. */
  takeBlock(hash: string): BlockAccess | undefined {
    const b = this.blocks.get(hash)
    this.blocks.delete(hash)
    return b
  }

  blockStart(block: Block): void {
    this.wipeLog = []
    this.wipeMarks = this.wipeMarks.map(() => 0)
    this.pre = newRecording()
    this.post = newRecording()
    this.rec = this.pre
    this.block = {
      number: block.header.number,
      hash: bytesToHex(block.hash()),
      coinbase: block.header.coinbase.toString().toLowerCase(),
      txs: [],
      prelude: emptyTx(-1, ''),
      postlude: emptyTx(-1, ''),
    }
  }

  txStart(_tx: TypedTransaction, _index: number): void {
    this.rec = newRecording()
  }

  async txEnd(tx: TypedTransaction, index: number, result: RunTxResult | undefined): Promise<void> {
    const block = this.block
    const rec = this.rec
    if (block === undefined || rec === undefined) return
    this.rec = this.post
    const t = await this.finishRecording(rec, index, bytesToHex(tx.hash()), result?.totalGasSpent ?? 0n)
    const sender = tx.getSenderAddress().toString().toLowerCase()
    const to = tx.to?.toString().toLowerCase()
    const cb = block.coinbase
    const cbAccount = t.accounts.find((a) => a.address === cb)
    const cbInEvm = (cbAccount?.inEvm ?? false) || t.slots.some((s) => s.address === cb)
    t.coinbase = sender === cb || to === cb || cbInEvm ? 'evm' : cbAccount !== undefined ? 'fee' : 'none'
    block.txs.push(t)
  }

  async blockEnd(_block: Block): Promise<void> {
    const block = this.block
    if (block === undefined || this.pre === undefined || this.post === undefined) return
    this.rec = undefined
    block.prelude = await this.finishRecording(this.pre, -1, '', 0n)
    block.postlude = await this.finishRecording(this.post, -1, '', 0n)
    this.block = this.pre = this.post = undefined
    this.blocks.set(block.hash, block)
  }

  private async inner<T>(fn: () => Promise<T>): Promise<T> {
    this.depth++
    try {
      return await fn()
    } finally {
      this.depth--
    }
  }

  private async touchAccount(address: Address, how: 'read' | 'code' | 'write' | 'wipe'): Promise<void> {
    const rec = this.rec
    if (rec === undefined) return
    const key = address.toString().toLowerCase()
    let a = rec.accounts.get(key)
    if (a === undefined) {
      const before = accountValue(await this.orig!.getAccount(address))
      a = { address: key, read: false, codeRead: false, written: false, wiped: false, wipes: 0, before, after: before, inEvm: false }
      rec.accounts.set(key, a)
    }
    if (how === 'read') a.read = true
    else if (how === 'code') a.read = a.codeRead = true
    else if (how === 'wipe') {
      a.wipes++
      this.wipeLog.push(a)
    }
    if (this.evmDepth > 0) a.inEvm = true
  }

  private async touchSlot(address: Address, slot: Uint8Array, how: 'read' | 'write'): Promise<void> {
    const rec = this.rec
    if (rec === undefined) return
    const a = address.toString().toLowerCase()
    const s = bytesToHex(slot)
    const key = `${a}:${s}`
    let x = rec.slots.get(key)
    if (x === undefined) {
      const before = slotValue(await this.orig!.getStorage(address, slot))
      x = { address: a, slot: s, read: false, written: false, before, after: before, inEvm: false }
      rec.slots.set(key, x)
    }
    if (how === 'read') x.read = true
    if (this.evmDepth > 0) x.inEvm = true
  }

  /** Reads every touched key's value back: `after`, and whether it changed. */
  private async finishRecording(rec: Recording, index: number, hash: string, gasUsed: bigint): Promise<TxAccess> {
    const accounts: AccountAccess[] = []
    for (const { wipes, ...a } of rec.accounts.values()) {
      a.after = accountValue(await this.orig!.getAccount(createAddressFromString(a.address)))
      a.wiped = wipes > 0
      a.written = a.wiped || !sameAccount(a.before, a.after)
      accounts.push(a)
    }
    const slots = [...rec.slots.values()]
    for (const s of slots) {
      let v: Uint8Array
      try {
        v = await this.orig!.getStorage(createAddressFromString(s.address), hexToBytes(s.slot as `0x${string}`))
      } catch {
        v = new Uint8Array() // the account no longer exists
      }
      s.after = slotValue(v)
      s.written = s.after !== s.before || (rec.accounts.get(s.address)?.wiped ?? false)
    }
    return { index, hash, gasUsed, accounts, slots, coinbase: 'none' }
  }
}

function newRecording(): Recording {
  return { accounts: new Map(), slots: new Map() }
}

function emptyTx(index: number, hash: string): TxAccess {
  return { index, hash, gasUsed: 0n, accounts: [], slots: [], coinbase: 'none' }
}

function accountValue(a: Account | undefined): AccountValue | null {
  return a === undefined ? null : { nonce: a.nonce, balance: a.balance, codeHash: bytesToHex(a.codeHash) }
}

function sameAccount(a: AccountValue | null, b: AccountValue | null): boolean {
  if (a === null || b === null) return a === b
  return a.nonce === b.nonce && a.balance === b.balance && a.codeHash === b.codeHash
}

function slotValue(v: Uint8Array): string {
  let i = 0
  while (i < v.length && v[i] === 0) i++
  return bytesToHex(v.subarray(i))
}
