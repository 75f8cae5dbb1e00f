// Keccak-256 (Ethereum's keccak: the original padding 0x01 … 0x80, not SHA3's) in AssemblyScript, for
// src/util/keccak.ts: one call per hash, the input already in this module's memory, the state in 25 locals
// (Keccak-f[1600] unrolled per round; the round body is generated, see the note at the end). hash-wasm's
// keccak costs three calls across the boundary per hash (init, update, digest) and its wrapper's checks.
// Built by `npm run build:wasm` (scripts/build-wasm.mjs) into src/util/keccakWasm.ts; checked against
// @noble/hashes when loaded and by test/keccak.test.ts.
// Memory: 0…1023 is this module's scratch (the round constants at RC, a padded final block at PAD); the
// caller's data starts at heapBase() (no static data: --memoryBase 1024, no allocations).
const RC: usize = 0 // 24 × u64
const PAD: usize = 256 // 136 bytes
const RATE: i32 = 136

/** Writes the round constants (call once after instantiating). */
export function init(): void {
  // The iota constants, from the LFSR x^8 + x^6 + x^5 + x^4 + 1 (FIPS 202, rc(t)).
  let lfsr: u32 = 1
  for (let r = 0; r < 24; r++) {
    let c: u64 = 0
    for (let j = 0; j < 7; j++) {
      if ((lfsr & 1) !== 0) c |= (<u64>1) << ((<u64>1 << <u64>j) - 1)
      lfsr = (lfsr & 0x80) !== 0 ? ((lfsr << 1) ^ 0x71) & 0xff : (lfsr << 1) & 0xff
    }
    store<u64>(RC + (<usize>r << 3), c)
  }
}

/** Where the caller's memory may start. */
export function heapBase(): usize {
  return __heap_base
}

