import { open, readFile, readdir, rename, rm, mkdir } from 'node:fs/promises'
import { join } from 'node:path'

import { type Block, type BlockHeader, type JSONRPCBlock, createBlockFromRPC, createBlockHeaderFromRPC } from '@ethereumjs/block'
import type { Common } from '@ethereumjs/common'
import { RLP } from '@ethereumjs/rlp'
import { bytesToBigInt, bytesToHex, hexToBytes } from '@ethereumjs/util'
import { z } from 'zod'

import { createChainCommon, createNetworkCommon, scheduledHardfork } from '../chain/common.js'
import { createBaselineEngine } from '../engines/baseline/engine.js'
import { FetchError, MegabenchError, MissingAncestorError, NonCanonicalStateError, RpcError, UsageError } from '../errors/index.js'
import { NETWORKS, networkName } from '../networks.js'
import { parseFixture } from '../sources/fixtures.js'
import { REALBLOCK_FORMAT, type RealBlockFile } from '../sources/realblock.js'
import { initKeccak, keccak256 } from '../util/keccak.js'
import { type ForkSource, type NoNodeFork, type NodeFork, checkForkOption, devnetHardfork, headerFamily, queryNodeFork } from './devnetFork.js'
import { discoverTouchedKeys } from './discover.js'
import { RpcClient, type RpcOptions } from './rpc.js'
import { type Proof, executionWitnessSchema, hash32, hexData, prestateTraceSchema, proofSchema, quantity, rpcBlockOrNull, type RpcBlock } from './schemas.js'
import { type TouchedKeys, accountHasCode, deriveCollapseSiblings, proofNodes, proofShowsAccount, provesEmptyAccount, touch, touchBlockLevel, touchFromPrestate } from './witness.js'

import { type WitnessMethod } from './methods.js'
export { WITNESS_METHODS, type WitnessMethod } from './methods.js'

export type FetchParameters = {
  /** JSON-RPC endpoint (http/https; credentials allowed, never printed or written). */
  rpc: string
  from: number
  to: number
  /** Directory of realblock-v1 files (created; resumed when it already holds some of the range). */
  out: string
  /** Blocks fetched at once, and RPC requests in flight (default 4). */
  concurrency?: number
  /** Refuse a node that serves another chain. */
  chainId?: number
  /** How touched state is found: auto (the best the node serves) or one method. */
  witness?: 'auto' | WitnessMethod
  /**
   * A devnet's hardfork (not a public network): shanghai … bpo2. Without it the header's fields give
   * shanghai or cancun, and within prague … bpo2 (one header shape) the node's eth_config or
   * anvil_nodeInfo decides (src/fetch/devnetFork.ts).
   */
  fork?: string
  /** Retry/timeout tuning (tests use short timeouts). */
  rpcOptions?: Partial<RpcOptions>
  onProgress?: (p: FetchProgress) => void
}

export type FetchProgress = { done: number; total: number; resumed: number; block: number | null }

export type FetchResult = {
  endpoint: string
  chainId: number
  from: number
  to: number
  out: string
  /** Blocks fetched, replayed and verified by this run. */
  fetched: number
  /** Blocks already in the directory (a resumed fetch). */
  resumed: number
  witnessMethod: WitnessMethod
  /** The hardforks of the blocks fetched by this run (sorted). */
  hardforks: string[]
  /** A devnet's blocks: where their hardfork came from (the header, --fork, the node's eth_config or anvil_nodeInfo), and why. */
  fork?: { source: ForkSource; detail?: string }
  /** Blocks whose prestate-traced witness did not replay and were re-discovered by execution. */
  rediscovered: number
  seconds: number
  /** Of which replaying and verifying blocks (summed over concurrent blocks). */
  verifySeconds: number
  rpcCalls: number
  callsByMethod: Record<string, number>
  retries: number
  /** Bytes of the files written by this run. */
  bytes: number
  files: string[]
}

const hexTag = (n: number | bigint) => `0x${n.toString(16)}`

