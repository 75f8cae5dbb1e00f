import { Common, Hardfork, Mainnet, createCustomCommon } from '@ethereumjs/common'

import { HardforkError } from '../../errors/index.js'
import { replayCrypto } from './crypto.js'

/** Hardforks whose block-level rules the baseline executor implements. */
export const SUPPORTED_HARDFORKS: readonly string[] = [
  Hardfork.Chainstart,
  Hardfork.Homestead,
  Hardfork.Dao,
  Hardfork.TangerineWhistle,
  Hardfork.SpuriousDragon,
  Hardfork.Byzantium,
  Hardfork.Constantinople,
  Hardfork.Petersburg,
  Hardfork.Istanbul,
  Hardfork.MuirGlacier,
  Hardfork.Berlin,
  Hardfork.London,
  Hardfork.ArrowGlacier,
  Hardfork.GrayGlacier,
  Hardfork.MergeNetsplitBlock,
  Hardfork.Paris,
  Hardfork.Shanghai,
  Hardfork.Cancun,
]

const KNOWN_HARDFORKS = new Set<string>(Object.values(Hardfork))

export type MainnetCommonParameters = {
  origin: string
  number: bigint
  timestamp: bigint
  /** The hardfork the source declares; must equal what mainnet rules give for number/timestamp. */
  declaredHardfork: string
  chainId: bigint
}

/**
 * A Common for chain id 1 at the hardfork mainnet rules give for this block, with replay crypto.
 * Refuses unknown hardfork names, a declared hardfork that disagrees with mainnet rules, and
 * hardforks whose block-level rules the executor does not implement.
 */
export function createMainnetCommon(p: MainnetCommonParameters): Common {
  const common = new Common({ chain: Mainnet, customCrypto: replayCrypto() })
  return advanceMainnetCommon(common, p)
}

/** Moves a mainnet Common to the hardfork of the next block (same checks as createMainnetCommon). */
export function advanceMainnetCommon(common: Common, p: MainnetCommonParameters): Common {
  const loc = { origin: p.origin, block: p.number }
  if (p.chainId !== 1n) throw new HardforkError(loc, `chain id ${p.chainId} is not supported (only mainnet, 1)`)
  if (!KNOWN_HARDFORKS.has(p.declaredHardfork)) {
    throw new HardforkError(loc, `unknown hardfork ${JSON.stringify(p.declaredHardfork)}`)
  }
  const ruled = common.setHardforkBy({ blockNumber: p.number, timestamp: p.timestamp })
  if (ruled !== p.declaredHardfork) {
    throw new HardforkError(
      loc,
      `declares hardfork ${p.declaredHardfork} but mainnet rules give ${ruled} for this block`,
    )
  }
  if (!SUPPORTED_HARDFORKS.includes(ruled)) {
    throw new HardforkError(loc, `hardfork ${ruled} is not supported yet (supported: chainstart … cancun)`)
  }
  return common
}

/** Hardforks a generated (custom) chain may run. */
export const CHAIN_HARDFORKS: readonly string[] = [Hardfork.Shanghai, Hardfork.Cancun]

/**
 * A Common for a generated chain: mainnet's parameters, its own chain id, and one hardfork for the
 * whole chain (never switched by block number or timestamp).
 */
export function createChainCommon(chainId: bigint, hardfork: string, where: { origin: string; block: bigint }): Common {
  if (!CHAIN_HARDFORKS.includes(hardfork)) {
    throw new HardforkError(where, `hardfork ${JSON.stringify(hardfork)} is not supported for generated chains (${CHAIN_HARDFORKS.join(', ')})`)
  }
  return createCustomCommon({ chainId: Number(chainId), name: 'megabench' }, Mainnet, { hardfork, customCrypto: replayCrypto() })
}
