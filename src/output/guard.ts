import { constants, rmSync, rmdirSync } from 'node:fs'
import { access, chmod, lstat, mkdir, mkdtemp, open, readdir, readFile, rename, rm, rmdir, writeFile } from 'node:fs/promises'
import { basename, dirname, join, relative, resolve, sep } from 'node:path'

import { OutputError, UsageError } from '../errors/index.js'
import { onInterrupt } from '../util/interrupt.js'

/**
 * Output safety: megabench never deletes or overwrites what it did not create.
 *
 * - An output path that does not exist, or an empty directory, is used.
 * - An existing file or non-empty directory is refused (one line, exit 2), unless it is an earlier
 *   megabench output (it carries OUTPUT_MARKER, or a megabench result file) and `--force` is given.
 * - An output that contains one of the run's inputs is always refused.
 * - Writability is proven before any work starts: the temporary sibling the output is built in is
 *   created then (and removed by the interrupt handler if the run is stopped).
 */

/** The file megabench writes into every output directory it creates. */
export const OUTPUT_MARKER = '.megabench-output'

/** Result files whose `kind`/`format` field starting with "megabench" marks a directory made before the marker existed. */
const RESULT_FILES = ['run.json', 'sweep.json', 'chain.json', 'analyses.json', 'gate-verdict.json']

export type OutputCheck = {
  /** Replace an earlier megabench output. */
  force?: boolean | undefined
  /** The option that named the path, for messages (default --out). */
  option?: string | undefined
  /** Paths the run reads: the output must not contain any of them. */
  inputs?: readonly string[] | undefined
}

/** The input paths named by replay options in an argument list (--fixtures a b…, --chain d), for the output checks of sweep and compare. */
export function inputPathsOfArgs(args: readonly string[]): string[] {
  const out: string[] = []
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined]
    if (flag !== '--fixtures' && flag !== '--chain') continue
    if (inline !== undefined) out.push(inline)
    else for (let j = i + 1; j < args.length && !args[j]!.startsWith('--'); j++) {
      out.push(args[j]!)
      if (flag === '--chain') break
    }
  }
  return out
}

/** True when `dir` is a directory megabench wrote (marker, or a megabench result file). */
export async function isMegabenchOutputDir(dir: string): Promise<boolean> {
  const names = await readdir(dir).catch(() => [] as string[])
  if (names.includes(OUTPUT_MARKER)) return true
  for (const f of RESULT_FILES) {
    if (!names.includes(f)) continue
    try {
      const head = JSON.parse(await readFile(join(dir, f), 'utf8')) as { kind?: unknown; format?: unknown }
      if ([head.kind, head.format].some((v) => typeof v === 'string' && v.startsWith('megabench'))) return true
    } catch {
      // not ours
    }
  }
  return false
}

function within(child: string, parent: string): boolean {
  const r = relative(parent, child)
  return r === '' || (!r.startsWith('..') && !r.startsWith(sep) && r !== '..')
}

async function kindOf(path: string): Promise<'absent' | 'file' | 'dir' | 'other'> {
  try {
    const s = await lstat(path)
    return s.isDirectory() ? 'dir' : s.isFile() ? 'file' : 'other'
  } catch (err) {
    // ENOTDIR: a parent is a file; writing there then fails as unwritable.
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') return 'absent'
    throw new OutputError(path, `cannot inspect the output path (${(err as Error).message})`, err)
  }
}

/** Refuses a directory output megabench must not replace (see the module comment). */
export async function checkOutputDir(dir: string, check: OutputCheck = {}): Promise<void> {
  const option = check.option ?? '--out'
  const abs = resolve(dir)
  for (const input of check.inputs ?? []) {
    if (within(resolve(input), abs)) throw new UsageError(`${option} ${dir} contains the input ${input}: choose an output path outside the inputs`)
  }
  const kind = await kindOf(abs)
  if (kind === 'absent') return
  if (kind !== 'dir') throw new UsageError(`${option} ${dir} is an existing ${kind === 'file' ? 'file' : 'non-directory'}: megabench writes a directory there and does not replace it; choose a new path`)
  const names = await readdir(abs)
  if (names.length === 0) return
  if (!(await isMegabenchOutputDir(abs))) {
    throw new UsageError(`${option} ${dir} is a non-empty directory megabench did not create (${names.length} entr${names.length === 1 ? 'y' : 'ies'}); choose a new path`)
  }
  if (check.force !== true) throw new UsageError(`${option} ${dir} holds an earlier megabench output: add --force to replace it`)
}

/** Refuses a file output megabench must not overwrite: `ours` tells whether an existing file is megabench's. */
export async function checkOutputFile(file: string, ours: (head: string) => boolean, check: OutputCheck = {}): Promise<void> {
  const option = check.option ?? '--out'
  const abs = resolve(file)
  for (const input of check.inputs ?? []) {
    if (resolve(input) === abs) throw new UsageError(`${option} ${file} is one of the inputs: choose another output file`)
  }
  const kind = await kindOf(abs)
  if (kind === 'absent') {
    await provableWritable(dirname(abs), option, file)
    return
  }
  if (kind !== 'file') throw new UsageError(`${option} ${file} exists and is not a file: choose a new path`)
  let head = ''
  const fh = await open(abs, 'r')
  try {
    const buf = Buffer.alloc(4096)
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0)
    head = buf.subarray(0, bytesRead).toString('latin1')
  } finally {
    await fh.close()
  }
  if (!ours(head)) throw new UsageError(`${option} ${file} is an existing file megabench did not write; choose a new path`)
  if (check.force !== true) throw new UsageError(`${option} ${file} holds an earlier megabench output: add --force to replace it`)
  try {
    await access(abs, constants.W_OK)
  } catch (err) {
    throw new OutputError(file, `${option} is not writable (${(err as Error).message})`, err)
  }
}

