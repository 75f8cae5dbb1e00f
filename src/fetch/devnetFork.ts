/**
 * The hardfork of a devnet's blocks (a chain that is not a public network megabench knows by chain id).
 * Such a chain replays under mainnet's parameters at one hardfork (src/chain/common.ts), so
 * fetch has to name it. The header tells the family: a requests hash means prague or later (EIP-7685),
 * a parent beacon root cancun, a withdrawals root shanghai. Prague, osaka, bpo1 and bpo2 share the header
 * shape; what tells them apart (osaka's precompile and opcode changes, the BPO forks' blob schedule) is
 * the node's configuration, so in that family the fork comes from, in this order:
 *
 *   1. `--fork NAME` (the user says so; nothing is asked of the node);
 *   2. `eth_config` (EIP-7910, served by geth, reth, Nethermind, Besu, anvil): the current fork's
 *      precompiles (P256VERIFY, 0x100, is EIP-7951: osaka and later) and its blob schedule (target,
 *      max, update fraction: mainnet's osaka, bpo1 or bpo2 values); the block must not predate the
 *      current fork's activation time (the answer names no earlier fork);
 *   3. `anvil_nodeInfo` (anvil only): its `hardFork` field;
 *   4. otherwise one line asking for `--fork`.
 */
import { paramsBlock } from '@ethereumjs/block'
import { Common, Hardfork, Mainnet } from '@ethereumjs/common'
import { z } from 'zod'

import { CHAIN_HARDFORKS } from '../chain/common.js'
import { FetchError, RpcError, UsageError } from '../errors/index.js'
import type { RpcClient } from './rpc.js'
import type { RpcBlock } from './schemas.js'

/** The forks whose headers carry a requests hash, which megabench replays on a devnet. */
export const REQUESTS_HASH_FORKS: readonly string[] = [Hardfork.Prague, Hardfork.Osaka, Hardfork.Bpo1, Hardfork.Bpo2]

/** Where a devnet block's hardfork came from (recorded in fetch's result). */
export type ForkSource = 'header' | '--fork' | 'eth_config' | 'anvil_nodeInfo'

/** The family a header's fields show: the newest of shanghai, cancun, prague (= prague or later) it has the fields of. */
export function headerFamily(b: RpcBlock): string {
  const f = b as Record<string, unknown>
  if (f.requestsHash !== undefined && f.requestsHash !== null) return Hardfork.Prague
  if (f.parentBeaconBlockRoot !== undefined && f.parentBeaconBlockRoot !== null) return Hardfork.Cancun
  if (f.withdrawalsRoot !== undefined && f.withdrawalsRoot !== null) return Hardfork.Shanghai
  return 'pre-shanghai'
}

/** Checks a `--fork` value (one line if it is not a fork a devnet replays at). */
export function checkForkOption(fork: string): string {
  if (!CHAIN_HARDFORKS.includes(fork)) {
    throw new UsageError(`--fork ${fork}: a devnet replays at ${CHAIN_HARDFORKS.join(', ')} (mainnet's parameters at that fork)`)
  }
  return fork
}

/** The family of a fork megabench replays a devnet at (prague for prague … bpo2). */
function familyOf(fork: string): string {
  return REQUESTS_HASH_FORKS.includes(fork) ? Hardfork.Prague : fork
}

const blobScheduleSchema = z.object({ target: z.number(), max: z.number(), baseFeeUpdateFraction: z.number() }).passthrough()
const forkConfigSchema = z
  .object({
    activationTime: z.number(),
    blobSchedule: blobScheduleSchema.nullable().optional(),
    precompiles: z.record(z.string(), z.string()).optional(),
    systemContracts: z.record(z.string(), z.string()).nullable().optional(),
  })
  .passthrough()
const ethConfigSchema = z.object({ current: forkConfigSchema }).passthrough()
const anvilNodeInfoSchema = z.object({ hardFork: z.string() }).passthrough()

export type NodeFork = { hardfork: string; source: 'eth_config' | 'anvil_nodeInfo'; activationTime: number; detail: string }

/** Mainnet's blob schedule at a fork, as eth_config writes it: blobs per block, update fraction. */
function mainnetBlobSchedule(fork: string): { target: number; max: number; baseFeeUpdateFraction: number } {
  const s = new Common({ chain: Mainnet, hardfork: fork, params: paramsBlock }).getBlobGasSchedule()
  const perBlob = 131_072n
  return { target: Number(s.targetBlobGasPerBlock / perBlob), max: Number(s.maxBlobGasPerBlock / perBlob), baseFeeUpdateFraction: Number(s.blobGasPriceUpdateFraction) }
}

const fmtSchedule = (s: { target: number; max: number; baseFeeUpdateFraction: number }) => `${s.target}/${s.max}/${s.baseFeeUpdateFraction}`

/**
 * The fork an `eth_config` answer's current configuration is under mainnet's rules: prague or later by
 * its system contracts or BLS precompiles, osaka or later by P256VERIFY, then the BPO fork by its blob
 * schedule. Throws a one-line message (a string) when it matches none of prague, osaka, bpo1, bpo2.
 */
