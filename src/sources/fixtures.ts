import { readFile, readdir, stat } from 'node:fs/promises'
import { join, resolve } from 'node:path'

import { hexToBytes } from '@ethereumjs/util'
import type { z } from 'zod'

import { FixtureError, NoFixturesError } from '../errors/index.js'
import { rulesFor } from '../networks.js'
import type { BlockInput, BlockSource, ReplayUnit } from '../types.js'
import { REALBLOCK_FORMAT, type RealBlockFile, realBlockSchema } from './realblock.js'

/** Files in a fixture directory that are not fixtures (the shared data set keeps its index here). */
const NON_FIXTURE_FILES = new Set(['MANIFEST.json', 'package.json'])

export type CreateFixtureSourceParameters = {
  /** Files and/or directories of `realblock-v1` JSON files. Directories are scanned (not recursively). */
  paths: readonly string[]
}

/**
 * A source over `realblock-v1` fixture files. Each file is one replay unit (its own witness state and
 * one block). Files are listed up front and read lazily, in natural order of their names.
 */
export async function createFixtureSource({
  paths,
}: CreateFixtureSourceParameters): Promise<BlockSource> {
  const files = await listFixtureFiles(paths)
  return {
    kind: 'fixtures',
    description: paths.join(', '),
    unitCount: files.length,
    async *units(): AsyncGenerator<ReplayUnit> {
      for (const file of files) yield await readFixtureFile(file)
    },
  }
}

/** Expands files and directories into a sorted list of fixture files. */
export async function listFixtureFiles(paths: readonly string[]): Promise<string[]> {
  const out: string[] = []
  for (const p of paths) {
    let info
    try {
      info = await stat(p)
    } catch (cause) {
      throw new FixtureError(p, 'no such file or directory', { cause })
    }
    if (info.isDirectory()) {
      const names = (await readdir(p))
        .filter((n) => n.endsWith('.json') && !NON_FIXTURE_FILES.has(n))
        .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))
      for (const n of names) out.push(join(p, n))
    } else {
      out.push(p)
    }
  }
  // Drop repeats (the same file named twice), keeping the user's spelling of the first occurrence.
  const seen = new Set<string>()
  const files = out.filter((f) => {
    const r = resolve(f)
    if (seen.has(r)) return false
    seen.add(r)
    return true
  })
  if (files.length === 0) throw new NoFixturesError(paths)
  return files
}

/** Reads, validates and decodes one fixture file. Every failure names the file (and field). */
export async function readFixtureFile(file: string): Promise<ReplayUnit> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (cause) {
    throw new FixtureError(file, `cannot read file (${(cause as Error).message})`, { cause })
  }
  return parseFixture(file, text)
}

/** Parses the text of a fixture file; `file` is used in messages only. */
export function parseFixture(file: string, text: string): ReplayUnit {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (cause) {
    throw new FixtureError(file, `not valid JSON, truncated or corrupt (${(cause as Error).message})`, {
      cause,
    })
  }
  const format = (json as { _info?: { format?: unknown } } | null)?._info?.format
  if (typeof json !== 'object' || json === null || Array.isArray(json) || format === undefined) {
    throw new FixtureError(file, `not a ${REALBLOCK_FORMAT} file (no _info.format)`)
  }
  if (format !== REALBLOCK_FORMAT) {
    throw new FixtureError(file, `unsupported format ${JSON.stringify(format)} (expected ${REALBLOCK_FORMAT})`)
  }
  const parsed = realBlockSchema.safeParse(json)
  if (!parsed.success) throw new FixtureError(file, describeIssue(parsed.error))
  return toReplayUnit(file, parsed.data)
}

function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0]
  if (issue === undefined) return 'invalid file'
  const path = issue.path
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`))
    .join('')
  return `field ${path || '(root)'}: ${issue.message}`
}

function toReplayUnit(file: string, f: RealBlockFile): ReplayUnit {
  const ancestorHashes = new Map<bigint, Uint8Array>()
  for (const [n, h] of Object.entries(f.ancestorHashes)) ancestorHashes.set(BigInt(n), hexToBytes(h as `0x${string}`))
  const block: BlockInput = {
    origin: file,
    number: BigInt(f.blockNumber),
    hash: hexToBytes(f.blockHash as `0x${string}`),
    hardfork: f.hardfork,
    chainId: BigInt(f.chainId),
    blockRlp: hexToBytes(f.blockRlp as `0x${string}`),
    ancestorHashes,
    expected: {
      stateRoot: hexToBytes(f.expected.stateRoot as `0x${string}`),
      receiptsRoot: hexToBytes(f.expected.receiptsRoot as `0x${string}`),
      logsBloom: hexToBytes(f.expected.logsBloom as `0x${string}`),
      gasUsed: BigInt(f.expected.gasUsed),
      txCount: f.expected.txCount,
      ...(f.expected.requestsHash === undefined ? {} : { requestsHash: hexToBytes(f.expected.requestsHash as `0x${string}`) }),
    },
  }
  return {
    origin: file,
    // A public network (mainnet, Sepolia, Holesky, Hoodi) runs under its fork schedule; any other chain (a
    // devnet or a local node that `megabench fetch` read) under mainnet's parameters at the file's hardfork.
    rules: rulesFor(f.chainId, f.hardfork),
    state: {
      kind: 'witness',
      stateRoot: hexToBytes(f.parentStateRoot as `0x${string}`),
      nodes: f.witness.nodes.map((n) => hexToBytes(n as `0x${string}`)),
      codes: f.witness.codes.map((c) => hexToBytes(c as `0x${string}`)),
    },
    blocks: [block],
  }
}
