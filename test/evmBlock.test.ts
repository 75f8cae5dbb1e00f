import { MerklePatriciaTrie } from '@ethereumjs/mpt'
import { RLP } from '@ethereumjs/rlp'
import { Bloom, type TxReceipt, encodeReceipt } from '@ethereumjs/vm'
import { bigIntToUnpaddedBytes, bytesToHex } from '@ethereumjs/util'
import { describe, expect, it } from 'vitest'

import { bloomAdd, encodeReceiptFast, receiptsRoot } from '../src/evm/block.js'
import { bigToBytes } from '../src/evm/interpreter.js'
import { trieRoot } from '../src/evm/mptRoot.js'
import { initKeccak } from '../src/util/keccak.js'

/** Deterministic pseudo-random bytes (xorshift32). */
function bytes(seed: number, n: number): Uint8Array {
  let x = seed | 1
  const out = new Uint8Array(n)
  for (let i = 0; i < n; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    out[i] = x & 0xff
  }
  return out
}

describe('fast EVM block helpers', () => {
  it('the synchronous receipts root equals @ethereumjs/mpt for counts across RLP index boundaries', async () => {
    await initKeccak()
    for (const n of [0, 1, 2, 16, 17, 127, 128, 129, 300]) {
      // Receipts of realistic sizes: a few short (inlined leaves impossible above 32 bytes) and long ones.
      // Every 50th one large (beyond the trie builder's first scratch buffer).
      const receipts = Array.from({ length: n }, (_, i) => bytes(i + 7 * n, i % 50 === 49 ? 9000 + i : 20 + ((i * 37) % 400)))
      const trie = new MerklePatriciaTrie()
      for (let i = 0; i < n; i++) await trie.put(RLP.encode(i), receipts[i]!)
      expect(Buffer.from(receiptsRoot(receipts)).toString('hex'), `n=${n}`).toBe(Buffer.from(trie.root()).toString('hex'))
    }
  })

  it('trieRoot equals @ethereumjs/mpt with nodes short enough to be inlined (dense short keys, one-byte values) and long ones', async () => {
    await initKeccak()
    for (const [n, keyLen, valLen] of [[1, 1, 1], [40, 2, 1], [300, 2, 1], [200, 3, 2], [50, 32, 40]] as const) {
      const seen = new Set<string>()
      const entries: [Uint8Array, Uint8Array][] = []
      for (let i = 0; entries.length < n; i++) {
        const k = bytes(i * 31 + keyLen, keyLen)
        const h = Buffer.from(k).toString('hex')
        if (seen.has(h)) continue
        seen.add(h)
        entries.push([k, bytes(i + 5, valLen)])
      }
      const trie = new MerklePatriciaTrie()
      for (const [k, v] of entries) await trie.put(k, v)
      expect(Buffer.from(trieRoot(entries)).toString('hex'), `n=${n}`).toBe(Buffer.from(trie.root()).toString('hex'))
    }
  })

  it('encodeReceiptFast is byte-equal to @ethereumjs/vm encodeReceipt (types, status/root, gas sizes, log and data lengths across RLP boundaries)', () => {
    let n = 0
    for (const type of [0, 1, 2, 3]) {
      for (const gas of [0n, 1n, 0x7fn, 0x80n, 21000n, 2n ** 56n, 2n ** 63n - 1n]) {
        for (const logCount of [0, 1, 3, 20]) {
          for (const dataLen of [0, 1, 55, 56, 300, 70000]) {
            const logs: TxReceipt['logs'] = Array.from({ length: logCount }, (_, i) => [bytes(i + 3, 20), Array.from({ length: i % 5 }, (_, j) => bytes(i * 7 + j + 1, 32)), bytes(i + dataLen, i === 0 ? dataLen : (dataLen + i) % 90)])
            const bloom = bytes(logCount + 99, 256)
            const receipts: TxReceipt[] = [
              { status: 1, cumulativeBlockGasUsed: gas, bitvector: bloom, logs },
              { status: 0, cumulativeBlockGasUsed: gas, bitvector: bloom, logs },
              { stateRoot: bytes(5, 32), cumulativeBlockGasUsed: gas, bitvector: bloom, logs },
            ]
            for (const r of receipts) {
              expect(Buffer.from(encodeReceiptFast(r, type)).equals(Buffer.from(encodeReceipt(r, type as 0 | 1 | 2 | 3)))).toBe(true)
              n++
            }
          }
        }
      }
    }
    expect(n).toBe(4 * 7 * 4 * 6 * 3)
  })

  it('bloomAdd sets the same bits as @ethereumjs/vm Bloom.add', async () => {
    await initKeccak()
    const ours = new Uint8Array(256)
    const theirs = new Bloom()
    for (let i = 0; i < 50; i++) {
      const e = bytes(i + 1, i % 2 === 0 ? 20 : 32)
      bloomAdd(ours, e)
      theirs.add(e)
    }
    expect(ours.some((b) => b !== 0)).toBe(true)
    expect(Buffer.from(ours).toString('hex')).toBe(Buffer.from(theirs.bitvector).toString('hex'))
  })

  it('bloomAdd stays exact through its cache: repeated entries (hits) and more entries than it holds (evictions)', async () => {
    await initKeccak()
    for (let i = 0; i < 12000; i++) {
      const e = bytes((i * 7919) % 6000 + 1, i % 3 === 0 ? 20 : 32)
      const ours = new Uint8Array(256)
      bloomAdd(ours, e)
      const theirs = new Bloom()
      theirs.add(e)
      if (Buffer.compare(ours, theirs.bitvector) !== 0) expect(Buffer.from(ours).toString('hex'), `entry ${i}`).toBe(Buffer.from(theirs.bitvector).toString('hex'))
    }
  })
})

  it('bigToBytes is the unpadded big-endian encoding at every byte width (and nothing for zero)', () => {
    expect(bigToBytes(0n)).toEqual(new Uint8Array(0))
    for (let bits = 0; bits < 256; bits += 5) {
      for (const v of [1n << BigInt(bits), (1n << BigInt(bits + 1)) - 1n, (0x5an << BigInt(bits)) & ((1n << 256n) - 1n)]) {
        if (v === 0n) continue
        const b = bigToBytes(v)
        expect(bytesToHex(b)).toBe(bytesToHex(bigIntToUnpaddedBytes(v)))
        b.fill(0xff) // a copy: the next conversion is unaffected
      }
    }
    expect(bytesToHex(bigToBytes((1n << 256n) - 1n))).toBe(`0x${'ff'.repeat(32)}`)
  })

