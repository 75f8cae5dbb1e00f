import { bytesToHex, hexToBytes } from '@ethereumjs/util'

import { keccak256 } from '../util/keccak.js'

const cache = new Map<string, string>()

/** keccak256 of a 0x-hex address or slot, as 0x-hex (the state's hashed key); memoised, bounded. */
export function keccakHex(hex: string): string {
  let h = cache.get(hex)
  if (h === undefined) {
    if (cache.size > 1_000_000) cache.clear()
    h = bytesToHex(keccak256(hexToBytes(hex as `0x${string}`)))
    cache.set(hex, h)
  }
  return h
}
