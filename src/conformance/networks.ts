/**
 * Test networks → fork schedules. A network is one fork (`Cancun`, `EIP150`, `ConstantinopleFix` …)
 * or a transition `<A>To<B>At<n>` (block number), `<A>To<B>AtTime<n>` (timestamp; `15k` = 15000) or
 * `<A>To<B>AtDiff<hex>` (total difficulty of the parent, the merge).
 */
import type { Fork } from '../evm/forks.js'

/** Networks' fork names → the forks both EVMs run. */
const FORK_NAMES: Record<string, Fork> = {
  Frontier: 'frontier',
  Homestead: 'homestead',
  Dao: 'dao',
  EIP150: 'tangerineWhistle',
  TangerineWhistle: 'tangerineWhistle',
  EIP158: 'spuriousDragon',
  SpuriousDragon: 'spuriousDragon',
  Byzantium: 'byzantium',
  Constantinople: 'constantinople',
  ConstantinopleFix: 'petersburg',
  Petersburg: 'petersburg',
  Istanbul: 'istanbul',
  MuirGlacier: 'muirGlacier',
  Berlin: 'berlin',
  London: 'london',
  ArrowGlacier: 'arrowGlacier',
  GrayGlacier: 'grayGlacier',
  Paris: 'paris',
  Merge: 'paris',
  Shanghai: 'shanghai',
  Cancun: 'cancun',
  Prague: 'prague',
  Osaka: 'osaka',
  BPO1: 'bpo1',
  BPO2: 'bpo2',
}

/** Forks after BPO2 that megabench does not run (its EVMs stop at BPO2). */
const UNSUPPORTED = /^(BPO\d+|Amsterdam|Verkle|EIP\d+)$/

export type ForkSchedule = {
  /** The fork of a block (its number and timestamp, and its parent's total difficulty). */
  forkAt(number: bigint, timestamp: bigint, parentTotalDifficulty: bigint): Fork
  /** Mainnet-numbered DAO block of this network, if it has the DAO fork (HomesteadToDaoAt5: 5). */
  daoBlock: bigint | undefined
}

export type ScheduleResult = { ok: true; schedule: ForkSchedule } | { ok: false; reason: string }

function fork(name: string): Fork | { reason: string } {
  const f = FORK_NAMES[name]
  if (f !== undefined) return f
  if (UNSUPPORTED.test(name)) return { reason: `fork ${name} not supported` }
  return { reason: `network ${name} not supported` }
}

function amount(text: string, hex: boolean): bigint {
  if (hex) return BigInt(`0x${text}`)
  return text.endsWith('k') ? BigInt(text.slice(0, -1)) * 1000n : BigInt(text)
}

/** The schedule of a test network, or why megabench cannot run it. */
export function forkSchedule(network: string): ScheduleResult {
  const single = fork(network)
  if (typeof single === 'string') return { ok: true, schedule: { forkAt: () => single, daoBlock: undefined } }
  const m = /^([A-Za-z0-9]+?)To([A-Za-z0-9]+)At(Time|Diff)?([0-9A-Fa-f]+k?)$/.exec(network)
  if (m === null) return { ok: false, reason: single.reason }
  const from = fork(m[1]!)
  const to = fork(m[2]!)
  // Name the first fork megabench cannot run (e.g. CancunToPragueAtTime15k → fork Prague not supported).
  if (typeof from !== 'string') return { ok: false, reason: from.reason }
  if (typeof to !== 'string') return { ok: false, reason: to.reason }
  let at: bigint
  try {
    at = amount(m[4]!, m[3] === 'Diff')
  } catch {
    return { ok: false, reason: `network ${network} not supported` }
  }
  const daoBlock = to === 'dao' ? at : undefined
  if (m[3] === 'Time') return { ok: true, schedule: { forkAt: (_n, ts) => (ts < at ? from : to), daoBlock } }
  if (m[3] === 'Diff') return { ok: true, schedule: { forkAt: (_n, _ts, td) => (td < at ? from : to), daoBlock } }
  return { ok: true, schedule: { forkAt: (n) => (n < at ? from : to), daoBlock } }
}