describe('fast EVM: the DAO fork block', () => {
  it('moves every drain account balance to the refund contract (the list is 0x-prefixed, state keys are bare hex)', async () => {
    await initKeccak()
    const { createBlock } = await import('@ethereumjs/block')
    const { Common, Mainnet } = await import('@ethereumjs/common')
    const { DAO_DRAIN_ACCOUNTS, DAO_REFUND_CONTRACT } = await import('../src/chain/dao.js')
    const { MemoryBackend, WorldState, EMPTY_CODE_HASH } = await import('../src/evm/state.js')
    const { executeBlockFast } = await import('../src/evm/block.js')
    const backend = new MemoryBackend()
    const drained = DAO_DRAIN_ACCOUNTS.slice(0, 3).map((a) => a.slice(2))
    drained.forEach((a, i) => backend.accounts.set(a, { nonce: 0n, balance: BigInt(i + 1) * 10n ** 18n, codeHash: EMPTY_CODE_HASH }))
    const common = new Common({ chain: Mainnet, hardfork: 'dao' })
    const block = createBlock({ header: { number: 5n, gasLimit: 5_000_000n, difficulty: 1n } }, { common })
    const state = new WorldState(backend)
    executeBlockFast(state, block, { fork: 'dao', chainId: 1n, blockHash: () => 0n, daoForkBlock: 5n })
    const refund = DAO_REFUND_CONTRACT.slice(2)
    expect(backend.accounts.get(refund)?.balance).toBe(6n * 10n ** 18n)
    for (const a of drained) expect(backend.accounts.get(a)?.balance ?? 0n).toBe(0n)
    expect([...backend.accounts.keys()].filter((k) => !/^[0-9a-f]{40}$/.test(k))).toEqual([])
  })
})
