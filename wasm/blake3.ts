// BLAKE3-256 in AssemblyScript with WebAssembly SIMD, for the mega engine's BucketTree (src/util/blake3Simd.ts):
// inputs of one chunk (≤ 1024 bytes, zero-padded to whole blocks) and tree nodes (their children's digests),
// four at a time, one input per 32-bit lane (BLAKE3's "hash many" layout). Only what a single-chunk root output needs: chunk
// counter 0, flags CHUNK_START / CHUNK_END | ROOT, no keyed or derive-key modes, no extended output.
// Built by `npm run build:wasm` (scripts/build-wasm.mjs) into src/util/blake3Wasm.ts; checked against
// hash-wasm's blake3 when loaded and by test/blake3Simd.test.ts.
// Memory: 0…8191 is this module's scratch (SCHED, VSCR, the permutation); the caller's data starts at
// heapBase() (no static data: --memoryBase 8192, no allocations).
const IV0: u32 = 0x6a09e667, IV1: u32 = 0xbb67ae85, IV2: u32 = 0x3c6ef372, IV3: u32 = 0xa54ff53a
const IV4: u32 = 0x510e527f, IV5: u32 = 0x9b05688c, IV6: u32 = 0x1f83d9ab, IV7: u32 = 0x5be0cd19
const CHUNK_START: u32 = 1, CHUNK_END: u32 = 2, ROOT: u32 = 8

// Scratch: the message schedule at SCHED, 16 v128 message vectors at VSCR.
// The schedule: per round, the message word index for each of the 16 G inputs.
const SCHED: usize = 1024 // 7 × 16 bytes
const VSCR: usize = 2048

/** Writes the message schedule (call once after instantiating). */
export function init(): void {
  const PERM: usize = 3072
  const CUR: usize = 3088
  const NEXT: usize = 3104
  // BLAKE3's message permutation.
  store<u64>(PERM, 0x0d0400070a030602)
  store<u64>(PERM, 0x080f0e09050c0b01, 8)
  for (let i = 0; i < 16; i++) store<u8>(CUR + i, <u8>i)
  for (let r = 0; r < 7; r++) {
    for (let i = 0; i < 16; i++) store<u8>(SCHED + r * 16 + i, load<u8>(CUR + i))
    for (let i = 0; i < 16; i++) store<u8>(NEXT + i, load<u8>(CUR + <usize>load<u8>(PERM + i)))
    memory.copy(CUR, NEXT, 16)
  }
}

/** Where the caller's memory may start (after the module's static data). */
export function heapBase(): usize {
  return __heap_base
}

/**
 * Hashes `count` tree nodes of 2^shift bytes each (their children's digests: 128 bytes for a 4-ary node,
 * 512 for a 16-ary one; at most 1024): node p's children at childBase + p · 2^shift, its digest to
 * outBase + 32·p, p from the i32 list at `list`; four at a time (the last group repeats its last node).
 */
export function hashNodes(childBase: usize, outBase: usize, list: usize, count: i32, shift: i32): void {
  const len = 1 << shift
  for (let i = 0; i < count; i += 4) {
    const p0 = <usize>load<i32>(list + (<usize>i << 2))
    const p1 = i + 1 < count ? <usize>load<i32>(list + (<usize>(i + 1) << 2)) : p0
    const p2 = i + 2 < count ? <usize>load<i32>(list + (<usize>(i + 2) << 2)) : p1
    const p3 = i + 3 < count ? <usize>load<i32>(list + (<usize>(i + 3) << 2)) : p2
    hash4(childBase + (p0 << shift), childBase + (p1 << shift), childBase + (p2 << shift), childBase + (p3 << shift), len, len, len, len, outBase + (p0 << 5), outBase + (p1 << 5), outBase + (p2 << 5), outBase + (p3 << 5))
  }
}

/**
 * Hashes `count` inputs of at most 1024 bytes each, described by (src, len, out) u32 triples at `desc`, four
 * per SIMD pass (the last group repeats its last input). Each input must be
 * zero-padded to a whole number of 64-byte blocks (at least one): a lane whose input has fewer blocks than
 * another's in its group keeps its chaining value through the extra blocks.
 */
