import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'

import { RLP } from '@ethereumjs/rlp'
import { bytesToBigInt, bytesToHex, equalsBytes, hexToBytes } from '@ethereumjs/util'
import { keccak256 } from '../util/keccak.js'
import type { z } from 'zod'

import { FixtureError, UsageError } from '../errors/index.js'
import { rulesFor } from '../networks.js'
import type { BlockInput, BlockSource, ChainRules, ReplayUnit, WitnessState } from '../types.js'
import {
  CHAIN_FORMAT,
  type ChainManifest,
  GENESIS_FORMAT,
  START_FORMAT,
  type GenesisSpec,
  blockFileName,
  chainManifestSchema,
  genesisSpecSchema,
  sendersFileName,
  startStateSchema,
} from './chainFormat.js'

export type CreateChainSourceParameters = {
  /** A chain directory written by `megabench generate` (format: src/sources/chainFormat.ts). */
  dir: string
  /** First block to measure (default: the first block). Earlier blocks are executed as warm-up. */
  from?: number | undefined
  /** Last block to replay (default: the last block). */
  to?: number | undefined
}

/** How many ancestor hashes BLOCKHASH can see. */
const BLOCKHASH_WINDOW = 256

/**
 * A source over a chain directory: one replay unit, the genesis state (a generated chain) or the
 * start state (a fetched range: a witness) plus blocks first … `to`, read lazily in order. Blocks
 * before `from` are marked warm-up. Reading checks that every block file exists, holds the block its
 * name says, and links to its parent by hash.
 */
export async function createChainSource(p: CreateChainSourceParameters): Promise<BlockSource & { manifest: ChainManifest }> {
  const manifest = await readManifest(p.dir)
  const first = manifest.blocks.first
  const last = manifest.blocks.last
  const from = p.from ?? first
  const to = p.to ?? last
  if (!(Number.isInteger(from) && from >= first && from <= last)) {
    throw new UsageError(`--from ${from} is outside the chain's blocks ${first}…${last}`)
  }
  if (!(Number.isInteger(to) && to >= from && to <= last)) {
    throw new UsageError(`--to ${to} must be between --from ${from} and the chain's last block ${last}`)
  }
  return {
    kind: 'chain',
    description: p.dir,
    unitCount: 1,
    manifest,
    async *units(): AsyncGenerator<ReplayUnit> {
      if (manifest.origin === 'fetched') {
        const start = await readStart(p.dir, manifest)
        yield {
          origin: p.dir,
          // As for realblock-v1 files: a public network under its schedule, any other chain at its one hardfork.
          rules: rulesFor(manifest.chainId, manifest.hardfork),
          state: start.state,
          blocks: readBlocks(p.dir, manifest, from, to, start.ancestors),
        }
        return
      }
      const genesis = await readGenesis(p.dir, manifest)
      const rules: ChainRules = { kind: 'custom', chainId: BigInt(manifest.chainId), hardfork: manifest.hardfork }
      yield { origin: p.dir, rules, state: { kind: 'genesis', spec: genesis }, blocks: readBlocks(p.dir, manifest, from, to, []) }
    },
  }
}

/** Number of blocks `createChainSource` will report (to − from + 1), for progress bars. */
export function measuredBlockCount(manifest: ChainManifest, from?: number, to?: number): number {
  return (to ?? manifest.blocks.last) - (from ?? manifest.blocks.first) + 1
}

async function readJsonFile<T>(file: string, schema: z.ZodType<T>, format: string): Promise<T> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (cause) {
    throw new FixtureError(file, `cannot read file (${(cause as Error).message})`, { cause })
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (cause) {
    throw new FixtureError(file, `not valid JSON, truncated or corrupt (${(cause as Error).message})`, { cause })
  }
  const tag = (json as { format?: unknown } | null)?.format
  if (tag !== format) throw new FixtureError(file, `unsupported format ${JSON.stringify(tag)} (expected ${format})`)
  const parsed = schema.safeParse(json)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new FixtureError(file, `field ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`)
  }
  return parsed.data
}

export async function readManifest(dir: string): Promise<ChainManifest> {
  try {
    if (!(await stat(dir)).isDirectory()) throw new Error('not a directory')
  } catch (cause) {
    throw new FixtureError(dir, 'not a chain directory (no such directory)', { cause })
  }
  return readJsonFile(join(dir, 'chain.json'), chainManifestSchema, CHAIN_FORMAT)
}

async function readGenesis(dir: string, manifest: ChainManifest): Promise<GenesisSpec> {
  const file = join(dir, manifest.genesis.file)
  const genesis = await readJsonFile(file, genesisSpecSchema, GENESIS_FORMAT)
  const hash = bytesToHex(keccak256(hexToBytes(genesis.headerRlp as `0x${string}`)))
  if (hash !== manifest.genesis.hash.toLowerCase()) {
    throw new FixtureError(file, `field headerRlp: hashes to ${hash} but chain.json names genesis ${manifest.genesis.hash}`)
  }
  return genesis
}

