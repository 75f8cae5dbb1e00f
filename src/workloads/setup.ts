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

/**
 * The Prague system contracts, with the runtime code of their mainnet deployments (the same bytes the
 * mainnet and Hoodi witnesses in fixtures/prague hold for these accounts; also the EIPs' and the
 * execution-spec-tests' pre-state): EIP-2935's block-hash history, EIP-7002's withdrawal-request queue,
 * EIP-7251's consolidation-request queue. Nonce 1, no balance, empty storage: a chain that starts at
 * Prague has nothing queued (the queues' excess counters start at zero).
 */
export const PRAGUE_SYSTEM_CONTRACTS = {
  history: {
    eip: 2935,
    address: '0x0000f90827f1c53a10cb7a02335b175320002935',
    code: '0x3373fffffffffffffffffffffffffffffffffffffffe14604657602036036042575f35600143038111604257611fff81430311604257611fff9006545f5260205ff35b5f5ffd5b5f35611fff60014303065500',
  },
  withdrawals: {
    eip: 7002,
    address: '0x00000961ef480eb55e80d19ad83579a64c007002',
    code: '0x3373fffffffffffffffffffffffffffffffffffffffe1460cb5760115f54807fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff146101f457600182026001905f5b5f82111560685781019083028483029004916001019190604d565b909390049250505036603814608857366101f457346101f4575f5260205ff35b34106101f457600154600101600155600354806003026004013381556001015f35815560010160203590553360601b5f5260385f601437604c5fa0600101600355005b6003546002548082038060101160df575060105b5f5b8181146101835782810160030260040181604c02815460601b8152601401816001015481526020019060020154807fffffffffffffffffffffffffffffffff00000000000000000000000000000000168252906010019060401c908160381c81600701538160301c81600601538160281c81600501538160201c81600401538160181c81600301538160101c81600201538160081c81600101535360010160e1565b910180921461019557906002556101a0565b90505f6002555f6003555b5f54807fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff14156101cd57505f5b6001546002828201116101e25750505f6101e8565b01600290035b5f555f600155604c025ff35b5f5ffd',
  },
  consolidations: {
    eip: 7251,
    address: '0x0000bbddc7ce488642fb579f8b00f3a590007251',
    code: '0x3373fffffffffffffffffffffffffffffffffffffffe1460d35760115f54807fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff1461019a57600182026001905f5b5f82111560685781019083028483029004916001019190604d565b9093900492505050366060146088573661019a573461019a575f5260205ff35b341061019a57600154600101600155600354806004026004013381556001015f358155600101602035815560010160403590553360601b5f5260605f60143760745fa0600101600355005b6003546002548082038060021160e7575060025b5f5b8181146101295782810160040260040181607402815460601b815260140181600101548152602001816002015481526020019060030154905260010160e9565b910180921461013b5790600255610146565b90505f6002555f6003555b5f54807fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff141561017357505f5b6001546001828201116101885750505f61018e565b01600190035b5f555f6001556074025ff35b5f5ffd',
  },
} as const

/**
 * The system contracts a chain at this fork needs in its genesis: EIP-4788's beacon roots from Cancun,
 * the EIP-2935/7002/7251 contracts from Prague (each while its EIP is active).
 */
export function systemContractsAlloc(common: Common): Record<string, AllocAccount> {
  const alloc: Record<string, AllocAccount> = {}
  if (common.isActivatedEIP(4788)) alloc[BEACON_ROOTS.address] = { nonce: '0x1', balance: '0x0', code: BEACON_ROOTS.code }
  for (const c of Object.values(PRAGUE_SYSTEM_CONTRACTS)) {
    if (common.isActivatedEIP(c.eip)) alloc[c.address] = { nonce: '0x1', balance: '0x0', code: c.code }
  }
  return alloc
}

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
  Object.assign(alloc, systemContractsAlloc(p.common))
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
