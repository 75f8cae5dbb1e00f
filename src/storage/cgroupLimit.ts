import { readFileSync, writeFileSync } from 'node:fs'

/**
 * The memory binding's limit rule, shared by the main thread (before every block) and the watcher thread
 * (cgroupWatcher.ts, between blocks), so that both write the same limit and record it in the same place:
 * a record in a SharedArrayBuffer (LIMIT_* slots and a lock). No imports beyond node:fs, so the watcher
 * loads nothing else.
 */

/** Slots of the shared record: on/off, cache bytes, the last limit written, updates, refused, min, max. */
export const LIMIT_ON = 0
export const LIMIT_CACHE = 1
export const LIMIT_LAST = 2
export const LIMIT_UPDATES = 3
export const LIMIT_REFUSED = 4
export const LIMIT_MIN = 5
export const LIMIT_MAX = 6
export const LIMIT_SLOTS = 7

/** Where the group's files are, what to add to its anonymous memory, and the shared record. */
export type LimitTarget = {
  /** The group's memory.stat. */
  stat: string
  /** Its limit file (v2 memory.max, v1 memory.limit_in_bytes). */
  limitFile: string
  v2: boolean
  budget: number
  headroom: number
}

/**
 * The shared record: the LIMIT_* slots, and a lock word after them. Writing the limit file and recording it
 * happen under the lock, so that neither thread writes a limit after the other lifted it.
 */
export type LimitRecord = { readonly buffer: SharedArrayBuffer; readonly s: Float64Array; readonly lock: Int32Array }

/** The record over a shared buffer (a fresh one, with no limit written yet, when none is given). */
export function limitRecord(buffer?: SharedArrayBuffer): LimitRecord {
  const fresh = buffer === undefined
  const b = buffer ?? new SharedArrayBuffer(8 * LIMIT_SLOTS + 8)
  const r = { buffer: b, s: new Float64Array(b, 0, LIMIT_SLOTS), lock: new Int32Array(b, 8 * LIMIT_SLOTS, 1) }
  if (fresh) r.s[LIMIT_MIN] = Number.POSITIVE_INFINITY
  return r
}

/** Runs `f` holding the record's lock (held only around a write of one small file). */
export function locked<T>(r: LimitRecord, f: () => T): T {
  while (Atomics.compareExchange(r.lock, 0, 0, 1) !== 0) Atomics.wait(r.lock, 0, 1, 1)
  try {
    return f()
  } finally {
    Atomics.store(r.lock, 0, 0)
    Atomics.notify(r.lock, 0)
  }
}

/**
 * Anonymous memory charged to the group (v1 memory.stat `rss`, v2 `anon`): what counts against its limit
 * besides the page cache. Less than the process's RssAnon by what it allocated before it moved in, which
 * stays charged to the parent: a limit from RssAnon would leave the page cache that much more room.
 * undefined when the file cannot be read or lacks the field.
 */
export function chargedAnonymousBytes(stat: string, v2: boolean): number | undefined {
  let text: string
  try {
    text = readFileSync(stat, 'utf8')
  } catch {
    return undefined
  }
  const m = (v2 ? /^anon (\d+)$/m : /^rss (\d+)$/m).exec(text)
  return m === null ? undefined : Number(m[1])
}

/**
 * Sets the limit to anonymous memory − cache bytes + budget + headroom (`anon`: the charged anonymous
 * memory, read now when not given) and records it in `s`; a no-op when it is unchanged or the record is
 * off. A limit the kernel cannot reclaim down to is refused by it (counted); the old one stays.
 */
export function relimit(t: LimitTarget, r: LimitRecord, anon = chargedAnonymousBytes(t.stat, t.v2)): void {
  if (anon === undefined) return
  locked(r, () => {
    const s = r.s
    if (s[LIMIT_ON] !== 1) return
    const limit = Math.max(anon - s[LIMIT_CACHE]!, 0) + t.budget + t.headroom
    if (limit === s[LIMIT_LAST]) return
    try {
      writeFileSync(t.limitFile, String(limit))
      s[LIMIT_LAST] = limit
      s[LIMIT_UPDATES]!++
      if (limit < s[LIMIT_MIN]!) s[LIMIT_MIN] = limit
      if (limit > s[LIMIT_MAX]!) s[LIMIT_MAX] = limit
    } catch {
      s[LIMIT_REFUSED]!++
    }
  })
}
