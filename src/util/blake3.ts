import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'

import { createBLAKE3 } from 'hash-wasm'

/**
 * blake3-256 into a caller's array, one WebAssembly call per hash and no allocation: the BucketTree's
 * hasher. hash-wasm's `IHasher` takes three calls (init, update, digest) and allocates a subarray per
 * input chunk and a fresh array per digest (~0.45 µs per 65-byte hash, 1.05 µs per 512 bytes on this
 * machine); here the input is copied into the module's I/O buffer, `Hash_Calculate` runs init, update and
 * finalize in one call, and the digest is copied from the buffer to `out`.
 *
 * The module is hash-wasm's own blake3 build (the pinned 4.13.0: the WebAssembly embedded in
 * `dist/blake3.umd.min.js`, exports `Hash_GetBuffer`, `Hash_Init`, `Hash_Update`, `Hash_Final`,
 * `Hash_Calculate`, a 16 KiB I/O buffer). It is checked against hash-wasm's public hasher when loaded;
 * if it cannot be found or disagrees, the public hasher is used instead (same digests, slower).
 */
export interface Blake3 {
  /** Writes blake3-256 of `src[from, to)` to `out[at, at + 32)`. */
  hashInto(src: Uint8Array, from: number, to: number, out: Uint8Array, at: number): void
  /** 'wasm-direct' (one call per hash) or 'hash-wasm' (the public hasher, the fallback). */
  readonly kind: 'wasm-direct' | 'hash-wasm'
}

/** The I/O buffer of hash-wasm's modules (MAIN_BUFFER_SIZE in its hash-wasm.h). */
const BUFFER = 16 * 1024

/** What is used of the WebAssembly API (not in the project's lib typings). */
type Wasm = { instantiate(bytes: Uint8Array): Promise<{ instance: { exports: unknown } }> }

type Exports = {
  memory: { buffer: ArrayBuffer }
  Hash_GetBuffer(): number
  Hash_Init(keyLen: number): void
  Hash_Update(len: number): void
  Hash_Final(digestBytes: number): void
  Hash_Calculate(len: number, keyLen: number, digestBytes: number): void
}

class DirectBlake3 implements Blake3 {
  readonly kind = 'wasm-direct'
  private io: Uint8Array
  private digest: Uint8Array

  constructor(private readonly x: Exports) {
    this.io = new Uint8Array(x.memory.buffer, x.Hash_GetBuffer(), BUFFER)
    this.digest = this.io.subarray(0, 32)
  }

  hashInto(src: Uint8Array, from: number, to: number, out: Uint8Array, at: number): void {
    if (this.io.byteLength === 0) {
      // The module's memory grew (it does not, but a detached view would read nothing).
      this.io = new Uint8Array(this.x.memory.buffer, this.x.Hash_GetBuffer(), BUFFER)
      this.digest = this.io.subarray(0, 32)
    }
    const len = to - from
    if (len <= BUFFER) {
      this.io.set(src.subarray(from, to))
      this.x.Hash_Calculate(len, 0, 32)
    } else {
      this.x.Hash_Init(0)
      for (let o = from; o < to; o += BUFFER) {
        const n = Math.min(BUFFER, to - o)
        this.io.set(src.subarray(o, o + n))
        this.x.Hash_Update(n)
      }
      this.x.Hash_Final(32)
    }
    out.set(this.digest, at)
  }
}

/** hash-wasm's blake3 module, instantiated here; undefined if its bytes are not where 4.13.0 keeps them. */
async function loadDirect(): Promise<DirectBlake3 | undefined> {
  try {
    const dist = dirname(createRequire(import.meta.url).resolve('hash-wasm'))
    const m = /name:"blake3",data:"([A-Za-z0-9+/=]+)"/.exec(readFileSync(join(dist, 'blake3.umd.min.js'), 'latin1'))
    if (m === null) return undefined
    const { instance } = await (globalThis as unknown as { WebAssembly: Wasm }).WebAssembly.instantiate(Buffer.from(m[1]!, 'base64'))
    const x = instance.exports as unknown as Exports
    for (const f of ['Hash_GetBuffer', 'Hash_Init', 'Hash_Update', 'Hash_Final', 'Hash_Calculate'] as const) if (typeof x[f] !== 'function') return undefined
    if (!(x.memory?.buffer instanceof ArrayBuffer)) return undefined
    return new DirectBlake3(x)
  } catch {
    return undefined
  }
}

let loaded: Promise<Blake3> | undefined

/** The blake3 hasher (loaded once per thread), checked against hash-wasm's public one. */
export function createBlake3(): Promise<Blake3> {
  loaded ??= (async () => {
    const pub = await createBLAKE3()
    const fallback: Blake3 = {
      kind: 'hash-wasm',
      hashInto(src, from, to, out, at) {
        pub.init()
        pub.update(src.subarray(from, to))
        out.set(pub.digest('binary'), at)
      },
    }
    const direct = await loadDirect()
    if (direct === undefined) return fallback
    // Agreement on short, one-buffer and multi-buffer inputs, or the fallback.
    const input = new Uint8Array(2 * BUFFER + 100).map((_, i) => (i * 131 + 7) & 255)
    const a = new Uint8Array(32)
    const b = new Uint8Array(32)
    for (const len of [0, 1, 65, 512, BUFFER, input.length]) {
      direct.hashInto(input, 0, len, a, 0)
      fallback.hashInto(input, 0, len, b, 0)
      if (Buffer.compare(a, b) !== 0) return fallback
    }
    return direct
  })()
  return loaded
}
