/**
 * One BlockchainTest on one EVM. From the test's pre-state and genesis, its blocks are imported in
 * order into a block tree: a block is decoded at the fork its number/timestamp (or its parent's total
 * difficulty) gives, checked against its parent (header, uncles), executed on its parent's state and
 * accepted only if its gas, bloom, receipts root and state root match its header. The head is the
 * accepted block of highest total difficulty (proof of work; the first one on ties) or the last
 * accepted block (proof of stake). The test passes if exactly the blocks that are not expected to
 * raise an exception (every `expectException` form, see expect.ts) are accepted, the head is
 * `lastblockhash`, and the head's state equals `postState` (or `postStateHash`).
 */
import { type Block, createBlockFromRLP } from '@ethereumjs/block'
import { RLP } from '@ethereumjs/rlp'
import { bytesToHex, hexToBytes } from '@ethereumjs/util'

import { type Fork, rulesFor } from '../evm/forks.js'
import type { EvmTier } from '../evm/tiers.js'
import { bytesToWord } from '../evm/interpreter.js'
import { type ChainNode, checkHeader, checkUncles, uncleHash } from './checks.js'
import { commonFor } from './common.js'
import { driverFor } from './engines.js'
import { expectedException } from './expect.js'
import { firstLine, genesisBlock } from './genesis.js'
import { forkSchedule } from './networks.js'
import type { BlockchainTest, EvmKind, Outcome } from './types.js'

type Node = ChainNode & { state: unknown; totalDifficulty: bigint; parent: Node | undefined }

/** Why a test cannot be run as a BlockchainTest at all (not one, or not one megabench runs), or undefined. */
export function skipReason(t: unknown): string | undefined {
  if (typeof t !== 'object' || t === null || Array.isArray(t)) return 'not a BlockchainTest (not an object)'
  const o = t as Partial<BlockchainTest>
  if (!Array.isArray(o.blocks) || typeof o.pre !== 'object' || o.pre === null || typeof o.network !== 'string' || typeof o.lastblockhash !== 'string') {
    return 'not a BlockchainTest (needs network, pre, blocks, lastblockhash)'
  }
  if (o.blocks.some((b) => typeof b !== 'object' || b === null || typeof b.rlp !== 'string')) return 'not a BlockchainTest (a block without rlp)'
  const s = forkSchedule(o.network)
  if (!s.ok) return s.reason
  const chainId = o.config?.chainid
  if (chainId !== undefined) {
    let id: bigint | undefined
    try {
      id = BigInt(chainId)
    } catch {
      id = undefined
    }
    if (id !== 1n) return `chain id ${String(chainId)} not supported`
  }
  if (o.sealEngine === 'Ethash') {
    // Proof of work is not verified: a test whose blocks must all be accepted still proves everything
    // else, but one that expects a rejection might expect it for the seal.
    if (o.blocks.some((b) => expectedException(b, o.network!) !== undefined)) return 'seal engine Ethash with invalid blocks (proof of work is not verified)'
  } else if (o.sealEngine !== undefined && o.sealEngine !== 'NoProof') return `seal engine ${String(o.sealEngine)}`
  return undefined
}

