import type { EVM } from '@ethereumjs/evm'

import { RegionStack, type TimerCalibration, calibrateRegionStack } from './clock.js'
import type { ExecutionProbe } from './hooks.js'
import type { FastBlockProbe } from '../evm/profile.js'
import { FRAME_OPCODES, OPCODES, type OpcodeCategory, PRECOMPILE_NAMES } from './opcodes.js'

/**
 * Region kinds. 0–255 are opcodes (gas handler and logic handler both count as the opcode);
 * the others split what is not an opcode handler, so that all kinds together add up to the block's
 * execution time: the interpreter loop (dispatch, gas accounting, awaits between steps), call-frame
 * setup and teardown (runCall outside the interpreter), precompiles, transaction setup and
 * finalisation (runTx outside its call frame), block-level work (system calls, receipts, rewards),
 * and state roots computed inside the window (per transaction before Byzantium).
 */
const KIND_INTERPRETER = 256
const KIND_FRAME = 257
const KIND_PRECOMPILE = 258 // + address byte (0–31)
const KIND_TX = 290
const KIND_BLOCK = 291
const KIND_STATE_ROOT = 292
const KINDS = 293

/**
 * The fast EVM's loop times every host and system opcode, and about one in this many executions of the
 * others (deterministic pseudo-random sample; counts and gas stay exact). Chosen by measurement (README,
 * "Opcode profiling"): timing every opcode made profiled fast-EVM passes ~1.8x slower on the mixed chain,
 * as a clock read costs about as much as a cheap opcode there.
 */
export const FAST_EVM_SAMPLE_STRIDE = strideFromEnv(process.env.MEGABENCH_OPCODE_SAMPLE_STRIDE, 8)

/**
 * Opcodes the fast EVM's loop times on every execution besides the CALL family and CREATE: those whose cost
 * is state access, hashing or logs (rare, expensive, and where cache misses show up). Every other opcode,
 * cheap environment reads included, is sampled.
 */
const ALWAYS_TIMED: readonly number[] = [0x20, 0x31, 0x3b, 0x3c, 0x3f, 0x40, 0x54, 0x55, 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xff]

/** MEGABENCH_OPCODE_SAMPLE_STRIDE overrides the stride (1 = time every opcode), for measuring the policy. */
function strideFromEnv(v: string | undefined, dflt: number): number {
  if (v === undefined || v === '') return dflt
  const n = Number(v)
  if (!Number.isInteger(n) || n < 1 || n > 1_000_000) throw new Error(`MEGABENCH_OPCODE_SAMPLE_STRIDE must be an integer 1…1000000 (got ${JSON.stringify(v)})`)
  return n
}

/**
 * A sampled execution of a cheap opcode taking longer than this (ms) was interrupted (preemption, a
 * garbage collection): scaled up by the sampling it would count many times over, so it is dropped (its
 * time stays in the interpreter's region, the rest of the window).
 */
const SAMPLE_OUTLIER_MS = 0.25

/** Wrapped opcode maps → the EVM's own map they replaced. */
const WRAPPED = new WeakMap<OpcodeMapEntry[], OpcodeMapEntry[]>()

type OpcodeMapEntry = {
  opcodeInfo: { fee: number; isAsync: boolean; dynamicGas: boolean }
  opHandler: (...args: any[]) => any
  gasHandler: (...args: any[]) => any
}

type EvmInternals = {
  _opcodeMap: OpcodeMapEntry[]
  common: EVM['common']
  precompiles: Map<string, unknown>
  runCall: (...args: any[]) => Promise<any>
  runInterpreter: (...args: any[]) => Promise<any>
  runPrecompile: (...args: any[]) => any
}

