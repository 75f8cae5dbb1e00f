import { type OutputCheck, OutputReservation } from './guard.js'

/**
 * Writes a directory of files so that it appears complete or not at all: the files go into a
 * temporary sibling directory, which is renamed into place at the end. The target must be new, empty,
 * or (with `check.force`) an earlier megabench output (src/output/guard.ts).
 */
export async function writeDirectoryAtomically(dir: string, files: ReadonlyMap<string, string | Uint8Array>, what = 'output', check: OutputCheck = {}): Promise<void> {
  const r = await OutputReservation.reserve(dir, what, check)
  try {
    await r.write(files)
  } catch (err) {
    await r.abort()
    throw err
  }
  await r.commit()
}

/**
 * Runs `build` on a fresh temporary sibling of `dir`, then renames it to `dir` (see
 * writeDirectoryAtomically for what may be replaced). If `build` throws, the temporary directory is
 * removed and nothing appears.
 */
export async function buildDirectoryAtomically(dir: string, build: (tmp: string) => Promise<void>, what = 'output', check: OutputCheck = {}): Promise<void> {
  const r = await OutputReservation.reserve(dir, what, check)
  await buildReserved(r, build)
}

/** Builds a reserved output (see OutputReservation) and commits it; aborts it if `build` throws. */
export async function buildReserved(r: OutputReservation, build: (tmp: string) => Promise<void>): Promise<void> {
  try {
    await build(await r.tmpDir())
  } catch (err) {
    await r.abort()
    throw err
  }
  await r.commit()
}

/** Quotes a CSV field when it needs it (RFC 4180). */
export function csvField(v: string | number | boolean): string {
  const s = String(v)
  return /[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s
}

export function toCsv(header: readonly string[], rows: readonly (readonly (string | number | boolean)[])[]): string {
  return [header, ...rows].map((r) => r.map(csvField).join(',')).join('\n') + '\n'
}