/** Creates (and removes) a probe file in `dir`, creating `dir` if needed; the first directory created is returned. */
async function provableWritable(dir: string, option: string, shown: string): Promise<void> {
  let created: string | undefined
  try {
    created = await mkdir(dir, { recursive: true })
    const probe = join(dir, `.megabench-probe-${process.pid}-${Date.now()}`)
    await writeFile(probe, '')
    await rm(probe, { force: true })
  } catch (err) {
    throw new OutputError(shown, `${option} is not writable (${(err as Error).message})`, err)
  } finally {
    if (created !== undefined) await rm(created, { recursive: true, force: true }).catch(() => {})
  }
}

/**
 * A directory output reserved before the work: the target is checked and its location proven writable
 * now (a probe file, removed at once), so a bad --out fails before any work. The temporary sibling the
 * output is built in is created at the first `write()`/`tmpDir()`; `commit()` renames it into place
 * (checking the target again: it may have changed meanwhile), `abort()` removes it. An interrupt removes
 * it too (a SIGKILL cannot be caught: then a hidden `.megabench-tmp-*` sibling is what remains).
 */
export class OutputReservation {
  private unregister: (() => void) | undefined
  private tmp: string | undefined
  private createdParent: string | undefined
  private done = false

  private constructor(
    readonly dir: string,
    private readonly check: OutputCheck,
    private readonly marker: Record<string, unknown>,
  ) {}

  static async reserve(dir: string, what: string, check: OutputCheck = {}): Promise<OutputReservation> {
    await checkOutputDir(dir, check)
    const abs = resolve(dir)
    await provableWritable(dirname(abs), check.option ?? '--out', dir)
    // The marker's content is deterministic: generated chains stay byte-identical for the same options.
    return new OutputReservation(abs, check, { tool: 'megabench', kind: what })
  }

  /** The temporary directory the output is built in (created on first use). */
  async tmpDir(): Promise<string> {
    if (this.done) throw new OutputError(this.dir, 'output already committed or aborted')
    if (this.tmp !== undefined) return this.tmp
    const parent = dirname(this.dir)
    try {
      this.createdParent = await mkdir(parent, { recursive: true })
      this.tmp = await mkdtemp(join(parent, `.megabench-tmp-${basename(this.dir)}-`))
    } catch (cause) {
      throw new OutputError(this.dir, `cannot write output (${(cause as Error).message})`, cause)
    }
    this.unregister = onInterrupt(() => this.removeSync())
    return this.tmp
  }

  /** Writes `files` (relative names) into the output being built. */
  async write(files: ReadonlyMap<string, string | Uint8Array>): Promise<void> {
    const tmp = await this.tmpDir()
    for (const [name, content] of files) {
      await mkdir(dirname(join(tmp, name)), { recursive: true })
      await writeFile(join(tmp, name), content)
    }
  }

  /** Renames the output into place, replacing an earlier megabench output only when allowed. */
  async commit(): Promise<void> {
    const tmp = await this.tmpDir()
    try {
      await checkOutputDir(this.dir, this.check)
    } catch (err) {
      await this.abort()
      throw err
    }
    try {
      await writeFile(join(tmp, OUTPUT_MARKER), `${JSON.stringify(this.marker)}\n`)
      await chmod(tmp, 0o777 & ~process.umask()) // mkdtemp creates 0700
      if ((await kindOf(this.dir)) === 'dir') {
        const old = `${tmp}-old`
        await rename(this.dir, old)
        await rename(tmp, this.dir)
        await rm(old, { recursive: true, force: true })
      } else {
        await rename(tmp, this.dir)
      }
    } catch (cause) {
      await this.abort()
      throw new OutputError(this.dir, `cannot write output (${(cause as Error).message})`, cause)
    }
    this.done = true
    this.unregister?.()
  }

  /** Removes the output being built (and a parent directory created for it). Safe to call twice. */
  async abort(): Promise<void> {
    if (this.done) return
    this.done = true
    this.unregister?.()
    if (this.tmp === undefined) return
    await rm(this.tmp, { recursive: true, force: true })
    if (this.createdParent !== undefined) await rmdirUpTo(dirname(this.tmp), this.createdParent)
  }

  private removeSync(): void {
    // Called from the interrupt handler: synchronous and best effort.
    if (this.tmp === undefined) return
    rmSyncQuiet(this.tmp)
    if (this.createdParent === undefined) return
    let d = dirname(this.tmp)
    for (;;) {
      try {
        rmdirSync(d)
      } catch {
        return
      }
      if (d === this.createdParent || !within(d, this.createdParent)) return
      d = dirname(d)
    }
  }
}

function rmSyncQuiet(path: string): void {
  try {
    rmSync(path, { recursive: true, force: true })
  } catch {
    // best effort
  }
}

/** Removes empty directories from `dir` up to and including `top`. */
async function rmdirUpTo(dir: string, top: string): Promise<void> {
  let d = dir
  for (;;) {
    try {
      await rmdir(d)
    } catch {
      return
    }
    if (d === top || !within(d, top)) return
    d = dirname(d)
  }
}
