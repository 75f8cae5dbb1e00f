/**
 * Precompiles for the fast EVM: @ethereumjs/evm's implementations (0x01-0x09, P256VERIFY 0x100),
 * called synchronously with a Common at the fork's hardfork for their gas parameters (MODEXP's
 * EIP-7823 bounds and EIP-7883 pricing come with Osaka's); 0x0a (KZG point evaluation) and the
 * EIP-2537 BLS12-381 precompiles (0x0b-0x11) are re-implemented synchronously around the same
 * backends (the Common's KZG; @ethereumjs's NobleBLS on @noble/curves), as ethereumjs's own are async.
 * Time spent in them is counted in `precompileTimes` when `timePrecompiles` is on (benchmarks).
 */
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'

import { Common, Mainnet } from '@ethereumjs/common'
import { type PrecompileInput, getActivePrecompiles, NobleBLS, NobleBN254, paramsEVM } from '@ethereumjs/evm'
import { bytesToHex, computeVersionedHash, setLengthLeft, bigIntToBytes, concatBytes } from '@ethereumjs/util'

import { KzgUnavailable, replayCrypto } from '../chain/crypto.js'
import { FORKS, type Fork, type Rules } from './forks.js'
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
  const forks: readonly string[] = FORKS.slice(1)
  return forks.includes(name) ? (name as Fork) : undefined
}

/** Per precompile address (bare hex): calls and milliseconds, while `timePrecompiles.on` (benchmarks). */
export const precompileTimes = new Map<string, { calls: number; ms: number }>()
export const timePrecompiles = { on: false }

function timed(addr: string, fn: PrecompileFn): PrecompileFn {
  return (data, gas) => {
    if (!timePrecompiles.on) return fn(data, gas)
    const t0 = performance.now()
    try {
      return fn(data, gas)
    } finally {
      const t = precompileTimes.get(addr) ?? { calls: 0, ms: 0 }
      t.calls++
      t.ms += performance.now() - t0
      precompileTimes.set(addr, t)
    }
  }
}

const P256VERIFY = '0000000000000000000000000000000000000100'

export function precompilesFor(r: Rules): Precompiles {
  let m = cache.get(r.fork)
  if (m !== undefined) return m
  m = new Map()
  const common = new Common({ chain: Mainnet, hardfork: ethereumjsName(r.fork), customCrypto: replayCrypto(), params: paramsEVM })
  const fake = { _bn254: new NobleBN254() } as unknown as PrecompileInput['_EVM']
  const active = getActivePrecompiles(common)
  const addrs: string[] = []
  for (let i = 1; i <= r.precompiles; i++) addrs.push(i.toString(16).padStart(40, '0'))
  if (r.osaka) addrs.push(P256VERIFY)
  for (const addr of addrs) {
    const i = parseInt(addr, 16)
    if (i === 0x0a) {
      m.set(addr, timed(addr, (data, gas) => pointEvaluation(common, data, gas)))
      continue
    }
    const bls = i >= 0x0b && i <= 0x11 ? blsPrecompiles(common)[i] : undefined
    if (bls !== undefined) {
      m.set(addr, timed(addr, bls))
      continue
    }
    const fn = active.get(addr)
    if (fn === undefined) throw new Error(`precompile ${addr} missing for ${r.fork}`)
    m.set(
      addr,
      timed(addr, (data, gas) => {
        const res = fn({ data, gasLimit: BigInt(gas), common, _EVM: fake })
        if (res instanceof Promise) throw new Error(`precompile ${addr} is async`)
        if (res.exceptionError !== undefined) return { status: 2, gasLeft: 0, output: EMPTY }
        return { status: 0, gasLeft: gas - Number(res.executionGasUsed), output: res.returnValue }
      }),
    )
  }
  cache.set(r.fork, m)
  return m
}

// ---------------------------------------------------------------------------------------------
// EIP-2537 BLS12-381 precompiles: the checks, gas and order of @ethereumjs/evm 10.1.3's 0x0b-0x11
// (whose functions are async), synchronously, over its NobleBLS backend. The MSM discount tables
// are @ethereumjs/evm's own (EIP-2537's), read from its CommonJS build: its package exports hide them.