/** File name of block `n` of chain `chainId` in a fetch directory. */
export function fixtureName(chainId: number, n: number): string {
  return `${networkName(chainId) ?? `chain${chainId}`}-${n}.json`
}

/**
 * `megabench fetch`: turns blocks [from, to] of a JSON-RPC node into realblock-v1 files, one per block,
 * each replayed and verified by the baseline engine before it is written (temporary file, then
 * rename: a file present is complete and verified). Blocks already present are skipped, so a killed
 * fetch resumes where it stopped.
 */
export async function fetchRange(p: FetchParameters): Promise<FetchResult> {
  const t0 = performance.now()
  await initKeccak()
  if (!Number.isSafeInteger(p.from) || !Number.isSafeInteger(p.to) || p.from < 1) throw new UsageError('--from must be a block number ≥ 1 (a block needs its parent state)')
  if (p.to < p.from) throw new UsageError(`--to ${p.to} is before --from ${p.from}`)
  if (p.fork !== undefined) checkForkOption(p.fork)
  const concurrency = p.concurrency ?? 4
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) throw new UsageError('--concurrency must be ≥ 1')
  const rpc = new RpcClient(p.rpc, { concurrency, ...p.rpcOptions })

  const chainId = Number(BigInt(await rpc.call('eth_chainId', [], quantity)))
  if (p.chainId !== undefined && p.chainId !== chainId) {
    throw new RpcError(rpc.endpoint, `the node serves chain id ${chainId}, not ${p.chainId} (--chain-id)`, 'chain')
  }
  if (p.fork !== undefined && networkName(chainId) !== undefined) {
    throw new UsageError(`--fork applies to a devnet; chain id ${chainId} is ${networkName(chainId)}, whose blocks replay under its fork schedule`)
  }
  const head = Number(BigInt(await rpc.call('eth_blockNumber', [], quantity)))
  if (p.to > head) throw new UsageError(`--to ${p.to} is beyond the node's head (block ${head})`)

  const done = await scanOutput(p.out, chainId, p.from, p.to)
  const todo: number[] = []
  for (let n = p.from; n <= p.to; n++) if (!done.has(n)) todo.push(n)
  const total = p.to - p.from + 1
  let finished = done.size
  p.onProgress?.({ done: finished, total, resumed: done.size, block: null })

  const ctx: Ctx = {
    rpc,
    chainId,
    method: p.witness === undefined || p.witness === 'auto' ? undefined : p.witness,
    fork: p.fork,
    nodeFork: undefined,
    forks: new Map(),
    rediscovered: 0,
    verifyMs: 0,
    engine: createBaselineEngine(),
  }
  if (ctx.method === undefined && todo.length > 0) ctx.method = await probeWitnessMethod(rpc, todo[0] as number)

  const files: string[] = []
  let bytes = 0
  let failure: unknown
  const queue = [...todo]
  const worker = async () => {
    for (;;) {
      if (failure !== undefined) return
      const n = queue.shift()
      if (n === undefined) return
      try {
        const text = await fetchBlockFixture(ctx, n)
        const file = join(p.out, fixtureName(chainId, n))
        await writeFileAtomically(file, text)
        files.push(file)
        bytes += Buffer.byteLength(text)
        finished++
        p.onProgress?.({ done: finished, total, resumed: done.size, block: n })
      } catch (err) {
        failure ??= err
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(todo.length, 1)) }, worker))
  if (failure !== undefined) throw scrubError(failure, rpc)
  return {
    endpoint: rpc.endpoint,
    chainId,
    from: p.from,
    to: p.to,
    out: p.out,
    fetched: files.length,
    resumed: done.size,
    witnessMethod: ctx.method ?? 'prestate',
    hardforks: [...new Set([...ctx.forks.values()].map((f) => f.hardfork))].sort(),
    ...devnetForkSummary(ctx),
    rediscovered: ctx.rediscovered,
    seconds: (performance.now() - t0) / 1000,
    verifySeconds: ctx.verifyMs / 1000,
    rpcCalls: rpc.totalCalls,
    callsByMethod: Object.fromEntries(rpc.calls),
    retries: rpc.retriesDone,
    bytes,
    files: files.sort((a, b) => a.localeCompare(b, 'en', { numeric: true })),
  }
}

