/**
 * EIP-7685 execution-layer requests (Prague and later), shared by the fast EVM and the baseline
 * engine: EIP-6110 deposits parsed from the deposit contract's logs, and the requests commitment.
 * (The EIP-7002 / EIP-7251 requests are the return data of post-block system calls: block.ts here,
 * executeBlock.ts in the baseline.)
 */
import { genRequestsRoot } from '@ethereumjs/block'
import { CLRequest, type CLRequestType, bytesToBigInt, concatBytes } from '@ethereumjs/util'
import { sha256 } from '@noble/hashes/sha2.js'

/** keccak256("DepositEvent(bytes,bytes,bytes,bytes,bytes)"): the deposit contract's log topic. */
export const DEPOSIT_TOPIC = '0x649bbc62d0e31342afea4e5cd82d4049e7e1ee912fc0889aa790803be39038c5'
/** The mainnet (and Hoodi) deposit contract, when the chain config names none. */
export const DEFAULT_DEPOSIT_CONTRACT = '0x00000000219ab540356cbb839cbe05303d7705fa'

/** EIP-6110: a DepositEvent's data (576 bytes, ABI layout fixed by the deposit contract) → pubkey ‖ credentials ‖ amount ‖ signature ‖ index. */
export function parseDepositLog(data: Uint8Array): Uint8Array {
  const layout: [offset: number, size: number][] = [
    [160, 48],
    [256, 32],
    [320, 8],
    [384, 96],
    [512, 8],
  ]
  const invalid = () => new Error('invalid deposit log: unsupported data layout')
  if (data.length !== 576) throw invalid()
  const parts: Uint8Array[] = []
  layout.forEach(([offset, size], i) => {
    if (bytesToBigInt(data.subarray(i * 32, i * 32 + 32)) !== BigInt(offset)) throw invalid()
    if (bytesToBigInt(data.subarray(offset, offset + 32)) !== BigInt(size)) throw invalid()
    parts.push(data.subarray(offset + 32, offset + 32 + size))
  })
  return concatBytes(...parts)
}

/** The EIP-7685 commitment (sha256 over the hashes of the non-empty requests, type byte ‖ data each). */
export function requestsHash(requests: readonly { type: CLRequestType; data: Uint8Array }[], hash: (b: Uint8Array) => Uint8Array = sha256): Uint8Array {
  return genRequestsRoot(
    requests.map((r) => new CLRequest(r.type, r.data)),
    hash,
  )
}
