import { describe, expect, test } from 'vitest'

import { bytesOfHex, hexOf, hexRange, writeHex } from '../src/util/hex.js'
import { Rng } from '../src/workloads/rng.js'

describe('hexOf', () => {
  test('behavior: equals Buffer.toString("hex") on arrays and subarrays of every length 0…70, at any offset', () => {
    const rng = new Rng('hex')
    const big = new Uint8Array(200).map(() => rng.nextBelow(256))
    for (let len = 0; len <= 70; len++) {
      for (const at of [0, 1, 7, 64]) {
        const view = big.subarray(at, at + len)
        expect(hexOf(view)).toBe(Buffer.from(big.buffer, big.byteOffset + at, len).toString('hex'))
        expect(hexOf(view.slice())).toBe(Buffer.from(view).toString('hex'))
      }
    }
    expect(hexOf(new Uint8Array([0, 0x0f, 0xf0, 0xff]))).toBe('000ff0ff')
  })
})

describe('bytesOfHex, writeHex, hexRange', () => {
  test('behavior: agree with Buffer on valid hex of every length 0…70 bytes; invalid hex stops where Buffer.from stops', () => {
    const rng = new Rng('unhex')
    for (let len = 0; len <= 70; len++) {
      const bytes = new Uint8Array(len).map(() => rng.nextBelow(256))
      const h = Buffer.from(bytes).toString('hex')
      expect([...bytesOfHex(h)]).toEqual([...bytes])
      expect(bytesOfHex(h)).toBeInstanceOf(Uint8Array)
      const out = new Uint8Array(len + 9)
      expect(writeHex(out, 5, h)).toBe(len)
      expect([...out.subarray(5, 5 + len)]).toEqual([...bytes])
      expect([...out.subarray(0, 5), ...out.subarray(5 + len)]).toEqual(new Array(9).fill(0))
      for (const [a, b] of [[0, len], [1, len], [0, len >> 1]] as const) {
        if (a <= b) expect(hexRange(bytes, a, b)).toBe(Buffer.from(bytes.subarray(a, b)).toString('hex'))
      }
    }
    for (const bad of ['zz', '12zz34', '1234xy']) expect([...bytesOfHex(bad)]).toEqual([...Buffer.from(bad, 'hex')])
  })
})
