import { UsageError } from '../errors/index.js'

/**
 * A count with an optional k/M/G suffix (powers of 1000) and `_` or `,` separators:
 * "10M" → 10,000,000; "1_000" → 1000; "2.5k" → 2500. Must come out a whole number.
 */
export function parseCount(flag: string) {
  return (text: string): number => {
    const m = /^\s*([0-9][0-9_,]*(?:\.[0-9]+)?)\s*([kKmMgG]?)\s*$/.exec(text)
    const factor = { '': 1, k: 1e3, m: 1e6, g: 1e9 }[m?.[2]?.toLowerCase() ?? ''] ?? Number.NaN
    const value = m ? Number(m[1]!.replaceAll(/[_,]/g, '')) * factor : Number.NaN
    if (!Number.isSafeInteger(value)) throw new UsageError(`${flag} expects a whole number such as 1000, 10k or 10M (got ${JSON.stringify(text)})`)
    return value
  }
}

/** A non-negative decimal number. */
export function parseNumber(flag: string) {
  return (text: string): number => {
    const v = Number(text)
    if (text.trim() === '' || !Number.isFinite(v)) throw new UsageError(`${flag} expects a number (got ${JSON.stringify(text)})`)
    return v
  }
}

/** --miss-latency (µs per level-2 miss, replay's disk model and sweep --bind model) checked and in ns. */
export function missLatencyNs(us: number | undefined): number | undefined {
  if (us === undefined) return undefined
  if (!(Number.isFinite(us) && us >= 0)) throw new UsageError(`--miss-latency must be a number of µs >= 0 (got ${us})`)
  return us * 1000
}

/** "eth=30,erc20=25,swap=45" → { eth: 30, erc20: 25, swap: 45 } (missing kinds are 0). */
export function parseMix(text: string): { eth: number; erc20: number; swap: number } {
  const mix = { eth: 0, erc20: 0, swap: 0 }
  for (const part of text.split(',')) {
    const [k, v] = part.split('=').map((s) => s.trim())
    if (k === undefined || v === undefined || !(k in mix) || !Number.isFinite(Number(v))) {
      throw new UsageError(`--mix expects kind=percent pairs of eth, erc20, swap (got ${JSON.stringify(text)})`)
    }
    mix[k as keyof typeof mix] = Number(v)
  }
  return mix
}
