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
  return hexSlice !== undefined ? hexSlice.call(bytes, 0, bytes.byteLength) : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
}

/**
 * Node's native hex encoder as Buffer's methods call it, applied to a plain Uint8Array: no Buffer object is
 * made per conversion (160 vs 310 ns for 20 bytes on this VM). Not in Node's documented API, so `hexOf`
 * falls back to `Buffer.from(…).toString('hex')` where it is missing; test/hex.test.ts checks both agree.
 */
const hexSlice = (Buffer.prototype as unknown as { hexSlice?: (this: Uint8Array, start: number, end: number) => string }).hexSlice

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