/** One opcode's row in the profile. Times in ns after subtracting the calibrated timer cost. */
export type OpcodeRow = {
  opcode: number
  name: string
  category: OpcodeCategory
  count: number
  /** Exclusive: child frames excluded (for CALL-family/CREATE). */
  totalNs: number
  /** Inclusive: child frames included (equals totalNs except for CALL-family/CREATE). */
  inclusiveNs: number
  avgNs: number
  /** Share of the summed exclusive opcode time, and cumulative share in descending order. */
  pctTime: number
  cumulativePct: number
  staticGas: number
  /**
   * Dynamic gas the opcode's own gas handler charged (memory expansion, cold access…), for executions
   * whose charge succeeded (an out-of-gas charge consumes the frame's gas instead).
   */
  dynamicGas: number
  /** Gas used by child frames this opcode opened (CALL-family/CREATE only). */
  childGas: number
}

export type PrecompileRow = { address: number; name: string; count: number; totalNs: number; avgNs: number }

/** Where the execution window's time went, by region kind (ms, timer cost subtracted). */
export type ExecutionCoverage = {
  /** The blocks' execution windows (inclusive), with the profiler's own timer cost subtracted. */
  windowMs: number
  /** Estimated cost of the profiler's own timers inside the windows (calibrated). */
  timerOverheadMs: number
  opcodesMs: number
  interpreterMs: number
  callFramesMs: number
  precompilesMs: number
  txSetupMs: number
  blockLevelMs: number
  /** State roots computed inside the window (receipts carry per-transaction roots before Byzantium). */
  stateRootsMs: number
  /** opcodesMs / windowMs, in percent. */
  opcodeSharePct: number
}

export type OpcodeProfile = {
  calibration: TimerCalibration
  rows: OpcodeRow[]
  categories: { category: OpcodeCategory; totalNs: number; pct: number; count: number }[]
  precompiles: PrecompileRow[]
  coverage: ExecutionCoverage
}

/**
 * Per-opcode timing probe for @ethereumjs/evm. It replaces the entries of the EVM's internal
 * 256-entry opcode map with timing wrappers (sync handlers stay sync, async stay async) and wraps
 * the EVM's runCall, runInterpreter and runPrecompile. Nothing is installed until `attach()`, and
 * `detach()` restores the originals: with the probe off, the EVM runs untouched.
 *
 * The opcode map is a private field: this is pinned to @ethereumjs/evm 10.1.3, and the probe
 * re-wraps when the EVM rebuilds the map on a hardfork change.
 */
export class OpcodeProfiler implements ExecutionProbe, FastBlockProbe {
  private readonly stack = new RegionStack()
  private readonly exclusiveMs = new Float64Array(KINDS)
  private readonly inclusiveMs = new Float64Array(KINDS)
  private readonly regions = new Float64Array(KINDS)
  private readonly children = new Float64Array(KINDS)
  /** Inclusive time with the timers of the region and all regions nested in it subtracted. */
  private readonly inclusiveNetMs = new Float64Array(KINDS)
  private readonly count = new Float64Array(256)
  private readonly staticGas = new Float64Array(256)
  private readonly dynamicGas = new Float64Array(256)
  private readonly childGasOf = new Float64Array(256)
  private readonly attached = new Map<object, () => void>()
  /**
   * Dynamic gas returned by the last gas handler, credited when that opcode's logic handler starts
   * next (if the charge fails with out-of-gas, the logic never runs and the amount is dropped).
   */
  private pendingDynamicGas = 0
  private pendingOpcode = -1
  /** Executions the fast EVM's loop ran outside an opcode region (sampling), per opcode. */
  private readonly untimed = new Float64Array(256)
  readonly calibration: TimerCalibration
  /** The fast EVM's loop: opcodes timed on every execution (calls, creates, state access, hashing, logs). */
  readonly alwaysTimed: Uint8Array
  /** The fast EVM's loop: other opcodes are timed on about one execution in this many (1 = all). */
  readonly sampleStride: number

  constructor(calibration: TimerCalibration = calibrateRegionStack(), opts: { sampleStride?: number } = {}) {
    this.calibration = calibration
    this.sampleStride = Math.max(1, Math.floor(opts.sampleStride ?? FAST_EVM_SAMPLE_STRIDE))
    this.alwaysTimed = new Uint8Array(256)
    for (const op of [...FRAME_OPCODES, ...ALWAYS_TIMED]) this.alwaysTimed[op] = 1
  }

