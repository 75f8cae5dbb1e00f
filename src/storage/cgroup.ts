import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { Worker } from 'node:worker_threads'

import { PACKAGE_ROOT } from '../util/paths.js'
import { LIMIT_CACHE, LIMIT_LAST, LIMIT_MAX, LIMIT_MIN, LIMIT_ON, LIMIT_REFUSED, LIMIT_UPDATES, type LimitRecord, type LimitTarget, chargedAnonymousBytes, limitRecord, locked, relimit } from './cgroupLimit.js'
import { formatSize } from './memory.js'

export type CgroupResult = { applied: boolean; version: 1 | 2 | null; path: string | null; limitBytes: number; message: string }

/**
 * Room above the process's anonymous memory for what it allocates within one block (V8 garbage between
 * collections), so that the kernel reclaims page cache before it would OOM-kill the replay. It is page
 * cache the replay may use beyond its budget, and recorded with every run.
 */
export const CGROUP_HEADROOM_BYTES = 32 * 1024 * 1024

/** What the binding did over the run, for run.json (`storage.binding`, kind `cgroup`). */
export type CgroupBindingReport = {
  kind: 'cgroup'
  version: 1 | 2
  path: string
  budgetBytes: number
  headroomBytes: number
  /** The limit written before every block and by the watcher thread between blocks: charged anonymous memory − cache bytes + budget + headroom. */
  limitMinBytes: number
  limitMaxBytes: number
  /** Limits written (before blocks and by the watcher thread). */
  updates: number
  /** Updates the kernel refused (it could not reclaim down to the new limit; the previous limit stayed). */
  refused: number
  /** Major page faults of the process since the first block (pages read from disk: LMDB's mmap misses). */
  majorFaults: number
}

type Active = {
  version: 1 | 2
  dir: string
  target: LimitTarget
  faults0: number
  /** The limits written, by this thread and the watcher (cgroupLimit.ts). */
  record: LimitRecord
  watcher: Worker | undefined
}

/** How often the watcher re-limits between blocks (ms). */
export const CGROUP_WATCH_MS = 20

let active: Active | undefined

type Location = { version: 1 | 2; parent: string; file: string } | { reasons: string[] }

/** Where a child memory cgroup could be made for this process (v2 where delegated, else v1), or why not. */
function locate(): Location {
  const lines = safeRead('/proc/self/cgroup')?.split('\n') ?? []
  const reasons: string[] = []
  const v2Path = lines.find((l) => l.startsWith('0::'))?.slice(3)
  const v2Mount = ['/sys/fs/cgroup/unified', '/sys/fs/cgroup'].find((m) => existsSync(join(m, 'cgroup.controllers')))
  if (v2Path !== undefined && v2Mount !== undefined) {
    const parent = join(v2Mount, v2Path)
    const controllers = safeRead(join(parent, 'cgroup.subtree_control')) ?? ''
    if (controllers.split(/\s+/).includes('memory')) return { version: 2, parent, file: 'memory.max' }
    reasons.push(`cgroup v2: the memory controller is not enabled for children of ${parent} (cgroup.subtree_control: "${controllers.trim()}")`)
  } else {
    reasons.push('cgroup v2: no unified hierarchy mounted')
  }
  const v1Path = lines.find((l) => /^\d+:(?:[^:]*,)?memory(?:,[^:]*)?:/.test(l))?.split(':')[2]
  if (v1Path !== undefined && existsSync('/sys/fs/cgroup/memory')) return { version: 1, parent: join('/sys/fs/cgroup/memory', v1Path), file: 'memory.limit_in_bytes' }
  reasons.push('cgroup v1: no memory controller')
  return { reasons }
}

/**
 * Whether this process could bind a budget with a memory cgroup: a child group is made and removed
 * again (nothing else changes). `why` says what was found either way.
 */
export function cgroupAvailable(): { ok: boolean; why: string } {
  const loc = locate()
  if ('reasons' in loc) return { ok: false, why: loc.reasons.join('; ') }
  const dir = join(loc.parent, `megabench-probe-${process.pid}`)
  try {
    mkdirSync(dir)
    rmdirSync(dir)
    return { ok: true, why: `a memory cgroup (v${loc.version}) can be made below ${loc.parent}` }
  } catch (err) {
    return { ok: false, why: `cgroup v${loc.version}: cannot make a group below ${loc.parent} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` }
  }
}

/**
 * Puts this process into a new memory cgroup so that the OS page cache it can fill (LMDB's pages are
 * charged to it) is bounded like the caches are: the limit is the anonymous memory charged to the group,
 * less the bytes its two caches hold, plus `budget` and `headroom` (default CGROUP_HEADROOM_BYTES). The storage layer calls
 * `rebindMemoryLimit` before every block, so the limit follows the heap and the page cache stays
 * within the budget (with the caches) all run long. Uses cgroup v2 (`memory.max`) where the memory
 * controller is delegated to us, else the v1 memory controller if it is writable. Where neither is
 * possible, says why and changes nothing: the byte budgets of the two cache levels still apply.
 */
