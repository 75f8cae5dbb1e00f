/**
 * Hardware ceilings (the whitepaper's arithmetic with our numbers). From measured per-transaction CPU
 * time, state updates and diff bytes, the transaction rate each resource of a machine (described by
 * flags) could sustain at most. The ceilings are modelled: they assume the resource is the only limit
 * (perfect overlap of the others) and that every updated key costs one random write.
 *
 * - CPU: cores × 1 / (CPU time per transaction), and the same limited by the dependencies measured in
 *   the blocks (one core's rate × the list-scheduling speedup on that many cores).
 * - Random IOPS: IOPS / (updated keys per transaction), one random write per updated key.
 * - Bandwidth: link rate / (diff bytes per transaction), for the raw encoding, each compressor and the
 *   study's 20-bytes-per-update model.
 */
import type { CompressorName } from './statediff.js'

export type MachineDescription = { cores: number; iops: number; mbps: number }

/** The whitepaper's machine: one NVMe (>300k random writes/s), a 100 Mbps link; 16 cores ("a modest server"). */
export const DEFAULT_MACHINE: MachineDescription = { cores: 16, iops: 300_000, mbps: 100 }

export type BoundsInputs = {
  /** Measured CPU time per transaction, µs, and where it comes from. */
  cpuUsPerTx: number
  cpuSource: string
  /** Updated keys (accounts + slots + wipes) per transaction, block diffs amortised over their transactions. */
  updatesPerTx: number
  bytesPerTx: { raw: number; model: number } & Record<CompressorName, number>
  /** Gas-weighted list-scheduling speedup on `cores` cores (commutative coinbase), aggregate over blocks; null if unknown. */
  speedupAtCores: number | null
}

export type Ceiling = { resource: string; tps: number | null; arithmetic: string }

export type BoundsAnalysis = {
  note: string
  machine: MachineDescription
  measured: BoundsInputs
  ceilings: Ceiling[]
  /** The lowest ceiling: the resource that binds first. */
  binding: Ceiling | null
}

const fmt = (x: number, digits = 0) => x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })

export function analyzeBounds(m: BoundsInputs, machine: MachineDescription = DEFAULT_MACHINE): BoundsAnalysis {
  const perCore = m.cpuUsPerTx > 0 ? 1e6 / m.cpuUsPerTx : null
  const ceilings: Ceiling[] = [
    {
      resource: 'CPU, perfect scaling',
      tps: perCore === null ? null : perCore * machine.cores,
      arithmetic: `${machine.cores} cores × 1 s / ${fmt(m.cpuUsPerTx, 1)} µs per tx`,
    },
    {
      resource: 'CPU, dependency-limited',
      tps: perCore === null || m.speedupAtCores === null ? null : perCore * m.speedupAtCores,
      arithmetic: `1 s / ${fmt(m.cpuUsPerTx, 1)} µs per tx × list-scheduling speedup ${m.speedupAtCores === null ? 'n/a' : fmt(m.speedupAtCores, 2)} on ${machine.cores} cores`,
    },
    {
      resource: 'random IOPS',
      tps: m.updatesPerTx > 0 ? machine.iops / m.updatesPerTx : null,
      arithmetic: `${fmt(machine.iops)} IOPS / ${fmt(m.updatesPerTx, 2)} updated keys per tx (one random write each)`,
    },
    ...(Object.entries(m.bytesPerTx) as [string, number][]).map(([k, bytes]) => ({
      resource: `bandwidth, ${k === 'model' ? "the study's 20 B per update" : k === 'raw' ? 'megabench-diff-v1' : `megabench-diff-v1 + ${k}`}`,
      tps: bytes > 0 ? (machine.mbps * 1e6) / 8 / bytes : null,
      arithmetic: `${fmt(machine.mbps)} Mbps / 8 / ${fmt(bytes, 1)} B per tx`,
    })),
  ]
  const known = ceilings.filter((c) => c.tps !== null && !c.resource.includes('perfect') && !c.resource.includes("study's"))
  const binding = known.reduce<Ceiling | null>((best, c) => (best === null || c.tps! < best.tps! ? c : best), null)
  return {
    note: 'modelled: each ceiling assumes that resource is the only limit; inputs are measured on the replayed blocks',
    machine,
    measured: m,
    ceilings,
    binding,
  }
}