  /** Installs the wrappers on `evm`. */
  attach(evm: EVM): void {
    const e = evm as unknown as EvmInternals
    if (this.attached.has(e)) return
    this.wrapOpcodeMap(e)
    const onHardfork = () => this.wrapOpcodeMap(e)
    e.common.events.on('hardforkChanged', onHardfork)
    this.wrapFrames(e)
    this.attached.set(e, () => {
      e.common.events.off('hardforkChanged', onHardfork)
      for (const k of ['runCall', 'runInterpreter', 'runPrecompile'] as const) delete (e as Partial<EvmInternals>)[k]
      const original = WRAPPED.get(e._opcodeMap)
      if (original !== undefined) e._opcodeMap = original
    })
  }

  /** Removes the wrappers from `evm`, restoring the EVM's own handlers. */
  detach(evm: EVM): void {
    const undo = this.attached.get(evm as object)
    if (undo) {
      undo()
      this.attached.delete(evm as object)
    }
  }

  /** Open block regions; state roots outside a block's execution window are not this probe's. */
  private blocksOpen = 0

  blockStart(): void {
    this.blocksOpen++
    this.stack.enter(KIND_BLOCK)
  }
  blockEnd(): void {
    this.close()
    this.blocksOpen--
  }
  txStart(): void {
    this.stack.enter(KIND_TX)
  }
  txEnd(): void {
    this.close()
  }
  stateRootStart(): void {
    if (this.blocksOpen > 0) this.stack.enter(KIND_STATE_ROOT)
  }
  stateRootEnd(): void {
    if (this.blocksOpen > 0) this.close()
  }

  // The fast EVM's instrumented loop (src/evm/profile.ts) reports here directly: the same regions,
  // counts and gas as the wrappers below produce for @ethereumjs.
  enterOpcode(op: number): void {
    this.stack.enter(op)
  }
  enterInterpreter(): void {
    this.stack.enter(KIND_INTERPRETER)
  }
  enterFrame(): void {
    this.stack.enter(KIND_FRAME)
  }
  enterPrecompile(address: number): void {
    this.stack.enter(KIND_PRECOMPILE + Math.min(address, 31))
  }
  exit(): void {
    this.close()
  }
  exitSample(): boolean {
    const kind = this.stack.kindAt(0)
    const exclusive = this.stack.exit()
    if (this.stack.lastInclusive > SAMPLE_OUTLIER_MS) {
      this.stack.returnLastToParent()
      return false
    }
    this.account(kind, exclusive)
    return true
  }
  counted(op: number, staticGas: number, dynamicGas: number, timed: boolean): void {
    this.count[op]! += 1
    if (!timed) this.untimed[op]! += 1
    this.staticGas[op]! += staticGas
    this.dynamicGas[op]! += dynamicGas
  }
  childGas(op: number, gas: number): void {
    this.childGasOf[op]! += gas
  }

  private close(): void {
    const kind = this.stack.kindAt(0)
    this.account(kind, this.stack.exit())
  }

  /** The region of `kind` just closed (`exclusive` ms): its times, count and nesting. */
  private account(kind: number, exclusive: number): void {
    this.exclusiveMs[kind]! += exclusive
    this.inclusiveMs[kind]! += this.stack.lastInclusive
    this.regions[kind]! += 1
    this.children[kind]! += this.stack.lastChildren
    this.inclusiveNetMs[kind]! +=
      this.stack.lastInclusive - this.calibration.inRegionMs - this.stack.lastDescendants * this.calibration.perRegionMs
  }

  private wrapOpcodeMap(e: EvmInternals): void {
    const source = e._opcodeMap
    const wrapped: OpcodeMapEntry[] = new Array(256)
    for (let op = 0; op < 256; op++) {
      const entry = source[op]!
      wrapped[op] = { opcodeInfo: entry.opcodeInfo, opHandler: this.wrapLogic(op, entry), gasHandler: this.wrapGas(op, entry) }
    }
    WRAPPED.set(wrapped, source)
    e._opcodeMap = wrapped
  }

