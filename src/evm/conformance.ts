/**
 * A runner for ethereum/tests BlockchainTests: each test's pre-state, then its blocks in order
 * (a block must extend the current head; tests that fork the chain are reported as skipped reorg
 * tests), each block decoded and header-checked (the same checks for both engines), executed on the
 * fast EVM or on @ethereumjs/vm, and accepted only if its gas, receipts root, bloom and state root
 * match its header. A test passes if exactly the blocks without `expectException` are accepted, the
 * head is `lastblockhash`, and the final state equals `postState` (or `postStateHash`).
 */
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'

import { type Block, type BlockHeader, createBlockFromRLP } from '@ethereumjs/block'
import { Common, Mainnet } from '@ethereumjs/common'
import { MerklePatriciaTrie } from '@ethereumjs/mpt'
import { RLP } from '@ethereumjs/rlp'
import { MerkleStateManager } from '@ethereumjs/statemanager'
import { Account, bigIntToBytes, bytesToHex, setLengthLeft, createAddressFromString, equalsBytes, hexToBytes } from '@ethereumjs/util'
import { createVM } from '@ethereumjs/vm'

import { AncestorChain } from '../engines/baseline/ancestors.js'
import { replayCrypto } from '../engines/baseline/crypto.js'
import { BlockExecution } from '../engines/baseline/executeBlock.js'
import { PhaseClock } from '../probes/phases.js'
import { keccak256 } from '../util/keccak.js'
import { executeBlockFast, receiptsRoot } from './block.js'
import { type Fork, rulesFor } from './forks.js'
import { bytesToWord } from './interpreter.js'
import { stateRoot } from './mptRoot.js'
import { ethereumjsName } from './precompiles.js'
import { MemoryBackend, WorldState, fromHex, hex } from './state.js'
import { GAS_PER_BLOB } from './transaction.js'

export type EngineKind = 'fast' | 'ethereumjs'
export type Outcome = { status: 'pass' } | { status: 'fail'; reason: string } | { status: 'skip'; reason: string }

type JsonAccount = { balance: string; nonce: string; code: string; storage: Record<string, string> }
type JsonBlock = { rlp: string; expectException?: string; blockHeader?: unknown }
export type BlockchainTest = {
  network: string
  pre: Record<string, JsonAccount>
  genesisRLP: string
  genesisBlockHeader: { hash: string }
  blocks: JsonBlock[]
  postState?: Record<string, JsonAccount>
  postStateHash?: string
  lastblockhash: string
  sealEngine?: string
}

/** The fork of block (number, timestamp) on a test network; undefined if the network is not supported. */
export function forkSchedule(network: string): ((number: bigint, timestamp: bigint) => Fork) | undefined {
  const simple: Record<string, Fork> = {
    Frontier: 'frontier',
    Homestead: 'homestead',
    EIP150: 'tangerineWhistle',
    EIP158: 'spuriousDragon',
    Byzantium: 'byzantium',
    Constantinople: 'constantinople',
    ConstantinopleFix: 'petersburg',
    Istanbul: 'istanbul',
    Berlin: 'berlin',
    London: 'london',
    Paris: 'paris',
    Merge: 'paris',
    Shanghai: 'shanghai',
    Cancun: 'cancun',
  }
  const s = simple[network]
  if (s !== undefined) return () => s
  const at5: Record<string, [Fork, Fork]> = {
    FrontierToHomesteadAt5: ['frontier', 'homestead'],
    HomesteadToEIP150At5: ['homestead', 'tangerineWhistle'],
    HomesteadToDaoAt5: ['homestead', 'dao'],
    EIP158ToByzantiumAt5: ['spuriousDragon', 'byzantium'],
    ByzantiumToConstantinopleFixAt5: ['byzantium', 'petersburg'],
    BerlinToLondonAt5: ['berlin', 'london'],
  }
  const t = at5[network]
  if (t !== undefined) return (n) => (n < 5n ? t[0] : t[1])
  const time: Record<string, [Fork, Fork]> = {
    ParisToShanghaiAtTime15k: ['paris', 'shanghai'],
    MergeToShanghaiAtTime15k: ['paris', 'shanghai'],
    ShanghaiToCancunAtTime15k: ['shanghai', 'cancun'],
  }
  const u = time[network]
  if (u !== undefined) return (_n, ts) => (ts < 15000n ? u[0] : u[1])
  return undefined
}

