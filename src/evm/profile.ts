/**
 * The fast EVM's opcode probe: a separate, instrumented interpreter loop and frame runner, used only
 * by an `Evm` whose state carries a probe (`WorldState.probe`). The ordinary loops (`interpret`, the
 * tiered runner) are untouched, so with the probe off nothing is timed, counted or checked; profiled
 * execution always uses this interpreter loop (never compiled code), so every opcode is seen.
 *
 * What it reports, to a `FastEvmProbe` (the opcode profiler implements it, src/probes/opcodeProfiler.ts):
 * - regions, nested strictly (one region stack): each opcode's handler; each frame's interpreter loop
 *   (dispatch, static gas, stack checks); a frame's teardown (`leaveCall`/`leaveCreate`, the output copied
 *   back) as call-frame work; each precompile. A CALL-family or CREATE opcode that starts a frame keeps its
 *   region open until the child's result is back in the caller, so its inclusive time covers the child
 *   and its exclusive time is the opcode's own work (including the child frame's setup).
 * - counts with @ethereumjs's definition (an opcode counts when its logic handler starts, so the two
 *   EVMs' counts compare exactly): not counted when its static or dynamic gas charge fails, when its
 *   gas handler throws in @ethereumjs (stack underflow of an opcode with a dynamic-gas handler,
 *   RETURNDATACOPY out of bounds, a state change in a static frame other than TSTORE's), or for an
 *   invalid opcode; counted when @ethereumjs's logic throws (invalid jump, initcode too large, TSTORE in a
 *   static frame, stack overflow, underflow of an opcode without a dynamic-gas handler).
 * - gas: static (the fast EVM's static table) and dynamic (what the handler charged beyond it; for
 *   CALL-family and CREATE excluding the gas given to the child frame), and the gas child frames used
 *   (precompiles included). Each opcode's static + dynamic sum equals @ethereumjs's (their split differs
 *   for some opcodes, e.g. LOGn's topics); one known difference: the gas a CREATE forfeits to an address
 *   collision (EIP-7610, no frame runs) is dynamic gas here and child gas there.
 * - the rules above mirror @ethereumjs/evm 10.1.3 (where its gas and logic handlers throw): a new opcode or
 *   halt (e.g. Prague's) needs `EJS_DYNAMIC` and `haltCounts` checked against it.
 */
import { type CallResult, type Evm, Frame, Halt, HaltReason, OOG, returnFromCall, returnFromCreate } from './interpreter.js'
import type { Precompiles } from './precompiles.js'
import type { Block } from '@ethereumjs/block'
import { type FastBlockHooks, type FastBlockOptions, type FastBlockResult, FastBlockRun } from './block.js'
import type { WorldState } from './state.js'

/** What the instrumented loop reports. Regions nest strictly; `exit` closes the innermost one. */
export interface FastEvmProbe {
  enterOpcode(op: number): void
  enterInterpreter(): void
  enterFrame(): void
  /** `address`: the precompile's address as a number (1 … 0x11). */
  enterPrecompile(address: number): void
  exit(): void
  /**
   * Closes a sampled opcode's region; false if the probe dropped the sample (an outlier: the time stays with
   * the enclosing region, and the execution counts as untimed).
   */
  exitSample(): boolean
  /**
   * One counted execution of `op`, with its static and dynamic gas; `timed` false if it ran outside an
   * opcode region (sampling: its time is then in the interpreter's region, for the probe to apportion).
   */
  counted(op: number, staticGas: number, dynamicGas: number, timed: boolean): void
  /**
   * Opcodes timed on every execution (1): must include the CALL family and CREATE; the others are timed
   * on a deterministic pseudo-random sample of about one in `sampleStride` executions (1 = all).
   */
  readonly alwaysTimed: Uint8Array
  readonly sampleStride: number
  /** Gas used by a child frame (or precompile) that `op` called. */
  childGas(op: number, gas: number): void
}

const EMPTY = new Uint8Array(0)

/** Opcodes with a dynamic-gas handler in @ethereumjs/evm 10.1.3 (its stack underflow happens there, uncounted). */
const EJS_DYNAMIC = new Uint8Array(256)
for (const op of [0x0a, 0x20, 0x31, 0x37, 0x39, 0x3b, 0x3c, 0x3e, 0x3f, 0x51, 0x52, 0x53, 0x54, 0x55, 0x5e, 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xfa, 0xfd, 0xff]) EJS_DYNAMIC[op] = 1

