import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { afterAll } from 'vitest'

export const FIXTURES_DIR = join(import.meta.dirname, '..', '..', 'fixtures', 'mainnet')
/** A small real fixture: block 46147, one ETH transfer, 42 witness nodes. */
export const SMALL_FIXTURE = join(FIXTURES_DIR, 'mainnet-46147.json')
/** A small real fixture with contract calls: block 116524, five transactions. */
export const CALLS_FIXTURE = join(FIXTURES_DIR, 'mainnet-116524.json')

/** Temporary directories made by `tempDir` in this test file: removed after its last test. */
const created: string[] = []
afterAll(async () => {
  for (const dir of created.splice(0)) await rm(dir, { recursive: true, force: true })
})

export async function tempDir(prefix = 'megabench-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  created.push(dir)
  return dir
}

export async function readFixtureJson(file = SMALL_FIXTURE): Promise<Record<string, any>> {
  return JSON.parse(await readFile(file, 'utf8')) as Record<string, any>
}

/** Writes a modified copy of a fixture into `dir` and returns its path. */
export async function writeVariant(
  dir: string,
  name: string,
  change: (json: Record<string, any>) => void,
  from = SMALL_FIXTURE,
): Promise<string> {
  const json = await readFixtureJson(from)
  change(json)
  const path = join(dir, name)
  await writeFile(path, JSON.stringify(json))
  return path
}

/** Flips the last hex digit of a 0x string. */
export function flipLastHexDigit(hex: string): string {
  const last = hex.at(-1)!
  return hex.slice(0, -1) + (last === '0' ? '1' : '0')
}