type Ctx = {
  rpc: RpcClient
  chainId: number
  method: WitnessMethod | undefined
  /** --fork (a devnet's hardfork). */
  fork: string | undefined
  /** What the node says it runs (asked once, at the first devnet block whose header carries a requests hash). */
  nodeFork: Promise<NodeFork | NoNodeFork> | undefined
  /** Each fetched block's hardfork and where it came from. */
  forks: Map<number, { hardfork: string; source: ForkSource | 'schedule'; detail?: string }>
  rediscovered: number
  verifyMs: number
  engine: ReturnType<typeof createBaselineEngine>
}

/** A devnet fetch's fork source (the most specific one used), for the result. */
function devnetForkSummary(ctx: Ctx): { fork?: { source: ForkSource; detail?: string } } {
  const used = [...ctx.forks.values()].filter((f): f is { hardfork: string; source: ForkSource; detail?: string } => f.source !== 'schedule')
  const best = used.find((f) => f.source !== 'header') ?? used[0]
  return best === undefined ? {} : { fork: { source: best.source, ...(best.detail === undefined ? {} : { detail: best.detail }) } }
}

/** The best witness method the node serves, tried on block `n`. */
async function probeWitnessMethod(rpc: RpcClient, n: number): Promise<WitnessMethod> {
  try {
    await rpc.call('debug_executionWitness', [hexTag(n)], executionWitnessSchema)
    return 'execution-witness'
  } catch (err) {
    if (!(err instanceof RpcError) || (err.kind !== 'method-missing' && err.kind !== 'rpc')) throw err
  }
  try {
    await rpc.call('debug_traceBlockByNumber', [hexTag(n), { tracer: 'prestateTracer' }], prestateTraceSchema)
    return 'prestate'
  } catch (err) {
    if (!(err instanceof RpcError) || (err.kind !== 'method-missing' && err.kind !== 'rpc')) throw err
  }
  return 'discover'
}

/** Files of the range already in `out` (complete by construction: they are renamed into place). */
async function scanOutput(out: string, chainId: number, from: number, to: number): Promise<Set<number>> {
  try {
    await mkdir(out, { recursive: true })
  } catch (cause) {
    throw new UsageError(`--out ${out}: cannot create directory (${(cause as Error).message})`, { cause })
  }
  const done = new Set<number>()
  for (const name of await readdir(out)) {
    if (name.startsWith('.') && name.includes('.tmp-')) {
      await rm(join(out, name), { force: true }) // a temporary file of a killed run
      continue
    }
    const m = /^([a-z]+|chain(\d+))-(\d+)\.json$/.exec(name)
    if (m === null) continue
    const fileChain = m[2] !== undefined ? Number(m[2]) : Number(NETWORKS.find((x) => x.name === m[1])?.chainId ?? -1)
    if (fileChain < 0) continue
    if (fileChain !== chainId) {
      throw new FetchError(Number(m[3]), `--out ${out} holds fixtures of chain id ${fileChain} (${name}), but the node serves chain id ${chainId}`)
    }
    const n = Number(m[3])
    if (n < from || n > to) continue
    // A file is written only after it verified; parse it anyway, so that a damaged one is fetched again.
    try {
      const unit = parseFixture(join(out, name), await readFile(join(out, name), 'utf8'))
      const first = [...(unit.blocks as Iterable<{ number: bigint }>)][0]
      if (first?.number === BigInt(n)) done.add(n)
    } catch {
      // refetched below
    }
  }
  return done
}

