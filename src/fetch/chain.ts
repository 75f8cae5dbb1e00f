/**
 * `megabench fetch --chain`: a fetched range as one chain directory (`megabench-chain-v1` with a
 * `megabench-start-v1` start state), replayable contiguously with `replay --chain`.
 *
 * The blocks are first fetched as verified realblock-v1 files into a parts directory beside the
 * output (so a killed fetch resumes there, block by block); then they are assembled: block RLPs in
 * order, and one start state = the parent's state root plus the union of the blocks' witnesses.
 * Nodes are keyed by their hash, so the union holds, for every path any block of the range reads,
 * the version of each node that block reads: a path block k reads passes through nodes that are
 * either unchanged since the range's parent (then in block k's witness, and reachable from the
 * parent's root) or rewritten by an earlier block of the range (then the replay made them itself).
 * The directory is replayed with the baseline engine, every root checked, before it is renamed into
 * place; only then is the parts directory removed.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

import { RLP } from '@ethereumjs/rlp'
import { bytesToHex } from '@ethereumjs/util'

import { FetchError, MegabenchError } from '../errors/index.js'
import { buildDirectoryAtomically } from '../output/files.js'
import { toolInfo } from '../run/environment.js'
import { CHAIN_FORMAT, type ChainManifest, START_FORMAT, type StartState, blockFileName } from '../sources/chainFormat.js'
import { createChainSource } from '../sources/chain.js'
import { type RealBlockFile, realBlockSchema } from '../sources/realblock.js'
import { createBaselineEngine } from '../engines/baseline/engine.js'
import { fixtureName } from './fetch.js'

export type AssembleChainParameters = {
  /** Directory of the range's realblock-v1 files (as `fetch` writes them). */
  parts: string
  chainId: number
  from: number
  to: number
  /** The chain directory to write (replaced atomically). */
  out: string
}

export type AssembledChain = {
  out: string
  blocks: number
  txs: number
  /** Distinct trie nodes and codes in the start state (the union of the blocks' witnesses). */
  nodes: number
  codes: number
  /** Bytes of the chain directory's files. */
  bytes: number
  /** Seconds spent replaying the assembled directory to verify it. */
  verifySeconds: number
}

/** The parts directory a `--chain` fetch into `out` uses (a sibling, kept until the chain is complete). */
export function partsDirFor(out: string): string {
  return `${out.replace(/\/+$/, '')}.blocks`
}

/** Assembles verified realblock-v1 files `from … to` into a chain directory, verifies it by replay, and renames it into place. */
export async function assembleChain(p: AssembleChainParameters): Promise<AssembledChain> {
  const files: RealBlockFile[] = []
  for (let n = p.from; n <= p.to; n++) files.push(await readPart(join(p.parts, fixtureName(p.chainId, n)), n))
  const first = files[0]!
  const last = files[files.length - 1]!
  const forks = new Set(files.map((f) => f.hardfork))
  if (forks.size > 1) {
    throw new FetchError(p.from, `the range ${p.from}…${p.to} crosses hardforks (${[...forks].join(', ')}): a chain directory runs one hardfork; fetch each fork's part separately`)
  }
  const nodes = new Set<string>()
  const codes = new Set<string>()
  const before: Record<string, string> = {}
  let txs = 0
  let gasUsed = 0
  for (const f of files) {
    for (const x of f.witness.nodes) nodes.add(x.toLowerCase())
    for (const x of f.witness.codes) codes.add(x.toLowerCase())
    for (const [n, h] of Object.entries(f.ancestorHashes)) if (Number(n) < p.from - 1) before[n] = h.toLowerCase()
    txs += f.expected.txCount
    gasUsed += Number(BigInt(f.expected.gasUsed))
  }
  const parentHash = parentHashOf(first)
  const start: StartState = {
    format: START_FORMAT,
    chainId: p.chainId,
    parent: { number: p.from - 1, hash: parentHash, stateRoot: first.parentStateRoot.toLowerCase() },
    ancestorHashes: before,
    witness: { nodes: [...nodes], codes: [...codes] },
  }
  const manifest: ChainManifest = {
    format: CHAIN_FORMAT,
    chainId: p.chainId,
    hardfork: first.hardfork,
    generator: { tool: 'megabench fetch', version: toolInfo().version },
    origin: 'fetched',
    genesis: { file: 'start.json', stateRoot: start.parent.stateRoot, hash: parentHash },
    blocks: { first: p.from, last: p.to, txs, gasUsed },
    head: { number: p.to, hash: last.blockHash.toLowerCase() },
  }
  let bytes = 0
  let verifySeconds = 0
  await buildDirectoryAtomically(p.out, async (tmp) => {
    const write = async (name: string, content: string | Uint8Array) => {
      await writeFile(join(tmp, name), content)
      bytes += typeof content === 'string' ? Buffer.byteLength(content) : content.length
    }
    await mkdir(join(tmp, 'blocks'))
    for (const f of files) await write(join('blocks', blockFileName(f.blockNumber)), Buffer.from(f.blockRlp.slice(2), 'hex'))
    await write('start.json', `${JSON.stringify(start)}\n`)
    await write('chain.json', `${JSON.stringify(manifest, null, 1)}\n`)
    const t = performance.now()
    await verifyChainDir(tmp, p.from)
    verifySeconds = (performance.now() - t) / 1000
  })
  await rm(p.parts, { recursive: true, force: true })
  return { out: p.out, blocks: files.length, txs, nodes: nodes.size, codes: codes.size, bytes, verifySeconds }
}

async function readPart(file: string, n: number): Promise<RealBlockFile> {
  let json: unknown
  try {
    json = JSON.parse(await readFile(file, 'utf8'))
  } catch (cause) {
    throw new FetchError(n, `cannot read the fetched block ${file} (${(cause as Error).message.split('\n')[0]})`, { cause })
  }
  const parsed = realBlockSchema.safeParse(json)
  if (!parsed.success) throw new FetchError(n, `${file}: not a realblock-v1 file (${parsed.error.issues[0]?.message ?? 'invalid'})`)
  if (parsed.data.blockNumber !== n) throw new FetchError(n, `${file} holds block ${parsed.data.blockNumber}`)
  return parsed.data
}

/** The parent hash field of the file's block header. */
function parentHashOf(f: RealBlockFile): string {
  const decoded = RLP.decode(Buffer.from(f.blockRlp.slice(2), 'hex')) as unknown as Uint8Array[][]
  const header = decoded[0]
  if (header === undefined || !(header[0] instanceof Uint8Array)) throw new FetchError(f.blockNumber, 'field blockRlp: not a block')
  return bytesToHex(header[0])
}

/** Replays the chain directory with the baseline engine (LMDB, live: every block's roots); throws on the first mismatch. */
async function verifyChainDir(dir: string, from: number): Promise<void> {
  const source = await createChainSource({ dir })
  const engine = createBaselineEngine()
  const storage = { kind: 'lmdb', mode: 'live', batch: null, caches: { l1: 64 << 20, l2: 64 << 20 } } as const
  let n = from
  for await (const unit of source.units()) {
    for await (const run of engine.runUnit(unit, { storage })) {
      const m = run.mismatches[0]
      if (m !== undefined) throw new FetchError(run.number, `the assembled chain directory does not verify: ${m.field} expected ${m.expected}, computed ${m.actual}`)
      n++
    }
  }
  if (n === from) throw new MegabenchError('the assembled chain directory replayed no blocks')
}
