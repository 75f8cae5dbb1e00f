import { RLP } from '@ethereumjs/rlp'
import { KECCAK256_NULL, KECCAK256_RLP, bytesToUnprefixedHex } from '@ethereumjs/util'
import { keccak_256 } from '@noble/hashes/sha3.js'
import { describe, expect, test } from 'vitest'

import { BucketTree } from '../src/engines/mega/bucketTree.js'
import { MegaState, NON_EMPTY_STORAGE, decodeAccountValue, encodeAccount } from '../src/engines/mega/megaState.js'
import { MegabenchError } from '../src/errors/index.js'
import { Rng } from '../src/workloads/rng.js'

const h = (i: number) => keccak_256(new Uint8Array([i & 255, (i >> 8) & 255, (i >> 16) & 255, 7]))
const hex = (b: Uint8Array) => bytesToUnprefixedHex(b)
const accountRlp = (nonce: number, balance: number, storageRoot: Uint8Array = KECCAK256_RLP, codeHash: Uint8Array = KECCAK256_NULL) =>
  RLP.encode([nonce, balance, storageRoot, codeHash])
const word = (n: number) => new Uint8Array([n])

/** A state of `n` accounts; accounts 0..9 hold slots 0..4 (value slot + 1). */
async function loaded(n: number, slotIndex: boolean): Promise<MegaState> {
  const s = await MegaState.create({ expectedEntries: n + 64, slotIndex })
  s.beginLoad()
  for (let i = 0; i < n; i++) s.loadAccountRlp(h(i), accountRlp(i % 3, 1000 + i), false)
  for (let i = 0; i < 10; i++) for (let j = 0; j < 5; j++) s.loadSlot(h(i), h(100_000 + j), word(j + 1))
  s.finishLoad()
  return s
}

/** The tree the state's entries define, built from scratch. */
async function rootOf(accounts: Map<string, { nonce: bigint; balance: bigint; codeHash: Uint8Array }>, slots: Map<string, Uint8Array>, state: MegaState): Promise<string> {
  const t = await BucketTree.create({ bucketBits: state.tree.bucketBits })
  for (const [k, a] of accounts) t.set(Buffer.from(k, 'hex'), encodeAccount(a))
  for (const [k, v] of slots) {
    const [a, s] = k.split(':')
    t.set(state.slotTreeKey(a!, s!), v)
  }
  return hex(t.commit())
}

