import { createRequire } from 'node:module'

import type { CustomCrypto } from '@ethereumjs/common'
import { ecrecover as jsEcrecover, setLengthLeft } from '@ethereumjs/util'

/** What secp256k1 public-key recovery runs on: libsecp256k1 through N-API, or pure JS (noble). */
export type EcrecoverBackend = 'libsecp256k1 (native)' | '@noble/curves (js)'

type NativeSecp256k1 = {
  ecdsaRecover(sig: Uint8Array, recid: number, msg32: Uint8Array, compressed: boolean): Uint8Array
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
  const sig = new Uint8Array(64)
  sig.set(setLengthLeft(r, 32), 0)
  sig.set(setLengthLeft(s, 32), 32)
  return native!.ecdsaRecover(sig, Number(recovery), msgHash, false).subarray(1)
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

export function replayCrypto(): CustomCrypto {
  return { ecrecover: native ? nativeEcrecover : jsEcrecover, kzg: replayKzg }
}
