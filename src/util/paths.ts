import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * The package root (where package.json, fixtures/ and contracts/ are): two levels above this file,
 * both for dist/util/ (built) and src/util/ (under vitest).
 */
export const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url))

/**
 * Temporary state DBs are named `megabench-db-<pid>-XXXXXX` in the OS temp directory, so that a process
 * that had to SIGKILL a child (busy in a long synchronous import, it could not run its own cleanup) can
 * remove what that child made, and nothing else.
 */
const TEMP_DB_PREFIX = 'megabench-db-'

/** A new temporary state-DB directory of this process. */
export function makeTempDbDir(): string {
  return mkdtempSync(join(tmpdir(), `${TEMP_DB_PREFIX}${process.pid}-`))
}

/** Removes the temporary state-DB directories process `pid` made (after it was killed); returns them. */
export function removeTempDbDirsOf(pid: number): string[] {
  const prefix = `${TEMP_DB_PREFIX}${pid}-`
  const dirs = readdirSync(tmpdir()).filter((n) => n.startsWith(prefix)).map((n) => join(tmpdir(), n))
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
  return dirs
}
