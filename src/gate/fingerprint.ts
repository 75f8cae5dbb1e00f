import { basename } from 'node:path'

/**
 * The configuration fingerprint of a run result: everything that can change its counters or timings
 * apart from the code under test. Two runs are comparable only when their fingerprints are equal.
 *
 * It is generic on purpose: the whole `config` object of run.json is deep-compared (fields added by later
 * schema versions are covered without a change here) except the fields listed in FINGERPRINT_EXCLUDED,
 * which cannot affect the numbers; per engine run, the settings a run result records beside its numbers
 * (sync mode, storage budgets, the EVM asked for (mega's, and the baseline's when fast) and the fast EVM's tier, threads, and any `config` object an engine result
 * carries); and the block set: every block row's (origin file name, number, hash). The source is compared
 * by its blocks, not by its path (checkouts differ in absolute paths).
 */

/** `config` fields (dotted paths; `*` = any key or index) that are not compared, and why. */
export const FINGERPRINT_EXCLUDED: readonly { path: string; why: string }[] = [
  { path: 'source.paths', why: 'where the source lies (absolute paths differ between checkouts); the source is compared by its block set' },
]

/** `config` fields compared by a derived value only, and why. */
export const FINGERPRINT_NORMALIZED: readonly { path: string; why: string; value: (v: unknown) => unknown }[] = [
  { path: 'mega.stateDiffs', why: 'an output file: only whether the diff stream is written (it costs time) is compared', value: (v) => (v === null || v === undefined ? null : 'written') },
]

export type Fingerprint = {
  schemaVersion: unknown
  config: unknown
  engines: unknown[]
  /** Sorted `origin#number:hash` of every block row (all engine runs). */
  blocks: string[]
}

type RunLike = { schemaVersion?: unknown; config?: unknown; engines?: unknown }
type Obj = Record<string, unknown>
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)

function matches(pattern: string, path: string): boolean {
  const p = pattern.split('.')
  const q = path.split('.')
  return p.length === q.length && p.every((x, i) => x === '*' || x === q[i])
}

/** A deep copy of `v` with excluded fields left out and normalized fields replaced. */
function normalize(v: unknown, path: string): unknown {
  const rule = FINGERPRINT_NORMALIZED.find((r) => matches(r.path, path))
  if (rule !== undefined && path !== '') return rule.value(v)
  if (Array.isArray(v)) return v.map((x, i) => normalize(x, path === '' ? String(i) : `${path}.${i}`))
  if (!isObj(v)) return v
  const out: Obj = {}
  for (const k of Object.keys(v).sort()) {
    const p = path === '' ? k : `${path}.${k}`
    if (FINGERPRINT_EXCLUDED.some((r) => matches(r.path, p))) continue
    if (v[k] === undefined) continue
    out[k] = normalize(v[k], p)
  }
  return out
}

/** The settings an engine result records beside its numbers (v3: mode, storage budgets, mega threads/EVM). */
function engineSettings(e: unknown): unknown {
  if (!isObj(e)) return e
  const storage = isObj(e.storage) ? e.storage.config : null
  const mega = isObj(e.mega)
    ? { threads: e.mega.threads, senderWorkers: e.mega.senderWorkers, evm: isObj(e.mega.evm) ? e.mega.evm.requested : null, evmTier: isObj(e.mega.evm) ? e.mega.evm.tier : undefined }
    : null
  // The baseline's EVM when it is the fast one (absent for @ethereumjs/evm: earlier runs' fingerprints stay equal).
  const baselineEvm = isObj(e.baseline) && isObj(e.baseline.evm) && e.baseline.evm.requested === 'fast' ? { evm: 'fast', evmTier: e.baseline.evm.tier } : undefined
  return normalize({ label: e.label, name: e.name, mode: e.mode, storage: storage ?? null, mega, baselineEvm, config: e.config }, '')
}

