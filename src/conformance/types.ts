/** The EVMs the conformance runner drives: the project's own fast EVM (src/evm/) and @ethereumjs/vm. */
export type EvmKind = 'fast' | 'ethereumjs'
export const EVM_KINDS: readonly EvmKind[] = ['fast', 'ethereumjs']

/**
 * A test's outcome on one EVM. `timeout`: the test ran longer than the per-test time limit and was
 * stopped (its worker was terminated): not verified, never counted as a pass.
 */
export type Status = 'pass' | 'fail' | 'skip' | 'timeout'
export const STATUSES: readonly Status[] = ['pass', 'fail', 'skip', 'timeout']
export type Outcome = { status: 'pass' } | { status: 'fail' | 'skip' | 'timeout'; reason: string }

export type JsonAccount = { balance: string; nonce: string; code: string; storage: Record<string, string> }

/**
 * A block of a test. Invalid blocks are marked by `expectException`, `expectExceptionALL`, or, in the
 * legacy tests filled for several forks at once, `expectException<Network>` (e.g.
 * `expectExceptionByzantium`), which applies only to the test whose network has that name.
 */
export type JsonBlock = {
  rlp: string
  blockHeader?: Record<string, string>
  [key: `expectException${string}`]: string | undefined
}

/** One BlockchainTest (ethereum/tests, legacytests, execution-spec-tests fixtures). */
export type BlockchainTest = {
  network: string
  pre: Record<string, JsonAccount>
  genesisRLP?: string
  genesisBlockHeader?: Record<string, string>
  blocks: JsonBlock[]
  postState?: Record<string, JsonAccount>
  postStateHash?: string
  lastblockhash: string
  sealEngine?: string
  config?: { chainid?: string }
}
