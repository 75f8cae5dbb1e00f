import { bytesToHex } from '@ethereumjs/util'

export { bytesToHex }

/** `0x`-prefixed hex of a bigint quantity (no leading zeros), as JSON-RPC writes quantities. */
export function quantityToHex(value: bigint): string {
  return `0x${value.toString(16)}`
}
