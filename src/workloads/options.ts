import { CHAIN_HARDFORKS } from '../chain/common.js'
import { UsageError } from '../errors/index.js'
import { WORKLOADS, type WorkloadName, type WorkloadSpec } from '../sources/chainFormat.js'
import { pairCandidates } from './setup.js'
import { TX_GAS_LIMIT, type TxKind } from './transactions.js'

/** What a user may set; everything else has a documented default (see `resolveWorkload`). */
export type GenerateOptions = {
  workload: string
  accounts?: number
  senders?: number
  tokens?: number
  pairs?: number
  zipf?: number
  blocks?: number
  txsPerBlock?: number
  gasPerBlock?: number
  blockGasLimit?: number
  seed?: string
  /** Percentages, e.g. { eth: 30, erc20: 25, swap: 45 }; only for `mixed`. */
  mix?: { eth: number; erc20: number; swap: number }
  /** The chain's one hardfork (shanghai … bpo2; default DEFAULT_GENERATE_HARDFORK). */
  hardfork?: string
}

/**
 * The hardfork `generate` builds chains at by default: the newest fork @ethereumjs/common 10.1.3 schedules
 * on mainnet (bpo2, at 1767747671). A generated chain runs mainnet's parameters at one fork, and bpo2 is
 * osaka's rules with mainnet's current blob schedule (target 14, max 21 blobs), so it is what mainnet
 * executes today.
 */
export const DEFAULT_GENERATE_HARDFORK = 'bpo2'

/**
 * A generated chain's hardfork: `--hardfork`, else the default; one of CHAIN_HARDFORKS. The workload's
 * ERC20 is compiled for cancun (evmVersion cancun: it uses MCOPY), so a shanghai chain has no tokens
 * (the eth-transfer workload, or --tokens 0).
 */
export function resolveHardfork(hardfork: string | undefined, spec?: Pick<WorkloadSpec, 'tokens'>): string {
  const h = hardfork ?? DEFAULT_GENERATE_HARDFORK
  if (!CHAIN_HARDFORKS.includes(h)) throw new UsageError(`--hardfork ${h}: generate builds chains at ${CHAIN_HARDFORKS.join(', ')} (default ${DEFAULT_GENERATE_HARDFORK})`)
  if (h === 'shanghai' && spec !== undefined && spec.tokens > 0) {
    throw new UsageError('--hardfork shanghai: the workload\'s ERC20 is compiled for cancun (MCOPY), so a shanghai chain has no tokens (eth-transfer, or --tokens 0)')
  }
  return h
}

/**
 * The default mix of `mixed`, in percent of transactions. Source: Delphi Digital, "What is the
 * composition of transactions on Ethereum?" (2023, Glassnode's classification): plain ETH transfers
 * ≈ 29% of transactions, ERC-20 transfers including stablecoins ≈ 25%, and the remaining ≈ 46% are
 * other contract calls, which megabench represents by Uniswap V2 swaps (the most common DeFi call).
 */
export const MAINNET_LIKE_MIX = { eth: 30, erc20: 25, swap: 45 } as const

const DEFAULTS = { accounts: 10_000, zipf: 1.0, blocks: 100, txsPerBlock: 100, blockGasLimit: 30_000_000, seed: '1' }

/**
 * Turns user options into a complete workload spec, refusing impossible combinations with a one-line
 * UsageError. Defaults: 10,000 accounts; senders = max(min(accounts, 100), accounts / 100) (about 1%
 * of accounts send, as on mainnet where most accounts are dormant on any given day); 4 tokens for
 * workloads with ERC20 transfers or swaps; 4 pairs for workloads with swaps; Zipf exponent 1.0;
 * 100 blocks of 100 transactions; block gas limit 30M (or 2 × --gas-per-block, so that the base fee
 * stays flat at the target); seed "1".
 */