export function forkOfEthConfig(current: z.infer<typeof forkConfigSchema>): { hardfork: string; detail: string } {
  const precompiles = Object.keys(current.precompiles ?? {}).map((k) => k.toUpperCase())
  const system = Object.keys(current.systemContracts ?? {}).map((k) => k.toUpperCase())
  const pragueOrLater = system.includes('HISTORY_STORAGE_ADDRESS') || system.includes('WITHDRAWAL_REQUEST_PREDEPLOY_ADDRESS') || precompiles.some((p) => p.startsWith('BLS12_'))
  if (!pragueOrLater) throw new Error('its current fork has neither the EIP-2935/7002 system contracts nor the BLS12-381 precompiles (not prague or later)')
  const osakaOrLater = precompiles.includes('P256VERIFY')
  const schedule = current.blobSchedule ?? undefined
  const candidates = osakaOrLater ? [Hardfork.Bpo2, Hardfork.Bpo1, Hardfork.Osaka] : [Hardfork.Prague]
  const why = osakaOrLater ? 'P256VERIFY (EIP-7951) among its precompiles' : 'no P256VERIFY among its precompiles'
  if (schedule === undefined) throw new Error(`it gives no blob schedule (${why})`)
  for (const fork of candidates) {
    const m = mainnetBlobSchedule(fork)
    if (m.target === schedule.target && m.max === schedule.max && m.baseFeeUpdateFraction === schedule.baseFeeUpdateFraction) {
      return { hardfork: fork, detail: `${why}, blob schedule ${fmtSchedule(m)} (target/max/update fraction)` }
    }
  }
  throw new Error(
    `its blob schedule ${fmtSchedule(schedule)} (target/max/update fraction) is none of mainnet's at ${candidates.join(', ')} (${candidates.map((c) => fmtSchedule(mainnetBlobSchedule(c))).join(', ')}; ${why})`,
  )
}

/** Why the node could not say which fork it runs (the end of a one-line refusal). */
export type NoNodeFork = { none: string }

/**
 * Asks the node which fork it runs (eth_config, else anvil_nodeInfo); `{ none }` when it serves neither
 * (or an eth_config of a shape megabench does not know: it is read without retries, as it may be a draft's).
 * A node that answers but whose configuration is not one of mainnet's forks is one line (a FetchError of
 * block `n`) suggesting --fork.
 */
export async function queryNodeFork(rpc: RpcClient, n: number): Promise<NodeFork | NoNodeFork> {
  const missing = (err: unknown) => err instanceof RpcError && (err.kind === 'method-missing' || err.kind === 'rpc')
  let none = 'the node serves neither eth_config nor anvil_nodeInfo to tell which'
  try {
    const raw = await rpc.call('eth_config', [], z.unknown())
    const parsed = ethConfigSchema.safeParse(raw)
    if (parsed.success) {
      try {
        const { hardfork, detail } = forkOfEthConfig(parsed.data.current)
        return { hardfork, source: 'eth_config', activationTime: parsed.data.current.activationTime, detail }
      } catch (err) {
        throw new FetchError(n, `the node's eth_config does not name a fork megabench replays a devnet at: ${(err as Error).message}; give --fork (${REQUESTS_HASH_FORKS.join(', ')})`)
      }
    }
    none = "the node's eth_config answer is of a shape megabench does not know (EIP-7910's current.blobSchedule, precompiles, systemContracts), and it does not serve anvil_nodeInfo"
  } catch (err) {
    if (!missing(err)) throw err
  }
  try {
    const info = await rpc.call('anvil_nodeInfo', [], anvilNodeInfoSchema)
    const hardfork = info.hardFork.toLowerCase()
    if (!REQUESTS_HASH_FORKS.includes(hardfork)) {
      throw new FetchError(n, `the node (anvil_nodeInfo) runs ${info.hardFork}, which megabench does not replay on a devnet whose headers carry a requests hash; give --fork (${REQUESTS_HASH_FORKS.join(', ')})`)
    }
    return { hardfork, source: 'anvil_nodeInfo', activationTime: 0, detail: `hardFork ${info.hardFork}` }
  } catch (err) {
    if (!missing(err)) throw err
  }
  return { none }
}

/**
 * The hardfork of devnet block `n` (header `b`): the header's family, refined within prague … bpo2 by
 * `--fork` or by what the node says (`node`, asked once per fetch by the caller). Every disagreement is
 * one line.
 */
export function devnetHardfork(
  chainId: number,
  n: number,
  b: RpcBlock,
  fork: string | undefined,
  node: () => NodeFork | NoNodeFork | undefined,
): { hardfork: string; source: ForkSource; detail?: string } {
  const family = headerFamily(b)
  if (!CHAIN_HARDFORKS.includes(family)) {
    throw new FetchError(n, `chain ${chainId} block ${n} runs ${family} rules; megabench replays a devnet at ${CHAIN_HARDFORKS.join(', ')} only (e.g. anvil --hardfork cancun)`)
  }
  if (fork !== undefined) {
    if (familyOf(fork) !== family) {
      throw new FetchError(n, `--fork ${fork} does not fit the header: it ${family === Hardfork.Prague ? 'carries' : 'has no'} a requests hash (${family === Hardfork.Prague ? REQUESTS_HASH_FORKS.join(', ') : family})`)
    }
    return { hardfork: fork, source: '--fork' }
  }
  if (family !== Hardfork.Prague) return { hardfork: family, source: 'header' }
  const nf = node()
  if (nf === undefined || 'none' in nf) {
    throw new FetchError(n, `the header carries a requests hash (${REQUESTS_HASH_FORKS.join(', ')}: the same header fields) and ${nf?.none ?? 'the node was not asked'}; give --fork`)
  }
  if (BigInt(b.timestamp) < BigInt(nf.activationTime)) {
    throw new FetchError(n, `the block (time ${BigInt(b.timestamp)}) predates the node's current fork ${nf.hardfork} (${nf.source}: active from time ${nf.activationTime}), which names no earlier fork; give --fork`)
  }
  return { hardfork: nf.hardfork, source: nf.source, detail: nf.detail }
}
