/**
 * Precompiles for the fast EVM: @ethereumjs/evm's implementations (0x01-0x09), called synchronously
 * with a Common at the fork's hardfork for their gas parameters; 0x0a (KZG point evaluation) is
 * re-implemented synchronously over the Common's KZG, as ethereumjs's own is async.
 */
import { Common, Mainnet } from '@ethereumjs/common'
import { type PrecompileInput, getActivePrecompiles, NobleBN254, paramsEVM } from '@ethereumjs/evm'
import { bytesToHex, computeVersionedHash, setLengthLeft, bigIntToBytes, concatBytes } from '@ethereumjs/util'

import { KzgUnavailable, replayCrypto } from '../engines/baseline/crypto.js'
import { type Fork, type Rules } from './forks.js'
import type { CallResult } from './interpreter.js'

export type PrecompileFn = (data: Uint8Array, gas: number) => CallResult
export type Precompiles = Map<string, PrecompileFn>

const EMPTY = new Uint8Array(0)
const cache = new Map<Fork, Precompiles>()
const BLS_MODULUS = BigInt('52435875175126190479447740508185965837690552500527637822603658699938581184513')

/** The ethereumjs hardfork name of a fast-EVM fork. */
export function ethereumjsName(f: Fork): string {
  return f === 'frontier' ? 'chainstart' : f
}

/** The fast-EVM fork of an ethereumjs hardfork name (undefined for forks it does not run). */
export function forkOfEthereumjs(name: string): Fork | undefined {
  if (name === 'chainstart') return 'frontier'
  if (name === 'mergeNetsplitBlock' || name === 'mergeForkIdTransition') return 'grayGlacier'
  const forks: readonly string[] = ['homestead', 'dao', 'tangerineWhistle', 'spuriousDragon', 'byzantium', 'constantinople', 'petersburg', 'istanbul', 'muirGlacier', 'berlin', 'london', 'arrowGlacier', 'grayGlacier', 'paris', 'shanghai', 'cancun']
  return forks.includes(name) ? (name as Fork) : undefined
}

export function precompilesFor(r: Rules): Precompiles {
  let m = cache.get(r.fork)
  if (m !== undefined) return m
  m = new Map()
  const common = new Common({ chain: Mainnet, hardfork: ethereumjsName(r.fork), customCrypto: replayCrypto(), params: paramsEVM })
  const fake = { _bn254: new NobleBN254() } as unknown as PrecompileInput['_EVM']
  const active = getActivePrecompiles(common)
  for (let i = 1; i <= r.precompiles; i++) {
    const addr = i.toString(16).padStart(40, '0')
    if (i === 0x0a) {
      m.set(addr, (data, gas) => pointEvaluation(common, data, gas))
      continue
    }
    const fn = active.get(addr)
    if (fn === undefined) throw new Error(`precompile ${addr} missing for ${r.fork}`)
    m.set(addr, (data, gas) => {
      const res = fn({ data, gasLimit: BigInt(gas), common, _EVM: fake })
      if (res instanceof Promise) throw new Error(`precompile ${addr} is async`)
      if (res.exceptionError !== undefined) return { status: 2, gasLeft: 0, output: EMPTY }
      return { status: 0, gasLeft: gas - Number(res.executionGasUsed), output: res.returnValue }
    })
  }
  cache.set(r.fork, m)
  return m
}

function pointEvaluation(common: Common, data: Uint8Array, gas: number): CallResult {
  const fail: CallResult = { status: 2, gasLeft: 0, output: EMPTY }
  if (gas < 50000) return fail
  if (data.length !== 192) return fail
  const versioned = bytesToHex(data.subarray(0, 32))
  const commitment = bytesToHex(data.subarray(96, 144))
  if (computeVersionedHash(commitment, 1) !== versioned) return fail
  const kzg = common.customCrypto.kzg
  if (kzg === undefined) throw new Error('KZG is not available (point evaluation precompile)')
  try {
    if (!kzg.verifyProof(commitment, bytesToHex(data.subarray(32, 64)), bytesToHex(data.subarray(64, 96)), bytesToHex(data.subarray(144, 192)))) return fail
  } catch (err) {
    if (err instanceof KzgUnavailable || (err as Error).message.includes('not available')) throw err
    return fail
  }
  return { status: 0, gasLeft: gas - 50000, output: concatBytes(setLengthLeft(bigIntToBytes(4096n), 32), setLengthLeft(bigIntToBytes(BLS_MODULUS), 32)) }
}
