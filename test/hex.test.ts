import { describe, expect, test } from 'vitest'

import { hexOf } from '../src/util/hex.js'
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