async function writeFileAtomically(file: string, text: string): Promise<void> {
  const dir = join(file, '..')
  const tmp = join(dir, `.${file.slice(dir.length + 1)}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`)
  try {
    const fh = await open(tmp, 'w')
    try {
      await fh.writeFile(text)
      await fh.sync()
    } finally {
      await fh.close()
    }
    await rename(tmp, file)
  } catch (err) {
    await rm(tmp, { force: true })
    throw err
  }
}

/** Block `n` as the text of a verified realblock-v1 file. One fresh attempt if the first does not verify. */
async function fetchBlockFixture(ctx: Ctx, n: number): Promise<string> {
  try {
    return await buildVerified(ctx, n)
  } catch (err) {
    if (!(err instanceof FetchError) || err instanceof NonCanonicalStateError) throw err
    return await buildVerified(ctx, n)
  }
}

type Fetched = { rpcBlock: RpcBlock; block: Block; common: Common; hardfork: string; parent: RpcBlock; parentHeader: BlockHeader | undefined }

async function buildVerified(ctx: Ctx, n: number): Promise<string> {
  const f = await fetchBlock(ctx, n)
  const ancestors = new Map<bigint, string>([[BigInt(n - 1), f.parent.hash]])
  let method = ctx.method ?? 'prestate'
  let extraKeys: TouchedKeys | undefined
  for (let round = 0; ; round++) {
    const witness = method === 'execution-witness' ? await executionWitness(ctx, n, f.parent.stateRoot.toLowerCase(), ancestors) : await proofWitness(ctx, f, method, ancestors, extraKeys)
    const fixture = toFixture(ctx, f, witness, ancestors)
    const text = JSON.stringify(fixture)
    const tv = performance.now()
    const problem = await verify(ctx, n, text)
    ctx.verifyMs += performance.now() - tv
    if (problem === undefined) return text
    if (process.env.MEGABENCH_FETCH_KEEP_FAILED !== undefined) {
      // Debugging aid: keep the text of a block that did not verify (outside --out).
      await mkdir(process.env.MEGABENCH_FETCH_KEEP_FAILED, { recursive: true })
      await writeFileAtomically(join(process.env.MEGABENCH_FETCH_KEEP_FAILED, `failed-${n}-${round}.json`), text)
    }
    if (problem instanceof MissingAncestorError && round < 300) {
      const a = await ctx.rpc.call('eth_getBlockByNumber', [hexTag(problem.ancestor), false], z.object({ hash: hash32 }).nullable())
      if (a === null) throw new FetchError(n, `the node has no block ${problem.ancestor}, needed for BLOCKHASH`)
      ancestors.set(BigInt(problem.ancestor), a.hash)
      continue
    }
    const zeroSlots = witness.zeroLeaves ?? []
    const empties = witness.emptyAccounts ?? []
    if (zeroSlots.length > 0 || empties.length > 0) {
      const list = (xs: string[]) => `${xs.slice(0, 2).join(', ')}${xs.length > 2 ? ` and ${xs.length - 2} more` : ''}`
      const what = [
        ...(zeroSlots.length > 0 ? [`its storage tries keep zero-valued slots (${list(zeroSlots)}), as anvil does for cleared and read-only unset slots`] : []),
        ...(empties.length > 0 ? [`it keeps empty accounts the block touched (${list(empties)}), which EIP-161 deletes (as anvil does after a zero-value call to an absent account)`] : []),
      ]
      throw new NonCanonicalStateError(n, `the node's state root is not Ethereum's: ${what.join('; ')}; no correct EVM reproduces this block`, { cause: problem })
    }
    if (method === 'prestate' && extraKeys === undefined && !(problem instanceof FetchError)) {
      // The traced keys missed something (state read outside transactions, a precompile…):
      // discover the touched state by executing the block against the node, and prove that too.
      extraKeys = (await discoverTouchedKeys(ctx.rpc, f.common, f.block)).keys
      ctx.rediscovered++
      continue
    }
    if (problem instanceof FetchError) throw problem
    throw new FetchError(n, `the fetched witness does not replay: ${problem instanceof MegabenchError ? problem.shortMessage : String(problem)}`, { cause: problem })
  }
}

