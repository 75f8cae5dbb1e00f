import { readFileSync } from 'node:fs'
import { join } from 'node:path'

import { createBlock } from '@ethereumjs/block'
import { Common, Hardfork, Mainnet } from '@ethereumjs/common'
import { Account, bytesToHex, createAddressFromString, hexToBytes } from '@ethereumjs/util'
import { createVM, type VM } from '@ethereumjs/vm'
import {
  decodeEventLog,
  decodeFunctionResult,
  encodeDeployData,
  encodeFunctionData,
  encodePacked,
  getContractAddress,
  keccak256,
  maxUint256,
  type Abi,
  type Hex,
} from 'viem'
import { describe, expect, test } from 'vitest'

import { CONTRACT_NAMES, loadArtifact, type ContractArtifact, type ContractName } from '../src/workloads/artifacts.js'

const ARTIFACTS_DIR = join(import.meta.dirname, '..', 'contracts', 'artifacts')
const MAINNET_PAIR_INIT_CODE_HASH = '0x96e8ac4277198ff8b6f785478aa9a39f403cb768dd02cbee326c3e7da348845f'

/** The committed artifacts, read directly from disk (independently of the library loader). */
const read = (name: ContractName): ContractArtifact =>
  JSON.parse(readFileSync(join(ARTIFACTS_DIR, `${name}.json`), 'utf8')) as ContractArtifact

const ART = {
  token: read('MegabenchToken'),
  factory: read('UniswapV2Factory'),
  pair: read('UniswapV2Pair'),
  router: read('UniswapV2Router02'),
  weth: read('WETH9'),
}

const E18 = 10n ** 18n
const DEPLOYER: Hex = '0x00000000000000000000000000000000000d0e01'
const TIMESTAMP = 1_700_000_000n
const DEADLINE = TIMESTAMP + 600n
const GAS_LIMIT = 30_000_000n

const sameAddress = (a: string, b: string) => a.toLowerCase() === b.toLowerCase()
/** Uniswap V2 getAmountOut: 0.3% fee, constant product. */
const amountOut = (amountIn: bigint, reserveIn: bigint, reserveOut: bigint) =>
  (amountIn * 997n * reserveOut) / (reserveIn * 1000n + amountIn * 997n)
const sqrt = (y: bigint): bigint => {
  if (y < 4n) return y === 0n ? 0n : 1n
  let z = y
  let x = y / 2n + 1n
  while (x < z) {
    z = x
    x = (y / x + x) / 2n
  }
  return z
}

type Log = { address: Hex; topics: [Hex, ...Hex[]]; data: Hex }

class Chain {
  private constructor(
    readonly vm: VM,
    readonly block: ReturnType<typeof createBlock>,
  ) {}

  static async create(): Promise<Chain> {
    const common = new Common({ chain: Mainnet, hardfork: Hardfork.Cancun })
    const vm = await createVM({ common })
    await vm.stateManager.putAccount(createAddressFromString(DEPLOYER), new Account(0n, 1_000_000n * E18))
    // A real header so that block.timestamp (deadlines) and block.number are meaningful.
    const block = createBlock(
      { header: { number: 20_000_000n, timestamp: TIMESTAMP, gasLimit: GAS_LIMIT, baseFeePerGas: 1n } },
      { common },
    )
    return new Chain(vm, block)
  }

  async deploy(artifact: ContractArtifact, args: readonly unknown[] = []): Promise<Hex> {
    const data = encodeDeployData({ abi: artifact.abi, bytecode: artifact.bytecode, args })
    const result = await this.vm.evm.runCall({
      caller: createAddressFromString(DEPLOYER),
      data: hexToBytes(data),
      gasLimit: GAS_LIMIT,
      block: this.block,
    })
    const err = result.execResult.exceptionError
    if (err) throw new Error(`deploying ${artifact.contractName} failed: ${err.error}`)
    if (!result.createdAddress) throw new Error(`deploying ${artifact.contractName}: no created address`)
    return result.createdAddress.toString()
  }