/** A fetched range's start state (start.json): the witness, and the ancestor hashes before the range, oldest first. */
async function readStart(dir: string, manifest: ChainManifest): Promise<{ state: WitnessState; ancestors: Uint8Array[] }> {
  const file = join(dir, manifest.genesis.file)
  const start = await readJsonFile(file, startStateSchema, START_FORMAT)
  if (start.parent.hash.toLowerCase() !== manifest.genesis.hash.toLowerCase() || start.parent.stateRoot.toLowerCase() !== manifest.genesis.stateRoot.toLowerCase()) {
    throw new FixtureError(file, `field parent: block ${start.parent.hash} / state root ${start.parent.stateRoot} differ from chain.json's ${manifest.genesis.hash} / ${manifest.genesis.stateRoot}`)
  }
  if (start.chainId !== manifest.chainId) throw new FixtureError(file, `field chainId: ${start.chainId}, but chain.json says ${manifest.chainId}`)
  if (start.parent.number !== manifest.blocks.first - 1) throw new FixtureError(file, `field parent.number: ${start.parent.number}, but the range starts at block ${manifest.blocks.first}`)
  const ancestors: Uint8Array[] = []
  for (let n = Math.max(0, start.parent.number - BLOCKHASH_WINDOW + 1); n < start.parent.number; n++) {
    const h = start.ancestorHashes[String(n)]
    if (h !== undefined) ancestors.push(hexToBytes(h as `0x${string}`))
    else ancestors.length = 0 // only a contiguous run ending at the parent is usable
  }
  return {
    state: {
      kind: 'witness',
      stateRoot: hexToBytes(start.parent.stateRoot as `0x${string}`),
      nodes: start.witness.nodes.map((n) => hexToBytes(n as `0x${string}`)),
      codes: start.witness.codes.map((c) => hexToBytes(c as `0x${string}`)),
    },
    ancestors,
  }
}

async function* readBlocks(
  dir: string,
  manifest: ChainManifest,
  from: number,
  to: number,
  /** Hashes of the blocks before the start block's parent (a fetched range), oldest first, contiguous. */
  before: readonly Uint8Array[],
): AsyncGenerator<BlockInput> {
  let parentHash = hexToBytes(manifest.genesis.hash as `0x${string}`)
  const window: Uint8Array[] = [...before.slice(-(BLOCKHASH_WINDOW - 1)), parentHash] // hashes of blocks n−256 … n−1
  for (let n = manifest.blocks.first; n <= to; n++) {
    const file = join(dir, 'blocks', blockFileName(n))
    let rlp: Uint8Array
    try {
      rlp = await readFile(file)
    } catch (cause) {
      throw new FixtureError(file, `block ${n} is missing (chain.json lists blocks ${manifest.blocks.first}…${manifest.blocks.last})`, { cause })
    }
    const header = decodeHeader(file, rlp)
    const number = bytesToBigInt(header.fields[8]!)
    if (number !== BigInt(n)) throw new FixtureError(file, `holds block ${number}, expected block ${n}: blocks are missing or out of order`)
    if (!equalsBytes(header.fields[0]!, parentHash)) {
      throw new FixtureError(
        file,
        `parent hash ${bytesToHex(header.fields[0]!)} does not link to block ${n - 1} (${bytesToHex(parentHash)})`,
      )
    }
    let senders: Uint8Array | undefined
    try {
      senders = await readFile(join(dir, 'senders', sendersFileName(n)))
    } catch {
      senders = undefined // the cache is optional
    }
    const ancestorHashes = new Map<bigint, Uint8Array>()
    window.forEach((h, i) => ancestorHashes.set(BigInt(n - window.length + i), h))
    yield {
      origin: file,
      number: BigInt(n),
      hash: header.hash,
      hardfork: manifest.hardfork,
      chainId: BigInt(manifest.chainId),
      blockRlp: rlp,
      ancestorHashes,
      expected: {
        stateRoot: header.fields[3]!,
        receiptsRoot: header.fields[5]!,
        logsBloom: header.fields[6]!,
        gasUsed: bytesToBigInt(header.fields[10]!),
        txCount: header.txCount,
        // EIP-7685: a Prague header's 21st field.
        ...(header.fields[20] === undefined ? {} : { requestsHash: header.fields[20] }),
      },
      senders,
      warmup: n < from,
    }
    parentHash = header.hash
    window.push(parentHash)
    if (window.length > BLOCKHASH_WINDOW) window.shift()
  }
}

/** The header's fields and hash (keccak of the header's own RLP bytes), and the body's tx count. */
function decodeHeader(file: string, rlp: Uint8Array): { fields: Uint8Array[]; hash: Uint8Array; txCount: number } {
  let decoded: unknown
  try {
    decoded = RLP.decode(rlp)
  } catch (cause) {
    throw new FixtureError(file, `not valid RLP (${(cause as Error).message})`, { cause })
  }
  const fields = Array.isArray(decoded) ? decoded[0] : undefined
  const txs = Array.isArray(decoded) ? decoded[1] : undefined
  if (!Array.isArray(fields) || fields.length < 15 || !Array.isArray(txs) || fields.some((f) => !(f instanceof Uint8Array))) {
    throw new FixtureError(file, 'not a block (header list and transaction list expected)')
  }
  return { fields: fields as Uint8Array[], hash: keccak256(RLP.encode(fields as Uint8Array[])), txCount: txs.length }
}