/** `tier`: the fast EVM's tier (default DEFAULT_EVM_TIER; ignored on @ethereumjs). */
export async function runBlockchainTest(t: BlockchainTest, evm: EvmKind, tier?: EvmTier): Promise<Outcome> {
  const skip = skipReason(t)
  if (skip !== undefined) return { status: 'skip', reason: skip }
  const scheduled = forkSchedule(t.network)
  if (!scheduled.ok) return { status: 'skip', reason: scheduled.reason }
  const { forkAt, daoBlock } = scheduled.schedule
  const common = (fork: Fork) => commonFor(fork, daoBlock)

  const genesisFork = forkAt(0n, 0n, 0n)
  const g = genesisBlock(t, common(genesisFork))
  if ('reason' in g) return { status: 'skip', reason: g.reason }
  const driver = driverFor(evm, t, common(genesisFork), tier)
  const genesis: Node = { block: g.block, fork: genesisFork, parent: undefined, uncleHashes: [], state: await driver.genesis(), totalDifficulty: g.block.header.difficulty }
  const nodes = new Map<string, Node>([[bytesToHex(g.block.hash()), genesis]])
  let head = genesis

  for (const [i, jb] of t.blocks.entries()) {
    const expected = expectedException(jb, t.network)
    let block: Block | undefined
    let fork: Fork = head.fork
    let parent: Node | undefined
    let reason: string | undefined
    let rawUncles: Uint8Array[][] = []
    try {
      // The fork follows from the header's number and timestamp (and the parent's total difficulty).
      const raw = RLP.decode(hexToBytes(jb.rlp as `0x${string}`)) as unknown as Uint8Array[][]
      const hdr = raw[0]!
      rawUncles = (raw[2] ?? []) as unknown as Uint8Array[][]
      parent = nodes.get(bytesToHex(hdr[0]!))
      fork = forkAt(bytesToWord(hdr[8]!), bytesToWord(hdr[11]!), parent?.totalDifficulty ?? 0n)
      block = createBlockFromRLP(hexToBytes(jb.rlp as `0x${string}`), { common: common(fork) })
    } catch (err) {
      reason = `decode: ${firstLine(err)}`
    }
    let node: Node | undefined
    if (block !== undefined) {
      const known = nodes.get(bytesToHex(block.hash()))
      if (known !== undefined) node = known // imported before: accepted again, nothing to do
      else if (parent === undefined) reason = 'unknown parent'
      else {
        reason = await checkHeader(block, rawUncles, parent.block.header, fork, parent.fork)
        if (reason === undefined && !rulesFor(fork).paris) {
          reason = checkUncles(block, rawUncles, parent, (n, ts, up) => forkAt(n, ts, (up as Node).totalDifficulty), common)
        }
        if (reason === undefined) {
          const res = await driver.apply(parent.state, block, { fork, ancestors: ancestorHashes(parent), daoBlock })
          if ('reason' in res) reason = res.reason
          else {
            const uncleHashes = rawUncles.map(uncleHash)
            node = { block, fork, parent, uncleHashes, state: res.state, totalDifficulty: parent.totalDifficulty + block.header.difficulty }
          }
        }
      }
    }
    if (node !== undefined) {
      if (expected !== undefined) return { status: 'fail', reason: `block ${i} accepted, expected ${expected}` }
      if (node === nodes.get(bytesToHex(node.block.hash()))) continue
      nodes.set(bytesToHex(node.block.hash()), node)
      if (rulesFor(node.fork).paris || node.totalDifficulty > head.totalDifficulty) head = node
    } else if (expected === undefined) return { status: 'fail', reason: `block ${i} rejected: ${reason}` }
  }
  const headHash = bytesToHex(head.block.hash())
  if (headHash !== t.lastblockhash.toLowerCase()) return { status: 'fail', reason: `head ${headHash} (block ${head.block.header.number}) is not lastblockhash ${t.lastblockhash}` }
  const post = await driver.check(head.state)
  return post === undefined ? { status: 'pass' } : { status: 'fail', reason: `post state: ${post}` }
}

/** The hashes of `parent` and its ancestors, up to 256 blocks (BLOCKHASH of a child of `parent`). */
function ancestorHashes(parent: Node): Map<bigint, Uint8Array> {
  const m = new Map<bigint, Uint8Array>()
  let a: Node | undefined = parent
  for (let i = 0; i < 256 && a !== undefined; i++, a = a.parent) m.set(a.block.header.number, a.block.hash())
  return m
}

/** `runBlockchainTest` that never throws: an exception is the test's failure (`crash: …`). */
export async function safeRunBlockchainTest(t: BlockchainTest, evm: EvmKind, tier?: EvmTier): Promise<Outcome> {
  try {
    return await runBlockchainTest(t, evm, tier)
  } catch (err) {
    return { status: 'fail', reason: `crash: ${firstLine(err)}` }
  }
}
