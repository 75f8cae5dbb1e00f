import { Common, Hardfork, Mainnet } from '@ethereumjs/common'

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
  const loc = { origin: p.origin, block: p.number }
  if (p.chainId !== 1n) throw new HardforkError(loc, `chain id ${p.chainId} is not supported (only mainnet, 1)`)
  if (!KNOWN_HARDFORKS.has(p.declaredHardfork)) {
    throw new HardforkError(loc, `unknown hardfork ${JSON.stringify(p.declaredHardfork)}`)
  }
  const common = new Common({ chain: Mainnet, customCrypto: replayCrypto() })
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