type DiscountTable = [number, number][]
const evmDir = dirname(createRequire(import.meta.url).resolve('@ethereumjs/evm'))
const blsConstants = createRequire(import.meta.url)(join(evmDir, 'precompiles/bls12_381/constants.js')) as { BLS_GAS_DISCOUNT_PAIRS_G1: DiscountTable; BLS_GAS_DISCOUNT_PAIRS_G2: DiscountTable }
let noble: NobleBLS | undefined
const blsBackend = (): NobleBLS => (noble ??= new NobleBLS())
const fail = (): CallResult => ({ status: 2, gasLeft: 0, output: EMPTY })

/** EIP-2537: the top 16 bytes of every 64-byte field element are zero (`starts`: offsets of the elements within each `stride`). */
function leadingZeros(data: Uint8Array, starts: readonly number[], stride: number): boolean {
  for (let base = 0; base < data.length; base += stride) {
    for (const s of starts) for (let i = base + s; i < base + s + 16; i++) if (data[i] !== 0) return false
  }
  return true
}

function msmGas(pairs: number, perPair: number, table: DiscountTable): number {
  if (pairs === 0) return 0
  const discount = pairs <= table.length ? table[pairs - 1]![1] : table[table.length - 1]![1]
  return Number((BigInt(pairs) * BigInt(perPair) * BigInt(discount)) / 1000n)
}

/** One BLS precompile: its gas for the input (or -1: fail before the gas check), the input's validity, the operation. */
function blsPrecompile(gasOf: (data: Uint8Array) => number, valid: (data: Uint8Array) => boolean, op: (bls: NobleBLS, data: Uint8Array) => Uint8Array): PrecompileFn {
  return (data, gas) => {
    const cost = gasOf(data)
    if (cost < 0 || cost > gas) return fail()
    if (!valid(data)) return fail()
    try {
      return { status: 0, gasLeft: gas - cost, output: op(blsBackend(), data) }
    } catch {
      return fail()
    }
  }
}

const G1 = [0, 64]
const G2 = [0, 64, 128, 192]

/** The BLS12-381 precompiles by address, with the Common's gas parameters. */
function blsPrecompiles(common: Common): Record<number, PrecompileFn> {
  const p = (name: string) => Number(common.param(name))
  const fixed = (g: number) => () => g
  const pairing = p('bls12381PairingBaseGas')
  const perPair = p('bls12381PairingPerPairGas')
  return {
    0x0b: blsPrecompile(fixed(p('bls12381G1AddGas')), (d) => d.length === 256 && leadingZeros(d, G1, 128), (b, d) => b.addG1(d)),
    0x0c: blsPrecompile(
      (d) => (d.length === 0 ? -1 : msmGas(Math.floor(d.length / 160), p('bls12381G1MulGas'), blsConstants.BLS_GAS_DISCOUNT_PAIRS_G1)),
      (d) => d.length % 160 === 0 && leadingZeros(d, G1, 160),
      (b, d) => b.msmG1(d),
    ),
    0x0d: blsPrecompile(fixed(p('bls12381G2AddGas')), (d) => d.length === 512 && leadingZeros(d, G2, 256), (b, d) => b.addG2(d)),
    0x0e: blsPrecompile(
      (d) => (d.length === 0 ? -1 : msmGas(Math.floor(d.length / 288), p('bls12381G2MulGas'), blsConstants.BLS_GAS_DISCOUNT_PAIRS_G2)),
      (d) => d.length % 288 === 0 && leadingZeros(d, G2, 288),
      (b, d) => b.msmG2(d),
    ),
    // Pairing: the length is checked before the gas (as @ethereumjs does).
    0x0f: blsPrecompile((d) => (d.length === 0 || d.length % 384 !== 0 ? -1 : pairing + perPair * (d.length / 384)), (d) => leadingZeros(d, [0, 64, 128, 192, 256, 320], 384), (b, d) => b.pairingCheck(d)),
    0x10: blsPrecompile(fixed(p('bls12381MapG1Gas')), (d) => d.length === 64 && leadingZeros(d, [0], 64), (b, d) => b.mapFPtoG1(d)),
    0x11: blsPrecompile(fixed(p('bls12381MapG2Gas')), (d) => d.length === 128 && leadingZeros(d, [0, 64], 128), (b, d) => b.mapFP2toG2(d)),
  }
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