  private wrapLogic(op: number, entry: OpcodeMapEntry): OpcodeMapEntry['opHandler'] {
    const fn = entry.opHandler
    const fee = entry.opcodeInfo.fee
    const begin = () => {
      this.count[op]! += 1
      this.staticGas[op]! += fee
      if (this.pendingOpcode === op) this.dynamicGas[op]! += this.pendingDynamicGas
      this.pendingOpcode = -1
      this.stack.enter(op)
    }
    if (entry.opcodeInfo.isAsync) {
      return async (runState: unknown, common: unknown) => {
        begin()
        try {
          return await fn(runState, common)
        } finally {
          this.close()
        }
      }
    }
    return (runState: unknown, common: unknown) => {
      begin()
      try {
        return fn(runState, common)
      } finally {
        this.close()
      }
    }
  }

  private wrapGas(op: number, entry: OpcodeMapEntry): OpcodeMapEntry['gasHandler'] {
    const fn = entry.gasHandler
    if (fn === undefined || !entry.opcodeInfo.dynamicGas) return fn
    const fee = entry.opcodeInfo.fee
    const stack = this.stack
    const done = (gas: bigint): bigint => {
      this.close()
      this.pendingDynamicGas = Number(gas) - fee
      this.pendingOpcode = op
      return gas
    }
    const failed = (err: unknown): never => {
      this.close()
      throw err
    }
    return (runState: unknown, gas: bigint, common: unknown) => {
      stack.enter(op)
      let r: bigint | Promise<bigint>
      try {
        r = fn(runState, gas, common)
      } catch (err) {
        return failed(err)
      }
      return typeof r === 'bigint' ? done(r) : r.then(done, failed)
    }
  }

  private wrapFrames(e: EvmInternals): void {
    const proto = Object.getPrototypeOf(e) as EvmInternals
    const stack = this.stack
    const childGas = this.childGasOf
    e.runCall = async (...args: unknown[]) => {
      stack.enter(KIND_FRAME)
      let res
      try {
        res = await proto.runCall.apply(e, args)
      } finally {
        this.close()
      }
      const parent = stack.kindAt(0)
      if (parent >= 0 && parent < 256) childGas[parent]! += Number(res.execResult.executionGasUsed)
      return res
    }
    e.runInterpreter = async (...args: unknown[]) => {
      stack.enter(KIND_INTERPRETER)
      try {
        return await proto.runInterpreter.apply(e, args)
      } finally {
        this.close()
      }
    }
    const precompileIndex = new Map<unknown, number>()
    e.runPrecompile = (code: unknown, ...rest: unknown[]) => {
      let idx = precompileIndex.get(code)
      if (idx === undefined) {
        idx = 31
        for (const [addr, f] of e.precompiles) if (f === code) idx = Math.min(parseInt(addr.slice(-2), 16), 31)
        precompileIndex.set(code, idx)
      }
      stack.enter(KIND_PRECOMPILE + idx)
      let r
      try {
        r = proto.runPrecompile.call(e, code, ...rest)
      } catch (err) {
        this.close()
        throw err
      }
      if (r instanceof Promise) {
        return r.then(
          (v: unknown) => {
            this.close()
            return v
          },
          (err: unknown) => {
            this.close()
            throw err
          },
        )
      }
      this.close()
      return r
    }
  }

  /** Timer-corrected exclusive time of a kind, in ms. */
  private corrected(kind: number): number {
    const { inRegionMs, perRegionMs } = this.calibration
    const v = this.exclusiveMs[kind]! - this.regions[kind]! * inRegionMs - this.children[kind]! * (perRegionMs - inRegionMs)
    return Math.max(0, v)
  }

