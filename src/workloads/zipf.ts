import type { Rng } from './rng.js'

/**
 * Samples ranks 1..n with P(k) ∝ 1/k^s (Zipf). s = 0 is uniform. O(1) per sample for any n, by
 * rejection-inversion (W. Hörmann, G. Derflinger, "Rejection-inversion to generate variates from
 * monotone discrete distributions", ACM TOMACS 6(3), 1996), as in Apache Commons RNG.
 */
export class ZipfSampler {
  private readonly hX1: number
  private readonly hN: number
  private readonly sCut: number

  constructor(
    readonly n: number,
    readonly exponent: number,
  ) {
    if (!(Number.isInteger(n) && n >= 1)) throw new RangeError(`Zipf population must be a positive integer, got ${n}`)
    if (!(exponent >= 0 && Number.isFinite(exponent))) throw new RangeError(`Zipf exponent must be >= 0, got ${exponent}`)
    this.hX1 = this.hIntegral(1.5) - 1
    this.hN = this.hIntegral(n + 0.5)
    this.sCut = 2 - this.hIntegralInverse(this.hIntegral(2.5) - this.h(2))
  }

  /** A rank in [1, n]. */
  sample(rng: Rng): number {
    if (this.exponent === 0) return 1 + rng.nextBelow(this.n)
    for (;;) {
      const u = this.hN + rng.nextFloat() * (this.hX1 - this.hN)
      const x = this.hIntegralInverse(u)
      let k = Math.floor(x + 0.5)
      if (k < 1) k = 1
      else if (k > this.n) k = this.n
      if (k - x <= this.sCut || u >= this.hIntegral(k + 0.5) - this.h(k)) return k
    }
  }

  private h(x: number): number {
    return Math.exp(-this.exponent * Math.log(x))
  }

  private hIntegral(x: number): number {
    const logX = Math.log(x)
    return helper2((1 - this.exponent) * logX) * logX
  }

  private hIntegralInverse(x: number): number {
    let t = x * (1 - this.exponent)
    if (t < -1) t = -1
    return Math.exp(helper1(t) * x)
  }
}

/** log1p(x)/x, accurate near 0. */
function helper1(x: number): number {
  return Math.abs(x) > 1e-8 ? Math.log1p(x) / x : 1 - x * (0.5 - x * (1 / 3 - 0.25 * x))
}

/** expm1(x)/x, accurate near 0. */
function helper2(x: number): number {
  return Math.abs(x) > 1e-8 ? Math.expm1(x) / x : 1 + x * 0.5 * (1 + (x * (1 / 3)) * (1 + 0.25 * x))
}

/**
 * A fixed pseudo-random bijection of [0, n): rank r → index (a·r + b) mod n with gcd(a, n) = 1.
 * It decouples popularity from index order, and different roles (senders, recipients, tokens) get
 * different permutations, so the most popular sender is not also the most popular recipient.
 */
export class Permutation {
  private readonly a: number
  private readonly b: number

  constructor(
    readonly n: number,
    rng: Rng,
  ) {
    if (n <= 2) {
      this.a = 1
      this.b = n === 2 ? rng.nextBelow(2) : 0
      return
    }
    let a = 1 + rng.nextBelow(n - 1)
    while (gcd(a, n) !== 1) a = 1 + ((a + 1) % (n - 1))
    this.a = a
    this.b = rng.nextBelow(n)
  }

  /** The index for rank `r` (0-based). a·r < 2^53 for n up to ~9.4e7. */
  at(r: number): number {
    return (((this.a * r) % this.n) + this.b) % this.n
  }
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b]
  return a
}