/** The block (with full transactions), its parent, and the rules it runs under. */
async function fetchBlock(ctx: Ctx, n: number): Promise<Fetched> {
  const [rpcBlock, parent] = await Promise.all([
    ctx.rpc.call('eth_getBlockByNumber', [hexTag(n), true], rpcBlockOrNull),
    ctx.rpc.call('eth_getBlockByNumber', [hexTag(n - 1), false], rpcBlockOrNull),
  ])
  if (rpcBlock === null || parent === null) throw new UsageError(`block ${rpcBlock === null ? n : n - 1}: the node does not have it (pruned, or beyond its head)`)
  if (rpcBlock.parentHash.toLowerCase() !== parent.hash.toLowerCase()) throw new FetchError(n, `parentHash ${rpcBlock.parentHash} is not block ${n - 1} (${parent.hash}): the chain reorganized during the fetch`)
  if (rpcBlock.transactions.some((t) => typeof t === 'string')) throw new FetchError(n, 'the node returned transaction hashes where full transactions were asked for')
  const nodeFork = await askNodeIfNeeded(ctx, n, [rpcBlock, parent])
  const { common, hardfork, source, detail } = rulesFor(ctx, n, BigInt(rpcBlock.timestamp), rpcBlock, nodeFork)
  ctx.forks.set(n, { hardfork, source, ...(detail === undefined ? {} : { detail }) })
  const uncles: unknown[] = []
  for (let i = 0; i < rpcBlock.uncles.length; i++) {
    uncles.push(await ctx.rpc.call('eth_getUncleByBlockNumberAndIndex', [hexTag(n), hexTag(i)], z.object({ hash: hash32 }).passthrough()))
  }
  let block: Block
  try {
    block = createBlockFromRPC(withoutBlobSidecars(rpcBlock) as unknown as JSONRPCBlock, uncles, { common })
  } catch (cause) {
    throw new FetchError(n, `malformed block from the node: ${firstLine(cause)}`, { cause })
  }
  if (bytesToHex(block.hash()) !== rpcBlock.hash.toLowerCase()) {
    throw new FetchError(n, `the block rebuilt from the node's JSON hashes to ${bytesToHex(block.hash())}, not ${rpcBlock.hash} (a field megabench does not know?)`)
  }
  let parentHeader: BlockHeader | undefined
  try {
    const pc = rulesFor(ctx, n - 1, BigInt(parent.timestamp), parent, nodeFork).common
    const h = createBlockHeaderFromRPC(parent as unknown as JSONRPCBlock, { common: pc })
    parentHeader = bytesToHex(h.hash()) === parent.hash.toLowerCase() ? h : undefined
  } catch {
    parentHeader = undefined // optional in the file (e.g. a parent under a fork megabench does not replay)
  }
  return { rpcBlock, block, common, hardfork, parent, parentHeader }
}

/**
 * The block without the blob sidecars some nodes put into their blob transactions' JSON (anvil: `blobs`,
 * `commitments`, `proofs`): block RLP never carries them, and @ethereumjs/tx would recompute every proof
 * from them (at Osaka, 128 cell proofs per blob: seconds per blob in JS).
 */
function withoutBlobSidecars(b: RpcBlock): RpcBlock {
  if (!b.transactions.some((t) => typeof t === 'object' && ('blobs' in t || 'sidecar' in t))) return b
  const transactions = b.transactions.map((t) => {
    if (typeof t !== 'object') return t
    const { blobs: _b, commitments: _c, proofs: _p, sidecar: _s, ...rest } = t as Record<string, unknown>
    return rest as typeof t
  })
  return { ...b, transactions }
}

/**
 * The node's own word on its fork, asked once per fetch and only when needed: a devnet block whose header
 * carries a requests hash (prague … bpo2 look the same) and no --fork.
 */