export function resolveWorkload(o: GenerateOptions): WorkloadSpec {
  if (!(WORKLOADS as readonly string[]).includes(o.workload)) {
    throw new UsageError(`unknown workload ${JSON.stringify(o.workload)} (choose ${WORKLOADS.join(', ')})`)
  }
  const name = o.workload as WorkloadName
  const mix =
    name === 'eth-transfer'
      ? { eth: 100, erc20: 0, swap: 0 }
      : name === 'erc20-transfer'
        ? { eth: 0, erc20: 100, swap: 0 }
        : name === 'uniswap-swap'
          ? { eth: 0, erc20: 0, swap: 100 }
          : (o.mix ?? { ...MAINNET_LIKE_MIX })
  if (o.mix !== undefined && name !== 'mixed') throw new UsageError('--mix applies to the mixed workload only')
  for (const [k, v] of Object.entries(mix)) if (!(v >= 0)) throw new UsageError(`--mix ${k} must be >= 0`)
  if (Math.abs(mix.eth + mix.erc20 + mix.swap - 100) > 1e-9) {
    throw new UsageError(`--mix must add up to 100 (got ${mix.eth + mix.erc20 + mix.swap})`)
  }
  const accounts = positiveInt('--accounts', o.accounts ?? DEFAULTS.accounts)
  const senders = positiveInt('--senders', o.senders ?? Math.min(accounts, Math.max(100, Math.ceil(accounts / 100))))
  if (senders > accounts) throw new UsageError(`--senders (${senders}) cannot exceed --accounts (${accounts})`)
  const tokens = nonNegativeInt('--tokens', o.tokens ?? (mix.erc20 > 0 || mix.swap > 0 ? 4 : 0))
  const pairs = nonNegativeInt('--pairs', o.pairs ?? (mix.swap > 0 ? Math.min(4, pairCandidates(tokens).length) : 0))
  if (mix.erc20 > 0 && tokens === 0) throw new UsageError('ERC20 transfers need --tokens >= 1')
  if (mix.swap > 0 && pairs === 0) throw new UsageError('swaps need --pairs >= 1 (and --tokens >= 1)')
  if (pairs > pairCandidates(tokens).length) {
    throw new UsageError(`--pairs ${pairs} needs more tokens: ${tokens} tokens and WETH make ${pairCandidates(tokens).length} pairs`)
  }
  const zipf = o.zipf ?? DEFAULTS.zipf
  if (!(zipf >= 0 && Number.isFinite(zipf))) throw new UsageError(`--zipf must be a number >= 0 (got ${zipf})`)
  const blocks = positiveInt('--blocks', o.blocks ?? DEFAULTS.blocks)
  if (o.txsPerBlock !== undefined && o.gasPerBlock !== undefined) {
    throw new UsageError('give --txs-per-block or --gas-per-block, not both')
  }
  const gasPerBlock = o.gasPerBlock === undefined ? null : positiveInt('--gas-per-block', o.gasPerBlock)
  const txsPerBlock = gasPerBlock === null ? positiveInt('--txs-per-block', o.txsPerBlock ?? DEFAULTS.txsPerBlock) : null
  const blockGasLimit = positiveInt(
    '--block-gas-limit',
    o.blockGasLimit ?? (gasPerBlock === null ? DEFAULTS.blockGasLimit : Math.max(DEFAULTS.blockGasLimit, 2 * gasPerBlock)),
  )
  const kinds = (Object.keys(mix) as TxKind[]).filter((k) => mix[k] > 0)
  const maxTxGas = Math.max(...kinds.map((k) => Number(TX_GAS_LIMIT[k])))
  if (txsPerBlock !== null && txsPerBlock * maxTxGas > blockGasLimit) {
    throw new UsageError(
      `--txs-per-block ${txsPerBlock} needs up to ${(txsPerBlock * maxTxGas).toLocaleString('en-US')} gas ` +
        `(${maxTxGas.toLocaleString('en-US')} per transaction) but the block gas limit is ${blockGasLimit.toLocaleString('en-US')} ` +
        `(raise --block-gas-limit or lower --txs-per-block)`,
    )
  }
  if (gasPerBlock !== null && gasPerBlock > blockGasLimit) {
    throw new UsageError(`--gas-per-block ${gasPerBlock} exceeds the block gas limit ${blockGasLimit}`)
  }
  if (gasPerBlock !== null && gasPerBlock < maxTxGas) {
    throw new UsageError(`--gas-per-block ${gasPerBlock} is below one transaction's gas limit (${maxTxGas})`)
  }
  const seed = o.seed ?? DEFAULTS.seed
  if (seed.length === 0) throw new UsageError('--seed must not be empty')
  return { name, accounts, senders, tokens, pairs, zipf, blocks, txsPerBlock, gasPerBlock, blockGasLimit, seed, mix }
}

function positiveInt(flag: string, v: number): number {
  if (!(Number.isSafeInteger(v) && v >= 1)) throw new UsageError(`${flag} must be a whole number >= 1 (got ${v})`)
  return v
}

function nonNegativeInt(flag: string, v: number): number {
  if (!(Number.isSafeInteger(v) && v >= 0)) throw new UsageError(`${flag} must be a whole number >= 0 (got ${v})`)
  return v
}
