/**
 * Transaction parallelism from access sets: per block (and per window of k merged consecutive blocks)
 * the dependency DAG in block order, its critical path, and the speedup list scheduling reaches on n cores.
 *
 * Dependencies (transaction j on an earlier i): read-after-write (j reads a key i wrote) and
 * write-after-write (both write it). Write-after-read is not a dependency (a multi-version executor
 * gives each transaction the values of its predecessors). Keys: `a:<address>` (nonce, balance, code),
 * `s:<address>:<slot>`, and `w:<address>` (the account's storage as a whole: written by a wipe, read by
 * every slot read).
 *
 * The coinbase fee credit, two treatments:
 * - `commutative`: a transaction that touches the coinbase only through runTx's fee credit adds a delta;
 *   deltas commute with each other, so they do not depend on one another. A later transaction that reads
 *   the coinbase (EVM code, or the coinbase as sender/recipient) depends on every delta before it, and a
 *   delta depends on an earlier full write of the coinbase.
 * - `conflict`: the fee credit is an ordinary read and write of the coinbase account: every transaction
 *   depends on the previous fee payers (this serialises nearly everything).
 */
import type { TxAccess } from '../probes/accessSets.js'
import { type Distribution, distribution, windowsOf } from './stats.js'
import type { AnalysedBlock } from './types.js'

export type CoinbaseTreatment = 'commutative' | 'conflict'
export const COINBASE_TREATMENTS: readonly CoinbaseTreatment[] = ['commutative', 'conflict']

/** Windows of k merged consecutive blocks, and core counts for the list-scheduling bound. */
export const WINDOW_SIZES = [1, 2, 5, 10] as const
export const CORE_COUNTS = [2, 4, 8, 16, 64] as const

/** One transaction as the scheduler sees it. `deltas`: commutative writes (the fee credit). */
export type TxNode = { reads: readonly string[]; writes: readonly string[]; deltas: readonly string[]; gas: number }

/** A transaction's keys under a coinbase treatment. */
export function txNode(t: TxAccess, coinbase: string, treatment: CoinbaseTreatment): TxNode {
  const reads = new Set<string>()
  const writes = new Set<string>()
  const deltas: string[] = []
  const feeOnly = treatment === 'commutative' && t.coinbase === 'fee'
  for (const a of t.accounts) {
    const k = `a:${a.address}`
    if (feeOnly && a.address === coinbase) {
      if (a.written) deltas.push(k)
      continue
    }
    if (a.read) reads.add(k)
    if (a.written) writes.add(k)
    if (a.wiped) writes.add(`w:${a.address}`)
  }
  for (const s of t.slots) {
    const k = `s:${s.address}:${s.slot}`
    if (s.read) {
      reads.add(k)
      reads.add(`w:${s.address}`)
    }
    if (s.written) writes.add(k)
  }
  return { reads: [...reads], writes: [...writes], deltas, gas: Number(t.gasUsed) }
}

/** Each transaction's direct predecessors (sorted indexes), in block order. */
export function dependencies(nodes: readonly TxNode[]): number[][] {
  const lastWriter = new Map<string, number>()
  const deltasSince = new Map<string, number[]>()
  return nodes.map((n, j) => {
    const preds = new Set<number>()
    const on = (k: string, withDeltas: boolean) => {
      const w = lastWriter.get(k)
      if (w !== undefined) preds.add(w)
      if (withDeltas) for (const d of deltasSince.get(k) ?? []) preds.add(d)
    }
    for (const k of n.reads) on(k, true)
    for (const k of n.writes) on(k, true)
    for (const k of n.deltas) on(k, false)
    for (const k of n.writes) {
      lastWriter.set(k, j)
      deltasSince.delete(k)
    }
    for (const k of n.deltas) {
      if (n.writes.includes(k)) continue
      let l = deltasSince.get(k)
      if (l === undefined) deltasSince.set(k, (l = []))
      l.push(j)
    }
    preds.delete(j)
    return [...preds].sort((a, b) => a - b)
  })
}

/** Length of the longest path, each transaction weighing `weight(i)` (1: in transactions; gas: in gas). */
export function criticalPath(preds: readonly (readonly number[])[], weight: (i: number) => number): number {
  const finish: number[] = []
  let best = 0
  preds.forEach((p, j) => {
    let start = 0
    for (const i of p) start = Math.max(start, finish[i]!)
    finish[j] = start + weight(j)
    best = Math.max(best, finish[j]!)
  })
  return best
}

/**
 * Makespan of list scheduling on `cores` identical cores: whenever a core is free, the ready transaction
 * with the longest path to the end of the DAG (its bottom level; ties: block order) starts (HLFET).
 */
export function listSchedule(preds: readonly (readonly number[])[], weight: (i: number) => number, cores: number): number {
  const n = preds.length
  if (n === 0) return 0
  const succs: number[][] = preds.map(() => [])
  preds.forEach((p, j) => p.forEach((i) => succs[i]!.push(j)))
  const bottom = new Array<number>(n).fill(0)
  for (let j = n - 1; j >= 0; j--) {
    let m = 0
    for (const s of succs[j]!) m = Math.max(m, bottom[s]!)
    bottom[j] = m + weight(j)
  }
  const waiting = preds.map((p) => p.length)
  const ready: number[] = []
  for (let j = 0; j < n; j++) if (waiting[j] === 0) ready.push(j)
  const running: { task: number; end: number }[] = []
  let time = 0
  let done = 0
  while (done < n) {
    while (running.length < cores && ready.length > 0) {
      let bi = 0
      for (let r = 1; r < ready.length; r++) {
        const a = ready[r]!
        const b = ready[bi]!
        if (bottom[a]! > bottom[b]! || (bottom[a] === bottom[b] && a < b)) bi = r
      }
      const task = ready.splice(bi, 1)[0]!
      running.push({ task, end: time + weight(task) })
    }
    time = Math.min(...running.map((r) => r.end))
    for (let r = running.length - 1; r >= 0; r--) {
      if (running[r]!.end !== time) continue
      const { task } = running.splice(r, 1)[0]!
      done++
      for (const s of succs[task]!) if (--waiting[s]! === 0) ready.push(s)
    }
  }
  return time
}