  async call(
    to: Hex,
    abi: Abi,
    functionName: string,
    args: readonly unknown[] = [],
    value = 0n,
  ): Promise<{ result: unknown; logs: Log[]; gasUsed: bigint }> {
    const data = encodeFunctionData({ abi, functionName, args })
    const res = await this.vm.evm.runCall({
      caller: createAddressFromString(DEPLOYER),
      to: createAddressFromString(to),
      data: hexToBytes(data),
      gasLimit: GAS_LIMIT,
      value,
      block: this.block,
    })
    const { exceptionError, returnValue } = res.execResult
    if (exceptionError) {
      throw new Error(`${functionName} reverted (${exceptionError.error}): ${revertReason(bytesToHex(returnValue))}`)
    }
    const logs = (res.execResult.logs ?? []).map(([address, topics, logData]) => ({
      address: bytesToHex(address),
      topics: topics.map((t) => bytesToHex(t)) as [Hex, ...Hex[]],
      data: bytesToHex(logData),
    }))
    return {
      result: decodeFunctionResult({ abi, functionName, data: bytesToHex(returnValue) }),
      logs,
      gasUsed: res.execResult.executionGasUsed,
    }
  }

  async read<T>(to: Hex, abi: Abi, functionName: string, args: readonly unknown[] = []): Promise<T> {
    return (await this.call(to, abi, functionName, args)).result as T
  }

  async code(address: Hex): Promise<Hex> {
    return bytesToHex(await this.vm.stateManager.getCode(createAddressFromString(address)))
  }

  async balance(address: Hex): Promise<bigint> {
    return (await this.vm.stateManager.getAccount(createAddressFromString(address)))?.balance ?? 0n
  }
}

/** Decodes a Solidity `Error(string)` revert payload, or returns the raw hex. */
function revertReason(data: Hex): string {
  if (!data.startsWith('0x08c379a0') || data.length < 138) return data
  const len = Number(BigInt(`0x${data.slice(74, 138)}`))
  return Buffer.from(data.slice(138, 138 + 2 * len), 'hex').toString('utf8')
}

type Deployment = { chain: Chain; weth: Hex; tokenA: Hex; tokenB: Hex; factory: Hex; router: Hex }

const SUPPLY = 1_000_000n * E18

async function deployAll(): Promise<Deployment> {
  const chain = await Chain.create()
  const weth = await chain.deploy(ART.weth)
  const tokenA = await chain.deploy(ART.token, ['Token A', 'TKA', SUPPLY, DEPLOYER])
  const tokenB = await chain.deploy(ART.token, ['Token B', 'TKB', SUPPLY, DEPLOYER])
  const factory = await chain.deploy(ART.factory, [DEPLOYER])
  const router = await chain.deploy(ART.router, [factory, weth])
  return { chain, weth, tokenA, tokenB, factory, router }
}

const sortTokens = (a: Hex, b: Hex): [Hex, Hex] => (BigInt(a) < BigInt(b) ? [a, b] : [b, a])

const create2PairAddress = (factory: Hex, a: Hex, b: Hex): Hex =>
  getContractAddress({
    opcode: 'CREATE2',
    from: factory,
    salt: keccak256(encodePacked(['address', 'address'], sortTokens(a, b))),
    bytecodeHash: keccak256(ART.pair.bytecode),
  })

/** Reserves of `pair` ordered as (reserve of tokenIn, reserve of tokenOut). */
async function reservesFor(chain: Chain, pair: Hex, tokenIn: Hex, tokenOut: Hex): Promise<[bigint, bigint]> {
  const [r0, r1] = await chain.read<readonly [bigint, bigint, number]>(pair, ART.pair.abi, 'getReserves')
  return sortTokens(tokenIn, tokenOut)[0] === tokenIn ? [r0, r1] : [r1, r0]
}

describe('contract artifacts', () => {
  test('default: every committed artifact is loadable and has creation and runtime code', () => {
    for (const name of CONTRACT_NAMES) {
      const onDisk = read(name)
      const loaded = loadArtifact(name)
      expect(loaded).toEqual(onDisk)
      expect(loadArtifact(name)).toBe(loaded) // cached
      expect(loaded.contractName).toBe(name)
      expect(loaded.bytecode).toMatch(/^0x([0-9a-f]{2})+$/)
      expect(loaded.deployedBytecode).toMatch(/^0x([0-9a-f]{2})+$/)
      expect(loaded.source.sha256).toMatch(/^[0-9a-f]{64}$/)
    }
    expect(ART.token.compiler?.version).toMatch(/^0\.8\.37\+/)
    expect(ART.token.compiler?.settings).toMatchObject({ evmVersion: 'cancun', optimizer: { enabled: true, runs: 200 } })
  })

  test('default: the router embeds keccak256(UniswapV2Pair creation code) as its pair init code hash', () => {
    expect(keccak256(ART.pair.bytecode)).toBe(MAINNET_PAIR_INIT_CODE_HASH)
    expect(ART.router.deployedBytecode).toContain(`7f${MAINNET_PAIR_INIT_CODE_HASH.slice(2)}`)
    expect(ART.factory.bytecode).toContain(ART.pair.bytecode.slice(2))
  })

  test('behavior: loadArtifact names the file when an artifact is missing', () => {
    expect(() => loadArtifact('NoSuchContract' as ContractName)).toThrow(/NoSuchContract\.json/)
  })
})