const commons = new Map<Fork, Common>()
function commonFor(fork: Fork): Common {
  let c = commons.get(fork)
  if (c === undefined) {
    c = new Common({ chain: Mainnet, hardfork: ethereumjsName(fork), customCrypto: replayCrypto() })
    commons.set(fork, c)
  }
  return c
}

/** Header checks that do not need execution (shared by both engines). Returns a reason, or undefined. */
async function checkHeader(block: Block, parent: BlockHeader, fork: Fork, parentFork: Fork): Promise<string | undefined> {
  const h = block.header
  const r = rulesFor(fork)
  if (h.number !== parent.number + 1n) return 'number'
  if (h.timestamp <= parent.timestamp) return 'timestamp'
  if (h.gasUsed > h.gasLimit) return 'gasUsed above gasLimit'
  if (h.extraData.length > 32) return 'extraData'
  if (h.gasLimit < 5000n) return 'gasLimit below minimum'
  if (h.gasLimit > 0x7fffffffffffffffn) return 'gasLimit above 2^63-1'
  const parentLimit = r.london && !rulesFor(parentFork).london ? parent.gasLimit * 2n : parent.gasLimit
  const bound = parentLimit / 1024n
  if (h.gasLimit >= parentLimit + bound || h.gasLimit <= parentLimit - bound) return 'gasLimit bound'
  if (r.london) {
    const expected = rulesFor(parentFork).london ? parent.calcNextBaseFee() : 1_000_000_000n
    if (h.baseFeePerGas !== expected) return 'baseFee'
  }
  if (r.paris) {
    if (h.difficulty !== 0n) return 'difficulty (PoS)'
    if (block.uncleHeaders.length > 0) return 'uncles (PoS)'
    if (!equalsBytes(h.nonce, new Uint8Array(8))) return 'nonce (PoS)'
  } else {
    if (h.difficulty !== h.ethashCanonicalDifficulty(parent)) return 'difficulty'
    if (block.uncleHeaders.length > 2) return 'too many uncles'
  }
  if (r.cancun) {
    const excess = rulesFor(parentFork).cancun ? parent.calcNextExcessBlobGas(block.common) : 0n
    if (h.excessBlobGas !== excess) return 'excessBlobGas'
    let blobs = 0n
    for (const tx of block.transactions) blobs += BigInt((tx as { blobVersionedHashes?: unknown[] }).blobVersionedHashes?.length ?? 0)
    if (blobs * GAS_PER_BLOB !== h.blobGasUsed) return 'blobGasUsed'
    if (blobs * GAS_PER_BLOB > 786432n) return 'too many blobs'
  }
  if (!(await block.transactionsTrieIsValid())) return 'transactionsTrie'
  if (!block.uncleHashIsValid()) return 'uncleHash'
  if (r.shanghai && !(await block.withdrawalsTrieIsValid())) return 'withdrawalsRoot'
  return undefined
}

function loadPre(pre: Record<string, JsonAccount>): MemoryBackend {
  const b = new MemoryBackend()
  for (const [addr, a] of Object.entries(pre)) {
    const key = addr.slice(2).toLowerCase()
    const code = hexToBytes(a.code as `0x${string}`)
    const codeHash = code.length === 0 ? keccak256(code) : b.putCode(code)
    b.accounts.set(key, { nonce: BigInt(a.nonce), balance: BigInt(a.balance), codeHash })
    const m = new Map<bigint, bigint>()
    for (const [k, v] of Object.entries(a.storage)) if (BigInt(v) !== 0n) m.set(BigInt(k), BigInt(v))
    if (m.size > 0) b.storage.set(key, m)
  }
  return b
}

