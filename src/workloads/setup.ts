import type { Block } from '@ethereumjs/block'
import type { Common } from '@ethereumjs/common'
import { createAddressFromPrivateKey, utf8ToBytes } from '@ethereumjs/util'
import { keccak256 } from '../util/keccak.js'
import { type Hex, maxUint256 } from 'viem'

import type { AllocAccount, ChainContracts } from '../sources/chainFormat.js'
import { loadArtifact } from './artifacts.js'
import { ScratchEvm } from './scratch.js'

const E18 = 10n ** 18n

/** OpenZeppelin 5 ERC20 storage layout (MegabenchToken inherits it unchanged). */
export const ERC20_LAYOUT = { balanceSlot: 0, allowanceSlot: 1, totalSupplySlot: 2 } as const

/** Liquidity each pair starts with: token/token 1,000,000 : 1,000,000; WETH/token 1,000 ETH : 1,000,000. */
export const TOKEN_LIQUIDITY = 1_000_000n * E18
export const WETH_LIQUIDITY = 1_000n * E18
const TOKEN_SUPPLY = 1_000_000_000_000n * E18

/** EIP-4788's beacon-roots contract (deployed on mainnet at Cancun; runtime code from the EIP). */
export const BEACON_ROOTS = {
  address: '0x000f3df6d732807ef1319fb7b8bb8522d0beac02',
  code: '0x3373fffffffffffffffffffffffffffffffffffffffe14604d57602036146024575f5ffd5b5f35801560495762001fff810690815414603c575f5ffd5b62001fff01545f5260205ff35b5f5ffd5b62001fff42064281555f359062001fff015500',
} as const

export type SetupResult = {
  alloc: Record<string, AllocAccount>
  contracts: ChainContracts
}

/**
 * Deploys the workload's contracts in a scratch EVM and returns the resulting accounts as a genesis
 * alloc: `tokens` MegabenchTokens (OpenZeppelin ERC20), and if `pairs` > 0 WETH9, a Uniswap V2
 * factory, router02 and `pairs` pairs with liquidity. Everything is deterministic in `seed`.
 * Pairs are taken in this order: WETH/token_i for every token, then token_i/token_(i+1), then the
 * remaining token pairs; each starts with the liquidity above, owned by the deployer.
 */
export async function deployWorkloadContracts(p: {
  common: Common
  block: Block
  seed: string
  tokens: number
  pairs: number
}): Promise<SetupResult> {
  const deployerKey = keccak256(utf8ToBytes(`megabench/deployer/${p.seed}`))
  const deployer = createAddressFromPrivateKey(deployerKey)
  const evm = await ScratchEvm.create(p.common, p.block, deployer, 10_000_000_000n * E18)
  const token = loadArtifact('MegabenchToken')
  const tokens: Hex[] = []
  for (let i = 0; i < p.tokens; i++) {
    tokens.push(await evm.deploy(token, [`Megabench Token ${i}`, `MB${i}`, TOKEN_SUPPLY, deployer.toString()]))
  }
  let weth: Hex | null = null
  let factory: Hex | null = null
  let router: Hex | null = null
  const pairs: ChainContracts['pairs'] = []
  if (p.pairs > 0) {
    const candidates = pairCandidates(p.tokens)
    if (p.pairs > candidates.length) {
      throw new RangeError(`${p.pairs} pairs need more tokens: ${p.tokens} tokens and WETH make ${candidates.length} pairs`)
    }
    const wethArt = loadArtifact('WETH9')
    const factoryArt = loadArtifact('UniswapV2Factory')
    const pairArt = loadArtifact('UniswapV2Pair')
    weth = await evm.deploy(wethArt)
    factory = await evm.deploy(factoryArt, [deployer.toString()])
    router = await evm.deploy(loadArtifact('UniswapV2Router02'), [factory, weth])
    for (const [a, b] of candidates.slice(0, p.pairs)) {
      const tokenA = a === -1 ? weth : tokens[a]!
      const tokenB = tokens[b]!
      await evm.call(factory, factoryArt.abi, 'createPair', [tokenA, tokenB])
      const pair = (await evm.call(factory, factoryArt.abi, 'getPair', [tokenA, tokenB])) as Hex
      if (a === -1) {
        await evm.call(weth, wethArt.abi, 'deposit', [], WETH_LIQUIDITY)
        await evm.call(weth, wethArt.abi, 'transfer', [pair, WETH_LIQUIDITY])
      } else {
        await evm.call(tokenA, token.abi, 'transfer', [pair, TOKEN_LIQUIDITY])
      }
      await evm.call(tokenB, token.abi, 'transfer', [pair, TOKEN_LIQUIDITY])
      await evm.call(pair, pairArt.abi, 'mint', [deployer.toString()])
      const token0 = (await evm.call(pair, pairArt.abi, 'token0')) as Hex
      const token1 = (await evm.call(pair, pairArt.abi, 'token1')) as Hex
      pairs.push({ address: pair.toLowerCase(), token0: token0.toLowerCase(), token1: token1.toLowerCase() })
    }
    // The deployer lets the router move its tokens too (not needed by workloads; keeps state realistic).
    for (const t of tokens) await evm.call(t, token.abi, 'approve', [router, maxUint256])
  }

  const alloc: Record<string, AllocAccount> = {}
  const addresses = [deployer.toString() as Hex, ...tokens, ...(weth ? [weth] : []), ...(factory ? [factory] : [])]
  if (router) addresses.push(router)
  for (const pair of pairs) addresses.push(pair.address as Hex)
  for (const a of addresses) alloc[a.toLowerCase()] = await evm.allocOf(a)
  alloc[BEACON_ROOTS.address] = { nonce: '0x1', balance: '0x0', code: BEACON_ROOTS.code }
  return {
    alloc,
    contracts: {
      deployer: deployer.toString().toLowerCase(),
      weth: weth?.toLowerCase() ?? null,
      factory: factory?.toLowerCase() ?? null,
      router: router?.toLowerCase() ?? null,
      tokens: tokens.map((t) => t.toLowerCase()),
      pairs,
    },
  }
}

/** Candidate pairs as token indices (-1 = WETH), in the documented order. */
export function pairCandidates(tokens: number): [number, number][] {
  const out: [number, number][] = []
  const seen = new Set<string>()
  const add = (a: number, b: number) => {
    const k = `${Math.min(a, b)}/${Math.max(a, b)}`
    if (a === b || seen.has(k)) return
    seen.add(k)
    out.push([a, b])
  }
  for (let i = 0; i < tokens; i++) add(-1, i)
  for (let i = 0; i + 1 < tokens; i++) add(i, i + 1)
  for (let i = 0; i < tokens; i++) for (let j = i + 2; j < tokens; j++) add(i, j)
  return out
}
