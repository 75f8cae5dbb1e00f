import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { Worker } from 'node:worker_threads'

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
  file: string
  budget: number
  min: number
  max: number
  last: number
  updates: number
  refused: number
  faults0: number
  /** Shared with the watcher thread: WATCH_* slots. */
  shared: Float64Array
  watcher: Worker | undefined
}

/** Slots of the watcher's shared array: on/off, cache bytes, its last limit, updates, refused, min, max. */
const WATCH_ON = 0
const WATCH_CACHE = 1
const WATCH_LAST = 2
const WATCH_UPDATES = 3
const WATCH_REFUSED = 4
const WATCH_MIN = 5
const WATCH_MAX = 6
/** How often the watcher re-limits between blocks (ms). */
export const CGROUP_WATCH_MS = 20

/**
 * The watcher thread: every CGROUP_WATCH_MS while on, the limit again follows the anonymous memory charged
 * to the group, so that memory a long phase allocates (historical's batch root over many blocks' changes)
 * moves the limit up with it instead of meeting the OOM killer; page cache is what gives way. A thread of
 * its own, so that it runs while the main thread is busy.
 */
const WATCHER_SOURCE = `
const { workerData } = require('node:worker_threads')
const { readFileSync, writeFileSync } = require('node:fs')
const { stat, limitFile, v2, budget, headroom, shared } = workerData
const s = new Float64Array(shared)
setInterval(() => {
  if (s[${WATCH_ON}] !== 1) return
  let text
  try { text = readFileSync(stat, 'utf8') } catch { return }
  const m = (v2 ? /^anon (\\d+)$/m : /^rss (\\d+)$/m).exec(text)
  if (m === null) return
  const limit = Math.max(Number(m[1]) - s[${WATCH_CACHE}], 0) + budget + headroom
  if (limit === s[${WATCH_LAST}] || s[${WATCH_ON}] !== 1) return
  try {
    writeFileSync(limitFile, String(limit))
    s[${WATCH_LAST}] = limit
    s[${WATCH_UPDATES}]++
    if (!(limit >= s[${WATCH_MIN}])) s[${WATCH_MIN}] = limit
    if (!(limit <= s[${WATCH_MAX}])) s[${WATCH_MAX}] = limit
  } catch { s[${WATCH_REFUSED}]++ }
}, workerData.everyMs)
`
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
 * less the bytes its two caches hold, plus `budget` and CGROUP_HEADROOM_BYTES. The storage layer calls
 * `rebindMemoryLimit` before every block, so the limit follows the heap and the page cache stays
 * within the budget (with the caches) all run long. Uses cgroup v2 (`memory.max`) where the memory
 * controller is delegated to us, else the v1 memory controller if it is writable. Where neither is
 * possible, says why and changes nothing: the byte budgets of the two cache levels still apply.
 */
export function enforceMemoryLimit(budget: number): CgroupResult {
  const limitBytes = anonymousBytes() + budget + CGROUP_HEADROOM_BYTES
  const loc = locate()
  const reasons = 'reasons' in loc ? loc.reasons : []
  if (!('reasons' in loc)) {
    const dir = join(loc.parent, `megabench-${process.pid}`)
    // No limit until the first block: the state import before it (not measured) builds its structures
    // in memory and would be OOM-killed under a limit that does not follow it.
    const r = attempt(dir, loc.file, loc.version === 2 ? 'max' : '-1')
    if (r === null) {
      const shared = new Float64Array(new SharedArrayBuffer(8 * 7))
      shared[WATCH_MIN] = Number.POSITIVE_INFINITY
      active = { version: loc.version, dir, file: loc.file, budget, min: Number.POSITIVE_INFINITY, max: 0, last: -1, updates: 0, refused: 0, faults0: majorFaults(), shared, watcher: undefined }
      return {
        applied: true,
        version: loc.version,
        path: dir,
        limitBytes,
        message: `--cgroup: this process now runs in ${dir} (cgroup v${loc.version}); from the first block on, its memory is limited to the anonymous memory charged to it − cache bytes + --memory + ${formatSize(CGROUP_HEADROOM_BYTES)} headroom (about ${formatSize(limitBytes)} now), updated before every block and every ${CGROUP_WATCH_MS} ms by a watcher thread, lifted after the last block`,
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
  if (a.updates === 0 && a.refused === 0) a.faults0 = majorFaults() // count from the first block, not the import
  a.shared[WATCH_CACHE] = cacheBytes
  a.shared[WATCH_ON] = 1
  a.watcher ??= startWatcher(a)
  const limit = Math.max(chargedAnonymousBytes(a) - cacheBytes, 0) + a.budget + CGROUP_HEADROOM_BYTES
  if (limit === a.last) return
  try {
    writeFileSync(join(a.dir, a.file), String(limit))
    a.last = limit
    a.updates++
    if (limit < a.min) a.min = limit
    if (limit > a.max) a.max = limit
  } catch {
    a.refused++
  }
}

function startWatcher(a: Active): Worker {
  const w = new Worker(WATCHER_SOURCE, {
    eval: true,
    workerData: { stat: join(a.dir, 'memory.stat'), limitFile: join(a.dir, a.file), v2: a.version === 2, budget: a.budget, headroom: CGROUP_HEADROOM_BYTES, shared: a.shared.buffer, everyMs: CGROUP_WATCH_MS },
  })
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
  a.shared[WATCH_ON] = 0
  if (a.last === -1 && a.shared[WATCH_LAST] === 0) return
  try {
    writeFileSync(join(a.dir, a.file), a.version === 2 ? 'max' : '-1')
    a.last = -1
    a.shared[WATCH_LAST] = 0
  } catch {
    a.refused++
  }
}

/**
 * Anonymous memory charged to the group (v1 memory.stat `rss`, v2 `anon`): what counts against its limit
 * besides the page cache. Less than the process's RssAnon by what it allocated before it moved in, which
 * stays charged to the parent: a limit from RssAnon would leave the page cache that much more room.
 */
function chargedAnonymousBytes(a: Active): number {
  const stat = safeRead(join(a.dir, 'memory.stat')) ?? ''
  const m = (a.version === 2 ? /^anon (\d+)$/m : /^rss (\d+)$/m).exec(stat)
  return m === null ? anonymousBytes() : Number(m[1])
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
  return {
    kind: 'cgroup',
    version: a.version,
    path: a.dir,
    budgetBytes: a.budget,
    headroomBytes: CGROUP_HEADROOM_BYTES,
    limitMinBytes: a.updates + a.shared[WATCH_UPDATES]! > 0 ? Math.min(a.min, a.shared[WATCH_MIN]!) : 0,
    limitMaxBytes: Math.max(a.max, a.shared[WATCH_MAX]!),
    updates: a.updates + a.shared[WATCH_UPDATES]!,
    refused: a.refused + a.shared[WATCH_REFUSED]!,
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