function cloneBackend(b: MemoryBackend): MemoryBackend {
  const c = new MemoryBackend()
  for (const [k, v] of b.accounts) c.accounts.set(k, { ...v })
  for (const [k, v] of b.storage) c.storage.set(k, new Map(v))
  for (const [k, v] of b.codes) c.codes.set(k, v)
  return c
}

function comparePost(b: MemoryBackend, post: Record<string, JsonAccount>): string | undefined {
  const expected = new Set<string>()
  for (const [addr, a] of Object.entries(post)) {
    const key = addr.slice(2).toLowerCase()
    expected.add(key)
    const got = b.accounts.get(key)
    if (got === undefined) return `account ${addr} missing`
    if (got.balance !== BigInt(a.balance)) return `balance of ${addr}: ${got.balance} != ${BigInt(a.balance)}`
    if (got.nonce !== BigInt(a.nonce)) return `nonce of ${addr}`
    if (!equalsBytes(got.codeHash, keccak256(hexToBytes(a.code as `0x${string}`)))) return `code of ${addr}`
    const slots = b.storage.get(key) ?? new Map<bigint, bigint>()
    let n = 0
    for (const [k, v] of Object.entries(a.storage)) {
      if (BigInt(v) === 0n) continue
      n++
      if (slots.get(BigInt(k)) !== BigInt(v)) return `storage ${k} of ${addr}: ${slots.get(BigInt(k))} != ${BigInt(v)}`
    }
    if (n !== slots.size) return `storage of ${addr}: ${slots.size} slots, expected ${n}`
  }
  for (const k of b.accounts.keys()) if (!expected.has(k)) return `unexpected account 0x${k}`
  return undefined
}

interface EngineState {
  /** Executes the block on the current state; returns a mismatch reason (state unchanged) or undefined (committed). */
  apply(block: Block, fork: Fork, hashes: Map<bigint, Uint8Array>): Promise<string | undefined>
  check(t: BlockchainTest): Promise<string | undefined>
}

function fastEngine(t: BlockchainTest): EngineState {
  let backend = loadPre(t.pre)
  return {
    async apply(block, fork, hashes) {
      const trial = cloneBackend(backend)
      const state = new WorldState(trial)
      const r = rulesFor(fork)
      let res
      try {
        res = executeBlockFast(state, block, {
          fork,
          chainId: 1n,
          blockHash: (n) => {
            const h = hashes.get(n)
            return h === undefined ? 0n : bytesToWord(h)
          },
          daoForkBlock: t.network === 'HomesteadToDaoAt5' ? 5n : undefined,
          intermediateRoot: r.byzantium ? undefined : () => stateRoot(trial),
        })
      } catch (err) {
        return `execution: ${(err as Error).message}`
      }
      const h = block.header
      if (res.gasUsed !== h.gasUsed) return `gasUsed ${res.gasUsed} != ${h.gasUsed}`
      if (!equalsBytes(res.logsBloom, h.logsBloom)) return 'logsBloom'
      if (!equalsBytes(await receiptsRoot(res.encodedReceipts), h.receiptTrie)) return 'receiptsRoot'
      if (!equalsBytes(stateRoot(trial), h.stateRoot)) return 'stateRoot'
      backend = trial
      return undefined
    },
    async check(t) {
      if (t.postState !== undefined) return comparePost(backend, t.postState)
      if (t.postStateHash !== undefined && bytesToHex(stateRoot(backend)) !== t.postStateHash) return 'postStateHash'
      return undefined
    },
  }
}

