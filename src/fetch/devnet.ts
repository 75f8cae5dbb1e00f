import { type ChildProcess, spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import { createServer } from 'node:net'

import {
  type Address,
  type Hex,
  commitmentToVersionedHash,
  concatHex,
  getContractAddress,
  createPublicClient,
  createWalletClient,
  encodeDeployData,
  encodeFunctionData,
  http,
  maxUint256,
  numberToHex,
  parseEther,
  parseGwei,
  stringToHex,
  toHex,
  toBlobSidecars,
  toBlobs,
  zeroAddress,
} from 'viem'
import { mnemonicToAccount } from 'viem/accounts'
import { p256 } from '@noble/curves/nist.js'
import { sha256 } from '@noble/hashes/sha2.js'

import { kzgBackend } from '../chain/crypto.js'
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

/**
 * One block with a zero-value call to an account that does not exist: Ethereum (EIP-161) leaves it
 * absent, anvil 1.7.1 keeps it as an empty account, so its state root is not Ethereum's. Returns the block number.
 */
export async function touchEmptyAccount(url: string, address: Address = '0x00000000000000000000000000000000dead0161'): Promise<number> {
  const d = await devnet(url)
  await d.send(d.deployer, address, undefined, 0n)
  return Number(await d.pub.getBlockNumber())
}

const DEADLINE = 2n ** 40n

/**
 * The workloads' RPC: no retries (a sent transaction retried after a slow answer is refused as "already
 * imported") and a long timeout (anvil takes seconds for a blob transaction on a loaded machine).
 */
const WORKLOAD_HTTP = { retryCount: 0, timeout: 120_000 } as const

async function devnet(url: string) {
  const pub = createPublicClient({ transport: http(url, WORKLOAD_HTTP), cacheTime: 0 })
  const wallet = createWalletClient({ transport: http(url, WORKLOAD_HTTP) })
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

/** The precompile at `to` answers `input` with output starting with `expected` (the workload's calls succeed). */
async function expectOutput(pub: ReturnType<typeof createPublicClient>, to: Address, input: Hex, expected: Hex): Promise<void> {
  const { data } = await pub.call({ to, data: input })
  if (data === undefined || !data.toLowerCase().startsWith(expected.toLowerCase())) throw new Error(`precompile ${to} answered ${data ?? 'nothing'}, not ${expected}…`)
}

/** A contract for EOAs to delegate to (EIP-7702): each call adds one to slot 0 of the account it runs for and logs the count with the caller as topic. */
export const DELEGATE_RUNTIME: Hex = '0x5f54600101805f555f523360205fa100'
export const DELEGATE_INITCODE: Hex = `0x6010806009${'5f395ff3'}${DELEGATE_RUNTIME.slice(2)}`

/** Osaka's CLZ (EIP-7939): stores clz(first calldata word) + 1 in slot 0. */
export const CLZ_RUNTIME: Hex = '0x5f351e6001015f5500'
export const CLZ_INITCODE: Hex = `0x6009806009${'5f395ff3'}${CLZ_RUNTIME.slice(2)}`

/** anvil's dev accounts, with their keys (its default mnemonic): the Prague workload signs locally (authorizations, blob transactions). */
const ANVIL_MNEMONIC = 'test test test test test test test test test test test junk'
const devAccount = (i: number) => mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: i })
const authorize = (a: ReturnType<typeof devAccount>, p: { chainId: number; address: Address; nonce: number }) => {
  if (a.signAuthorization === undefined) throw new Error('viem: this account cannot sign authorizations')
  return a.signAuthorization(p)
}

export type PragueWorkloadResult = {
  first: number
  last: number
  txs: number
  /** Blocks with a blob transaction, with an EIP-7702 (type-4) transaction, and calls into delegated EOAs. */
  blobBlocks: number[]
  setCodeBlocks: number[]
  delegate: Address
  authorities: Address[]
}

