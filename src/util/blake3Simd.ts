import { type Blake3, createBlake3 } from './blake3.js'
import { BLAKE3_SIMD_WASM } from './blake3Wasm.js'

/**
 * Batched BLAKE3 for a hash tree (the mega engine's BucketTree): where the tree keeps its digests and dirty
 * lists, and how a level of nodes (their children's digests: 128 bytes for the BucketTree's 4-ary nodes) and a
 * batch of buckets are hashed.
 *
 * `wasm-simd` (wasm/blake3.ts, WebAssembly SIMD): the digests and lists live in the module's own memory, so
 * a level's dirty nodes are hashed in one call, four per SIMD pass, reading their children and writing their
 * digests in place (no copy in or out); buckets are copied into the module's input area and hashed in
 * batches of up to QUEUE, one call per batch, four per SIMD pass (each zero-padded to whole 64-byte blocks; the
 * area is zeroed after each batch). Measured on this 2-core VM: a 512-byte node 0.31 µs against 0.78 µs with
 * one hash-wasm call each (blake3.ts); in a BucketTree at 1M entries, a 128-byte node ~0.13 µs and a bucket of
 * one entry ~0.27 µs four per pass (~0.65 with the scalar one-at-a-time path this replaced), plus ~0.2 µs to
 * copy it in.
 * The plain fallback (plain arrays, one `Blake3.hashInto` per hash) is used where the module cannot be
 * instantiated, disagrees with hash-wasm, or the arrays would not fit its 32-bit memory; its digests are the
 * same (test/blake3Simd.test.ts).
 */
export interface TreeHasher {
  readonly kind: 'wasm-simd' | 'plain'
  /** A zeroed byte array for the tree (take all of them before hashing). */
  bytes(n: number): Uint8Array
  /** A zeroed i32 array for the tree. */
  ints(n: number): Int32Array
  /** Bytes the hasher holds besides the arrays it handed out (input area, descriptors). */
  readonly overheadBytes: number
  /**
   * For p = list[0 … count): blake3(children[n·p, n·p + n)) → out[32p, 32p + 32), n = `nodeBytes` (a power of
   * two, 64 … 1024: 32 × the tree's fanout). Arrays from bytes()/ints().
   */
  hashNodes(children: Uint8Array, out: Uint8Array, list: Int32Array, count: number, nodeBytes: number): void
  /** blake3(src[from, to)) → out[at, at + 32) (`out` from bytes()), done by the next `flush()` at the latest. */
  queue(src: Uint8Array, from: number, to: number, out: Uint8Array, at: number): void
  /** Completes every queued hash. */
  flush(): void
}

/** The largest input the module hashes (one chunk); longer ones go to the fallback hasher. */
const CHUNK = 1024
/** Queued inputs per call, and the bytes of the input area they are copied into. */
const QUEUE = 4096
const INPUT_BYTES = 256 * 1024
/** The self-check's scratch: five nodes' children and digests, and their list. */
const PROBE_BYTES = 6 * 512 + 64
/** Keep the module's memory well inside 32-bit addressing. */
const MAX_ARENA_BYTES = 2 ** 31
/** What the hasher needs besides the tree's arrays: descriptors, input area, self-check scratch, and each array's alignment. */
const OVERHEAD_BYTES = 12 * QUEUE + INPUT_BYTES + PROBE_BYTES + 64 * 64

type SimdExports = {
  memory: { buffer: ArrayBuffer; grow(pages: number): number }
  init(): void
  heapBase(): number
  hashNodes(childBase: number, outBase: number, list: number, count: number, shift: number): void
  hashMany4(desc: number, count: number): void
}

type Wasm = {
  Module: new (bytes: Uint8Array) => unknown
  Instance: new (module: unknown, imports: object) => { exports: unknown }
}

class PlainTreeHasher implements TreeHasher {
  readonly kind = 'plain'
  readonly overheadBytes = 0
  constructor(private readonly h: Blake3) {}
  bytes(n: number): Uint8Array {
    return new Uint8Array(n)
  }
  ints(n: number): Int32Array {
    return new Int32Array(n)
  }
  hashNodes(children: Uint8Array, out: Uint8Array, list: Int32Array, count: number, nodeBytes: number): void {
    for (let i = 0; i < count; i++) {
      const p = list[i]!
      this.h.hashInto(children, p * nodeBytes, p * nodeBytes + nodeBytes, out, p * 32)
    }
  }
  queue(src: Uint8Array, from: number, to: number, out: Uint8Array, at: number): void {
    this.h.hashInto(src, from, to, out, at)
  }
  flush(): void {}
}

class SimdTreeHasher implements TreeHasher {
  readonly kind = 'wasm-simd'
  readonly overheadBytes: number
  private readonly mem: Uint8Array
  private readonly desc: Uint32Array
  private readonly input: number
  private readonly probe: number
  private top: number
  private queued = 0
  private inputTop = 0

  /** `x`: an instance whose memory already holds `bytes` past its heap base for the tree's arrays. */
  constructor(
    private readonly x: SimdExports,
    private readonly fallback: Blake3,
  ) {
    const base = align(x.heapBase())
    this.desc = new Uint32Array(x.memory.buffer, base, 3 * QUEUE)
    this.input = base + 12 * QUEUE
    this.probe = align(this.input + INPUT_BYTES)
    this.top = align(this.probe + PROBE_BYTES)
    this.overheadBytes = this.top
    this.mem = new Uint8Array(x.memory.buffer)
  }