describe('MegaState (compact: the BucketTree is the store)', () => {
  test('an account value is RLP [nonce, balance(, codeHash)] and decodes back at every integer width, a long list included', () => {
    const rng = new Rng('account-values')
    const widths = [0, 1, 6, 7, 8, 12, 20, 31, 32]
    const big = (bytes: number) => {
      let v = 0n
      for (let i = 0; i < bytes; i++) v = (v << 8n) | BigInt(i === 0 ? 1 + rng.nextBelow(255) : rng.nextBelow(256))
      return v
    }
    for (const nw of [0, 1, 2, 8]) {
      for (const bw of widths) {
        for (const codeHash of [KECCAK256_NULL, h(nw * 100 + bw)]) {
          for (const small of [false, true]) {
            const a = { nonce: small && nw > 0 ? 5n : big(nw), balance: small && bw > 0 ? 0x7fn : big(bw), codeHash }
            const v = encodeAccount(a)
            // The same bytes a general RLP encoder makes (the short list header up to 55 bytes of body, then 0xf8).
            expect(hex(v)).toBe(hex(RLP.encode(codeHash === KECCAK256_NULL ? [a.nonce, a.balance] : [a.nonce, a.balance, codeHash])))
            const d = decodeAccountValue(v)
            expect({ nonce: d.nonce, balance: d.balance, codeHash: hex(d.codeHash) }).toEqual({ nonce: a.nonce, balance: a.balance, codeHash: hex(codeHash) })
          }
        }
      }
    }
    // The code hash is a copy: the value's bytes may be the tree's, rewritten later.
    const v = encodeAccount({ nonce: 1n, balance: 2n, codeHash: h(1) })
    const d = decodeAccountValue(v)
    v.fill(0)
    expect(hex(d.codeHash)).toBe(hex(h(1)))
    expect(() => decodeAccountValue(new Uint8Array([0x85, 1, 2, 3, 4, 5]))).toThrow(/not an RLP list/)
  })

  test('a slot key is keccak of the 32-byte slot whether its hex has leading zeros or not, memo hit or miss', async () => {
    const s = await MegaState.create({ expectedEntries: 16, slotIndex: false })
    for (const slot of [0n, 1n, 0xabcn, 1n << 100n, (1n << 256n) - 1n]) {
      const padded = slot.toString(16).padStart(64, '0')
      const want = hex(keccak_256(Buffer.from(padded, 'hex')))
      expect(s.slotKeyOfHex(slot.toString(16))).toBe(want) // miss (odd lengths included)
      expect(s.slotKeyOfHex(padded)).toBe(want)
      expect(s.slotKeyOfHex(slot.toString(16))).toBe(want) // hit
    }
  })

  test('default: random writes, reverts and flushes read back as a map model says, and the root is the one those entries define', async () => {
    const rng = new Rng('megastate')
    const s = await loaded(500, false)
    const accounts = new Map<string, { nonce: bigint; balance: bigint; codeHash: Uint8Array }>()
    for (let i = 0; i < 500; i++) accounts.set(hex(h(i)), { nonce: BigInt(i % 3), balance: BigInt(1000 + i), codeHash: KECCAK256_NULL })
    const slots = new Map<string, Uint8Array>()
    for (let i = 0; i < 10; i++) for (let j = 0; j < 5; j++) slots.set(`${hex(h(i))}:${hex(h(100_000 + j))}`, word(j + 1))
    expect(s.tree.root.length).toBe(32)
    expect(hex(s.tree.root)).toBe(await rootOf(accounts, slots, s))
    for (let block = 0; block < 8; block++) {
      for (let tx = 0; tx < 30; tx++) {
        const mark = s.journal.length
        const snapshot = { accounts: new Map(accounts), slots: new Map(slots) }
        for (let w = 0; w < 4; w++) {
          const a = hex(h(rng.nextBelow(520)))
          if (rng.nextBelow(2) === 0) {
            const v = rng.nextBelow(8) === 0 ? null : { nonce: BigInt(rng.nextBelow(9)), balance: BigInt(rng.nextBelow(1 << 30)), codeHash: rng.nextBelow(4) === 0 ? h(9_999) : KECCAK256_NULL }
            s.putAccountByKey(a, v)
            if (v === null) accounts.delete(a)
            else accounts.set(a, v)
          } else {
            const slot = hex(h(100_000 + rng.nextBelow(8)))
            const v = rng.nextBelow(3) === 0 ? new Uint8Array(0) : word(1 + rng.nextBelow(200))
            s.putSlotByKey(a, slot, v)
            if (v.length === 0) slots.delete(`${a}:${slot}`)
            else slots.set(`${a}:${slot}`, v)
          }
        }
        if (rng.nextBelow(4) === 0) {
          s.undoTo(mark)
          accounts.clear()
          for (const [k, v] of snapshot.accounts) accounts.set(k, v)
          slots.clear()
          for (const [k, v] of snapshot.slots) slots.set(k, v)
        }
      }
      const check = () => {
        for (let i = 0; i < 520; i++) {
          const k = hex(h(i))
          const a = s.getAccountByKey(k)
          const m = accounts.get(k)
          expect(a === undefined ? undefined : { nonce: a.nonce, balance: a.balance, codeHash: hex(a.codeHash) }).toEqual(m === undefined ? undefined : { nonce: m.nonce, balance: m.balance, codeHash: hex(m.codeHash) })
          const live = [...slots.keys()].filter((x) => x.startsWith(`${k}:`)).length
          expect(s.hasStorageByKey(k)).toBe(live > 0)
          if (a !== undefined) expect(hex(a.storageRoot)).toBe(hex(live > 0 ? NON_EMPTY_STORAGE : KECCAK256_RLP))
          for (let j = 0; j < 8; j++) {
            const slot = hex(h(100_000 + j))
            expect(hex(s.getSlotByKey(k, slot))).toBe(hex(slots.get(`${k}:${slot}`) ?? new Uint8Array(0)))
          }
        }
        expect(s.accountCount).toBe(accounts.size)
      }
      check() // from the overlay
      s.takeBlockDiff()
      s.takeChanges()
      s.flushToTree()
      check() // from the tree
      expect(hex(s.tree.commit())).toBe(await rootOf(accounts, slots, s))
    }
  })

  test('behavior: a wipe removes stored slots through the slot index; undone, it restores them; without an index it fails on stored slots', async () => {
    const s = await loaded(20, true)
    const a = hex(h(3))
    const slot = (j: number) => hex(h(100_000 + j))
    const mark = s.journal.length
    s.wipeByKey(a)
    expect(s.hasStorageByKey(a)).toBe(false)
    expect(s.getSlotByKey(a, slot(2)).length).toBe(0)
    s.putSlotByKey(a, slot(7), word(9))
    s.undoTo(mark)
    expect(s.hasStorageByKey(a)).toBe(true)
    expect(hex(s.getSlotByKey(a, slot(2)))).toBe('03')
    expect(s.getSlotByKey(a, slot(7)).length).toBe(0)
    s.wipeByKey(a)
    s.putSlotByKey(a, slot(7), word(9))
    expect(s.takeBlockDiff().storage.map((x) => x.hashedSlot)).toEqual([`0x${slot(7)}`])
    expect(s.takeChanges().find((c) => c.kind === 'wipe')).toMatchObject({ accountKey: a })
    const entries = s.tree.size
    s.flushToTree()
    expect(s.tree.size).toBe(entries - 5 + 1)
    expect(hex(s.getSlotByKey(a, slot(7)))).toBe('09')
    expect(s.getSlotByKey(a, slot(2)).length).toBe(0)

    const noIndex = await loaded(20, false)
    expect(() => noIndex.wipeByKey(a)).toThrow(MegabenchError)
    expect(() => noIndex.wipeByKey(a)).toThrow(/cannot wipe the storage of account 0x[0-9a-f]{64}: 5 stored slot/)
    // Storage written in the same block (what a wipe meets from Cancun on) is wiped without an index.
    const fresh = hex(h(15))
    noIndex.putSlotByKey(fresh, slot(1), word(4))
    noIndex.wipeByKey(fresh)
    expect(noIndex.hasStorageByKey(fresh)).toBe(false)
  })

  test('behavior: a witness account whose storage root is not empty has storage, though the witness holds none of its slots', async () => {
    const s = await MegaState.create({ expectedEntries: 8, slotIndex: true })
    s.beginLoad()
    s.loadAccountRlp(h(1), accountRlp(1, 5, h(42)), true)
    s.loadAccountRlp(h(2), accountRlp(1, 5), true)
    s.finishLoad()
    expect(s.hasStorageByKey(hex(h(1)))).toBe(true)
    expect(s.hasStorageByKey(hex(h(2)))).toBe(false)
    s.wipeByKey(hex(h(1)))
    expect(s.hasStorageByKey(hex(h(1)))).toBe(false)
  })

  test('default: 100,000 accounts take under 150 bytes each in the tree (entries, bookkeeping, digests)', async () => {
    const s = await loaded(100_000, false)
    expect(s.accountCount).toBe(100_000)
    expect(s.tree.size).toBe(100_050)
    expect(s.tree.heldBytes / 100_000).toBeLessThan(150)
  })
})
