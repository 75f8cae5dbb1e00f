/**
 * Hardfork rules of the fast EVM: one ordered list of forks, and per fork a flat `Rules` object the
 * interpreter reads (booleans and gas constants, no lookups on the hot path).
 */

export const FORKS = [
  'frontier',
  'homestead',
  'dao',
  'tangerineWhistle',
  'spuriousDragon',
  'byzantium',
  'constantinople',
  'petersburg',
  'istanbul',
  'muirGlacier',
  'berlin',
  'london',
  'arrowGlacier',
  'grayGlacier',
  'paris',
  'shanghai',
  'cancun',
  'prague',
  'osaka',
  'bpo1',
  'bpo2',
] as const

export type Fork = (typeof FORKS)[number]

export function forkIndex(f: Fork): number {
  return FORKS.indexOf(f)
}

export function isFork(name: string): name is Fork {
  return (FORKS as readonly string[]).includes(name)
}

export type SstoreMode = 'legacy' | 'eip1283' | 'eip2200'

export interface Rules {
  readonly fork: Fork
  readonly homestead: boolean
  /** EIP-150 (Tangerine Whistle): 63/64 call gas, repriced IO. */
  readonly eip150: boolean
  /** EIP-155/160/161/170 (Spurious Dragon): empty-account clearing, EXP repricing, code size limit. */
  readonly eip158: boolean
  readonly byzantium: boolean
  readonly constantinople: boolean
  readonly istanbul: boolean
  readonly berlin: boolean
  readonly london: boolean
  readonly paris: boolean
  readonly shanghai: boolean
  readonly cancun: boolean
  /** EIP-7702 set-code transactions, EIP-7623 calldata floor, EIP-2935, EIP-7685 requests, EIP-2537 BLS. */
  readonly prague: boolean
  /** EIP-7825 transaction gas cap, EIP-7594 blobs per transaction, EIP-7939 CLZ, EIP-7951 P256VERIFY, MODEXP repricing. */
  readonly osaka: boolean
  /** EIP-7825: a transaction's gas limit above this is invalid (Infinity before Osaka). */
  readonly txGasCap: bigint | undefined
  /** EIP-7594: blobs one transaction may carry (undefined before Osaka: only the block limit applies). */
  readonly maxBlobsPerTx: number | undefined
  readonly sstore: SstoreMode
  /** SLOAD cost (pre-Berlin), the SLOAD_GAS of net metering (Berlin: the warm read cost). */
  readonly sload: number
  readonly sstoreSet: number
  readonly sstoreReset: number
  readonly sstoreClearRefund: number
  readonly balance: number
  readonly extcode: number
  readonly extcodehash: number
  readonly callBase: number
  readonly selfdestruct: number
  readonly selfdestructRefund: number
  readonly expByte: number
  readonly txDataNonZero: number
  readonly refundQuotient: number
  readonly maxCodeSize: number
  readonly maxInitcodeSize: number
  /** Precompile addresses active (1..n); Osaka adds P256VERIFY at 0x100 besides. */
  readonly precompiles: number
}

const cache = new Map<Fork, Rules>()

export function rulesFor(fork: Fork): Rules {
  let r = cache.get(fork)
  if (r !== undefined) return r
  const i = forkIndex(fork)
  const at = (f: Fork) => i >= forkIndex(f)
  const berlin = at('berlin')
  const istanbul = at('istanbul')
  const eip150 = at('tangerineWhistle')
  r = {
    fork,
    homestead: at('homestead'),
    eip150,
    eip158: at('spuriousDragon'),
    byzantium: at('byzantium'),
    constantinople: at('constantinople'),
    istanbul,
    berlin,
    london: at('london'),
    paris: at('paris'),
    shanghai: at('shanghai'),
    cancun: at('cancun'),
    prague: at('prague'),
    osaka: at('osaka'),
    txGasCap: at('osaka') ? 1n << 24n : undefined,
    maxBlobsPerTx: at('osaka') ? 6 : undefined,
    sstore: istanbul ? 'eip2200' : fork === 'constantinople' ? 'eip1283' : 'legacy',
    sload: berlin ? 100 : istanbul ? 800 : eip150 ? 200 : 50,
    sstoreSet: 20000,
    sstoreReset: berlin ? 2900 : 5000,
    sstoreClearRefund: at('london') ? 4800 : 15000,
    balance: berlin ? 0 : istanbul ? 700 : eip150 ? 400 : 20,
    extcode: berlin ? 0 : eip150 ? 700 : 20,
    extcodehash: berlin ? 0 : istanbul ? 700 : 400,
    callBase: berlin ? 0 : eip150 ? 700 : 40,
    selfdestruct: eip150 ? 5000 : 0,
    selfdestructRefund: at('london') ? 0 : 24000,
    expByte: at('spuriousDragon') ? 50 : 10,
    txDataNonZero: istanbul ? 16 : 68,
    refundQuotient: at('london') ? 5 : 2,
    maxCodeSize: at('spuriousDragon') ? 24576 : Infinity,
    maxInitcodeSize: at('shanghai') ? 49152 : Infinity,
    precompiles: at('prague') ? 0x11 : at('cancun') ? 10 : istanbul ? 9 : at('byzantium') ? 8 : 4,
  }
  cache.set(fork, r)
  return r
}

/** The ethereumjs hardfork name of a fork (for reusing its precompiles' parameters). */
export function ethereumjsHardfork(fork: Fork): string {
  return fork === 'paris' ? 'paris' : fork
}