export function hashMany4(desc: usize, count: i32): void {
  for (let i = 0; i < count; i += 4) {
    const d0 = desc + <usize>i * 12
    const d1 = i + 1 < count ? d0 + 12 : d0
    const d2 = i + 2 < count ? d0 + 24 : d1
    const d3 = i + 3 < count ? d0 + 36 : d2
    hash4(<usize>load<u32>(d0), <usize>load<u32>(d1), <usize>load<u32>(d2), <usize>load<u32>(d3),
      <i32>load<u32>(d0, 4), <i32>load<u32>(d1, 4), <i32>load<u32>(d2, 4), <i32>load<u32>(d3, 4),
      <usize>load<u32>(d0, 8), <usize>load<u32>(d1, 8), <usize>load<u32>(d2, 8), <usize>load<u32>(d3, 8))
  }
}

// @ts-ignore: decorator
@inline function vrotr16(x: v128): v128 { return i8x16.shuffle(x, x, 2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13) }
// @ts-ignore: decorator
@inline function vrotr8(x: v128): v128 { return i8x16.shuffle(x, x, 1, 2, 3, 0, 5, 6, 7, 4, 9, 10, 11, 8, 13, 14, 15, 12) }
// @ts-ignore: decorator
@inline function vrotr12(x: v128): v128 { return v128.or(i32x4.shr_u(x, 12), i32x4.shl(x, 20)) }
// @ts-ignore: decorator
@inline function vrotr7(x: v128): v128 { return v128.or(i32x4.shr_u(x, 7), i32x4.shl(x, 25)) }
// @ts-ignore: decorator
@inline function vm(s: usize, i: usize): v128 { return v128.load(VSCR + (<usize>load<u8>(s + i) << 4)) }

// @ts-ignore: decorator
@inline function blocksOf(len: i32): i32 { return len <= 64 ? 1 : (len + 63) >> 6 }
// @ts-ignore: decorator
@inline function blockLen(len: i32, blk: i32, n: i32): u32 { return blk < n ? <u32>min(64, len - (blk << 6)) : 0 }
// @ts-ignore: decorator
@inline function blockFlags(blk: i32, n: i32): u32 { return (blk == 0 ? CHUNK_START : 0) | (blk == n - 1 ? CHUNK_END | ROOT : 0) }
// @ts-ignore: decorator
@inline function lanes(x0: u32, x1: u32, x2: u32, x3: u32): v128 {
  return i32x4.replace_lane(i32x4.replace_lane(i32x4.replace_lane(i32x4.splat(x0), 1, x1), 2, x2), 3, x3)
}

/**
 * blake3 of four one-chunk inputs (lengths la…ld ≤ 1024, zero-padded to whole 64-byte blocks) at a, b, c, d
 * into outs oa, ob, oc, od. A lane past its last block compresses a repeat of it and keeps its chaining value.
 */
