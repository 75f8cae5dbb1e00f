import { type ChainConfig, Common, Hardfork, Holesky, Hoodi, Mainnet, Sepolia, createCustomCommon } from '@ethereumjs/common'

import { HardforkError } from '../errors/index.js'
import { type NetworkName, describeNetworks, networkName } from '../networks.js'
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
  Hardfork.Prague,
  Hardfork.Osaka,
  Hardfork.Bpo1,
  Hardfork.Bpo2,
]

/** "chainstart … bpo2" */
export const SUPPORTED_RANGE = `${SUPPORTED_HARDFORKS[0]} … ${SUPPORTED_HARDFORKS[SUPPORTED_HARDFORKS.length - 1]}`

const KNOWN_HARDFORKS = new Set<string>(Object.values(Hardfork))

/** Why a hardfork @ethereumjs/common names is not replayed (amsterdam: draft, no network schedules it yet). */
function unsupportedReason(hardfork: string): string {
  return hardfork === Hardfork.Amsterdam
    ? `hardfork ${hardfork} is not supported (a draft in @ethereumjs/common 10.1.3: block-level access lists and other block rules megabench does not implement; supported: ${SUPPORTED_RANGE})`
    : `hardfork ${hardfork} is not supported (supported: ${SUPPORTED_RANGE})`
}

const CHAIN_CONFIGS: Record<NetworkName, ChainConfig> = { mainnet: Mainnet, sepolia: Sepolia, holesky: Holesky, hoodi: Hoodi }

export type NetworkCommonParameters = {
  origin: string
  number: bigint
  timestamp: bigint
  /** The hardfork the source declares; must equal what the network's schedule gives for number/timestamp. */
  declaredHardfork: string
  chainId: bigint
}

/**
 * A Common for a public network (chosen by chain id: mainnet, Sepolia, Holesky, Hoodi) at the hardfork its
 * schedule gives for this block, with replay crypto. Refuses an unknown chain id, unknown hardfork names,
 * a declared hardfork that disagrees with the schedule, and hardforks whose block-level rules the
 * executor does not implement.
 */
export function createNetworkCommon(p: NetworkCommonParameters): Common {
  const name = networkName(p.chainId)
  if (name === undefined) {
    throw new HardforkError({ origin: p.origin, block: p.number }, `chain id ${p.chainId} is not a network megabench has a fork schedule for (${describeNetworks()})`)
  }
  const common = new Common({ chain: CHAIN_CONFIGS[name], customCrypto: replayCrypto() })
  return advanceNetworkCommon(common, p)
}

/** The hardfork a network's schedule gives for a block (undefined: not a network megabench knows). */
export function scheduledHardfork(chainId: bigint, number: bigint, timestamp: bigint): string | undefined {
  const name = networkName(chainId)
  return name === undefined ? undefined : new Common({ chain: CHAIN_CONFIGS[name] }).setHardforkBy({ blockNumber: number, timestamp })
}

/** Moves a network's Common to the hardfork of the next block (same checks as createNetworkCommon). */
export function advanceNetworkCommon(common: Common, p: NetworkCommonParameters): Common {
  const loc = { origin: p.origin, block: p.number }
  const name = networkName(common.chainId()) ?? `chain ${common.chainId()}`
  if (p.chainId !== common.chainId()) {
    throw new HardforkError(loc, `chain id ${p.chainId} in a unit of ${name} (chain id ${common.chainId()})`)
  }
  if (!KNOWN_HARDFORKS.has(p.declaredHardfork)) {
    throw new HardforkError(loc, `unknown hardfork ${JSON.stringify(p.declaredHardfork)} (${name}; supported: ${SUPPORTED_RANGE})`)
  }
  const ruled = common.setHardforkBy({ blockNumber: p.number, timestamp: p.timestamp })
  if (ruled !== p.declaredHardfork) {
    throw new HardforkError(loc, `declares hardfork ${p.declaredHardfork} but ${name} rules give ${ruled} for this block`)
  }
  if (!SUPPORTED_HARDFORKS.includes(ruled)) throw new HardforkError(loc, unsupportedReason(ruled))
  return common
}

/**
 * Hardforks another chain (a devnet megabench fetched from, or a generated chain) may run: the post-merge
 * forks with withdrawals (shanghai … bpo2), each under mainnet's parameters at that fork (its EIPs, its
 * blob schedule).
 */
export const CHAIN_HARDFORKS: readonly string[] = [Hardfork.Shanghai, Hardfork.Cancun, Hardfork.Prague, Hardfork.Osaka, Hardfork.Bpo1, Hardfork.Bpo2]

/**
 * A Common for a chain that is not a public network (a devnet, a generated chain): mainnet's parameters,
 * its own chain id, and one hardfork for the whole chain (never switched by block number or timestamp).
 */
export function createChainCommon(chainId: bigint, hardfork: string, where: { origin: string; block: bigint }): Common {
  if (!KNOWN_HARDFORKS.has(hardfork)) {
    throw new HardforkError(where, `unknown hardfork ${JSON.stringify(hardfork)} (chain id ${chainId}; supported: ${SUPPORTED_RANGE})`)
  }
  if (!CHAIN_HARDFORKS.includes(hardfork)) {
    throw new HardforkError(
      where,
      SUPPORTED_HARDFORKS.includes(hardfork)
        ? `chain id ${chainId} is not a network megabench has a fork schedule for (${describeNetworks()}); another chain (a devnet, a generated chain) replays at ${CHAIN_HARDFORKS.join(', ')} only, not ${hardfork}`
        : `chain id ${chainId}: ${unsupportedReason(hardfork)}`,
    )
  }
  return createCustomCommon({ chainId: Number(chainId), name: 'megabench' }, Mainnet, { hardfork, customCrypto: replayCrypto() })
}

/**
 * A Common for decoding one block: one copy of `common` (as of now) shared by the block's header and all of
 * its transactions. @ethereumjs copies the Common it is given into every transaction and merges the
 * transaction parameters into each copy (a JSON copy of every EIP's parameters and a rebuilt cache): ~100 µs
 * a transaction, more than the mega engine takes to execute one, and garbage whose collection lands in the
 * timed phases. Here `copy()` returns the shared copy and `updateParams` merges a parameter set once (merging
 * the same set again changes nothing). Nothing mutates a block's Common after decoding (no `setHardfork`
 * option is passed), so sharing it is what the copies amounted to.
 */
export function blockDecodeCommon(common: Common): Common {
  const shared = common.copy()
  const merged = new Set<unknown>()
  const updateParams = shared.updateParams.bind(shared)
  shared.copy = () => shared
  shared.updateParams = (params) => {
    if (merged.has(params)) return
    merged.add(params)
    updateParams(params)
  }
  return shared
}