export function enforceMemoryLimit(budget: number, headroom: number = CGROUP_HEADROOM_BYTES): CgroupResult {
  const limitBytes = anonymousBytes() + budget + headroom
  const loc = locate()
  const reasons = 'reasons' in loc ? loc.reasons : []
  if (!('reasons' in loc)) {
    const dir = join(loc.parent, `megabench-${process.pid}`)
    // No limit until the first block: the state import before it (not measured) builds its structures
    // in memory and would be OOM-killed under a limit that does not follow it.
    const r = attempt(dir, loc.file, loc.version === 2 ? 'max' : '-1')
    if (r === null) {
      const target: LimitTarget = { stat: join(dir, 'memory.stat'), limitFile: join(dir, loc.file), v2: loc.version === 2, budget, headroom }
      active = { version: loc.version, dir, target, faults0: majorFaults(), record: limitRecord(), watcher: undefined }
      return {
        applied: true,
        version: loc.version,
        path: dir,
        limitBytes,
        message: `--cgroup: this process now runs in ${dir} (cgroup v${loc.version}); from the first block on, its memory is limited to the anonymous memory charged to it − cache bytes + --memory + ${formatSize(headroom)} headroom (about ${formatSize(limitBytes)} now), updated before every block and every ${CGROUP_WATCH_MS} ms by a watcher thread, lifted after the last block`,
      }
    }
    reasons.push(`cgroup v${loc.version}: ${r}`)
  }
  return { applied: false, version: null, path: null, limitBytes, message: `--cgroup: not enforced (${reasons.join('; ')}); continuing with the cache budgets only` }
}

/**
 * Before a block: sets the limit to anonymous memory − `cacheBytes` + budget + headroom (a no-op when no
 * binding is in force). A limit the kernel cannot reclaim down to is refused by it; the old one stays.
 */
export function rebindMemoryLimit(cacheBytes: number): void {
  const a = active
  if (a === undefined) return
  const s = a.record.s
  if (s[LIMIT_UPDATES] === 0 && s[LIMIT_REFUSED] === 0) a.faults0 = majorFaults() // count from the first block, not the import
  s[LIMIT_CACHE] = cacheBytes
  s[LIMIT_ON] = 1
  a.watcher ??= startWatcher(a)
  relimit(a.target, a.record, chargedAnonymousBytes(a.target.stat, a.target.v2) ?? anonymousBytes())
}

function startWatcher(a: Active): Worker {
  const w = new Worker(join(PACKAGE_ROOT, 'dist', 'storage', 'cgroupWatcher.js'), { workerData: { target: a.target, shared: a.record.buffer, everyMs: CGROUP_WATCH_MS } })
  w.unref()
  return w
}

/**
 * After the measured blocks: lifts the limit (the group stays, for the report), so that what follows them
 * (analyses, report rendering) is not bounded by a budget meant for the read path. The next block, if any,
 * sets it again. A no-op without a binding.
 */
export function releaseMemoryLimit(): void {
  const a = active
  if (a === undefined) return
  locked(a.record, () => {
    const s = a.record.s
    s[LIMIT_ON] = 0
    if (s[LIMIT_LAST] === -1 || (s[LIMIT_UPDATES] === 0 && s[LIMIT_REFUSED] === 0)) return
    try {
      writeFileSync(a.target.limitFile, a.version === 2 ? 'max' : '-1')
      s[LIMIT_LAST] = -1
    } catch {
      s[LIMIT_REFUSED]!++
    }
  })
}

/**
 * Removes the memory cgroup a `replay --cgroup` child made for itself, if it is left (a child killed by
 * SIGKILL, e.g. by the OOM killer, cannot remove it). Best effort; a group with processes stays.
 */
export function removeCgroupOf(pid: number): void {
  const loc = locate()
  if ('reasons' in loc) return
  try {
    rmdirSync(join(loc.parent, `megabench-${pid}`))
  } catch {
    // absent (the child removed it) or busy
  }
}

/** The binding in force (null without one), for the run result. */
export function cgroupBindingReport(): CgroupBindingReport | null {
  const a = active
  if (a === undefined) return null
  const s = a.record.s
  return {
    kind: 'cgroup',
    version: a.version,
    path: a.dir,
    budgetBytes: a.target.budget,
    headroomBytes: a.target.headroom,
    limitMinBytes: s[LIMIT_UPDATES]! > 0 ? s[LIMIT_MIN]! : 0,
    limitMaxBytes: s[LIMIT_MAX]!,
    updates: s[LIMIT_UPDATES]!,
    refused: s[LIMIT_REFUSED]!,
    majorFaults: majorFaults() - a.faults0,
  }
}

/** RssAnon of this process (bytes): its heap and other private memory, without mapped files. */
function anonymousBytes(): number {
  const m = /RssAnon:\s+(\d+) kB/.exec(safeRead('/proc/self/status') ?? '')
  return m === null ? process.memoryUsage().rss : Number(m[1]) * 1024
}

/** Major page faults of this process so far (/proc/self/stat field 12); 0 where unknown. */
function majorFaults(): number {
  const stat = safeRead('/proc/self/stat') ?? ''
  // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const n = Number(fields[9])
  return Number.isFinite(n) ? n : 0
}

/**
 * Creates `dir`, sets the limit and moves this process in; returns null on success or why it failed.
 * At exit the process moves back to the parent group and removes `dir`.
 */
function attempt(dir: string, limitFile: string, limit: string): string | null {
  try {
    mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, limitFile), limit)
    writeFileSync(join(dir, 'cgroup.procs'), String(process.pid))
    process.on('exit', () => {
      try {
        writeFileSync(join(dirname(dir), 'cgroup.procs'), String(process.pid))
        rmdirSync(dir)
      } catch {
        // best effort: an empty group left behind is harmless
      }
    })
    return null
  } catch (err) {
    try {
      rmdirSync(dir)
    } catch {
      // it may not exist
    }
    return `cannot use ${dir} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`
  }
}

function safeRead(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return undefined
  }
}
