import { chmod, mkdir, mkdtemp, rename, rm, stat, writeFile } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'

import { OutputError } from '../errors/index.js'

/**
 * Writes a directory of files so that it appears complete or not at all: the files go into a
 * temporary sibling directory, which is renamed into place at the end. An existing directory at
 * `dir` is replaced only after the new one is complete.
 */
export async function writeDirectoryAtomically(dir: string, files: ReadonlyMap<string, string>): Promise<void> {
  const parent = dirname(dir)
  try {
    await mkdir(parent, { recursive: true })
  } catch (cause) {
    throw new OutputError(parent, `cannot create directory (${(cause as Error).message})`, cause)
  }
  const tmp = await mkdtemp(join(parent, `.megabench-tmp-${basename(dir)}-`))
  try {
    for (const [name, content] of files) await writeFile(join(tmp, name), content)
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
