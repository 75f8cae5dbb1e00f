/**
 * Block checks that need no execution, shared by both EVMs: the header against its parent, and the
 * uncles against the chain they would join (as geth's ethash `VerifyUncles`). Proof of work itself is
 * not checked (the tests megabench runs use the NoProof seal engine; see runTest.ts for Ethash).
 */
import { type Block, type BlockHeader, createBlockHeaderFromBytesArray } from '@ethereumjs/block'
import type { Common } from '@ethereumjs/common'
import { RLP } from '@ethereumjs/rlp'
import { bytesToHex, equalsBytes } from '@ethereumjs/util'

import { type Fork, rulesFor } from '../evm/forks.js'
import { bytesToWord } from '../evm/interpreter.js'
import { GAS_PER_BLOB } from '../evm/transaction.js'
import { keccak256 } from '../util/keccak.js'
import { firstLine } from './genesis.js'

/** EIP-7934 (Osaka): MAX_BLOCK_SIZE (10 MiB) minus SAFETY_MARGIN (2 MiB). */
const MAX_RLP_BLOCK_SIZE = 10_485_760 - 2_097_152

/** A block of the test's block tree (accepted blocks only), for uncle and ancestor checks. */
export interface ChainNode {
  block: Block
  fork: Fork
  parent: ChainNode | undefined
  /** Hashes of its uncles (as its RLP has them). */
  uncleHashes: string[]
}

/** Header rules against the parent (number, time, gas limit, base fee, difficulty, blobs, roots of the body). */
export async function checkHeader(block: Block, rawUncles: readonly Uint8Array[][], parent: BlockHeader, fork: Fork, parentFork: Fork): Promise<string | undefined> {
  const h = block.header
  const r = rulesFor(fork)
  const reason = checkHeaderFields(h, parent, fork, parentFork)
  if (reason !== undefined) return reason
  if (r.paris) {
    if (block.uncleHeaders.length > 0) return 'uncles (PoS)'
  } else if (rawUncles.length > 2) return 'too many uncles'
  if (r.cancun) {
    let blobs = 0n
    for (const tx of block.transactions) blobs += BigInt((tx as { blobVersionedHashes?: unknown[] }).blobVersionedHashes?.length ?? 0)
    if (blobs * GAS_PER_BLOB !== h.blobGasUsed) return 'blobGasUsed'
    // The fork's maximum (EIP-4844, EIP-7691, EIP-7892 BPO schedule), from the chain's Common.
    if (blobs * GAS_PER_BLOB > h.common.getBlobGasSchedule().maxBlobGasPerBlock) return 'too many blobs'
  }
  if (r.prague && h.requestsHash === undefined) return 'requestsHash missing'
  if (r.osaka && block.serialize().length > MAX_RLP_BLOCK_SIZE) return `block RLP size ${block.serialize().length} above ${MAX_RLP_BLOCK_SIZE} (EIP-7934)`
  if (!(await block.transactionsTrieIsValid())) return 'transactionsTrie'
  if (!unclesHashIsValid(block, rawUncles)) return 'uncleHash'
  if (r.shanghai && !(await block.withdrawalsTrieIsValid())) return 'withdrawalsRoot'
  return undefined
}

/** The rules every header (a block's or an uncle's) obeys against its parent. */
function checkHeaderFields(h: BlockHeader, parent: BlockHeader, fork: Fork, parentFork: Fork): string | undefined {
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
    if (!equalsBytes(h.nonce, new Uint8Array(8))) return 'nonce (PoS)'
  } else if (h.difficulty !== h.ethashCanonicalDifficulty(parent)) return 'difficulty'
  if (r.cancun) {
    const excess = rulesFor(parentFork).cancun ? parent.calcNextExcessBlobGas(h.common) : 0n
    if (h.excessBlobGas !== excess) return 'excessBlobGas'
  }
  return undefined
}

/**
 * Uncle rules (proof of work): none twice, none an ancestor or an uncle already included within the
 * last 7 generations, each a child of an ancestor within 7 generations other than the block's own
 * parent, and each a valid header against that ancestor at the uncle's own fork. Uncles are taken as
 * the block's RLP has them (`rawUncles`): @ethereumjs decodes them at the block's fork, which changes
 * an uncle from before a fork boundary (e.g. adds a base fee to a Berlin uncle of a London block).
 */
export function checkUncles(
  block: Block,
  rawUncles: readonly Uint8Array[][],
  parent: ChainNode,
  forkOf: (number: bigint, timestamp: bigint, parent: ChainNode) => Fork,
  commonOf: (fork: Fork) => Common,
): string | undefined {
  if (rawUncles.length === 0) return undefined
  const ancestors = new Map<string, ChainNode>()
  const seen = new Set<string>()
  let a: ChainNode | undefined = parent
  for (let i = 0; i < 7 && a !== undefined; i++, a = a.parent) {
    ancestors.set(bytesToHex(a.block.hash()), a)
    for (const u of a.uncleHashes) seen.add(u)
  }
  seen.add(bytesToHex(block.hash()))
  for (const [i, raw] of rawUncles.entries()) {
    const hash = uncleHash(raw)
    if (seen.has(hash)) return `uncle ${i}: duplicate (already included)`
    seen.add(hash)
    if (ancestors.has(hash)) return `uncle ${i}: is an ancestor`
    const up = raw[0] === undefined ? undefined : ancestors.get(bytesToHex(raw[0]))
    if (up === undefined || equalsBytes(raw[0]!, block.header.parentHash)) return `uncle ${i}: dangling (parent not an ancestor within 7 generations, or the block's own parent)`
    let header: BlockHeader
    let fork: Fork
    try {
      fork = forkOf(bytesToWord(raw[8]!), bytesToWord(raw[11]!), up)
      header = createBlockHeaderFromBytesArray(raw, { common: commonOf(fork), skipConsensusFormatValidation: true })
    } catch (err) {
      return `uncle ${i}: ${firstLine(err)}`
    }
    const reason = checkHeaderFields(header, up.block.header, fork, up.fork)
    if (reason !== undefined) return `uncle ${i}: ${reason}`
  }
  return undefined
}

/** An uncle's hash, from its header's RLP items as the block carries them. */
export function uncleHash(raw: readonly Uint8Array[]): string {
  return bytesToHex(keccak256(RLP.encode(raw as Uint8Array[])))
}

/** The block's uncle list hashed as its RLP has it (what the header's uncleHash commits to). */
export function unclesHashIsValid(block: Block, rawUncles: readonly Uint8Array[][]): boolean {
  return equalsBytes(keccak256(RLP.encode(rawUncles as Uint8Array[][])), block.header.uncleHash)
}
