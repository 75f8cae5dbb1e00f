import { spawnSync } from 'node:child_process'
import { join } from 'node:path'

import { blake3 } from '@noble/hashes/blake3.js'
import { describe, expect, test } from 'vitest'

import { BucketTree } from '../src/engines/mega/bucketTree.js'
import { createTreeHasher } from '../src/util/blake3Simd.js'
import { PACKAGE_ROOT } from '../src/util/paths.js'
import { Rng } from '../src/workloads/rng.js'

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

describe('TreeHasher (batched BLAKE3, WebAssembly SIMD)', () => {
  test('behavior: node levels of any count and queued inputs of any length equal @noble/hashes blake3, on the SIMD and the plain hasher', async () => {
    const rng = new Rng('simd')
    for (const simd of [true, false]) {
      const h = await createTreeHasher(64 * 1024, { simd })
      expect(h.kind).toBe(simd ? 'wasm-simd' : 'plain') // Node 20 runs WebAssembly SIMD: the default is the module
      const children = h.bytes(20 * 512)
      children.set(new Uint8Array(20 * 512).map(() => rng.nextBelow(256)))
      const out = h.bytes(20 * 32)
      const list = h.ints(20)
      // Counts around the SIMD group of four, and lists in any order with gaps; nodes of 2, 4 and 16 children.
      for (const n of [64, 128, 512]) {
        for (const count of [0, 1, 2, 3, 4, 5, 7, 8, 9, 20]) {
          const picks = [...Array(20).keys()].sort(() => rng.nextBelow(3) - 1).slice(0, count)
          list.set(picks)
          out.fill(0)
          h.hashNodes(children, out, list, count, n)
          for (let p = 0; p < 20; p++) {
            const want = picks.includes(p) ? hex(blake3(children.subarray(p * n, p * n + n))) : '00'.repeat(32)
            expect(hex(out.subarray(p * 32, p * 32 + 32))).toBe(want)
          }
        }
      }
      if (simd) expect(() => h.hashNodes(children, out, list, 1, 96)).toThrow(/96 bytes/)
      // Queued inputs: lengths across block boundaries and past one chunk (the fallback), and more than the
      // input area holds between two flushes (it flushes itself).
      const lens = [0, 1, 63, 64, 65, 70, 127, 128, 129, 511, 512, 1023, 1024, 1025, 3000]
      const dig = h.bytes(32 * 400)
      const src = new Uint8Array(4000).map(() => rng.nextBelow(256))
      const wants: string[] = []
      for (let i = 0; i < 400; i++) {
        const len = lens[i % lens.length]!
        const from = rng.nextBelow(src.length - len + 1)
        h.queue(src, from, from + len, dig, 32 * i)
        wants.push(hex(blake3(src.subarray(from, from + len))))
      }
      h.flush()
      for (let i = 0; i < 400; i++) expect(hex(dig.subarray(32 * i, 32 * i + 32))).toBe(wants[i])
    }
  })

  test('behavior: a BucketTree on the SIMD hasher has the roots of one on the plain hasher, through inserts, resizes, deletes and bulk loads', async () => {
    const rng = new Rng('simd-tree')
    const key = () => new Uint8Array(32).map(() => rng.nextBelow(256))
    for (const bucketBits of [4, 8, 16]) {
      const a = await BucketTree.create({ bucketBits })
      const b = await BucketTree.create({ bucketBits, simd: false })
      expect([a.hasherKind, b.hasherKind]).toEqual(['wasm-simd', 'plain'])
      const keys = Array.from({ length: 3000 }, key)
      a.beginBulkLoad()
      for (const k of keys.slice(0, 1000)) {
        const v = new Uint8Array(1 + rng.nextBelow(40)).map(() => rng.nextBelow(256))
        a.set(k, v)
        b.set(k, v)
      }
      expect(hex(a.endBulkLoad())).toBe(hex(b.commit()))
      for (let round = 0; round < 5; round++) {
        for (let i = 0; i < 700; i++) {
          const k = keys[rng.nextBelow(keys.length)]!
          const v = rng.nextBelow(6) === 0 ? null : new Uint8Array(rng.nextBelow(100)).map(() => rng.nextBelow(256))
          a.set(k, v)
          b.set(k, v)
        }
        expect(hex(a.commit())).toBe(hex(b.commit()))
      }
    }
  })
})

describe('the committed SIMD module', () => {
  test('behavior: src/util/blake3Wasm.ts and keccakWasm.ts are the builds of wasm/blake3.ts and wasm/keccak.ts (scripts/build-wasm.mjs --check)', () => {
    const r = spawnSync(process.execPath, [join(PACKAGE_ROOT, 'scripts', 'build-wasm.mjs'), '--check'], { encoding: 'utf8' })
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
  }, 60_000)
})
