import { z } from 'zod'

/** zod schemas of the JSON-RPC results fetch reads: only the fields it uses are checked. */

export const hexData = z.string().regex(/^0x(?:[0-9a-fA-F]{2})*$/, 'expected 0x-prefixed hex bytes')
export const hash32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'expected a 32-byte hex hash')
export const quantity = z.string().regex(/^0x[0-9a-fA-F]+$/, 'expected a hex quantity')
export const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'expected a 20-byte hex address')

export const rpcBlockSchema = z
  .object({
    hash: hash32,
    number: quantity,
    parentHash: hash32,
    stateRoot: hash32,
    receiptsRoot: hash32,
    logsBloom: z.string().regex(/^0x[0-9a-fA-F]{512}$/, 'expected a 256-byte bloom'),
    gasUsed: quantity,
    timestamp: quantity,
    miner: address,
    transactions: z.array(z.union([z.object({ hash: hash32 }).passthrough(), hash32])),
    uncles: z.array(hash32),
    withdrawals: z.array(z.object({ address }).passthrough()).optional(),
  })
  .passthrough()
export type RpcBlock = z.infer<typeof rpcBlockSchema>
/** eth_getBlockByNumber answers null for a block the node does not have. */
export const rpcBlockOrNull = rpcBlockSchema.nullable()

export const proofSchema = z.object({
  address,
  balance: quantity,
  nonce: quantity,
  codeHash: hash32,
  storageHash: hash32,
  accountProof: z.array(hexData),
  storageProof: z.array(z.object({ key: quantity, value: quantity, proof: z.array(hexData) })),
})
export type Proof = z.infer<typeof proofSchema>

const prestateAccount = z
  .object({ code: hexData.optional(), storage: z.record(z.string(), z.string()).optional() })
  .passthrough()
const prestateMap = z.record(z.string(), prestateAccount)
/** debug_traceBlockByNumber with the prestate tracer: one entry per transaction (diffMode: pre and post). */
export const prestateTraceSchema = z.array(
  z.object({ result: z.union([z.object({ pre: prestateMap, post: prestateMap }), prestateMap]) }).passthrough(),
)
export type PrestateMap = z.infer<typeof prestateMap>

/** debug_executionWitness (geth, reth): trie nodes, codes, and ancestor headers (RLP). */
export const executionWitnessSchema = z
  .object({ state: z.array(hexData), codes: z.array(hexData), headers: z.array(hexData).optional() })
  .passthrough()