  /** The profile so far. */
  profile(): OpcodeProfile {
    const rows: OpcodeRow[] = []
    let opcodeMs = 0
    /** Time of untimed (sampled-out) executions, estimated per opcode, taken back out of the interpreter's region. */
    let sampledOutMs = 0
    for (let op = 0; op < 256; op++) {
      if (this.count[op] === 0 && this.regions[op] === 0) continue
      const measured = this.corrected(op)
      const timedCount = this.count[op]! - this.untimed[op]!
      const ms = this.untimed[op] === 0 || timedCount <= 0 ? measured : (measured * this.count[op]!) / timedCount
      sampledOutMs += ms - measured
      opcodeMs += ms
      const inclusiveMs = FRAME_OPCODES.has(op) ? Math.max(ms, this.inclusiveNetMs[op]!) : ms
      const count = this.count[op]!
      rows.push({
        opcode: op,
        name: OPCODES[op]!.name,
        category: OPCODES[op]!.category,
        count,
        totalNs: ms * 1e6,
        inclusiveNs: inclusiveMs * 1e6,
        avgNs: count > 0 ? (ms * 1e6) / count : 0,
        pctTime: 0,
        cumulativePct: 0,
        staticGas: this.staticGas[op]!,
        dynamicGas: this.dynamicGas[op]!,
        childGas: this.childGasOf[op]!,
      })
    }
    const { categories } = rankOpcodeRows<OpcodeCategory, OpcodeRow>(rows)

    const precompiles: PrecompileRow[] = []
    let precompilesMs = 0
    for (let a = 0; a < 32; a++) {
      const kind = KIND_PRECOMPILE + a
      if (this.regions[kind] === 0) continue
      const ms = this.corrected(kind)
      precompilesMs += ms
      const count = this.regions[kind]!
      precompiles.push({ address: a, name: PRECOMPILE_NAMES[a] ?? `0x${a.toString(16)}`, count, totalNs: ms * 1e6, avgNs: (ms * 1e6) / count })
    }

    const windowMs = this.inclusiveNetMs[KIND_BLOCK]!
    return {
      calibration: this.calibration,
      rows,
      categories,
      precompiles,
      coverage: {
        windowMs,
        timerOverheadMs: this.inclusiveMs[KIND_BLOCK]! - windowMs,
        opcodesMs: opcodeMs,
        interpreterMs: Math.max(0, this.corrected(KIND_INTERPRETER) - sampledOutMs),
        callFramesMs: this.corrected(KIND_FRAME),
        precompilesMs,
        txSetupMs: this.corrected(KIND_TX),
        blockLevelMs: this.corrected(KIND_BLOCK),
        stateRootsMs: this.corrected(KIND_STATE_ROOT),
        opcodeSharePct: windowMs > 0 ? (opcodeMs / windowMs) * 100 : 0,
      },
    }
  }
}

/** The fields of an opcode row that ranking reads and fills. */
type RankedRow<C extends string> = { opcode: number; category: C; count: number; totalNs: number; pctTime: number; cumulativePct: number }

/**
 * Ranks opcode rows in place: sorted by exclusive time (ties by opcode), each with its share of the opcode
 * time and the cumulative share (the Pareto line); and the time per category. One definition for the
 * profiler, merged shards and medians over passes.
 */
export function rankOpcodeRows<C extends string, R extends RankedRow<C>>(rows: R[]): { rows: R[]; categories: { category: C; totalNs: number; count: number; pct: number }[] } {
  rows.sort((a, b) => b.totalNs - a.totalNs || a.opcode - b.opcode)
  const totalNs = rows.reduce((s, r) => s + r.totalNs, 0)
  let cum = 0
  for (const r of rows) {
    r.pctTime = totalNs > 0 ? (r.totalNs / totalNs) * 100 : 0
    cum += r.pctTime
    r.cumulativePct = cum
  }
  const byCategory = new Map<C, { totalNs: number; count: number }>()
  for (const r of rows) {
    const c = byCategory.get(r.category) ?? { totalNs: 0, count: 0 }
    c.totalNs += r.totalNs
    c.count += r.count
    byCategory.set(r.category, c)
  }
  const categories = [...byCategory.entries()]
    .map(([category, c]) => ({ category, totalNs: c.totalNs, count: c.count, pct: totalNs > 0 ? (c.totalNs / totalNs) * 100 : 0 }))
    .sort((a, b) => b.totalNs - a.totalNs)
  return { rows, categories }
}
