/**
 * A small deterministic PRNG (xoshiro128**, seeded through splitmix32) for workload generation.
 * Pure 32-bit integer arithmetic: the same seed gives the same sequence on every platform.
 */
export class Rng {
  private s0: number
  private s1: number
  private s2: number
  private s3: number

  /** `seed` is any string (e.g. "42" or "42/senders"): derived streams get independent sequences. */
  constructor(seed: string) {
    let h = 0x811c9dc5 // FNV-1a over the seed's UTF-16 code units
    for (let i = 0; i < seed.length; i++) {
      h ^= seed.charCodeAt(i)
      h = Math.imul(h, 0x01000193) >>> 0
    }
    const next = () => {
      h = (h + 0x9e3779b9) | 0 // splitmix32
      let z = h
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
      return (z ^ (z >>> 16)) >>> 0
    }
    this.s0 = next()
    this.s1 = next()
    this.s2 = next()
    this.s3 = next()
  }

  /** Uniform 32-bit unsigned integer. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0
    const t = this.s1 << 9
    this.s2 ^= this.s0
    this.s3 ^= this.s1
    this.s1 ^= this.s2
    this.s0 ^= this.s3
    this.s2 ^= t
    this.s3 = rotl(this.s3, 11)
    return result
  }

  /** Uniform float in [0, 1) with 53 random bits. */
  nextFloat(): number {
    const hi = this.nextU32() >>> 5 // 27 bits
    const lo = this.nextU32() >>> 6 // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992
  }

  /** Uniform integer in [0, n), unbiased, for 1 <= n <= 2^32. */
  nextBelow(n: number): number {
    if (!(n >= 1 && n <= 4294967296 && Number.isInteger(n))) throw new RangeError(`nextBelow(${n})`)
    const limit = 4294967296 - (4294967296 % n)
    for (;;) {
      const x = this.nextU32()
      if (x < limit) return x % n
    }
  }

  /** Uniform bigint in [lo, hi] (inclusive), for ranges below 2^53. */
  nextBigIntBetween(lo: bigint, hi: bigint): bigint {
    const span = Number(hi - lo) + 1
    return lo + BigInt(Math.floor(this.nextFloat() * span))
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k))
}
