import { chmod, mkdir, mkdtemp, rename, rm, stat, writeFile } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'

import { OutputError } from '../errors/index.js'

/**
 * Writes a directory of files so that it appears complete or not at all: the files go into a
 * temporary sibling directory, which is renamed into place at the end. An existing directory at
 * `dir` is replaced only after the new one is complete.
 */
export async function writeDirectoryAtomically(dir: string, files: ReadonlyMap<string, string | Uint8Array>): Promise<void> {
  await buildDirectoryAtomically(dir, async (tmp) => {
    for (const [name, content] of files) {
      await mkdir(dirname(join(tmp, name)), { recursive: true })
      await writeFile(join(tmp, name), content)
    }
  })
}

/**
 * Runs `build` on a fresh temporary sibling of `dir`, then renames it to `dir` (replacing an existing
 * one only then). If `build` throws, the temporary directory is removed and nothing appears.
 */
export async function buildDirectoryAtomically(dir: string, build: (tmp: string) => Promise<void>): Promise<void> {
  const parent = dirname(dir)
  try {
    await mkdir(parent, { recursive: true })
  } catch (cause) {
    throw new OutputError(parent, `cannot create directory (${(cause as Error).message})`, cause)
  }
  const tmp = await mkdtemp(join(parent, `.megabench-tmp-${basename(dir)}-`))
  try {
    await build(tmp)
  } catch (err) {
    await rm(tmp, { recursive: true, force: true })
    throw err
  }
  try {
    await chmod(tmp, 0o777 & ~process.umask()) // mkdtemp creates 0700
    if (await exists(dir)) {
      const old = `${tmp}-old`
      await rename(dir, old)
      await rename(tmp, dir)
      await rm(old, { recursive: true, force: true })
    } else {
      await rename(tmp, dir)
    }
  } catch (cause) {
    await rm(tmp, { recursive: true, force: true })
    throw new OutputError(dir, `cannot write output (${(cause as Error).message})`, cause)
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path)
    return true
  } catch {
    return false
  }
}

/** Quotes a CSV field when it needs it (RFC 4180). */
export function csvField(v: string | number | boolean): string {
  const s = String(v)
  return /[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s
}

export function toCsv(header: readonly string[], rows: readonly (readonly (string | number | boolean)[])[]): string {
  return [header, ...rows].map((r) => r.map(csvField).join(',')).join('\n') + '\n'
}
