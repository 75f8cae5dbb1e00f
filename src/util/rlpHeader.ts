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