/** One window's (or block's) parallelism under one coinbase treatment. */
export type WindowParallelism = {
  txs: number
  gas: number
  criticalPathTxs: number
  criticalPathGas: number
  /** txs / critical path length. */
  parallelism: number
  /** gas / critical-path gas. */
  gasParallelism: number
  /** Gas-weighted list-scheduling speedup (gas / makespan) per core count. */
  speedup: Record<string, number>
}

export function windowParallelism(nodes: readonly TxNode[], cores: readonly number[] = CORE_COUNTS): WindowParallelism {
  const preds = dependencies(nodes)
  const gasOf = (i: number) => Math.max(nodes[i]!.gas, 1)
  const gas = nodes.reduce((s, n, i) => s + gasOf(i), 0)
  const cpTxs = criticalPath(preds, () => 1)
  const cpGas = criticalPath(preds, gasOf)
  const speedup: Record<string, number> = {}
  for (const c of cores) speedup[String(c)] = nodes.length === 0 ? 1 : gas / listSchedule(preds, gasOf, c)
  return {
    txs: nodes.length,
    gas,
    criticalPathTxs: cpTxs,
    criticalPathGas: cpGas,
    parallelism: cpTxs === 0 ? 1 : nodes.length / cpTxs,
    gasParallelism: cpGas === 0 ? 1 : gas / cpGas,
    speedup,
  }
}

/** The transactions of consecutive blocks as one sequence, each keyed under its own block's coinbase. */
export function windowNodes(blocks: readonly AnalysedBlock[], treatment: CoinbaseTreatment): TxNode[] {
  return blocks.flatMap((b) => b.access.txs.map((t) => txNode(t, b.access.coinbase, treatment)))
}

export type ParallelismSummary = {
  k: number
  treatment: CoinbaseTreatment
  /** Windows with at least one transaction. */
  windows: number
  parallelism: Distribution | null
  gasParallelism: Distribution | null
  /** Per core count: median over windows and the aggregate (total gas / total makespan). */
  speedup: { cores: number; median: number | null; aggregate: number | null }[]
}

export type BlockParallelism = { number: number; origin: string; txs: number; gas: number } & Record<CoinbaseTreatment, WindowParallelism>

export type ParallelismAnalysis = {
  definition: string
  blocks: BlockParallelism[]
  summaries: ParallelismSummary[]
}

export const PARALLELISM_DEFINITION =
  'Dependencies in block order: read-after-write and write-after-write on accounts (nonce, balance, code) and storage slots (value-based: a key counts as written when its value changed). ' +
  'parallelism = transactions / critical-path length; gas parallelism = gas / critical-path gas; speedup = gas / makespan of list scheduling (longest-path-first, weights = gas used) on n cores. ' +
  'Coinbase: "commutative" treats runTx\'s fee credit as a commutative delta; "conflict" as an ordinary read and write. Windows merge k consecutive blocks (system calls, withdrawals and rewards between them are not transactions and are left out).'

export function analyzeParallelism(blocks: readonly AnalysedBlock[], opts: { windows?: readonly number[]; cores?: readonly number[] } = {}): ParallelismAnalysis {
  const ks = opts.windows ?? WINDOW_SIZES
  const cores = opts.cores ?? CORE_COUNTS
  const perBlock: BlockParallelism[] = blocks.map((b) => ({
    number: b.number,
    origin: b.origin,
    txs: b.access.txs.length,
    gas: b.access.txs.reduce((s, t) => s + Number(t.gasUsed), 0),
    commutative: windowParallelism(windowNodes([b], 'commutative'), cores),
    conflict: windowParallelism(windowNodes([b], 'conflict'), cores),
  }))
  const summaries: ParallelismSummary[] = []
  for (const k of ks) {
    const windows = windowsOf(blocks, k)
    for (const treatment of COINBASE_TREATMENTS) {
      const ws =
        k === 1
          ? perBlock.filter((b) => b.txs > 0).map((b) => b[treatment])
          : windows.map((w) => windowNodes(w, treatment)).filter((n) => n.length > 0).map((n) => windowParallelism(n, cores))
      const gas = ws.reduce((s, w) => s + w.gas, 0)
      summaries.push({
        k,
        treatment,
        windows: ws.length,
        parallelism: distribution(ws.map((w) => w.parallelism)),
        gasParallelism: distribution(ws.map((w) => w.gasParallelism)),
        speedup: cores.map((c) => ({
          cores: c,
          median: distribution(ws.map((w) => w.speedup[String(c)]!))?.median ?? null,
          aggregate: ws.length === 0 ? null : gas / ws.reduce((s, w) => s + w.gas / w.speedup[String(c)]!, 0),
        })),
      })
    }
  }
  return { definition: PARALLELISM_DEFINITION, blocks: perBlock, summaries }
}