async function askNodeIfNeeded(ctx: Ctx, n: number, blocks: RpcBlock[]): Promise<NodeFork | NoNodeFork | undefined> {
  if (networkName(ctx.chainId) !== undefined || ctx.fork !== undefined) return undefined
  if (!blocks.some((b) => headerFamily(b) === 'prague')) return undefined
  ctx.nodeFork ??= queryNodeFork(ctx.rpc, n)
  return await ctx.nodeFork
}

/**
 * A public network (mainnet, Sepolia, Holesky, Hoodi, by chain id): its fork schedule. Any other chain
 * (a devnet): mainnet's parameters at one hardfork, read off the header's fields (a requests hash:
 * prague or later, told apart by --fork or the node's eth_config / anvil_nodeInfo; a beacon root: cancun;
 * a withdrawals root: shanghai); see src/fetch/devnetFork.ts.
 */
function rulesFor(
  ctx: Ctx,
  n: number,
  timestamp: bigint,
  b: RpcBlock,
  nodeFork: NodeFork | NoNodeFork | undefined,
): { common: Common; hardfork: string; source: ForkSource | 'schedule'; detail?: string } {
  const chainId = ctx.chainId
  const where = { origin: 'fetch', block: BigInt(n) }
  const hardfork = scheduledHardfork(BigInt(chainId), BigInt(n), timestamp)
  if (hardfork !== undefined) {
    return { common: createNetworkCommon({ origin: 'fetch', number: BigInt(n), timestamp, declaredHardfork: hardfork, chainId: BigInt(chainId) }), hardfork, source: 'schedule' }
  }
  const d = devnetHardfork(chainId, n, b, ctx.fork, () => nodeFork)
  return { common: createChainCommon(BigInt(chainId), d.hardfork, where), ...d }
}

type Witness = {
  nodes: string[]
  codes: string[]
  parentStateRoot: string
  /** Post-state storage slots the node proves as present with a zero value (not Ethereum: anvil). */
  zeroLeaves?: string[]
  /** Accounts absent before the block that the node proves present and empty after it (never Ethereum since EIP-161: anvil). */
  emptyAccounts?: string[]
}

/** debug_executionWitness: the node's own witness (trie nodes, codes, ancestor headers). */
async function executionWitness(ctx: Ctx, n: number, parentRoot: string, ancestors: Map<bigint, string>): Promise<Witness> {
  const w = await ctx.rpc.call('debug_executionWitness', [hexTag(n)], executionWitnessSchema)
  for (const h of w.headers ?? []) {
    if (typeof h !== 'string' || !/^0x[0-9a-fA-F]*$/.test(h)) continue
    const bytes = hexToBytes(h as `0x${string}`)
    const fields = RLP.decode(bytes) as Uint8Array[]
    if (Array.isArray(fields) && fields[8] instanceof Uint8Array) ancestors.set(bytesToBigInt(fields[8]), bytesToHex(keccak256(bytes)))
  }
  return { nodes: dedupe(w.state), codes: dedupe(w.codes), parentStateRoot: parentRoot }
}

/**
 * The witness from proofs: the touched keys (prestate trace, or discovered by execution), proven at
 * the parent (the pre-state paths) and at the block (for the siblings of branch collapses), and the
 * code of every touched contract.
 */
