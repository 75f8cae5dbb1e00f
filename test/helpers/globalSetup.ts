import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/**
 * Every test file, and every process a test spawns, gets its temporary files in one private directory
 * (TMPDIR), removed when the run ends: a test run leaves nothing in the system's temporary directory.
 * What is left there at the end (a test or megabench failing to clean up after itself) is listed.
 */
/** Prefixes of the scratch directories tests create (test/helpers, fetch and safety tests). */
const TEST_PREFIXES = ['megabench-test-', 'megabench-fetch-', 'megabench-safety-']

export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'megabench-vitest-'))
  const before = process.env.TMPDIR
  process.env.TMPDIR = dir
  return () => {
    // Scratch directories the tests made themselves are removed with the rest; anything else was left by
    // megabench (a temporary database, a half-built output): that is a bug, and fails the run.
    const leaked = readdirSync(dir).filter((n) => !TEST_PREFIXES.some((p) => n.startsWith(p)))
    rmSync(dir, { recursive: true, force: true })
    if (before === undefined) delete process.env.TMPDIR
    else process.env.TMPDIR = before
    if (leaked.length > 0) {
      // An error thrown here is printed by vitest but does not change its exit code: set it too.
      process.exitCode = 1
      throw new Error(`megabench left ${leaked.length} temporary entr${leaked.length === 1 ? 'y' : 'ies'} behind: ${leaked.slice(0, 10).join(', ')}`)
    }
  }
}
