import { keccak_256 } from '@noble/hashes/sha3.js'
import { describe, expect, test } from 'vitest'

import { initKeccak, keccak256, keccakKind } from '../src/util/keccak.js'
import { Rng } from '../src/workloads/rng.js'

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

describe('keccak256 (the own WebAssembly module, wasm/keccak.ts)', () => {
  test('behavior: equals @noble/hashes on every length 0…700 (across the 136-byte rate), random inputs, and inputs that grow its memory', async () => {
    expect(keccakKind()).toBe('wasm-own') // Node 20 instantiates it: the fallback would hide a broken build
    // Known answers: the empty string and "abc" (Ethereum's keccak, not SHA3-256).
    expect(hex(keccak256(new Uint8Array(0)))).toBe('c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470')
    expect(hex(keccak256(new TextEncoder().encode('abc')))).toBe('4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45')
    const rng = new Rng('keccak')
    for (let n = 0; n <= 700; n++) {
      const d = new Uint8Array(n)
      for (let i = 0; i < n; i++) d[i] = rng.nextBelow(256)
      expect(hex(keccak256(d)), `length ${n}`).toBe(hex(keccak_256(d)))
    }
    // Beyond the initial 64 KiB input area (the memory grows), and the result is a fresh array each time.
    await initKeccak()
    for (const n of [65_535, 65_536, 200_001, 1 << 20]) {
      const d = new Uint8Array(n)
      for (let i = 0; i < n; i += 97) d[i] = rng.nextBelow(256)
      const a = keccak256(d)
      const b = keccak256(d)
      expect(a).not.toBe(b)
      expect(hex(a), `length ${n}`).toBe(hex(keccak_256(d)))
    }
  })
})
