import { type ChildProcess, spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import { createServer } from 'node:net'

import { type Address, type Hex, concatHex, createPublicClient, createWalletClient, encodeDeployData, encodeFunctionData, http, maxUint256, numberToHex, parseEther } from 'viem'

import { loadArtifact } from '../workloads/artifacts.js'

/**
 * A local anvil devnet for fetch's tests and benchmark: the binary the npm package
 * @foundry-rs/anvil ships in its platform package (resolved on disk: nothing downloads), on
 * 127.0.0.1 and a free port, and a workload of real contracts (the workloads' ERC20, WETH9,
 * Uniswap V2) with transfers, swaps and storage clearing.
 */
export type Anvil = { url: string; port: number; pid: number; stop(): Promise<void> }

/** anvil's binary from @foundry-rs/anvil-<platform> (a devDependency); throws if it is not installed. */
export function anvilBinary(): string {
  const require = createRequire(import.meta.url)
  const arch = process.arch === 'x64' ? 'amd64' : process.arch
  return require.resolve(`@foundry-rs/anvil-${process.platform}-${arch}/bin/anvil`)
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const a = s.address()
      s.close(() => (typeof a === 'object' && a !== null ? resolve(a.port) : reject(new Error('no port'))))
    })
  })
}

/** Starts anvil (cancun, chain id 31337, the default dev accounts) and waits until it answers. */
export async function startAnvil(opts: { hardfork?: string; args?: string[] } = {}): Promise<Anvil> {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort()
    const child: ChildProcess = spawn(
      anvilBinary(),
      ['--host', '127.0.0.1', '--port', String(port), '--hardfork', opts.hardfork ?? 'cancun', '--silent', ...(opts.args ?? [])],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    )
    let stderr = ''
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()))
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)))
    const url = `http://127.0.0.1:${port}`
    const stop = async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      await exited
    }
    const deadline = Date.now() + 10_000
    let up = false
    while (Date.now() < deadline && child.exitCode === null) {
      try {
        const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}' })
        if (r.ok) {
          up = true
          break
        }
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 50))
    }
    if (up) return { url, port, pid: child.pid ?? -1, stop }
    await stop()
    if (attempt >= 2) throw new Error(`anvil did not start: ${stderr.trim().split('\n')[0] ?? ''}`)
  }
}

/** A contract whose constructor sets slots 1…16 and whose code zeroes every slot its calldata lists (32 bytes each). */
export const SLOT_CLEARER_RUNTIME: Hex = '0x60005b8036111560155760008135556020016002565b00'
export const SLOT_CLEARER_INITCODE: Hex = `0x6010${'5b80805560019003806002575060178060'}1a6000396000f3${SLOT_CLEARER_RUNTIME.slice(2)}`

export type WorkloadResult = { first: number; last: number; txs: number; contracts: Record<string, Address> }

/**
 * Drives a workload on anvil: deploys two tokens, WETH9, the Uniswap V2 factory and router, a pair
 * with liquidity and the slot clearer (one block each, automining), then `rounds` multi-transaction
 * blocks of ERC20 transfers, ETH transfers and swaps, and finally a block that clears storage slots
 * (branch collapses) and moves a holder's whole token balance (a deleted balance slot).
 */
