import { bytesToHex } from '@ethereumjs/util'

export { bytesToHex }

/** `0x`-prefixed hex of a bigint quantity (no leading zeros), as JSON-RPC writes quantities. */
export function quantityToHex(value: bigint): string {
  return `0x${value.toString(16)}`
}

/**
 * Lowercase hex of `bytes` without 0x, as one flat string (Buffer's native encoder). @noble's bytesToHex,
 * which @ethereumjs/util's bytesToHex and bytesToUnprefixedHex are, appends two digits at a time: a chain
 * of ~32 cons strings for 32 bytes (~1 KB in V8's heap) that a Map or Set keeps as it is. Use this for
 * strings that are kept (map keys, cache keys).
 */
export function hexOf(bytes: Uint8Array): string {
  return hexRange(bytes, 0, bytes.byteLength)
}

/** Lowercase hex of `bytes[start, end)` without 0x, as one flat string, with no view made. */
export function hexRange(bytes: Uint8Array, start: number, end: number): string {
  return hexSlice !== undefined ? hexSlice.call(bytes, start, end) : Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('hex')
}

/**
 * Bytes of an even-length hex string without 0x (as `Buffer.from(h, 'hex')`: decoding stops at the first
 * pair that is not hex, and the result is that long), as a plain Uint8Array of its own.
 */
export function bytesOfHex(h: string): Uint8Array {
  if (hexWrite !== undefined) {
    const out = new Uint8Array(h.length >> 1)
    if (hexWrite.call(out, h, 0, out.length) === out.length) return out
  }
  return new Uint8Array(Buffer.from(h, 'hex'))
}

/**
 * Writes the even-length hex string `h` (no 0x) into `out` at `at`; returns the bytes written (fewer than
 * `h.length / 2` if a pair is not hex).
 */
export function writeHex(out: Uint8Array, at: number, h: string): number {
  if (hexWrite !== undefined) return hexWrite.call(out, h, at, h.length >> 1)
  const b = Buffer.from(h, 'hex')
  out.set(b, at)
  return b.length
}

/**
 * Node's native hex codec as Buffer's methods call it, applied to a plain Uint8Array: no Buffer object is
 * made per conversion (160 vs 310 ns to encode 20 bytes on this VM; to decode 32 into an array, 200 vs 275
 * ns). Not in Node's documented API, so each use falls back to `Buffer.from` where it is missing;
 * test/hex.test.ts checks both agree.
 */
type HexCodec = {
  hexSlice?: (this: Uint8Array, start: number, end: number) => string
  hexWrite?: (this: Uint8Array, h: string, offset: number, length: number) => number
}
const hexSlice = (Buffer.prototype as unknown as HexCodec).hexSlice
const hexWrite = (Buffer.prototype as unknown as HexCodec).hexWrite

/** A side effect of the conversion in `flatString`, so that the compiler never drops it as dead code. */
let flattened = 0

/**
 * `s` as a flat (sequential) string: V8 flattens a cons string in place when converting it to a number,
 * and the chain's pieces become garbage. Returns `s` itself; for strings built elsewhere that are kept.
 */
export function flatString(s: string): string {
  if (Number.isNaN(Number(s))) flattened++
  return s
}
