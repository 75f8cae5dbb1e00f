import { keccak_256 } from '@noble/hashes/sha3.js'
import { type IHasher, createKeccak } from 'hash-wasm'

let wasm: IHasher | undefined

/**
 * Loads the WebAssembly keccak (hash-wasm): ~8x faster than @noble/hashes here, which matters when
 * hashing tens of millions of keys and nodes for a large genesis. Idempotent; until it resolves,
 * `keccak256` uses @noble/hashes (same results).
 */
export async function initKeccak(): Promise<void> {
  wasm ??= await createKeccak(256)
}

/** keccak256 of `data` (a fresh 32-byte array). */
export function keccak256(data: Uint8Array): Uint8Array {
  if (wasm === undefined) return keccak_256(data)
  wasm.init()
  wasm.update(data)
  return wasm.digest('binary')
}
