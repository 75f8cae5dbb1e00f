/**
 * RLP headers written straight into a buffer, for encoders that size their output first (the streaming
 * trie builder's nodes, the fast EVM's receipts): the header's length and the header itself.
 */

/** Number of bytes needed to write `length` big-endian (0 for 0). */
function byteLengthOf(length: number): number {
  let bytes = 0
  while (length > 0) {
    bytes++
    length = Math.floor(length / 256)
  }
  return bytes
}

/** Size of the RLP header (string or list) that announces a payload of `length` bytes. */
export function rlpHeaderLength(length: number): number {
  return length < 56 ? 1 : 1 + byteLengthOf(length)
}

/**
 * Writes an RLP header for a payload of `length` bytes and returns the offset after it. `shortBase` is 0x80
 * for a string or 0xc0 for a list; long payloads use `shortBase + 55 + bytes of length` (0xb7+ / 0xf7+).
 */
export function writeRlpHeader(buf: Uint8Array, offset: number, length: number, shortBase: number): number {
  if (length < 56) {
    buf[offset] = shortBase + length
    return offset + 1
  }
  const lengthBytes = byteLengthOf(length)
  buf[offset] = shortBase + 55 + lengthBytes
  for (let i = lengthBytes; i > 0; i--) {
    buf[offset + i] = length & 0xff
    length = Math.floor(length / 256)
  }
  return offset + 1 + lengthBytes
}

/** Encoded length of a byte string (a single byte below 0x80 is its own encoding). */
export function rlpStringLength(b: Uint8Array): number {
  if (b.length === 1 && b[0]! < 0x80) return 1
  return rlpHeaderLength(b.length) + b.length
}

/** Encoded length of a list whose items take `payload` bytes. */
export function rlpListLength(payload: number): number {
  return rlpHeaderLength(payload) + payload
}

/** Writes a list header for `payload` bytes of items; returns the offset after it. */
export function writeRlpListHeader(out: Uint8Array, o: number, payload: number): number {
  return writeRlpHeader(out, o, payload, 0xc0)
}

/** Writes the byte string `b` RLP-encoded; returns the offset after it. */
export function writeRlpString(out: Uint8Array, o: number, b: Uint8Array): number {
  if (b.length === 1 && b[0]! < 0x80) {
    out[o] = b[0]!
    return o + 1
  }
  o = writeRlpHeader(out, o, b.length, 0x80)
  out.set(b, o)
  return o + b.length
}
