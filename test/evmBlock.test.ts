import { MerklePatriciaTrie } from '@ethereumjs/mpt'
import { RLP } from '@ethereumjs/rlp'
import { Bloom } from '@ethereumjs/vm'
import { describe, expect, it } from 'vitest'

import { bloomAdd, receiptsRoot } from '../src/evm/block.js'
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
      const receipts = Array.from({ length: n }, (_, i) => bytes(i + 7 * n, 20 + ((i * 37) % 400)))
      const trie = new MerklePatriciaTrie()
      for (let i = 0; i < n; i++) await trie.put(RLP.encode(i), receipts[i]!)
      expect(Buffer.from(receiptsRoot(receipts)).toString('hex'), `n=${n}`).toBe(Buffer.from(trie.root()).toString('hex'))
    }
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
})