function ethereumjsEngine(t: BlockchainTest): EngineState {
  const trie = new MerklePatriciaTrie({ useKeyHashing: true })
  let root: Uint8Array | undefined
  const ready = (async () => {
    const sm = new MerkleStateManager({ trie })
    for (const [addr, a] of Object.entries(t.pre)) {
      const address = createAddressFromString(addr)
      await sm.putAccount(address, new Account(BigInt(a.nonce), BigInt(a.balance)))
      const code = hexToBytes(a.code as `0x${string}`)
      if (code.length > 0) await sm.putCode(address, code)
      for (const [k, v] of Object.entries(a.storage)) {
        if (BigInt(v) === 0n) continue
        await sm.putStorage(address, setLengthLeft(bigIntToBytes(BigInt(k)), 32), bigIntToBytes(BigInt(v)))
      }
    }
    root = await sm.getStateRoot()
  })()
  return {
    async apply(block, fork, hashes) {
      await ready
      const sm = new MerkleStateManager({ trie: trie.shallowCopy(false) })
      await sm.setStateRoot(root!)
      const common = commonFor(fork).copy()
      const vm = await createVM({ common, stateManager: sm, blockchain: new AncestorChain(hashes, 'test', block.header.number) })
      let ex
      try {
        const e = await BlockExecution.begin(vm, block, { clock: new PhaseClock(), stateRoot: true })
        for (const tx of block.transactions) await e.addTransaction(tx)
        ex = await e.finish()
      } catch (err) {
        return `execution: ${(err as Error).message.split('\n')[0]}`
      }
      const h = block.header
      if (ex.gasUsed !== h.gasUsed) return `gasUsed ${ex.gasUsed} != ${h.gasUsed}`
      if (!equalsBytes(ex.logsBloom, h.logsBloom)) return 'logsBloom'
      if (!equalsBytes(ex.receiptsRoot, h.receiptTrie)) return 'receiptsRoot'
      if (!equalsBytes(ex.stateRoot!, h.stateRoot)) return 'stateRoot'
      root = ex.stateRoot!
      return undefined
    },
    async check(t) {
      await ready
      if (t.postStateHash !== undefined) return bytesToHex(root!) === t.postStateHash ? undefined : 'postStateHash'
      if (t.postState === undefined) return undefined
      // The expected post-state's root, computed the same way as the fast EVM's.
      const expected = stateRoot(loadPre(t.postState))
      return equalsBytes(expected, root!) ? undefined : 'postState root'
    },
  }
}

export async function runBlockchainTest(t: BlockchainTest, engine: EngineKind): Promise<Outcome> {
  const schedule = forkSchedule(t.network)
  if (schedule === undefined) return { status: 'skip', reason: `network ${t.network}` }
  if (t.sealEngine !== undefined && t.sealEngine !== 'NoProof') return { status: 'skip', reason: `seal engine ${t.sealEngine}` }
  const genesisFork = schedule(0n, 0n)
  let head: Block
  try {
    head = createBlockFromRLP(hexToBytes(t.genesisRLP as `0x${string}`), { common: commonFor(genesisFork) })
  } catch (err) {
    return { status: 'fail', reason: `genesis: ${(err as Error).message.split('\n')[0]}` }
  }
  let headFork = genesisFork
  const known = new Set<string>([bytesToHex(head.hash())])
  const hashes = new Map<bigint, Uint8Array>([[head.header.number, head.hash()]])
  const st = engine === 'fast' ? fastEngine(t) : ethereumjsEngine(t)
  for (let i = 0; i < t.blocks.length; i++) {
    const jb = t.blocks[i]!
    const expectInvalid = jb.expectException !== undefined
    const rlp = hexToBytes(jb.rlp as `0x${string}`)
    let block: Block | undefined
    let fork: Fork = headFork
    try {
      // Decode with the fork the header's number/timestamp give.
      const raw = RLP.decode(rlp) as unknown as Uint8Array[][]
      const hdr = raw[0]!
      const number = bytesToWord(hdr[8]!)
      const timestamp = bytesToWord(hdr[11]!)
      fork = schedule(number, timestamp)
      block = createBlockFromRLP(rlp, { common: commonFor(fork) })
    } catch {
      block = undefined
    }
    let reason: string | undefined
    if (block === undefined) reason = 'decode'
    else if (!equalsBytes(block.header.parentHash, head.hash())) {
      if (known.has(bytesToHex(block.header.parentHash))) return { status: 'skip', reason: 'reorg' }
      reason = 'unknown parent'
    } else {
      reason = await checkHeader(block, head.header, fork, headFork)
      if (reason === undefined) {
        const anc = new Map<bigint, Uint8Array>()
        for (let n = block.header.number - 1n; n >= 0n && n >= block.header.number - 256n; n--) {
          const hh = hashes.get(n)
          if (hh !== undefined) anc.set(n, hh)
        }
        reason = await st.apply(block, fork, anc)
      }
    }
    if (reason === undefined) {
      if (expectInvalid) return { status: 'fail', reason: `block ${i} accepted, expected ${jb.expectException}` }
      head = block!
      headFork = fork
      known.add(bytesToHex(head.hash()))
      hashes.set(head.header.number, head.hash())
    } else if (!expectInvalid) return { status: 'fail', reason: `block ${i} rejected: ${reason}` }
  }
  if (bytesToHex(head.hash()) !== t.lastblockhash) return { status: 'fail', reason: 'lastblockhash' }
  const post = await st.check(t)
  return post === undefined ? { status: 'pass' } : { status: 'fail', reason: `post state: ${post}` }
}

