import { readFileSync, readdirSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'

import { describe, expect, it } from 'vitest'

/**
 * The layering ARCHITECTURE.md draws, checked on every import (type-only and dynamic ones too):
 * a module may import only from the modules listed for it; `null` = any module but the ones above it.
 */
const SRC = resolve(import.meta.dirname, '..', 'src')

/** Module (first path segment under src/, or a top-level file without .ts) → modules it may import. */
const ALLOWED: Record<string, readonly string[]> = {
  errors: ['errors'],
  util: ['util', 'errors'],
  networks: ['errors', 'types'],
  trie: ['trie', 'util', 'errors'],
  chain: ['chain', 'util', 'errors', 'networks'],
  evm: ['evm', 'chain', 'util', 'errors'],
  probes: ['probes', 'evm', 'util', 'errors'],
  protocol: ['protocol'],
}
/** Modules no lower layer imports (engines and storage included). */
const UPPER = ['run', 'analyses', 'output', 'report', 'gate', 'cli', 'fetch', 'conformance', 'study']

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []))
}
const moduleOf = (file: string) => relative(SRC, file).split('/')[0]!.replace(/\.ts$/, '')

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8')
  const out: string[] = []
  for (const m of text.matchAll(/(?:from\s+|import\(\s*|import\s+)['"](\.{1,2}\/[^'"]+)['"]/g)) {
    const target = resolve(dirname(file), m[1]!)
    if (target.startsWith(SRC)) out.push(moduleOf(target.replace(/\.js$/, '.ts')))
  }
  return out
}

describe('module layers', () => {
  const all = files(SRC)
  it('finds the source tree', () => expect(all.length).toBeGreaterThan(100))

  it('lower layers import only the modules below them', () => {
    const bad: string[] = []
    for (const f of all) {
      const mod = moduleOf(f)
      const allowed = ALLOWED[mod]
      if (allowed === undefined) continue
      for (const t of importsOf(f)) if (!allowed.includes(t)) bad.push(`${relative(SRC, f)} imports ${t}/`)
    }
    expect(bad).toEqual([])
  })

  it('engines, storage and sources never import the layers above them', () => {
    const bad: string[] = []
    for (const f of all) {
      const mod = moduleOf(f)
      if (mod !== 'engines' && mod !== 'storage' && mod !== 'sources') continue
      for (const t of importsOf(f)) if (UPPER.includes(t) || (mod === 'storage' && t === 'engines')) bad.push(`${relative(SRC, f)} imports ${t}/`)
    }
    expect(bad).toEqual([])
  })

  it('only the CLI imports the CLI', () => {
    const bad = all.filter((f) => moduleOf(f) !== 'cli' && importsOf(f).includes('cli')).map((f) => relative(SRC, f))
    expect(bad).toEqual([])
  })
})