/**
 * Transactions only Prague and later have, in four blocks, signed locally by anvil's dev accounts 6…9
 * (none of which `runDevnetWorkload` uses, so the two workloads can follow each other):
 *
 *   1. account 6 deploys a delegate contract (DELEGATE_RUNTIME); account 8 sends a blob transaction
 *      (type 3, one real blob: commitment and proof by the KZG backend megabench replays with);
 *      account 9 calls the point-evaluation precompile (0x0a) with a proof for that blob;
 *   2. account 6 sends a set-code transaction (type 4) with two authorizations, account 7's (sponsored)
 *      and its own (self-sponsored, at its nonce + 1), both delegating to the contract, calling account 7;
 *   3. calls into the delegated EOAs (their own storage counts the calls) and a plain value transfer to one;
 *   4. account 7's delegation cleared (an authorization to the zero address), sponsored by account 9.
 *
 * With `osaka`, block 1 also deploys a contract using CLZ (EIP-7939) and block 3 calls it and the
 * P256VERIFY precompile (EIP-7951, 0x100) with a valid signature: blocks whose gas and state differ
 * under prague's rules, so a fork taken wrongly for the chain fails verification.
 *
 * The delegate writes a non-zero count to slot 0 the first time it reads it, so no slot stays zero
 * (anvil keeps zero-valued slots in its tries; see runDevnetWorkload).
 */