describe('deployment and swaps on the real contracts (ethereumjs VM, Cancun)', () => {
  test('default: everything deploys and the runtime code matches the artifacts', async () => {
    const { chain, weth, tokenA, factory, router } = await deployAll()

    // No immutables: the installed code is exactly the artifact's runtime code.
    expect(await chain.code(weth)).toBe(ART.weth.deployedBytecode)
    expect(await chain.code(tokenA)).toBe(ART.token.deployedBytecode)
    expect(await chain.code(factory)).toBe(ART.factory.deployedBytecode)
    // The router's immutables (factory, WETH) are zero placeholders in the artifact.
    const routerCode = await chain.code(router)
    const word = (a: Hex) => a.slice(2).toLowerCase().padStart(64, '0')
    expect(routerCode).not.toBe(ART.router.deployedBytecode)
    expect(routerCode.replaceAll(word(factory), '0'.repeat(64)).replaceAll(word(weth), '0'.repeat(64))).toBe(
      ART.router.deployedBytecode,
    )
    expect(sameAddress(await chain.read<Hex>(router, ART.router.abi, 'factory'), factory)).toBe(true)
    expect(sameAddress(await chain.read<Hex>(router, ART.router.abi, 'WETH'), weth)).toBe(true)

    expect(await chain.read<string>(tokenA, ART.token.abi, 'symbol')).toBe('TKA')
    expect(await chain.read<bigint>(tokenA, ART.token.abi, 'totalSupply')).toBe(SUPPLY)
    expect(await chain.read<bigint>(tokenA, ART.token.abi, 'balanceOf', [DEPLOYER])).toBe(SUPPLY)
    expect(await chain.read<string>(weth, ART.weth.abi, 'symbol')).toBe('WETH')
  })

  test('default: createPair, mint and swapExactTokensForTokens follow the constant-product formula', async () => {
    const { chain, tokenA, tokenB, factory, router } = await deployAll()

    // createPair: the factory's CREATE2 address is the one computed from the pair init code hash.
    const created = await chain.call(factory, ART.factory.abi, 'createPair', [tokenA, tokenB])
    const pair = created.result as Hex
    expect(sameAddress(pair, create2PairAddress(factory, tokenA, tokenB))).toBe(true)
    expect(sameAddress(await chain.read<Hex>(factory, ART.factory.abi, 'getPair', [tokenB, tokenA]), pair)).toBe(true)
    const pairCreated = decodeEventLog({ abi: ART.factory.abi, ...created.logs[0]! })
    expect(pairCreated.eventName).toBe('PairCreated')
    expect(await chain.code(pair)).toBe(ART.pair.deployedBytecode)

    // Liquidity: transfer both tokens to the pair, then mint LP tokens to the deployer.
    const liqA = 1_000n * E18
    const liqB = 3_000n * E18
    await chain.call(tokenA, ART.token.abi, 'transfer', [pair, liqA])
    await chain.call(tokenB, ART.token.abi, 'transfer', [pair, liqB])
    const minted = await chain.call(pair, ART.pair.abi, 'mint', [DEPLOYER])
    expect(minted.result).toBe(sqrt(liqA * liqB) - 1000n) // MINIMUM_LIQUIDITY is locked
    expect(await reservesFor(chain, pair, tokenA, tokenB)).toEqual([liqA, liqB])

    // Swap A -> B through the router (which finds the pair via its hard-coded init code hash).
    const amountIn = 10n * E18
    const expectedOut = amountOut(amountIn, liqA, liqB)
    await chain.call(tokenA, ART.token.abi, 'approve', [router, amountIn])
    const balanceBBefore = await chain.read<bigint>(tokenB, ART.token.abi, 'balanceOf', [DEPLOYER])
    const swap = await chain.call(router, ART.router.abi, 'swapExactTokensForTokens', [
      amountIn,
      0n,
      [tokenA, tokenB],
      DEPLOYER,
      DEADLINE,
    ])
    expect(swap.result).toEqual([amountIn, expectedOut])
    expect(await reservesFor(chain, pair, tokenA, tokenB)).toEqual([liqA + amountIn, liqB - expectedOut])
    expect(await chain.read<bigint>(tokenB, ART.token.abi, 'balanceOf', [DEPLOYER])).toBe(balanceBBefore + expectedOut)
    // The new product is at least the old one (the fee stays in the pool).
    expect((liqA + amountIn) * (liqB - expectedOut)).toBeGreaterThanOrEqual(liqA * liqB)

    // The Swap event decodes with the pair's ABI.
    const swapLog = swap.logs.find((l) => sameAddress(l.address, pair) && l.topics.length === 3 && l.data.length === 2 + 4 * 64)
    expect(swapLog).toBeDefined()
    const event = decodeEventLog({ abi: ART.pair.abi, ...swapLog! })
    expect(event.eventName).toBe('Swap')
    const aIsToken0 = sortTokens(tokenA, tokenB)[0] === tokenA
    expect(event.args).toMatchObject({
      amount0In: aIsToken0 ? amountIn : 0n,
      amount1In: aIsToken0 ? 0n : amountIn,
      amount0Out: aIsToken0 ? 0n : expectedOut,
      amount1Out: aIsToken0 ? expectedOut : 0n,
    })
    const args = event.args as unknown as { sender: Hex; to: Hex }
    expect(sameAddress(args.sender, router)).toBe(true)
    expect(sameAddress(args.to, DEPLOYER)).toBe(true)
  })

  test('default: addLiquidityETH and swapExactETHForTokens against a WETH/token pair', async () => {
    const { chain, weth, tokenA, factory, router } = await deployAll()

    // addLiquidityETH creates the WETH/TKA pair through the factory and wraps the ETH.
    const liqToken = 2_000n * E18
    const liqEth = 100n * E18
    await chain.call(tokenA, ART.token.abi, 'approve', [router, liqToken])
    await chain.call(router, ART.router.abi, 'addLiquidityETH', [tokenA, liqToken, 0n, 0n, DEPLOYER, DEADLINE], liqEth)
    const pair = await chain.read<Hex>(factory, ART.factory.abi, 'getPair', [weth, tokenA])
    expect(sameAddress(pair, create2PairAddress(factory, weth, tokenA))).toBe(true)
    expect(await reservesFor(chain, pair, weth, tokenA)).toEqual([liqEth, liqToken])
    expect(await chain.balance(weth)).toBe(liqEth)

    const ethIn = 1n * E18
    const expectedOut = amountOut(ethIn, liqEth, liqToken)
    const ethBefore = await chain.balance(DEPLOYER)
    const swap = await chain.call(router, ART.router.abi, 'swapExactETHForTokens', [0n, [weth, tokenA], DEPLOYER, DEADLINE], ethIn)
    expect(swap.result).toEqual([ethIn, expectedOut])
    expect(await reservesFor(chain, pair, weth, tokenA)).toEqual([liqEth + ethIn, liqToken - expectedOut])
    expect(await chain.balance(DEPLOYER)).toBe(ethBefore - ethIn) // runCall: gas price 0
    expect(await chain.balance(weth)).toBe(liqEth + ethIn)
    expect(await chain.read<bigint>(weth, ART.weth.abi, 'balanceOf', [pair])).toBe(liqEth + ethIn)
    const events = swap.logs
      .filter((l) => sameAddress(l.address, pair))
      .map((l) => decodeEventLog({ abi: ART.pair.abi, ...l }).eventName)
    expect(events).toEqual(['Sync', 'Swap'])
  })

  test('behavior: the router rejects an expired deadline and a too-high amountOutMin', async () => {
    const { chain, tokenA, tokenB, factory, router } = await deployAll()
    await chain.call(factory, ART.factory.abi, 'createPair', [tokenA, tokenB])
    await chain.call(tokenA, ART.token.abi, 'approve', [router, maxUint256])
    await chain.call(tokenB, ART.token.abi, 'approve', [router, maxUint256])
    await chain.call(router, ART.router.abi, 'addLiquidity', [
      tokenA,
      tokenB,
      500n * E18,
      500n * E18,
      0n,
      0n,
      DEPLOYER,
      DEADLINE,
    ])
    const swap = (minOut: bigint, deadline: bigint) =>
      chain.call(router, ART.router.abi, 'swapExactTokensForTokens', [E18, minOut, [tokenA, tokenB], DEPLOYER, deadline])
    await expect(swap(0n, TIMESTAMP - 1n)).rejects.toThrow(/UniswapV2Router: EXPIRED/)
    const out = amountOut(E18, 500n * E18, 500n * E18)
    await expect(swap(out + 1n, DEADLINE)).rejects.toThrow(/UniswapV2Router: INSUFFICIENT_OUTPUT_AMOUNT/)
    await expect(swap(out, DEADLINE)).resolves.toMatchObject({ result: [E18, out] })
  })
})
