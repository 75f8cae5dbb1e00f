/**
 * Finding and reading test files: `.json` and `.json.gz` files found recursively under the given
 * paths (a path may also be one file). Anything unreadable is bad input (FixtureError: one line
 * naming the file), reported before any test runs.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { basename, dirname, join, relative, sep } from 'node:path'
import { gunzipSync } from 'node:zlib'

import { FixtureError } from '../errors/index.js'
import type { BlockchainTest } from './types.js'

export type TestFile = {
  /** Path as found (the given path joined with the file's path below it). */
  path: string
  /** Path relative to the given path (or its name, when the given path is the file), '/'-separated. */
  relative: string
  /** The folder it is counted under (see `folderOf`). */
  folder: string
}

export function isTestFileName(name: string): boolean {
  return name.endsWith('.json') || name.endsWith('.json.gz')
}

/** Every .json / .json.gz file under `dir`, recursively, sorted by path. */
export function listTestFiles(dir: string): string[] {
  const out: string[] = []
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const p = join(d, e.name)
      if (e.isDirectory()) walk(p)
      else if (isTestFileName(e.name)) out.push(p)
    }
  }
  walk(dir)
  return out
}

/** Directories that hold BlockchainTests: a folder is named down to two levels below one. */
const ANCHOR = /^(BlockchainTests|blockchain_tests)$/

/**
 * The folder a file counts under: its directory relative to the given path, cut two levels below a
 * `BlockchainTests` / `blockchain_tests` directory (e.g. `BlockchainTests/GeneralStateTests/VMTests`,
 * `Constantinople/BlockchainTests/InvalidBlocks/bcUncleTest`, `blockchain_tests/prague/eip7702_set_code_tx`),
 * or to its first `depth` levels when `depth` is given. `prefix` (the given path's name, when several
 * paths are given) keeps folders of different paths apart.
 */
export function folderOf(relativeDir: string, opts: { depth?: number | undefined; prefix?: string | undefined } = {}): string {
  let parts = relativeDir.split('/').filter((p) => p !== '' && p !== '.')
  if (opts.prefix !== undefined) parts = [opts.prefix, ...parts]
  if (opts.depth !== undefined) parts = parts.slice(0, Math.max(1, opts.depth))
  else {
    const a = parts.findIndex((p) => ANCHOR.test(p))
    if (a >= 0) parts = parts.slice(0, a + 3)
  }
  return parts.length === 0 ? '.' : parts.join('/')
}

/** The test files under `paths` with their folders; a missing path is bad input. */
export function collectTestFiles(paths: readonly string[], opts: { depth?: number | undefined } = {}): TestFile[] {
  const out: TestFile[] = []
  const seen = new Set<string>()
  for (const p of paths) {
    let isDir: boolean
    try {
      isDir = statSync(p).isDirectory()
    } catch (err) {
      throw new FixtureError(p, (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : `cannot read: ${(err as Error).message}`)
    }
    const prefix = paths.length > 1 ? basename(isDir ? p : dirname(p)) : undefined
    const files = isDir ? listTestFiles(p) : [p]
    if (files.length === 0) throw new FixtureError(p, 'no .json or .json.gz test files in this directory')
    for (const f of files) {
      if (seen.has(f)) continue
      seen.add(f)
      const rel = isDir ? relative(p, f).split(sep).join('/') : basename(f)
      const relDir = isDir ? rel.split('/').slice(0, -1).join('/') : basename(dirname(f))
      out.push({ path: f, relative: isDir && prefix !== undefined ? `${prefix}/${rel}` : rel, folder: folderOf(relDir, { depth: opts.depth, prefix: isDir ? prefix : undefined }) })
    }
  }
  return out
}

/** A file's tests (gunzipped if it ends in .gz); anything but a JSON object is bad input. */
export function readTestFile(path: string): Record<string, BlockchainTest> {
  let bytes: Buffer
  try {
    bytes = readFileSync(path)
  } catch (err) {
    throw new FixtureError(path, `cannot read: ${(err as Error).message}`)
  }
  if (path.endsWith('.gz')) {
    try {
      bytes = gunzipSync(bytes)
    } catch (err) {
      throw new FixtureError(path, `not gzip: ${(err as Error).message}`)
    }
  }
  let value: unknown
  try {
    value = JSON.parse(bytes.toString('utf8'))
  } catch (err) {
    throw new FixtureError(path, `invalid JSON: ${(err as Error).message}`)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new FixtureError(path, 'not a JSON object of tests')
  return value as Record<string, BlockchainTest>
}