/** keccak256 of memory [src, src + len) → [out, out + 32). */
export function keccak(src: usize, len: i32, out: usize): void {
  let a0: u64 = 0
  let a1: u64 = 0
  let a2: u64 = 0
  let a3: u64 = 0
  let a4: u64 = 0
  let a5: u64 = 0
  let a6: u64 = 0
  let a7: u64 = 0
  let a8: u64 = 0
  let a9: u64 = 0
  let a10: u64 = 0
  let a11: u64 = 0
  let a12: u64 = 0
  let a13: u64 = 0
  let a14: u64 = 0
  let a15: u64 = 0
  let a16: u64 = 0
  let a17: u64 = 0
  let a18: u64 = 0
  let a19: u64 = 0
  let a20: u64 = 0
  let a21: u64 = 0
  let a22: u64 = 0
  let a23: u64 = 0
  let a24: u64 = 0
  let off = src
  let rem = len
  let last = false
  while (true) {
    let blk: usize = off
    if (rem >= RATE) {
      off += <usize>RATE
      rem -= RATE
    } else {
      memory.fill(PAD, 0, <usize>RATE)
      memory.copy(PAD, off, <usize>rem)
      store<u8>(PAD + <usize>rem, load<u8>(PAD + <usize>rem) ^ 0x01)
      store<u8>(PAD + <usize>(RATE - 1), load<u8>(PAD + <usize>(RATE - 1)) ^ 0x80)
      blk = PAD
      last = true
    }
    a0 ^= load<u64>(blk, 0)
    a1 ^= load<u64>(blk, 8)
    a2 ^= load<u64>(blk, 16)
    a3 ^= load<u64>(blk, 24)
    a4 ^= load<u64>(blk, 32)
    a5 ^= load<u64>(blk, 40)
    a6 ^= load<u64>(blk, 48)
    a7 ^= load<u64>(blk, 56)
    a8 ^= load<u64>(blk, 64)
    a9 ^= load<u64>(blk, 72)
    a10 ^= load<u64>(blk, 80)
    a11 ^= load<u64>(blk, 88)
    a12 ^= load<u64>(blk, 96)
    a13 ^= load<u64>(blk, 104)
    a14 ^= load<u64>(blk, 112)
    a15 ^= load<u64>(blk, 120)
    a16 ^= load<u64>(blk, 128)
    for (let r = 0; r < 24; r++) {
      const c0 = a0 ^ a5 ^ a10 ^ a15 ^ a20
      const c1 = a1 ^ a6 ^ a11 ^ a16 ^ a21
      const c2 = a2 ^ a7 ^ a12 ^ a17 ^ a22
      const c3 = a3 ^ a8 ^ a13 ^ a18 ^ a23
      const c4 = a4 ^ a9 ^ a14 ^ a19 ^ a24
      const d0 = c4 ^ rotl<u64>(c1, 1)
      const d1 = c0 ^ rotl<u64>(c2, 1)
      const d2 = c1 ^ rotl<u64>(c3, 1)
      const d3 = c2 ^ rotl<u64>(c4, 1)
      const d4 = c3 ^ rotl<u64>(c0, 1)
      const b0 = (a0 ^ d0)
      const b1 = rotl<u64>(a6 ^ d1, 44)
      const b2 = rotl<u64>(a12 ^ d2, 43)
      const b3 = rotl<u64>(a18 ^ d3, 21)
      const b4 = rotl<u64>(a24 ^ d4, 14)
      const b5 = rotl<u64>(a3 ^ d3, 28)
      const b6 = rotl<u64>(a9 ^ d4, 20)
      const b7 = rotl<u64>(a10 ^ d0, 3)
      const b8 = rotl<u64>(a16 ^ d1, 45)
      const b9 = rotl<u64>(a22 ^ d2, 61)
      const b10 = rotl<u64>(a1 ^ d1, 1)
      const b11 = rotl<u64>(a7 ^ d2, 6)
      const b12 = rotl<u64>(a13 ^ d3, 25)
      const b13 = rotl<u64>(a19 ^ d4, 8)
      const b14 = rotl<u64>(a20 ^ d0, 18)
      const b15 = rotl<u64>(a4 ^ d4, 27)
      const b16 = rotl<u64>(a5 ^ d0, 36)
      const b17 = rotl<u64>(a11 ^ d1, 10)
      const b18 = rotl<u64>(a17 ^ d2, 15)
      const b19 = rotl<u64>(a23 ^ d3, 56)
      const b20 = rotl<u64>(a2 ^ d2, 62)
      const b21 = rotl<u64>(a8 ^ d3, 55)
      const b22 = rotl<u64>(a14 ^ d4, 39)
      const b23 = rotl<u64>(a15 ^ d0, 41)
      const b24 = rotl<u64>(a21 ^ d1, 2)
      a0 = b0 ^ (~b1 & b2)
      a1 = b1 ^ (~b2 & b3)
      a2 = b2 ^ (~b3 & b4)
      a3 = b3 ^ (~b4 & b0)
      a4 = b4 ^ (~b0 & b1)
      a5 = b5 ^ (~b6 & b7)
      a6 = b6 ^ (~b7 & b8)
      a7 = b7 ^ (~b8 & b9)
      a8 = b8 ^ (~b9 & b5)
      a9 = b9 ^ (~b5 & b6)
      a10 = b10 ^ (~b11 & b12)
      a11 = b11 ^ (~b12 & b13)
      a12 = b12 ^ (~b13 & b14)
      a13 = b13 ^ (~b14 & b10)
      a14 = b14 ^ (~b10 & b11)
      a15 = b15 ^ (~b16 & b17)
      a16 = b16 ^ (~b17 & b18)
      a17 = b17 ^ (~b18 & b19)
      a18 = b18 ^ (~b19 & b15)
      a19 = b19 ^ (~b15 & b16)
      a20 = b20 ^ (~b21 & b22)
      a21 = b21 ^ (~b22 & b23)
      a22 = b22 ^ (~b23 & b24)
      a23 = b23 ^ (~b24 & b20)
      a24 = b24 ^ (~b20 & b21)
      a0 ^= load<u64>(RC + (<usize>r << 3))

    }
    if (last) break
  }
  store<u64>(out, a0)
  store<u64>(out, a1, 8)
  store<u64>(out, a2, 16)
  store<u64>(out, a3, 24)
}

// The round body: for lanes a[x + 5y], θ (c, d), ρ and π (b[y + 5((2x + 3y) mod 5)] = rotl(a[x + 5y] ^ d[x],
// R[x][y]) with R = [[0,36,3,41,18],[1,44,10,45,2],[62,6,43,15,61],[28,55,25,21,56],[27,20,39,8,14]]), χ, ι.
