import type { CpuProfile } from '../probes/cpuProfile.js'

/** Where a function comes from, for the flame graph's colours. */
export type CodeKind = 'megabench' | '@ethereumjs' | 'dependencies' | 'node / V8'

/** Width of the flame graph in pixels (labels are cut to fit it). */
export const FLAME_WIDTH = 820

export type FlameRect = {
  name: string
  file: string
  kind: CodeKind
  depth: number
  /** Position on the time axis (ms of samples), and the frame's inclusive and self time. */
  x0: number
  x1: number
  totalMs: number
  selfMs: number
  /** The name when the rectangle is wide enough to print it ('' otherwise). */
  label: string
}

export type FlameData = {
  /** Sampled time in the profile (idle excluded), ms. */
  totalMs: number
  samples: number
  rects: FlameRect[]
  /** Functions by self time (summed over every call path). */
  top: { name: string; file: string; kind: CodeKind; selfMs: number; pct: number }[]
}

function kindOf(url: string, name: string): CodeKind {
  if (url.includes('/node_modules/@ethereumjs/')) return '@ethereumjs'
  if (url.includes('/node_modules/')) return 'dependencies'
  if (url.startsWith('file://') && /\/(dist|src)\//.test(url)) return 'megabench'
  return name.startsWith('(') || url === '' || url.startsWith('node:') ? 'node / V8' : 'dependencies'
}

function shortFile(url: string, line: number): string {
  if (url === '') return ''
  const nm = url.lastIndexOf('/node_modules/')
  const path = nm >= 0 ? url.slice(nm + 14) : url.replace(/^file:\/\/.*?\/(dist|src)\//, '$1/')
  return `${path}:${line + 1}`
}

/**
 * A CPU profile → the icicle (flame graph, root on top) as rectangles, and the top functions by self
 * time. Self time per node is the sum of its samples' time deltas. Frames narrower than `minShare` of
 * the total are dropped (with their callees), and so are frames deeper than `maxDepth`.
 */
export function flameData(profile: CpuProfile, o: { minShare?: number; topN?: number; widthPx?: number; maxDepth?: number } = {}): FlameData {
  const minShare = o.minShare ?? 0.003
  const widthPx = o.widthPx ?? FLAME_WIDTH
  const maxDepth = o.maxDepth ?? 60
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const self = new Map<number, number>()
  const samples = profile.samples ?? []
  const deltas = profile.timeDeltas ?? []
  for (let i = 0; i < samples.length; i++) {
    const d = deltas[i + 1] ?? deltas[i] ?? 0 // a sample lasts until the next one
    self.set(samples[i]!, (self.get(samples[i]!) ?? 0) + Math.max(0, d) / 1000)
  }
  const idle = (id: number) => byId.get(id)?.callFrame.functionName === '(idle)'
  const total = new Map<number, number>()
  const totalOf = (id: number): number => {
    const cached = total.get(id)
    if (cached !== undefined) return cached
    const n = byId.get(id)
    const t = idle(id) ? 0 : (self.get(id) ?? 0) + (n?.children ?? []).reduce((s, c) => s + totalOf(c), 0)
    total.set(id, t)
    return t
  }
  const root = profile.nodes.find((n) => n.callFrame.functionName === '(root)') ?? profile.nodes[0]
  const rects: FlameRect[] = []
  const totalMs = root === undefined ? 0 : totalOf(root.id) - (self.get(root.id) ?? 0)
  const walk = (id: number, depth: number, x0: number) => {
    const n = byId.get(id)!
    const t = totalOf(id)
    if (t < minShare * totalMs || t === 0 || depth >= maxDepth) return
    const name = n.callFrame.functionName || '(anonymous)'
    const px = (t / totalMs) * widthPx
    const chars = Math.floor(px / 6.5) - 1
    rects.push({
      name,
      file: shortFile(n.callFrame.url, n.callFrame.lineNumber),
      kind: kindOf(n.callFrame.url, name),
      depth,
      x0,
      x1: x0 + t,
      totalMs: t,
      selfMs: self.get(id) ?? 0,
      label: chars >= 3 ? (name.length <= chars ? name : `${name.slice(0, chars - 1)}…`) : '',
    })
    let x = x0
    const kids = [...(n.children ?? [])].sort((a, b) => totalOf(b) - totalOf(a))
    for (const c of kids) {
      walk(c, depth + 1, x)
      x += totalOf(c)
    }
  }
  if (root !== undefined) {
    let x = 0
    for (const c of [...(root.children ?? [])].sort((a, b) => totalOf(b) - totalOf(a))) {
      walk(c, 0, x)
      x += totalOf(c)
    }
  }
  const fn = new Map<string, FlameData['top'][number]>()
  for (const [id, ms] of self) {
    const n = byId.get(id)
    if (n === undefined || idle(id) || n === root) continue
    const name = n.callFrame.functionName || '(anonymous)'
    const file = shortFile(n.callFrame.url, n.callFrame.lineNumber)
    const key = `${name}@${file}`
    const e = fn.get(key) ?? { name, file, kind: kindOf(n.callFrame.url, name), selfMs: 0, pct: 0 }
    e.selfMs += ms
    fn.set(key, e)
  }
  const top = [...fn.values()].sort((a, b) => b.selfMs - a.selfMs).slice(0, o.topN ?? 25)
  for (const t of top) t.pct = totalMs > 0 ? (t.selfMs / totalMs) * 100 : 0
  return { totalMs, samples: samples.length, rects, top }
}