export async function runPragueWorkload(url: string, opts: { osaka?: boolean } = {}): Promise<PragueWorkloadResult> {
  const pub = createPublicClient({ transport: http(url, WORKLOAD_HTTP), cacheTime: 0 })
  const chainId = await pub.getChainId()
  const [a6, a7, a8, a9] = [6, 7, 8, 9].map(devAccount) as [ReturnType<typeof devAccount>, ReturnType<typeof devAccount>, ReturnType<typeof devAccount>, ReturnType<typeof devAccount>]
  const nonces = new Map<Address, number>()
  const nonceOf = async (a: Address) => {
    const n = nonces.get(a) ?? (await pub.getTransactionCount({ address: a, blockTag: 'pending' }))
    nonces.set(a, n + 1)
    return n
  }
  const fees = { maxFeePerGas: parseGwei('20'), maxPriorityFeePerGas: parseGwei('1') }
  const hashes: Hex[] = []
  let txs = 0
  const sendRaw = async (raw: Hex) => {
    txs++
    hashes.push(await pub.request({ method: 'eth_sendRawTransaction', params: [raw] }))
  }
  const mine = async () => {
    await pub.request({ method: 'evm_mine', params: [] } as never)
    for (const hash of hashes.splice(0)) {
      const r = await pub.getTransactionReceipt({ hash })
      if (r.status !== 'success') throw new Error(`prague workload transaction ${hash} reverted`)
    }
    return Number(await pub.getBlockNumber())
  }
  const call = async (from: typeof a6, to: Address, data: Hex = '0x', value = 0n, gas = 100_000n) =>
    sendRaw(await from.signTransaction({ type: 'eip1559', chainId, nonce: await nonceOf(from.address), to, data, value, gas, ...fees }))

  await pub.request({ method: 'evm_setAutomine', params: [false] } as never)
  try {
    const first = Number(await pub.getBlockNumber()) + 1
    // 1. The delegate, a blob transaction, a point evaluation of that blob.
    const delegate = getContractAddress({ from: a6.address, nonce: BigInt(await pub.getTransactionCount({ address: a6.address, blockTag: 'pending' })) })
    await sendRaw(await a6.signTransaction({ type: 'eip1559', chainId, nonce: await nonceOf(a6.address), data: DELEGATE_INITCODE, gas: 200_000n, ...fees }))
    const kzg = kzgBackend()
    const blobs = toBlobs({ data: stringToHex('megabench: a blob on a Prague devnet. '.repeat(40)) })
    const commitments = blobs.map((b) => kzg.blobToKzgCommitment(b) as Hex)
    const proofs = blobs.map((b, i) => kzg.computeBlobProof(b, commitments[i] as Hex) as Hex)
    const sidecars = toBlobSidecars({ blobs, commitments, proofs })
    const versionedHashes = commitments.map((c) => commitmentToVersionedHash({ commitment: c }))
    await sendRaw(
      await a8.signTransaction({
        type: 'eip4844',
        chainId,
        nonce: await nonceOf(a8.address),
        to: a9.address,
        value: 1n,
        gas: 21_000n,
        maxFeePerBlobGas: parseGwei('1'),
        blobVersionedHashes: versionedHashes,
        sidecars,
        ...fees,
      }),
    )
    const z = numberToHex(0x6d6567616265n, { size: 32 })
    // micro-eth-signer's KZG (the backend) also opens a blob at a point.
    const [proof, y] = (kzg as unknown as { computeProof(blob: Hex, z: Hex): [Hex, Hex] }).computeProof(blobs[0] as Hex, z)
    // With 1 wei: anvil (1.7.1) keeps an account a zero-value call touches and leaves empty (EIP-161
    // deletes it), so a plain call to the absent precompile account would give a root no EVM reproduces.
    const pointEvaluation = concatHex([versionedHashes[0] as Hex, z, y, commitments[0] as Hex, proof])
    await expectOutput(pub, '0x000000000000000000000000000000000000000a', pointEvaluation, numberToHex(4096n, { size: 32 }))
    await call(a9, '0x000000000000000000000000000000000000000a', pointEvaluation, 1n)
    const clz = opts.osaka === true ? getContractAddress({ from: a7.address, nonce: BigInt(await pub.getTransactionCount({ address: a7.address, blockTag: 'pending' })) }) : undefined
    if (opts.osaka === true) await sendRaw(await a7.signTransaction({ type: 'eip1559', chainId, nonce: await nonceOf(a7.address), data: CLZ_INITCODE, gas: 200_000n, ...fees }))
    const blob = await mine()

    // 2. Two delegations in one set-code transaction, then a call into the sponsored EOA.
    const sponsored = await authorize(a7, { chainId, address: delegate, nonce: await nonceOf(a7.address) })
    const selfNonce = await nonceOf(a6.address)
    const own = await authorize(a6, { chainId, address: delegate, nonce: selfNonce + 1 })
    nonces.set(a6.address, selfNonce + 2)
    await sendRaw(await a6.signTransaction({ type: 'eip7702', chainId, nonce: selfNonce, to: a7.address, gas: 200_000n, authorizationList: [sponsored, own], ...fees }))
    const setCode = await mine()

    // 3. Calls into both delegated EOAs, and value sent to one.
    await call(a8, a7.address)
    await call(a9, a6.address, '0x01')
    await call(a8, a6.address, '0x', parseEther('0.5'))
    if (clz !== undefined) {
      await call(a9, clz, numberToHex(0x1234n, { size: 32 }))
      const key = sha256(new TextEncoder().encode('megabench p256'))
      const digest = sha256(new TextEncoder().encode('megabench: a P-256 signature on an Osaka devnet'))
      const signature = p256.sign(digest, key, { prehash: false })
      const publicKey = p256.getPublicKey(key, false).subarray(1)
      // 1 wei, for the reason the point evaluation sends one.
      const input = toHex(new Uint8Array([...digest, ...signature, ...publicKey]))
      await expectOutput(pub, '0x0000000000000000000000000000000000000100', input, numberToHex(1n, { size: 32 }))
      await call(a8, '0x0000000000000000000000000000000000000100', input, 1n)
    }
    await mine()

    // 4. Account 7's delegation cleared, sponsored by account 9.
    const clear = await authorize(a7, { chainId, address: zeroAddress, nonce: await nonceOf(a7.address) })
    await sendRaw(await a9.signTransaction({ type: 'eip7702', chainId, nonce: await nonceOf(a9.address), to: a8.address, gas: 100_000n, authorizationList: [clear], ...fees }))
    const cleared = await mine()
    return { first, last: cleared, txs, blobBlocks: [blob], setCodeBlocks: [setCode, cleared], delegate, authorities: [a6.address, a7.address] }
  } finally {
    await pub.request({ method: 'evm_setAutomine', params: [true] } as never)
  }
}
