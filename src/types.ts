import type { GenesisSpec } from './sources/chainFormat.js'

/**
 * Cross-module domain types: what sources produce and engines consume.
 * (The run result, what engines produce and analyses consume, lives in src/run/schema.ts.)
 */

/** The values a block's header commits to, which replay must reproduce. */
export interface ExpectedResult {
  stateRoot: Uint8Array
  receiptsRoot: Uint8Array
  logsBloom: Uint8Array
  gasUsed: bigint
  txCount: number
  /** EIP-7685 requests hash (Prague and later; absent before, or when the source does not record it). */
  requestsHash?: Uint8Array | undefined
}

/** One block to execute, as a source hands it to an engine. */
export interface BlockInput {
  /** Where it came from (file path or chain directory + index), for messages. */
  origin: string
  number: bigint
  /** The block hash the source claims (checked against the decoded header). */
  hash: Uint8Array
  /** Hardfork named by the source; engines check it against the network's schedule. */
  hardfork: string
  chainId: bigint
  /** Full block RLP: header, transactions, ommers, withdrawals. */
  blockRlp: Uint8Array
  /** Ancestor hashes the source recorded, for BLOCKHASH. */
  ancestorHashes: ReadonlyMap<bigint, Uint8Array>
  /** What the block must produce. */
  expected: ExpectedResult
  /** Senders as the source cached them (20 bytes each); engines that recover senders check them. */
  senders?: Uint8Array | undefined
  /** Executed to reach the start of the measured range (`--from`): verified, not reported. */
  warmup?: boolean | undefined
}

/** A pre-state given as a Merkle witness: hash-keyed trie nodes and contract codes. */
export interface WitnessState {
  kind: 'witness'
  stateRoot: Uint8Array
  /** RLP-encoded trie nodes (account trie and storage tries); key = keccak256(node). */
  nodes: readonly Uint8Array[]
  /** Contract bytecodes; key = keccak256(code). */
  codes: readonly Uint8Array[]
}

/** A generated chain's genesis state (see src/sources/chainFormat.ts), built in bulk before replay. */
export interface GenesisState {
  kind: 'genesis'
  spec: GenesisSpec
}

/**
 * The rules blocks run under: a public network's fork schedule (mainnet, Sepolia, Holesky, Hoodi: by chain
 * id, see src/networks.ts), or one hardfork for a whole other chain (a devnet, a generated chain).
 */
export type ChainRules = { kind: 'network'; chainId: bigint } | { kind: 'custom'; chainId: bigint; hardfork: string }

/** A starting state and the contiguous blocks executed on top of it, in order. */
export interface ReplayUnit {
  origin: string
  rules: ChainRules
  state: WitnessState | GenesisState
  blocks: Iterable<BlockInput> | AsyncIterable<BlockInput>
}

/** Where blocks come from. Units (and a chain's blocks) are produced lazily, to bound memory. */
export interface BlockSource {
  kind: 'fixtures' | 'chain'
  /** Human description: the files or directory. */
  description: string
  /** Number of units, known up front (for progress). */
  unitCount: number
  units(): AsyncIterable<ReplayUnit>
}
