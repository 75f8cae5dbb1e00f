import type { ChainRules } from './types.js'

/**
 * The public Ethereum networks whose fork schedule megabench replays blocks under, by chain id: the ones
 * @ethereumjs/common 10.1.3 ships a chain config for. A source picks a network's schedule from a block's
 * chain id; any other chain id is a devnet or a generated chain, replayed at the one hardfork it declares
 * (see src/chain/common.ts).
 */
export const NETWORKS = [
  { name: 'mainnet', chainId: 1n },
  { name: 'sepolia', chainId: 11_155_111n },
  { name: 'holesky', chainId: 17_000n },
  { name: 'hoodi', chainId: 560_048n },
] as const

export type NetworkName = (typeof NETWORKS)[number]['name']

/** The network with this chain id, or undefined (a devnet or generated chain). */
export function networkName(chainId: bigint | number): NetworkName | undefined {
  const id = BigInt(chainId)
  return NETWORKS.find((n) => n.chainId === id)?.name
}

/** The rules of a source's blocks: a network's schedule, or another chain at the one hardfork it declares. */
export function rulesFor(chainId: bigint | number, hardfork: string): ChainRules {
  return networkName(chainId) !== undefined ? { kind: 'network', chainId: BigInt(chainId) } : { kind: 'custom', chainId: BigInt(chainId), hardfork }
}

/** "mainnet (1), sepolia (11155111), holesky (17000), hoodi (560048)" */
export function describeNetworks(): string {
  return NETWORKS.map((n) => `${n.name} (${n.chainId})`).join(', ')
}