export interface FileResult {
  file: string
  folder: string
  name: string
  fast: Outcome
  ethereumjs?: Outcome | undefined
}

/** Every .json file under `dir`, recursively, sorted. */
export function listTestFiles(dir: string): string[] {
  const out: string[] = []
  const walk = (d: string) => {
    for (const e of readdirSync(d).sort()) {
      const p = join(d, e)
      if (statSync(p).isDirectory()) walk(p)
      else if (e.endsWith('.json')) out.push(p)
    }
  }
  walk(dir)
  return out
}

/** Runs every test of every file; `folderOf` names the folder a file counts under. */
export async function runTestFiles(root: string, files: readonly string[], opts: { baseline: boolean; filter?: (name: string) => boolean }): Promise<FileResult[]> {
  const results: FileResult[] = []
  for (const file of files) {
    const rel = relative(root, file)
    const parts = rel.split('/')
    const folder = parts.slice(0, Math.max(1, parts.length - 1)).join('/')
    let tests: Record<string, BlockchainTest>
    try {
      tests = JSON.parse(readFileSync(file, 'utf8')) as Record<string, BlockchainTest>
    } catch (err) {
      results.push({ file: rel, folder, name: '(file)', fast: { status: 'fail', reason: `unreadable: ${(err as Error).message}` } })
      continue
    }
    for (const [name, t] of Object.entries(tests)) {
      if (opts.filter !== undefined && !opts.filter(name)) continue
      const fast = await safeRun(t, 'fast')
      const ethereumjs = opts.baseline ? await safeRun(t, 'ethereumjs') : undefined
      results.push({ file: rel, folder, name, fast, ethereumjs })
    }
  }
  return results
}

async function safeRun(t: BlockchainTest, engine: EngineKind): Promise<Outcome> {
  try {
    return await runBlockchainTest(t, engine)
  } catch (err) {
    return { status: 'fail', reason: `crash: ${(err as Error).message.split('\n')[0]}` }
  }
}

export interface FolderCounts {
  folder: string
  tests: number
  fastPass: number
  baselinePass: number
  skipped: number
  /** Tests the baseline passes and the fast EVM does not. */
  regressions: number
}

export function countByFolder(results: readonly FileResult[]): FolderCounts[] {
  const m = new Map<string, FolderCounts>()
  for (const r of results) {
    let c = m.get(r.folder)
    if (c === undefined) m.set(r.folder, (c = { folder: r.folder, tests: 0, fastPass: 0, baselinePass: 0, skipped: 0, regressions: 0 }))
    c.tests++
    if (r.fast.status === 'skip') c.skipped++
    if (r.fast.status === 'pass') c.fastPass++
    if (r.ethereumjs?.status === 'pass') c.baselinePass++
    if (r.ethereumjs?.status === 'pass' && r.fast.status !== 'pass') c.regressions++
  }
  return [...m.values()].sort((a, b) => a.folder.localeCompare(b.folder))
}