export async function runDevnetWorkload(url: string, rounds = 3): Promise<WorkloadResult> {
  const pub = createPublicClient({ transport: http(url), cacheTime: 0 })
  const first = Number(await pub.getBlockNumber()) + 1
  const accounts = (await pub.request({ method: 'eth_accounts' } as never)) as Address[]
  const [deployer, ...users] = accounts.slice(0, 6) as [Address, ...Address[]]
  const wallet = createWalletClient({ transport: http(url) })
  let txs = 0
  const send = async (from: Address, to: Address | undefined, data: Hex | undefined, value = 0n, wait = true) => {
    txs++
    // Explicit gas: estimates would run against pending state, and 10 × 3M would not fit a block.
    const gas = to === undefined || wait ? 6_000_000n : data === undefined ? 21_000n : 400_000n
    const hash = await wallet.sendTransaction({ account: from, to: to ?? null, data, value, chain: null, gas })
    if (!wait) return undefined
    const r = await pub.waitForTransactionReceipt({ hash, pollingInterval: 20 })
    if (r.status !== 'success') throw new Error(`workload transaction ${hash} reverted`)
    return r
  }
  const deploy = async (data: Hex) => {
    const r = await send(deployer, undefined, data)
    if (r?.contractAddress == null) throw new Error('deployment failed')
    return r.contractAddress
  }
  const token = loadArtifact('MegabenchToken')
  const weth9 = loadArtifact('WETH9')
  const factoryArt = loadArtifact('UniswapV2Factory')
  const routerArt = loadArtifact('UniswapV2Router02')
  const supply = parseEther('1000000000')
  const tokenA = await deploy(encodeDeployData({ abi: token.abi, bytecode: token.bytecode, args: ['Token A', 'TKA', supply, deployer] }))
  const tokenB = await deploy(encodeDeployData({ abi: token.abi, bytecode: token.bytecode, args: ['Token B', 'TKB', supply, deployer] }))
  const weth = await deploy(weth9.bytecode)
  const factory = await deploy(encodeDeployData({ abi: factoryArt.abi, bytecode: factoryArt.bytecode, args: [deployer] }))
  const router = await deploy(encodeDeployData({ abi: routerArt.abi, bytecode: routerArt.bytecode, args: [factory, weth] }))
  const clearer = await deploy(SLOT_CLEARER_INITCODE)
  const call = (to: Address, abi: typeof token.abi, functionName: string, args: unknown[], from = deployer, value = 0n, wait = true) =>
    send(from, to, encodeFn(abi, functionName, args), value, wait)
  await call(tokenA, token.abi, 'approve', [router, maxUint256])
  await call(tokenB, token.abi, 'approve', [router, maxUint256])
  const deadline = 2n ** 40n
  await call(router, routerArt.abi, 'addLiquidity', [tokenA, tokenB, parseEther('1000000'), parseEther('1000000'), 0n, 0n, deployer, deadline])
  await call(router, routerArt.abi, 'addLiquidityETH', [tokenA, parseEther('1000000'), 0n, 0n, deployer, deadline], deployer, parseEther('1000'))

  // Multi-transaction blocks: automine off, send, mine.
  await pub.request({ method: 'evm_setAutomine', params: [false] } as never)
  const mine = async () => {
    await pub.request({ method: 'evm_mine', params: [] } as never)
  }
  for (let r = 0; r < rounds; r++) {
    for (const [i, u] of users.entries()) {
      await call(tokenA, token.abi, 'transfer', [u, parseEther(String(1000 + 10 * r + i))], deployer, 0n, false)
      await call(tokenB, token.abi, 'transfer', [u, parseEther(String(500 + r + i))], deployer, 0n, false)
      await send(deployer, u, undefined, parseEther('1') + BigInt(r), false)
    }
    await mine()
    for (const [i, u] of users.entries()) {
      if (r === 0) await call(tokenA, token.abi, 'approve', [router, maxUint256], u, 0n, false)
      await call(router, routerArt.abi, 'swapExactETHForTokens', [0n, [weth, tokenA], u, deadline], u, parseEther('0.1') + BigInt(i), false)
      if (r > 0) await call(router, routerArt.abi, 'swapExactTokensForTokens', [parseEther('10'), 0n, [tokenA, tokenB], u, deadline], u, 0n, false)
      if (r > 0) await call(router, routerArt.abi, 'swapExactTokensForETH', [parseEther('5'), 0n, [tokenA, weth], u, deadline], u, 0n, false)
    }
    await mine()
  }
  // Storage clearing: 14 of the clearer's 16 slots (its storage trie collapses to two leaves), and a
  // holder sending its whole TKB balance away (its balance slot is deleted).
  const slots = Array.from({ length: 14 }, (_, i) => numberToHex(i + 1, { size: 32 }))
  await send(deployer, clearer, concatHex(slots), 0n, false)
  const holder = users[0] as Address
  const balance = (await pub.readContract({ address: tokenB, abi: token.abi, functionName: 'balanceOf', args: [holder] })) as bigint
  await call(tokenB, token.abi, 'transfer', [deployer, balance], holder, 0n, false)
  await mine()
  await pub.request({ method: 'evm_setAutomine', params: [true] } as never)
  const last = Number(await pub.getBlockNumber())
  return { first, last, txs, contracts: { tokenA, tokenB, weth, factory, router, clearer } }
}

function encodeFn(abi: ReturnType<typeof loadArtifact>['abi'], functionName: string, args: unknown[]): Hex {
  return encodeFunctionData({ abi, functionName, args } as never)
}
