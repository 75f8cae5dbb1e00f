import { utf8ToBytes } from '@ethereumjs/util'
import { keccak256 } from '../util/keccak.js'

import { isValidPrivateKey, publicKeyOf } from '../chain/crypto.js'

/**
 * The bulk accounts of a generated chain, derived from a seed so that a genesis of millions of
 * accounts is described by three numbers:
 *   - accounts 0 … senders−1 have private keys: key(i) = keccak256("megabench/key/<seed>/<i>")
 *     (re-hashed in the negligible case it is not a valid secp256k1 secret); they send transactions;
 *   - accounts senders … count−1 are dormant holders of ETH that only receive:
 *     address(i) = keccak256(keccak256("megabench/addr/<seed>") ‖ uint32be(i))[12:].
 */
export class AccountSet {
  /** keccak256("megabench/addr/<seed>") followed by room for the index. */
  private readonly addrPreimage: Uint8Array

  constructor(
    readonly count: number,
    readonly senders: number,
    readonly seed: string,
  ) {
    if (senders > count) throw new RangeError(`senders (${senders}) cannot exceed accounts (${count})`)
    if (count > 0xffffffff) throw new RangeError(`at most 2^32 − 1 accounts (got ${count})`)
    this.addrPreimage = new Uint8Array(36)
    this.addrPreimage.set(keccak256(utf8ToBytes(`megabench/addr/${seed}`)), 0)
  }

  /** Private key of sender `i` (i < senders). */
  privateKey(i: number): Uint8Array {
    if (i < 0 || i >= this.senders) throw new RangeError(`account ${i} is not a sender`)
    let k = keccak256(utf8ToBytes(`megabench/key/${this.seed}/${i}`))
    while (!isValidPrivateKey(k)) k = keccak256(k)
    return k
  }

  /** Address of account `i`. */
  address(i: number): Uint8Array {
    if (i < 0 || i >= this.count) throw new RangeError(`account ${i} out of range`)
    if (i < this.senders) return keccak256(publicKeyOf(this.privateKey(i))).subarray(12)
    const p = this.addrPreimage
    p[32] = i >>> 24
    p[33] = (i >>> 16) & 0xff
    p[34] = (i >>> 8) & 0xff
    p[35] = i & 0xff
    return keccak256(p).subarray(12)
  }

  /** All addresses, 20 bytes each, back to back (for building a genesis). */
  allAddresses(onProgress?: (done: number) => void): Uint8Array {
    const out = new Uint8Array(this.count * 20)
    for (let i = 0; i < this.count; i++) {
      out.set(this.address(i), i * 20)
      if (onProgress !== undefined && (i & 0xffff) === 0xffff) onProgress(i + 1)
    }
    return out
  }
}

/** The `megabench-v1` balance of a dormant account, from keccak256(address). */
export function dormantBalance(addressHash: Uint8Array): bigint {
  const u32 = ((addressHash[0]! << 24) | (addressHash[1]! << 16) | (addressHash[2]! << 8) | addressHash[3]!) >>> 0
  return (1n + BigInt(u32 % 1_000_000)) * 1_000_000_000_000n
}
