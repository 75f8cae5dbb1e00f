/**
 * secp256k1 public-key recovery for every layer (sender recovery, the ECRECOVER precompile, EIP-7702
 * authorities): libsecp256k1 through its prebuilt N-API addon when it loads, else @noble/curves.
 */
import { createRequire } from 'node:module'

import { setLengthLeft } from '@ethereumjs/util'
import { secp256k1 as nobleSecp256k1 } from '@noble/curves/secp256k1.js'

/** What secp256k1 public-key recovery runs on: libsecp256k1 through N-API, or pure JS (noble). */
export type EcrecoverBackend = 'libsecp256k1 (native)' | '@noble/curves (js)'

export type NativeSecp256k1 = {
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

/** The native addon, if it loaded in this process. */
export const nativeSecp256k1 = loadNative()

/** The backend sender recovery and the ECRECOVER precompile use in this process. */
export const ecrecoverBackend: EcrecoverBackend = nativeSecp256k1 ? 'libsecp256k1 (native)' : '@noble/curves (js)'

/** The 64-byte public key (no 0x04 prefix) that signed `hash` with (recovery id, r, s); throws if invalid. */
export function publicKeyRecover(hash: Uint8Array, recovery: number, r: Uint8Array, s: Uint8Array): Uint8Array {
  const sig = new Uint8Array(64)
  sig.set(setLengthLeft(r, 32), 0)
  sig.set(setLengthLeft(s, 32), 32)
  if (nativeSecp256k1) return nativeSecp256k1.ecdsaRecover(sig, recovery, hash, false).subarray(1)
  return nobleSecp256k1.Signature.fromBytes(sig).addRecoveryBit(recovery).recoverPublicKey(hash).toBytes(false).subarray(1)
}