async function proofWitness(ctx: Ctx, f: Fetched, method: WitnessMethod, _ancestors: Map<bigint, string>, extra: TouchedKeys | undefined): Promise<Witness> {
  const n = Number(f.block.header.number)
  const keys: TouchedKeys = new Map()
  const prestateCode = new Map<string, string>()
  if (method === 'prestate') {
    const [plain, diff] = await Promise.all([
      ctx.rpc.call('debug_traceBlockByNumber', [hexTag(n), { tracer: 'prestateTracer' }], prestateTraceSchema),
      ctx.rpc.call('debug_traceBlockByNumber', [hexTag(n), { tracer: 'prestateTracer', tracerConfig: { diffMode: true } }], prestateTraceSchema),
    ])
    for (const t of [...plain, ...diff]) {
      const maps = 'pre' in t.result && 'post' in t.result ? [t.result.pre as never, t.result.post as never] : [t.result as never]
      touchFromPrestate(keys, maps)
    }
    for (const t of plain) {
      if ('pre' in t.result) continue
      for (const [a, acc] of Object.entries(t.result)) if (typeof acc.code === 'string' && acc.code !== '0x') prestateCode.set(a.toLowerCase(), acc.code)
    }
  } else {
    for (const [a, s] of (await discoverTouchedKeys(ctx.rpc, f.common, f.block)).keys) touch(keys, a, s)
  }
  for (const [a, s] of extra ?? []) touch(keys, a, s)
  touchBlockLevel(keys, {
    miner: f.rpcBlock.miner,
    number: f.block.header.number,
    timestamp: f.block.header.timestamp,
    withdrawals: (f.rpcBlock.withdrawals ?? []).map((w) => w.address),
    cancun: f.common.isActivatedEIP(4788),
    prague: f.common.isActivatedEIP(2935),
  })

  const entries = [...keys]
  const pre = await Promise.all(entries.map(([a, s]) => ctx.rpc.call('eth_getProof', [a, [...s], hexTag(n - 1)], proofSchema)))
  const post = await Promise.all(entries.map(([a, s]) => ctx.rpc.call('eth_getProof', [a, [...s], hexTag(n)], proofSchema)))
  const preNodes = pre.flatMap(proofNodes)
  const nodes = new Set(preNodes)
  for (const q of post) for (const x of proofNodes(q)) nodes.add(x)
  const ends = post.flatMap((q) => [q.accountProof.at(-1), ...q.storageProof.map((s) => s.proof.at(-1))]).filter((x): x is string => x !== undefined)
  for (const s of deriveCollapseSiblings(preNodes, ends)) nodes.add(s)
  const parentStateRoot = checkProofRoot(n, pre[0], f.parent.stateRoot)

  const codes = await Promise.all(
    pre.filter(accountHasCode).map(async (q) => {
      const a = q.address.toLowerCase()
      let code = prestateCode.get(a)
      if (code === undefined || bytesToHex(keccak256(hexToBytes(code as `0x${string}`))) !== q.codeHash.toLowerCase()) {
        code = await ctx.rpc.call('eth_getCode', [a, hexTag(n - 1)], hexData)
      }
      if (bytesToHex(keccak256(hexToBytes(code as `0x${string}`))) !== q.codeHash.toLowerCase()) {
        throw new FetchError(n, `eth_getCode(${a}) does not hash to the account's codeHash ${q.codeHash}`)
      }
      return code.toLowerCase()
    }),
  )
  // EIP-161: no account may go from absent to present-but-empty (an empty account that existed before, a
  // pre-Spurious-Dragon remnant a block only reads, is Ethereum's state).
  const emptyAccounts = post.filter((q, i) => provesEmptyAccount(q) && !proofShowsAccount(pre[i] as Proof)).map((q) => q.address.toLowerCase())
  return { nodes: [...nodes], codes: dedupe(codes), parentStateRoot, zeroLeaves: post.flatMap(zeroValuedLeaves), emptyAccounts }
}

/** Slots a proof shows as a leaf holding an empty value: a state Ethereum's rules never produce. */
function zeroValuedLeaves(p: Proof): string[] {
  return p.storageProof.filter((s) => BigInt(s.value) === 0n && isEmptyValueLeaf(s.proof.at(-1))).map((s) => `${p.address.toLowerCase()}[${s.key}]`)
}

function isEmptyValueLeaf(hex: string | undefined): boolean {
  if (hex === undefined) return false
  const node = RLP.decode(hexToBytes(hex as `0x${string}`))
  if (!Array.isArray(node) || node.length !== 2) return false
  const [path, value] = node
  return path instanceof Uint8Array && ((path[0] ?? 0) >> 4) >= 2 && value instanceof Uint8Array && (value.length === 0 || (value.length === 1 && value[0] === 0x80)) // rlp(0) or nothing
}