  /**
   * The module's digests equal `h`'s on one-chunk inputs of several lengths, one at a time and in one batch,
   * and on five nodes (a SIMD group of four and a remainder) of 64, 128 and 512 bytes, computed in a scratch
   * area of its own.
   */
  agreesWith(h: Blake3): boolean {
    const src = new Uint8Array(5 * 512).map((_, i) => (i * 167 + 3) & 255)
    const out = new Uint8Array(this.x.memory.buffer, this.probe, 5 * 32)
    const want = new Uint8Array(32)
    // One input at a time, then all in one batch (groups of four with different block counts).
    const lens = [0, 1, 63, 64, 65, 70, 512, CHUNK]
    for (const len of lens) {
      this.queue(src, 0, Math.min(len, src.length), out, 0)
      this.flush()
      h.hashInto(src, 0, Math.min(len, src.length), want, 0)
      if (Buffer.compare(want, out.subarray(0, 32)) !== 0) return false
    }
    const batch = new Uint8Array(this.x.memory.buffer, this.probe + 5 * 32, 32 * lens.length)
    lens.forEach((len, i) => this.queue(src, i, i + Math.min(len, src.length - i), batch, 32 * i))
    this.flush()
    for (const [i, len] of lens.entries()) {
      h.hashInto(src, i, i + Math.min(len, src.length - i), want, 0)
      if (Buffer.compare(want, batch.subarray(32 * i, 32 * i + 32)) !== 0) return false
    }
    const children = new Uint8Array(this.x.memory.buffer, this.probe + 5 * 32, 5 * 512)
    children.set(src)
    const list = new Int32Array(this.x.memory.buffer, this.probe + 6 * 512, 5)
    list.set([0, 1, 2, 3, 4])
    for (const n of [64, 128, 512]) {
      this.hashNodes(children, out, list, 5, n)
      for (let p = 0; p < 5; p++) {
        h.hashInto(children, p * n, p * n + n, want, 0)
        if (Buffer.compare(want, out.subarray(p * 32, p * 32 + 32)) !== 0) return false
      }
    }
    return true
  }

  private take(n: number): number {
    const at = this.top
    if (at + n > this.mem.length) throw new RangeError(`TreeHasher: ${n} bytes do not fit the ${this.mem.length}-byte arena`)
    this.top = align(at + n)
    return at
  }

  bytes(n: number): Uint8Array {
    return new Uint8Array(this.x.memory.buffer, this.take(n), n)
  }

  ints(n: number): Int32Array {
    return new Int32Array(this.x.memory.buffer, this.take(4 * n), n)
  }

  hashNodes(children: Uint8Array, out: Uint8Array, list: Int32Array, count: number, nodeBytes: number): void {
    const shift = Math.log2(nodeBytes)
    if (!Number.isInteger(shift) || shift < 6 || shift > 10) throw new RangeError(`TreeHasher: a node of ${nodeBytes} bytes (a power of two, 64 … 1024)`)
    if (count > 0) this.x.hashNodes(children.byteOffset, out.byteOffset, list.byteOffset, count, shift)
  }

  queue(src: Uint8Array, from: number, to: number, out: Uint8Array, at: number): void {
    const len = to - from
    if (len > CHUNK) {
      this.fallback.hashInto(src, from, to, out, at)
      return
    }
    // Zero-padded to whole 64-byte blocks (at least one): hashMany4 reads whole blocks.
    const padded = len <= 64 ? 64 : (len + 63) & ~63
    if (this.queued === QUEUE || this.inputTop + padded > INPUT_BYTES) this.flush()
    const d = 3 * this.queued++
    const to0 = this.input + this.inputTop
    this.desc[d] = to0
    this.desc[d + 1] = len
    this.desc[d + 2] = out.byteOffset + at
    this.mem.set(src.subarray(from, to), to0) // the area is zero from the last flush on: the padding is zero
    this.inputTop += padded
  }

  flush(): void {
    if (this.queued === 0) return
    this.x.hashMany4(this.desc.byteOffset, this.queued)
    this.mem.fill(0, this.input, this.input + this.inputTop)
    this.queued = 0
    this.inputTop = 0
  }
}

const align = (n: number) => (n + 63) & ~63

let compiled: unknown
/** Whether the compiled module's digests agreed with hash-wasm's (checked on its first instance). */
let agreed: boolean | undefined

/**
 * A tree hasher with room for `bytes` of arrays (the SIMD module's memory is sized once, here, so the arrays
 * it hands out never move); the plain one where the module is unavailable, disagrees, or `bytes` is too big.
 * `simd: false` asks for the plain one (tests compare the two).
 */
export async function createTreeHasher(bytes: number, opts: { simd?: boolean } = {}): Promise<TreeHasher> {
  const fallback = await createBlake3()
  if (opts.simd === false || bytes + OVERHEAD_BYTES + 65536 > MAX_ARENA_BYTES) return new PlainTreeHasher(fallback)
  let simd: SimdTreeHasher
  try {
    const W = (globalThis as unknown as { WebAssembly: Wasm }).WebAssembly
    compiled ??= new W.Module(Buffer.from(BLAKE3_SIMD_WASM, 'base64'))
    const x = new W.Instance(compiled, { env: { abort: () => {} } }).exports as SimdExports
    x.init()
    // Everything the hasher will hand out, plus its own areas, past the heap base.
    const need = align(x.heapBase()) + OVERHEAD_BYTES + bytes
    const have = x.memory.buffer.byteLength
    if (need > have) x.memory.grow(Math.ceil((need - have) / 65536))
    simd = new SimdTreeHasher(x, fallback)
  } catch {
    return new PlainTreeHasher(fallback)
  }
  agreed ??= simd.agreesWith(fallback)
  return agreed ? simd : new PlainTreeHasher(fallback)
}