const FRAME_OP = new Uint8Array(256)
for (const op of [0xf0, 0xf1, 0xf2, 0xf4, 0xf5, 0xfa]) FRAME_OP[op] = 1

/** An exceptional halt @ethereumjs raises inside the opcode's logic (so the opcode counts there). */
function haltCounts(op: number, reason: HaltReason): boolean {
  return reason === HaltReason.InvalidJump || reason === HaltReason.InitcodeTooLarge || (reason === HaltReason.StaticViolation && op === 0x5d)
}

/** Gas used by precompiles called inline by the opcode now running (set by the wrapped precompiles). */
let inlineChildGas = 0

const wrappedPrecompiles = new WeakMap<FastEvmProbe, WeakMap<Precompiles, Precompiles>>()

/** `pre` with each precompile timed as a region of its own and its gas used recorded (cached per probe and map). */
export function profiledPrecompiles(pre: Precompiles, probe: FastEvmProbe): Precompiles {
  let byMap = wrappedPrecompiles.get(probe)
  if (byMap === undefined) wrappedPrecompiles.set(probe, (byMap = new WeakMap()))
  let m = byMap.get(pre)
  if (m !== undefined) return m
  m = new Map()
  for (const [addr, fn] of pre) {
    const a = parseInt(addr, 16)
    m.set(addr, (data, gas) => {
      probe.enterPrecompile(a)
      let res: CallResult
      try {
        res = fn(data, gas)
      } finally {
        probe.exit()
      }
      inlineChildGas += gas - res.gasLeft
      return res
    })
  }
  byMap.set(pre, m)
  return m
}

/** A CALL-family or CREATE opcode waiting for its child frame. */
interface Pending {
  op: number
  staticGas: number
  dynamicGas: number
  childStartGas: number
}

/**
 * As `Evm.execute`, instrumented: runs `root` and every frame it calls with the profiled loop. The
 * caller's interpreter region and its calling opcode's region stay open while the child runs.
 */
export function executeProfiled(e: Evm, root: Frame, p: FastEvmProbe): CallResult {
  const pending: Pending[] = []
  let f = root
  p.enterInterpreter()
  for (;;) {
    runFrameProfiled(e, f, p, pending)
    const child = e.child
    if (child !== undefined) {
      e.child = undefined
      child.parent = f
      f = child
      p.enterInterpreter()
      continue
    }
    p.exit() // the frame's interpreter region
    const parent = f.parent
    const created = f.isCreate ? f.address : undefined
    p.enterFrame()
    let res: CallResult
    try {
      res = created !== undefined ? e.leaveCreate(f) : e.leaveCall(f)
    } finally {
      p.exit()
    }
    if (parent === undefined) return res
    const w = pending.pop()!
    f = parent
    f.running = true
    p.enterFrame()
    if (created !== undefined) returnFromCreate(f, created, res)
    else returnFromCall(f, res)
    p.exit()
    p.exit() // the calling opcode's region: its inclusive time covers the child
    p.counted(w.op, w.staticGas, w.dynamicGas, true)
    p.childGas(w.op, w.childStartGas - res.gasLeft)
  }
}

function runFrameProfiled(e: Evm, f: Frame, p: FastEvmProbe, pending: Pending[]): void {
  try {
    interpretProfiled(e, f, p, pending)
  } catch (err) {
    if (!(err instanceof Halt)) throw err
    f.status = 2
    f.gas = 0
    f.output = EMPTY
    f.running = false
  }
}

