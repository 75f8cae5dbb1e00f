import { type ChildProcess, spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import { createServer } from 'node:net'

import { type Address, type Hex, concatHex, getContractAddress, createPublicClient, createWalletClient, encodeDeployData, encodeFunctionData, http, maxUint256, numberToHex, parseEther } from 'viem'

import { superviseChild } from '../util/interrupt.js'
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
      // A 100M block gas limit: the workload's setup (five deployments) fits one block.
      ['--host', '127.0.0.1', '--port', String(port), '--hardfork', opts.hardfork ?? 'cancun', '--gas-limit', '100000000', '--silent', ...(opts.args ?? [])],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    )
    superviseChild(child)
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
 * anvil (1.7.1) keeps zero-valued storage slots in its storage tries: a slot cleared to zero stays
 * as a leaf with an empty value, and so does an unset slot a transaction only reads. Its state roots
 * then differ from Ethereum's (where a zero slot is absent), and no correct EVM reproduces them. The
 * main workload therefore never leaves a slot at zero and never reads an unset slot that stays unset
 * (the factory's feeTo is set; no ETH↔WETH swaps, whose router balance returns to zero);
 * `clearStorage` does both on purpose, to check that fetch reports it.
 */
export async function runDevnetWorkload(url: string, rounds = 3): Promise<WorkloadResult> {
  const d = await devnet(url)
  const { pub, send, call, deployer, users, token, routerArt } = d
  let contracts: Record<string, Address> = {}
  const first = Number(await pub.getBlockNumber()) + 1
  // Setup in two blocks (deployments at the addresses the deployer's nonces give, then liquidity),
  // and the rounds in two blocks each: automine off, send, mine.
  let nonce = await pub.getTransactionCount({ address: deployer, blockTag: 'pending' })
  const deploy = async (data: Hex) => {
    const address = getContractAddress({ from: deployer, nonce: BigInt(nonce) })
    await send(deployer, undefined, data, 0n, false)
    nonce++
    return address
  }
  const weth9 = loadArtifact('WETH9')
  const factoryArt = loadArtifact('UniswapV2Factory')
  const supply = parseEther('1000000000')
  await d.automine(false)
  try {
    const tokenA = await deploy(encodeDeployData({ abi: token.abi, bytecode: token.bytecode, args: ['Token A', 'TKA', supply, deployer] }))
    const tokenB = await deploy(encodeDeployData({ abi: token.abi, bytecode: token.bytecode, args: ['Token B', 'TKB', supply, deployer] }))
    const weth = await deploy(weth9.bytecode)
    const factory = await deploy(encodeDeployData({ abi: factoryArt.abi, bytecode: factoryArt.bytecode, args: [deployer] }))
    const router = await deploy(encodeDeployData({ abi: routerArt.abi, bytecode: routerArt.bytecode, args: [factory, weth] }))
    const clearer = await deploy(SLOT_CLEARER_INITCODE)
    await call(factory, factoryArt.abi, 'setFeeTo', [users.at(-1)], deployer, 0n, false)
    await call(tokenA, token.abi, 'approve', [router, maxUint256], deployer, 0n, false)
    await call(tokenB, token.abi, 'approve', [router, maxUint256], deployer, 0n, false)
    await d.mine()
    await call(router, routerArt.abi, 'addLiquidity', [tokenA, tokenB, parseEther('1000000'), parseEther('1000000'), 0n, 0n, deployer, DEADLINE], deployer, 0n, false)
    await d.mine()
    await d.expectSuccess()
    contracts = { tokenA, tokenB, weth, factory, router, clearer }
    for (let r = 0; r < rounds; r++) {
      for (const [i, u] of users.entries()) {
        await call(tokenA, token.abi, 'transfer', [u, parseEther(String(1000 + 10 * r + i))], deployer, 0n, false)
        await call(tokenB, token.abi, 'transfer', [u, parseEther(String(500 + r + i))], deployer, 0n, false)
        await send(deployer, u, undefined, parseEther('1') + BigInt(r), false)
      }
      await d.mine()
      for (const [i, u] of users.entries()) {
        if (r === 0) {
          await call(tokenA, token.abi, 'approve', [router, maxUint256], u, 0n, false)
          await call(tokenB, token.abi, 'approve', [router, maxUint256], u, 0n, false)
        }
        await call(router, routerArt.abi, 'swapExactTokensForTokens', [parseEther(String(10 + i)), 0n, [tokenA, tokenB], u, DEADLINE], u, 0n, false)
        await call(router, routerArt.abi, 'swapExactTokensForTokens', [parseEther(String(5 + r)), 0n, [tokenB, tokenA], u, DEADLINE], u, 0n, false)
        await send(u, deployer, undefined, BigInt(1000 + i), false)
      }
      await d.mine()
    }
    await d.expectSuccess()
  } finally {
    await d.automine(true)
  }
  const last = Number(await pub.getBlockNumber())
  return { first, last, txs: d.txs(), contracts }
}

/**
 * One block that clears storage: 14 of the slot clearer's 16 slots (its storage trie collapses to
 * two leaves under Ethereum's rules) and a holder's whole token balance. Returns the block number.
 */
export async function clearStorage(url: string, w: WorkloadResult): Promise<number> {
  const d = await devnet(url)
  const { clearer, tokenA } = w.contracts as { clearer: Address; tokenA: Address }
  const slots = Array.from({ length: 14 }, (_, i) => numberToHex(i + 1, { size: 32 }))
  await d.automine(false)
  try {
    await d.send(d.deployer, clearer, concatHex(slots), 0n, false)
    const holder = d.users[0] as Address
    const balance = (await d.pub.readContract({ address: tokenA, abi: d.token.abi, functionName: 'balanceOf', args: [holder] })) as bigint
    await d.call(tokenA, d.token.abi, 'transfer', [d.deployer, balance], holder, 0n, false)
    await d.mine()
    await d.expectSuccess()
  } finally {
    await d.automine(true)
  }
  return Number(await d.pub.getBlockNumber())
}

const DEADLINE = 2n ** 40n

async function devnet(url: string) {
  const pub = createPublicClient({ transport: http(url), cacheTime: 0 })
  const wallet = createWalletClient({ transport: http(url) })
  const accounts = (await pub.request({ method: 'eth_accounts' } as never)) as Address[]
  const [deployer, ...users] = accounts.slice(0, 6) as [Address, ...Address[]]
  let txs = 0
  let pending: Hex[] = []
  const send = async (from: Address, to: Address | undefined, data: Hex | undefined, value = 0n, wait = true) => {
    txs++
    // Explicit gas (estimates would run against the pending state); blocks have a 100M gas limit.
    const gas = to === undefined ? 5_000_000n : data === undefined ? 21_000n : 4_000_000n
    const hash = await wallet.sendTransaction({ account: from, to: to ?? null, data, value, chain: null, gas })
    if (!wait) {
      pending.push(hash)
      return undefined
    }
    const r = await pub.waitForTransactionReceipt({ hash, pollingInterval: 20 })
    if (r.status !== 'success') throw new Error(`workload transaction ${hash} reverted`)
    return r
  }
  const token = loadArtifact('MegabenchToken')
  const routerArt = loadArtifact('UniswapV2Router02')
  const call = (to: Address, abi: typeof token.abi, functionName: string, args: unknown[], from = deployer, value = 0n, wait = true) =>
    send(from, to, encodeFn(abi, functionName, args), value, wait)
  return {
    pub,
    deployer,
    users,
    token,
    routerArt,
    send,
    call,
    txs: () => txs,
    automine: (on: boolean) => pub.request({ method: 'evm_setAutomine', params: [on] } as never),
    mine: () => pub.request({ method: 'evm_mine', params: [] } as never),
    /** Every transaction sent without waiting was mined and succeeded. */
    async expectSuccess() {
      for (const hash of pending) {
        const r = await pub.getTransactionReceipt({ hash })
        if (r.status !== 'success') throw new Error(`workload transaction ${hash} reverted`)
      }
      pending = []
    },
  }
}

function encodeFn(abi: ReturnType<typeof loadArtifact>['abi'], functionName: string, args: unknown[]): Hex {
  return encodeFunctionData({ abi, functionName, args } as never)
}