function hash4(a: usize, b: usize, c: usize, d: usize, la: i32, lb: i32, lc: i32, ld: i32, oa: usize, ob: usize, oc: usize, od: usize): void {
  const na = blocksOf(la), nb = blocksOf(lb), nc = blocksOf(lc), nd = blocksOf(ld)
  const n = max(max(na, nb), max(nc, nd))
  let h0 = i32x4.splat(IV0), h1 = i32x4.splat(IV1), h2 = i32x4.splat(IV2), h3 = i32x4.splat(IV3)
  let h4 = i32x4.splat(IV4), h5 = i32x4.splat(IV5), h6 = i32x4.splat(IV6), h7 = i32x4.splat(IV7)
  for (let blk: i32 = 0; blk < n; blk++) {
    const pa = a + (<usize>min(blk, na - 1) << 6), pb = b + (<usize>min(blk, nb - 1) << 6)
    const pc = c + (<usize>min(blk, nc - 1) << 6), pd = d + (<usize>min(blk, nd - 1) << 6)
    // Transpose: message word j of the four lanes into one vector (4 words at a time, a 4×4 transpose).
    for (let j: usize = 0; j < 16; j += 4) {
      const ra = v128.load(pa + (j << 2)), rb = v128.load(pb + (j << 2)), rc = v128.load(pc + (j << 2)), rd = v128.load(pd + (j << 2))
      const ab_lo = i32x4.shuffle(ra, rb, 0, 4, 1, 5), ab_hi = i32x4.shuffle(ra, rb, 2, 6, 3, 7)
      const cd_lo = i32x4.shuffle(rc, rd, 0, 4, 1, 5), cd_hi = i32x4.shuffle(rc, rd, 2, 6, 3, 7)
      v128.store(VSCR + (j << 4), i64x2.shuffle(ab_lo, cd_lo, 0, 2))
      v128.store(VSCR + ((j + 1) << 4), i64x2.shuffle(ab_lo, cd_lo, 1, 3))
      v128.store(VSCR + ((j + 2) << 4), i64x2.shuffle(ab_hi, cd_hi, 0, 2))
      v128.store(VSCR + ((j + 3) << 4), i64x2.shuffle(ab_hi, cd_hi, 1, 3))
    }
    let v0 = h0, v1 = h1, v2 = h2, v3 = h3, v4 = h4, v5 = h5, v6 = h6, v7 = h7
    let v8 = i32x4.splat(IV0), v9 = i32x4.splat(IV1), v10 = i32x4.splat(IV2), v11 = i32x4.splat(IV3)
    let v12 = i32x4.splat(0), v13 = i32x4.splat(0)
    let v14 = lanes(blockLen(la, blk, na), blockLen(lb, blk, nb), blockLen(lc, blk, nc), blockLen(ld, blk, nd))
    let v15 = lanes(blockFlags(blk, na), blockFlags(blk, nb), blockFlags(blk, nc), blockFlags(blk, nd))
    for (let r: usize = 0; r < 7; r++) {
      const s = SCHED + r * 16
      v0 = i32x4.add(i32x4.add(v0, v4), vm(s, 0)); v12 = vrotr16(v128.xor(v12, v0)); v8 = i32x4.add(v8, v12); v4 = vrotr12(v128.xor(v4, v8))
      v1 = i32x4.add(i32x4.add(v1, v5), vm(s, 2)); v13 = vrotr16(v128.xor(v13, v1)); v9 = i32x4.add(v9, v13); v5 = vrotr12(v128.xor(v5, v9))
      v2 = i32x4.add(i32x4.add(v2, v6), vm(s, 4)); v14 = vrotr16(v128.xor(v14, v2)); v10 = i32x4.add(v10, v14); v6 = vrotr12(v128.xor(v6, v10))
      v3 = i32x4.add(i32x4.add(v3, v7), vm(s, 6)); v15 = vrotr16(v128.xor(v15, v3)); v11 = i32x4.add(v11, v15); v7 = vrotr12(v128.xor(v7, v11))
      v0 = i32x4.add(i32x4.add(v0, v4), vm(s, 1)); v12 = vrotr8(v128.xor(v12, v0)); v8 = i32x4.add(v8, v12); v4 = vrotr7(v128.xor(v4, v8))
      v1 = i32x4.add(i32x4.add(v1, v5), vm(s, 3)); v13 = vrotr8(v128.xor(v13, v1)); v9 = i32x4.add(v9, v13); v5 = vrotr7(v128.xor(v5, v9))
      v2 = i32x4.add(i32x4.add(v2, v6), vm(s, 5)); v14 = vrotr8(v128.xor(v14, v2)); v10 = i32x4.add(v10, v14); v6 = vrotr7(v128.xor(v6, v10))
      v3 = i32x4.add(i32x4.add(v3, v7), vm(s, 7)); v15 = vrotr8(v128.xor(v15, v3)); v11 = i32x4.add(v11, v15); v7 = vrotr7(v128.xor(v7, v11))

      v0 = i32x4.add(i32x4.add(v0, v5), vm(s, 8)); v15 = vrotr16(v128.xor(v15, v0)); v10 = i32x4.add(v10, v15); v5 = vrotr12(v128.xor(v5, v10))
      v1 = i32x4.add(i32x4.add(v1, v6), vm(s, 10)); v12 = vrotr16(v128.xor(v12, v1)); v11 = i32x4.add(v11, v12); v6 = vrotr12(v128.xor(v6, v11))
      v2 = i32x4.add(i32x4.add(v2, v7), vm(s, 12)); v13 = vrotr16(v128.xor(v13, v2)); v8 = i32x4.add(v8, v13); v7 = vrotr12(v128.xor(v7, v8))
      v3 = i32x4.add(i32x4.add(v3, v4), vm(s, 14)); v14 = vrotr16(v128.xor(v14, v3)); v9 = i32x4.add(v9, v14); v4 = vrotr12(v128.xor(v4, v9))
      v0 = i32x4.add(i32x4.add(v0, v5), vm(s, 9)); v15 = vrotr8(v128.xor(v15, v0)); v10 = i32x4.add(v10, v15); v5 = vrotr7(v128.xor(v5, v10))
      v1 = i32x4.add(i32x4.add(v1, v6), vm(s, 11)); v12 = vrotr8(v128.xor(v12, v1)); v11 = i32x4.add(v11, v12); v6 = vrotr7(v128.xor(v6, v11))
      v2 = i32x4.add(i32x4.add(v2, v7), vm(s, 13)); v13 = vrotr8(v128.xor(v13, v2)); v8 = i32x4.add(v8, v13); v7 = vrotr7(v128.xor(v7, v8))
      v3 = i32x4.add(i32x4.add(v3, v4), vm(s, 15)); v14 = vrotr8(v128.xor(v14, v3)); v9 = i32x4.add(v9, v14); v4 = vrotr7(v128.xor(v4, v9))
    }
    // Lanes past their last block keep their chaining value.
    const live = lanes(blk < na ? 0xffffffff : 0, blk < nb ? 0xffffffff : 0, blk < nc ? 0xffffffff : 0, blk < nd ? 0xffffffff : 0)
    h0 = v128.bitselect(v128.xor(v0, v8), h0, live); h1 = v128.bitselect(v128.xor(v1, v9), h1, live)
    h2 = v128.bitselect(v128.xor(v2, v10), h2, live); h3 = v128.bitselect(v128.xor(v3, v11), h3, live)
    h4 = v128.bitselect(v128.xor(v4, v12), h4, live); h5 = v128.bitselect(v128.xor(v5, v13), h5, live)
    h6 = v128.bitselect(v128.xor(v6, v14), h6, live); h7 = v128.bitselect(v128.xor(v7, v15), h7, live)
  }
  // Transpose back: lane k's 8 words to its output.
  storeLanes(h0, h1, h2, h3, oa, ob, oc, od, 0)
  storeLanes(h4, h5, h6, h7, oa, ob, oc, od, 16)
}

// @ts-ignore: decorator
@inline function storeLanes(w0: v128, w1: v128, w2: v128, w3: v128, oa: usize, ob: usize, oc: usize, od: usize, at: usize): void {
  const t01lo = i32x4.shuffle(w0, w1, 0, 4, 1, 5), t01hi = i32x4.shuffle(w0, w1, 2, 6, 3, 7)
  const t23lo = i32x4.shuffle(w2, w3, 0, 4, 1, 5), t23hi = i32x4.shuffle(w2, w3, 2, 6, 3, 7)
  v128.store(oa + at, i64x2.shuffle(t01lo, t23lo, 0, 2))
  v128.store(ob + at, i64x2.shuffle(t01lo, t23lo, 1, 3))
  v128.store(oc + at, i64x2.shuffle(t01hi, t23hi, 0, 2))
  v128.store(od + at, i64x2.shuffle(t01hi, t23hi, 1, 3))
}