/** The interpreter loop with every opcode timed and counted (see the module comment). */
function interpretProfiled(e: Evm, f: Frame, p: FastEvmProbe, pending: Pending[]): void {
  const t = e.tables
  const handlers = t.handlers
  const gasT = t.gas
  const stackIn = t.stackIn
  const stackMax = t.stackMax
  const always = p.alwaysTimed
  const code = f.code
  const n = code.length
  while (f.running) {
    const pc = f.pc
    if (pc >= n) {
      f.running = false
      return
    }
    const op = code[pc]!
    const g = gasT[op]!
    if (g > f.gas) throw OOG
    f.gas -= g
    const sp = f.sp
    if (sp < stackIn[op]!) {
      if (EJS_DYNAMIC[op] === 0) p.counted(op, g, 0, false)
      throw new Halt(HaltReason.StackUnderflow)
    }
    if (sp > stackMax[op]!) {
      p.counted(op, g, 0, false)
      throw new Halt(HaltReason.StackOverflow)
    }
    f.pc = pc + 1
    const before = f.gas
    if (FRAME_OP[op] === 1) {
      frameOp(e, f, p, pending, op, g, before)
      continue
    }
    const timed = always[op] === 1 || --sampler.skip < 0
    if (timed) p.enterOpcode(op)
    try {
      handlers[op]!(e, f)
    } catch (err) {
      if (timed) p.exit()
      if (err instanceof Halt && haltCounts(op, err.reason)) p.counted(op, g, 0, timed)
      throw err
    }
    let kept = timed
    if (timed) {
      if (always[op] === 1) p.exit()
      else {
        kept = p.exitSample()
        sampler.skip = nextSkip(p.sampleStride)
      }
    }
    p.counted(op, g, before - f.gas, kept)
  }
}

/**
 * Which cheap opcode executions are timed: a countdown drawn uniformly from 0 … 2·stride−2 (mean
 * stride−1 skipped) by a xorshift generator reset at every block, so a profile times the same
 * executions every run and no loop aliases with a fixed stride.
 */
const sampler = { skip: 0, state: 0x9e3779b9 }

export function resetSampler(stride: number): void {
  sampler.state = 0x9e3779b9
  sampler.skip = stride > 1 ? nextSkip(stride) : -1
}

function nextSkip(stride: number): number {
  if (stride <= 1) return -1
  let x = sampler.state
  x ^= x << 13
  x ^= x >>> 17
  x ^= x << 5
  sampler.state = x >>> 0
  return sampler.state % (2 * stride - 1)
}

/** A CALL-family or CREATE opcode: its region stays open if it starts a child frame (closed in executeProfiled). */
function frameOp(e: Evm, f: Frame, p: FastEvmProbe, pending: Pending[], op: number, g: number, before: number): void {
  // A value-bearing CALL/CALLCODE gives the callee a 2,300 stipend on top of what the caller pays.
  const stipend = (op === 0xf1 || op === 0xf2) && f.stack[f.sp - 3] !== 0n ? 2300 : 0
  inlineChildGas = 0
  p.enterOpcode(op)
  try {
    e.tables.handlers[op]!(e, f)
  } catch (err) {
    p.exit()
    if (err instanceof Halt && haltCounts(op, err.reason)) p.counted(op, g, 0, true)
    throw err
  }
  const child = e.child
  if (child !== undefined) {
    // Suspended: the caller paid the dynamic gas and the child's gas (less any stipend).
    const childStartGas = child.gas
    pending.push({ op, staticGas: g, dynamicGas: before - f.gas - (childStartGas - stipend), childStartGas })
    return
  }
  // Answered at once (precompile, no code, depth or balance failure): the child's gas came back.
  p.exit()
  const used = inlineChildGas
  p.counted(op, g, before - f.gas - used + stipend, true)
  if (used > 0) p.childGas(op, used)
}

/** The block and transaction boundaries, for the probe's partition of a block's execution window. */
export interface FastBlockProbe extends FastEvmProbe, FastBlockHooks {
  blockStart(): void
  blockEnd(): void
}

/**
 * A block on the fast EVM with the probe on: every Evm over `state` runs the instrumented loop; the block
 * (its start and end work, receipts) and each transaction (validation, gas purchase, fees, finalization)
 * are regions of their own around the frames, and so is each pre-Byzantium per-transaction state root
 * (`stateRoot`, the engine's, awaited after the transaction: see `FastBlockRun.runAsync`).
 */
export async function executeBlockFastProfiled(state: WorldState, block: Block, opts: FastBlockOptions, probe: FastBlockProbe, stateRoot?: () => Promise<Uint8Array>): Promise<FastBlockResult> {
  probe.blockStart()
  resetSampler(probe.sampleStride)
  try {
    // The block's start (DAO fork, the EIP-4788 system call) runs uninstrumented, timed as block-level
    // work: @ethereumjs writes the beacon root's two slots directly, without running the contract, so
    // neither profile counts opcodes there. Everything after it (transactions, the block's end) is profiled.
    const run = new FastBlockRun(state, block, opts)
    state.probe = probe
    return await run.runAsync(stateRoot, probe)
  } finally {
    probe.blockEnd()
    state.probe = undefined
  }
}
