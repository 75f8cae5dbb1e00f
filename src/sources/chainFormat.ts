import { z } from 'zod'

/**
 * The chain directory format (`megabench-chain-v1`), written by `megabench generate` and read by
 * `replay --chain`:
 *
 *   chain.json           this manifest: chain id, hardfork, workload options, block range, contracts
 *   genesis.json         the genesis: header RLP, state root, explicit alloc and a compact generator
 *                        spec for the bulk accounts and token holdings (expands deterministically)
 *     or start.json      (`megabench fetch --chain`) the start state of a range fetched from a node: the
 *                        parent block's hash and state root, the Merkle witness of every account, slot
 *                        and code the range touches (the union of the blocks' witnesses), BLOCKHASH
 *                        ancestors before the range (`megabench-start-v1`)
 *   blocks/<n>.rlp       block n (9-digit zero-padded decimal), full block RLP
 *   senders/<n>.bin      block n's recovered senders, 20 bytes per transaction, in order
 *
 * Numbers that may exceed 2^53 (balances, amounts) are 0x-hex strings.
 */
export const CHAIN_FORMAT = 'megabench-chain-v1'
export const GENESIS_FORMAT = 'megabench-genesis-v1'
export const START_FORMAT = 'megabench-start-v1'

const hex = z.string().regex(/^0x(?:[0-9a-fA-F]{2})*$/, 'expected 0x-prefixed hex with an even number of digits')
const quantity = z.string().regex(/^0x[0-9a-fA-F]+$/, 'expected a 0x-prefixed hex quantity')
const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'expected a 20-byte 0x-prefixed address')
const hash32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'expected a 32-byte 0x-prefixed hash')

export const WORKLOADS = ['eth-transfer', 'erc20-transfer', 'uniswap-swap', 'mixed'] as const
export type WorkloadName = (typeof WORKLOADS)[number]

export const workloadSpecSchema = z.object({
  name: z.enum(WORKLOADS),
  accounts: z.number().int().positive(),
  senders: z.number().int().positive(),
  tokens: z.number().int().nonnegative(),
  pairs: z.number().int().nonnegative(),
  zipf: z.number().nonnegative(),
  blocks: z.number().int().positive(),
  txsPerBlock: z.number().int().positive().nullable(),
  gasPerBlock: z.number().int().positive().nullable(),
  blockGasLimit: z.number().int().positive(),
  seed: z.string(),
  /** Transaction mix in percent (eth, erc20, swap); sums to 100. */
  mix: z.object({ eth: z.number(), erc20: z.number(), swap: z.number() }),
})
export type WorkloadSpec = z.infer<typeof workloadSpecSchema>

const allocAccount = z.object({
  nonce: quantity,
  balance: quantity,
  code: hex.optional(),
  /** Raw (unhashed) storage slots → values. */
  storage: z.record(hash32, hash32).optional(),
})

export const genesisSpecSchema = z.object({
  format: z.literal(GENESIS_FORMAT),
  chainId: z.number().int().positive(),
  hardfork: z.string(),
  /** RLP of the genesis header (its stateRoot is `stateRoot`). */
  headerRlp: hex,
  stateRoot: hash32,
  /** Bulk accounts: `count` accounts, the first `senders` of them with keys (see src/workloads/accounts.ts). */
  accounts: z.object({
    count: z.number().int().positive(),
    senders: z.number().int().positive(),
    seed: z.string(),
    senderBalance: quantity,
    /** Balance rule for the other accounts: `megabench-v1` = (1 + u32(keccak(address)[0..4]) mod 10^6) · 10^12 wei. */
    dormantBalance: z.literal('megabench-v1'),
  }),
  /** ERC20 holdings added to token storage for every sender (OpenZeppelin 5 layout). */
  tokenHoldings: z.array(
    z.object({
      token: address,
      balanceSlot: z.number().int().nonnegative(),
      allowanceSlot: z.number().int().nonnegative(),
      balance: quantity,
      allowances: z.array(z.object({ spender: address, amount: quantity })),
    }),
  ),
  /** Explicit accounts (contracts deployed during setup, the deployer, system contracts). */
  alloc: z.record(address, allocAccount),
})
export type GenesisSpec = z.infer<typeof genesisSpecSchema>
export type AllocAccount = z.infer<typeof allocAccount>

/**
 * The start state of a fetched range (`start.json`): the state after block `parent.number`, as the
 * union of the per-block witnesses (hash-keyed nodes, so the union holds every node on every path the
 * range reads, in the version it is read from), replayed from `parent.stateRoot`.
 */
export const startStateSchema = z.object({
  format: z.literal(START_FORMAT),
  chainId: z.number().int().positive(),
  parent: z.object({ number: z.number().int().nonnegative(), hash: hash32, stateRoot: hash32 }),
  /** Hashes of the up to 256 blocks before the range's first block (BLOCKHASH), by decimal number. */
  ancestorHashes: z.record(z.string().regex(/^\d+$/, 'expected a decimal block number'), hash32),
  witness: z.object({ nodes: z.array(hex), codes: z.array(hex) }),
})
export type StartState = z.infer<typeof startStateSchema>

const contractsSchema = z.object({
  deployer: address,
  weth: address.nullable(),
  factory: address.nullable(),
  router: address.nullable(),
  tokens: z.array(address),
  pairs: z.array(z.object({ address, token0: address, token1: address })),
})
export type ChainContracts = z.infer<typeof contractsSchema>

export const chainManifestSchema = z.object({
  format: z.literal(CHAIN_FORMAT),
  chainId: z.number().int().positive(),
  hardfork: z.string(),
  generator: z.object({ tool: z.string(), version: z.string() }),
  /** `generated` (default: a `megabench generate` chain from genesis) or `fetched` (a node's range from start.json). */
  origin: z.enum(['generated', 'fetched']).optional(),
  /** A generated chain's workload; absent for a fetched range. */
  workload: workloadSpecSchema.optional(),
  /** The genesis (generated) or the start state (fetched): its file, the state root and the hash of the block it is the state after. */
  genesis: z.object({ file: z.string(), stateRoot: hash32, hash: hash32 }),
  blocks: z.object({
    first: z.number().int().positive(),
    last: z.number().int().positive(),
    txs: z.number().int().nonnegative(),
    gasUsed: z.number().nonnegative(),
  }),
  head: z.object({ number: z.number().int().nonnegative(), hash: hash32 }),
  /** Contracts the generator deployed; absent for a fetched range. */
  contracts: contractsSchema.optional(),
})
export type ChainManifest = z.infer<typeof chainManifestSchema>


/** `blocks/000000042.rlp` */
export function blockFileName(n: number | bigint): string {
  return `${String(n).padStart(9, '0')}.rlp`
}

/** `senders/000000042.bin` */
export function sendersFileName(n: number | bigint): string {
  return `${String(n).padStart(9, '0')}.bin`
}
