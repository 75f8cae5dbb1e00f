import { z } from 'zod'

/**
 * The `realblock-v1` fixture format: one block with the Merkle witness of its pre-state.
 * See fixtures/mainnet/README.md. A public network's chain id (mainnet 1, Sepolia 11155111, Holesky 17000,
 * Hoodi 560048) replays under that network's fork schedule; any other chain id (files `megabench fetch`
 * wrote from a devnet) under mainnet's parameters at the one `hardfork` named.
 */
export const REALBLOCK_FORMAT = 'realblock-v1'

const hex = z.string().regex(/^0x(?:[0-9a-fA-F]{2})*$/, 'expected 0x-prefixed hex with an even number of digits')
const hash32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'expected a 32-byte 0x-prefixed hex hash')
const quantity = z.string().regex(/^0x[0-9a-fA-F]+$/, 'expected a 0x-prefixed hex quantity')
const bloom = z.string().regex(/^0x[0-9a-fA-F]{512}$/, 'expected a 256-byte 0x-prefixed hex bloom')

export const realBlockSchema = z.object({
  _info: z.object({
    format: z.literal(REALBLOCK_FORMAT),
    source: z.string().optional(),
    description: z.string().optional(),
  }),
  chainId: z.number().int().positive(),
  hardfork: z.string().min(1),
  blockNumber: z.number().int().nonnegative(),
  blockHash: hash32,
  blockRlp: hex,
  parentHeaderRlp: hex.optional(),
  parentStateRoot: hash32,
  ancestorHashes: z.record(z.string().regex(/^\d+$/, 'expected a decimal block number'), hash32),
  witness: z.object({
    nodes: z.array(hex),
    codes: z.array(hex),
  }),
  expected: z.object({
    stateRoot: hash32,
    receiptsRoot: hash32,
    logsBloom: bloom,
    gasUsed: quantity,
    txCount: z.number().int().nonnegative(),
    /** EIP-7685 (Prague and later): present iff the header has a requestsHash. */
    requestsHash: hash32.optional(),
  }),
})

export type RealBlockFile = z.infer<typeof realBlockSchema>