/**
 * The first proof node must be the parent's state root (or the node serves another state). The one
 * exception is a genesis parent: anvil's genesis header carries the empty root although its dev
 * accounts are funded, so there the proofs' root is the parent state.
 */
function checkProofRoot(n: number, proof: Proof | undefined, stateRoot: string): string {
  const first = proof?.accountProof[0]
  if (first === undefined) return stateRoot.toLowerCase()
  const h = bytesToHex(keccak256(hexToBytes(first as `0x${string}`)))
  if (h !== stateRoot.toLowerCase() && n - 1 !== 0) throw new FetchError(n, `eth_getProof at block ${n - 1} starts at node ${h}, not the parent's state root ${stateRoot}`)
  return h
}

function toFixture(ctx: Ctx, f: Fetched, w: Witness, ancestors: Map<bigint, string>): RealBlockFile {
  const n = Number(f.block.header.number)
  const h = f.block.header
  return {
    _info: {
      format: REALBLOCK_FORMAT,
      source: `megabench fetch from ${ctx.rpc.endpoint} (${ctx.method ?? 'prestate'})`,
      description: `Block ${n} of chain ${ctx.chainId} with the Merkle witness of its pre-state, fetched over JSON-RPC and verified by replay.`,
    },
    chainId: ctx.chainId,
    hardfork: f.hardfork,
    blockNumber: n,
    blockHash: bytesToHex(f.block.hash()),
    blockRlp: bytesToHex(f.block.serialize()),
    ...(f.parentHeader === undefined || w.parentStateRoot !== bytesToHex(f.parentHeader.stateRoot) ? {} : { parentHeaderRlp: bytesToHex(f.parentHeader.serialize()) }),
    parentStateRoot: w.parentStateRoot,
    ancestorHashes: Object.fromEntries([...ancestors].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([k, v]) => [k.toString(), v.toLowerCase()])),
    witness: { nodes: w.nodes, codes: w.codes },
    expected: {
      stateRoot: bytesToHex(h.stateRoot),
      receiptsRoot: bytesToHex(h.receiptTrie),
      logsBloom: bytesToHex(h.logsBloom),
      gasUsed: hexTag(h.gasUsed),
      txCount: f.block.transactions.length,
      ...(h.requestsHash === undefined ? {} : { requestsHash: bytesToHex(h.requestsHash) }),
    },
  }
}

/** Replays the file's text with the baseline engine: undefined when every field verifies, else the problem. */
async function verify(ctx: Ctx, n: number, text: string): Promise<unknown> {
  try {
    const unit = parseFixture(`block ${n}`, text)
    // LMDB storage, as `megabench replay` runs by default (a temporary DB, removed after). (The memory
    // backend's MerkleStateManager loses storage-trie errors as unhandled rejections.)
    const storage = { kind: 'lmdb', mode: 'live', batch: null, caches: { l1: 64 << 20, l2: 64 << 20 } } as const
    for await (const run of ctx.engine.runUnit(unit, { storage })) {
      const m = run.mismatches[0]
      if (m !== undefined) return new FetchError(n, `does not verify after fetching: ${m.field} expected ${m.expected}, computed ${m.actual}`)
    }
    return undefined
  } catch (err) {
    const ancestor = err instanceof MegabenchError ? err.walk((e) => e instanceof MissingAncestorError) : undefined
    return ancestor ?? err
  }
}

function dedupe(xs: readonly string[]): string[] {
  return [...new Set(xs.map((x) => x.toLowerCase()))]
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? ''
}

/** Errors leave with the endpoint's secrets scrubbed from their message. */
function scrubError(err: unknown, rpc: RpcClient): unknown {
  if (err instanceof Error) {
    const scrubbed = rpc.redactor.scrub(err.message)
    if (scrubbed !== err.message) {
      return new MegabenchError(scrubbed)
    }
  }
  return err
}