/** The fingerprint of a run result (parsed or raw JSON: fields the schema does not know are covered too). */
export function fingerprint(run: RunLike): Fingerprint {
  const engines = Array.isArray(run.engines) ? run.engines : []
  const blocks = new Set<string>()
  for (const e of engines) {
    if (!isObj(e) || !Array.isArray(e.blocks)) continue
    for (const b of e.blocks as Obj[]) blocks.add(`${basename(String(b.origin))}#${String(b.number)}:${String(b.hash)}`)
  }
  return { schemaVersion: run.schemaVersion, config: normalize(run.config, ''), engines: engines.map(engineSettings), blocks: [...blocks].sort() }
}

/** A stable key: equal fingerprints, equal keys. */
export function fingerprintKey(f: Fingerprint): string {
  return JSON.stringify(f)
}

const show = (v: unknown) => {
  const s = v === undefined ? 'absent' : JSON.stringify(v)
  return s.length > 60 ? `${s.slice(0, 57)}…` : s
}

/** The first difference of two values as "path (baseline X, current Y)", or null when equal. */
function firstDifference(a: unknown, b: unknown, path: string): string | null {
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      const d = firstDifference(a[i], b[i], `${path}[${i}]`)
      if (d !== null) return d
    }
    return null
  }
  if (isObj(a) && isObj(b)) {
    for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
      const d = firstDifference(a[k], b[k], path === '' ? k : `${path}.${k}`)
      if (d !== null) return d
    }
    return null
  }
  return JSON.stringify(a) === JSON.stringify(b) ? null : `${path} (baseline ${show(a)}, current ${show(b)})`
}

/**
 * What makes two fingerprints differ, as one line (null when they are equal): the block set first
 * ("different blocks: …"), else the first configuration field that differs.
 */
export function fingerprintDifference(baseline: Fingerprint, current: Fingerprint): string | null {
  const b = new Set(baseline.blocks)
  const c = new Set(current.blocks)
  const onlyB = baseline.blocks.filter((x) => !c.has(x))
  const onlyC = current.blocks.filter((x) => !b.has(x))
  if (onlyB.length > 0 || onlyC.length > 0) {
    const list = (xs: string[]) => `${xs.slice(0, 3).map((x) => x.slice(0, x.indexOf(':') + 11)).join(', ')}${xs.length > 3 ? ', …' : ''}`
    const parts = []
    if (onlyB.length > 0) parts.push(`${onlyB.length} only in the baseline (${list(onlyB)})`)
    if (onlyC.length > 0) parts.push(`${onlyC.length} only in the current run (${list(onlyC)})`)
    return `different blocks: ${parts.join('; ')}`
  }
  if (baseline.schemaVersion !== current.schemaVersion) return `schemaVersion (baseline ${show(baseline.schemaVersion)}, current ${show(current.schemaVersion)})`
  const d = firstDifference(baseline.config, current.config, 'config')
  if (d !== null) return `configuration: ${d}`
  const e = firstDifference(baseline.engines, current.engines, 'engines')
  return e === null ? null : `engine settings: ${e}`
}

/** Number of differing leaves (to pick the closest stratum when naming a difference). */
export function fingerprintDistance(a: Fingerprint, b: Fingerprint): number {
  let n = 0
  const walk = (x: unknown, y: unknown) => {
    if (Array.isArray(x) && Array.isArray(y)) {
      for (let i = 0; i < Math.max(x.length, y.length); i++) walk(x[i], y[i])
    } else if (isObj(x) && isObj(y)) {
      for (const k of new Set([...Object.keys(x), ...Object.keys(y)])) walk(x[k], y[k])
    } else if (JSON.stringify(x) !== JSON.stringify(y)) n++
  }
  walk({ c: a.config, e: a.engines }, { c: b.config, e: b.engines })
  const as = new Set(a.blocks)
  const bs = new Set(b.blocks)
  return n + a.blocks.filter((x) => !bs.has(x)).length + b.blocks.filter((x) => !as.has(x)).length
}
