import { createRequire } from 'node:module'

import type { CustomCrypto } from '@ethereumjs/common'
import { ecrecover as jsEcrecover, setLengthLeft } from '@ethereumjs/util'
import { secp256k1 as nobleSecp256k1 } from '@noble/curves/secp256k1.js'

/** What secp256k1 public-key recovery runs on: libsecp256k1 through N-API, or pure JS (noble). */
export type EcrecoverBackend = 'libsecp256k1 (native)' | '@noble/curves (js)'

type NativeSecp256k1 = {
  ecdsaRecover(sig: Uint8Array, recid: number, msg32: Uint8Array, compressed: boolean): Uint8Array
  ecdsaSign(msg32: Uint8Array, privateKey: Uint8Array): { signature: Uint8Array; recid: number }
  publicKeyCreate(privateKey: Uint8Array, compressed: boolean): Uint8Array
}

function loadNative(): NativeSecp256k1 | undefined {
  try {
    // The package's `bindings` entry loads the prebuilt N-API addon and throws if it cannot.
    return createRequire(import.meta.url)('secp256k1/bindings') as NativeSecp256k1
  } catch {
    return undefined
  }
}

const native = loadNative()

/** The backend sender recovery and the ECRECOVER precompile use in this process. */
export const ecrecoverBackend: EcrecoverBackend = native ? 'libsecp256k1 (native)' : '@noble/curves (js)'

/**
 * ecrecover with @ethereumjs/util's contract (64-byte public key, no 0x04 prefix; throws on an
 * invalid signature), on libsecp256k1 when its prebuilt addon loads: a production client recovers
 * senders natively, and pure-JS recovery (~1.7 ms) would dwarf everything else measured here.
 */
function nativeEcrecover(msgHash: Uint8Array, v: bigint, r: Uint8Array, s: Uint8Array, chainId?: bigint): Uint8Array {
  const recovery = v === 0n || v === 1n ? v : chainId === undefined ? v - 27n : v - (chainId * 2n + 35n)
  if (recovery !== 0n && recovery !== 1n) throw new Error('Invalid signature v value')
  return publicKeyRecover(msgHash, Number(recovery), r, s)
}

/** The 64-byte public key (no 0x04 prefix) that signed `hash` with (recovery id, r, s); throws if invalid. */
export function publicKeyRecover(hash: Uint8Array, recovery: number, r: Uint8Array, s: Uint8Array): Uint8Array {
  const sig = new Uint8Array(64)
  sig.set(setLengthLeft(r, 32), 0)
  sig.set(setLengthLeft(s, 32), 32)
  if (native) return native.ecdsaRecover(sig, recovery, hash, false).subarray(1)
  return nobleSecp256k1.Signature.fromBytes(sig).addRecoveryBit(recovery).recoverPublicKey(hash).toBytes(false).subarray(1)
}

/**
 * KZG is needed to construct type-3 (blob) transactions, but block RLP carries no blobs, so replay
 * never calls it. The point-evaluation precompile would: it fails loudly rather than guess.
 */
const replayKzg = new Proxy(
  {},
  {
    get(_t, prop) {
      if (prop === 'then') return undefined
      return () => {
        throw new Error(`KZG ${String(prop)} is not available in megabench (no trusted setup is bundled)`)
      }
    },
  },
) as NonNullable<CustomCrypto['kzg']>

/**
 * Signing with @noble/curves' contract for `ecsign` (65 bytes: recovery id, r, s). libsecp256k1 and
 * noble both use RFC 6979 nonces and low-s, so the signatures are identical; native is ~20x faster.
 */
function nativeEcsign(msgHash: Uint8Array, privateKey: Uint8Array): Uint8Array {
  const { signature, recid } = native!.ecdsaSign(msgHash, privateKey)
  const out = new Uint8Array(65)
  out[0] = recid
  out.set(signature, 1)
  return out
}

/** The uncompressed public key (64 bytes, no 0x04 prefix) of a private key. */
export function publicKeyOf(privateKey: Uint8Array): Uint8Array {
  return (native ? native.publicKeyCreate(privateKey, false) : nobleSecp256k1.getPublicKey(privateKey, false)).subarray(1)
}

/** True if `privateKey` is a valid secp256k1 secret (0 < k < n). */
export function isValidPrivateKey(privateKey: Uint8Array): boolean {
  return nobleSecp256k1.utils.isValidSecretKey(privateKey)
}

export function replayCrypto(): CustomCrypto {
  return native
    ? { ecrecover: nativeEcrecover, ecsign: nativeEcsign as CustomCrypto['ecsign'], kzg: replayKzg }
    : { ecrecover: jsEcrecover, kzg: replayKzg }
}
