/**
 * The fast EVM's compiler tier: EVM basic blocks compiled to JavaScript functions, lazily, per code
 * hash, fork and compile threshold, with the interpreter as the tier for cold blocks (tiers.ts says
 * which tier runs and when a block is hot).
 *
 * A basic block starts at pc 0, at every JUMPDEST, after every JUMPI and after every call or create
 * (a frame that calls is suspended, so the code after a call is entered afresh); it ends at a jump,
 * a halt, a call or create, or where the next block starts. Its compiled function:
 * - checks the stack once for the whole block (height needed, growth allowed); if that fails it
 *   returns false and the interpreter runs the block, so under/overflow happens at the same opcode;
 * - charges static gas once per *segment*: a segment ends after every opcode that reads the gas left
 *   (GAS; SSTORE, whose EIP-2200 stipend check reads it; calls and creates, which end the block), so
 *   every such read sees exactly the gas the interpreter would. If a segment's static gas is not all
 *   there, the function writes the stack back and returns false at the segment's first opcode, and the
 *   interpreter runs on from there: a static out-of-gas happens at the same opcode. Dynamic gas
 *   (memory, copies, KECCAK256, EXP, cold accesses) is charged inline, in order; with the segment's
 *   static gas already taken it can run out an opcode or more before the interpreter would, but only
 *   when the interpreter too runs out before the segment ends: an exceptional halt either way (all
 *   gas consumed, the frame's changes, logs and refunds undone), so no outcome differs;
 * - keeps the stack in JavaScript locals (PUSH constants folded into the code, DUP/SWAP/POP free),
 *   and writes it back only where an opcode runs through its interpreter handler (calls, logs, copies,
 *   and the rarer opcodes) and at the block's end.
 * The compiled functions and the interpreter share every handler and helper, so the semantics cannot
 * drift apart; `test/evmCompiler.test.ts` runs random programs and gas limits in every tier.
 */
import { keccak256 } from '../util/keccak.js'
import type { CodeInfo, Evm, ForkTables, Frame } from './interpreter.js'
import * as I from './interpreter.js'

export { DEFAULT_EVM_TIER, EVM_TIERS, type EvmTier, TIERED_THRESHOLD, compileThreshold, isEvmTier } from './tiers.js'

/** A compiled basic block: runs it and returns true, or returns false for the interpreter to run (the rest of) it. */
export type BlockFn = (e: Evm, f: Frame) => boolean

export interface Program {
  readonly fork: string
  /** Entries of a block before it is compiled (0: on its first entry). */
  readonly threshold: number
  /** 1 at every block start (made on the first compilation). */
  starts: Uint8Array | undefined
  /** The compiled block starting at a pc, once compiled. */
  readonly blocks: (BlockFn | undefined)[]
  /** Entries of each not-yet-compiled block, counted up to the threshold (the interpreter counts jumps' targets). */
  readonly hits: Uint16Array
}

/** Counters of the compiler (process-wide; tests and debugging). */
export const compilerStats = { blocksCompiled: 0, compileMs: 0, bails: 0 }

const JUMPI = 0x57
const ENDS_BEFORE_NEXT = new Set([0x57, 0xf0, 0xf1, 0xf2, 0xf4, 0xf5, 0xfa])

/** The block starts of `info`'s code. */
export function blockStarts(info: CodeInfo): Uint8Array {
  const code = info.code
  const n = code.length
  const starts = new Uint8Array(n + 1)
  starts[0] = 1
  for (let pc = 0; pc < n; pc++) {
    const op = code[pc]!
    if (info.jumpdests[pc] === 1) starts[pc] = 1
    if (op >= 0x60 && op <= 0x7f) pc += op - 0x5f
    else if (ENDS_BEFORE_NEXT.has(op)) starts[pc + 1] = 1
  }
  return starts
}

/**
 * The program of `info`'s code for a fork and threshold, kept on the code's analysis (cached per code
 * hash). A second fork or threshold in the same process gets a program of its own, so tiers measured
 * side by side never share compiled blocks. Cheap to make: what the interpreter needs is a zeroed
 * counter per byte of code; the block starts and functions come with the first compilation.
 */
export function programFor(info: CodeInfo, fork: string, threshold: number): Program {
  const p = info.program
  if (p !== undefined && p.fork === fork && p.threshold === threshold) return p
  info.programs ??= []
  let q = info.programs.find((x) => x.fork === fork && x.threshold === threshold)
  if (q === undefined) {
    q = { fork, threshold, starts: undefined, blocks: [], hits: new Uint16Array(info.code.length) }
    info.programs.push(q)
  }
  info.program = q
  return q
}

/**
 * Runs `f` to its end or its next call: compiled blocks where compiled, the interpreter elsewhere. The
 * interpreter (`interpretTiered`) hands back only where a jump lands on a compiled block or on one that
 * has just become hot, so cold code runs at the interpreter's speed; a compiled block that falls
 * through (or returns from a call) into a block not yet compiled counts an entry of that block here.
 */
export function runTiered(e: Evm, f: Frame): void {
  const threshold = e.compileThreshold
  const prog = programFor(f.info, e.rules.fork, threshold)
  const { blocks, hits } = prog
  const n = f.code.length
  while (f.running) {
    const pc = f.pc
    if (pc >= n) {
      f.running = false
      return
    }
    let fn = blocks[pc]
    if (fn === undefined) {
      const h = hits[pc]!
      if (h < threshold) {
        hits[pc] = h + 1
        I.interpretTiered(e, f, prog)
        continue
      }
      fn = blocks[pc] = compileBlock(f.info, e.tables, (prog.starts ??= blockStarts(f.info)), pc)
    }
    if (!fn(e, f)) {
      compilerStats.bails++
      I.interpretTiered(e, f, prog)
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Code generation.

/** What compiled code reaches by name (a closure over these, bound once per block). */
function helpers(): Record<string, unknown> {
  return {
    M256: (1n << 256n) - 1n,
    I,
    OOG: I.OOG,
    HALT_INVALID: new I.Halt(I.HaltReason.InvalidOpcode),
    HALT_JUMP: new I.Halt(I.HaltReason.InvalidJump),
    sdiv: (a: bigint, b: bigint) => (b === 0n ? 0n : BigInt.asUintN(256, I.toSigned(a) / I.toSigned(b))),
    smod: (a: bigint, b: bigint) => (b === 0n ? 0n : BigInt.asUintN(256, I.toSigned(a) % I.toSigned(b))),
    signext: (k: bigint, x: bigint) => (k < 31n ? BigInt.asUintN(256, BigInt.asIntN(Number(k) * 8 + 8, x)) : x),
    slt: (a: bigint, b: bigint) => (I.toSigned(a) < I.toSigned(b) ? 1n : 0n),
    sgt: (a: bigint, b: bigint) => (I.toSigned(a) > I.toSigned(b) ? 1n : 0n),
    byte: (i: bigint, x: bigint) => (i >= 32n ? 0n : (x >> (248n - i * 8n)) & 0xffn),
    sar: (shift: bigint, v: bigint) => {
      const x = I.toSigned(v)
      return shift >= 256n ? (x < 0n ? (1n << 256n) - 1n : 0n) : BigInt.asUintN(256, x >> shift)
    },
    exp: (e: Evm, f: Frame, base: bigint, x: bigint) => {
      if (x !== 0n) I.useGas(f, e.rules.expByte * Math.ceil(x.toString(16).length / 2))
      return I.modPow(base, x)
    },
    keccak: (f: Frame, off: bigint, size: bigint) => {
      const o = I.memExpand(f, off, size)
      const n = Number(size)
      I.useGas(f, 6 * I.words(n))
      return I.bytesToWord(keccak256(f.mem.subarray(o, o + n)))
    },
    calldataload: I.calldataload,
    // memExpand may replace the memory (and its view): it runs before the view is read.
    mload: (f: Frame, off: bigint) => {
      const o = I.memExpand(f, off, 32n)
      return I.readWord(f.memView, o)
    },
    mstore: (f: Frame, off: bigint, v: bigint) => {
      const o = I.memExpand(f, off, 32n)
      I.writeWord(f.memView, o, v)
    },
    mstore8: (f: Frame, off: bigint, v: bigint) => {
      const o = I.memExpand(f, off, 1n)
      f.mem[o] = Number(v & 0xffn)
    },
    // The same with an offset known at compile time (a literal below 2^32): no BigInt checks unless memory grows.
    mloadK: (f: Frame, o: number) => {
      if (o + 32 > f.memWords * 32) I.memExpand(f, BigInt(o), 32n)
      return I.readWord(f.memView, o)
    },
    mstoreK: (f: Frame, o: number, v: bigint) => {
      if (o + 32 > f.memWords * 32) I.memExpand(f, BigInt(o), 32n)
      I.writeWord(f.memView, o, v)
    },
    keccakK: (f: Frame, o: number, n: number) => {
      if (n > 0 && o + n > f.memWords * 32) I.memExpand(f, BigInt(o), BigInt(n))
      I.useGas(f, 6 * I.words(n))
      return I.bytesToWord(keccak256(f.mem.subarray(o, o + n)))
    },
    sload: I.sload,
    sstore: I.sstore,
    ret: (f: Frame, off: bigint, size: bigint, status: 0 | 1) => {
      const o = I.memExpand(f, off, size)
      f.output = f.mem.slice(o, o + Number(size))
      f.status = status
      f.running = false
    },
    jump: (f: Frame, dest: bigint) => {
      f.pc = I.jumpTarget(f, dest)
    },
  }
}

let H: Record<string, unknown> | undefined
const HELPER_NAMES = ['M256', 'I', 'OOG', 'HALT_INVALID', 'HALT_JUMP', 'sdiv', 'smod', 'signext', 'slt', 'sgt', 'byte', 'sar', 'exp', 'keccak', 'keccakK', 'calldataload', 'mload', 'mloadK', 'mstore', 'mstoreK', 'mstore8', 'sload', 'sstore', 'ret', 'jump']

interface Op {
  pc: number
  op: number
}

/** A stack entry the block holds: a local's name or a literal, and whether the real stack lacks it. */
interface Slot {
  v: string
  dirty: boolean
}

/** Opcodes that read the gas left: a segment ends after each (calls and creates end the block). */
const READS_GAS = new Set([0x5a, 0x55])
const TERMINATES = new Set([0x00, 0x56, 0x57, 0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xfa, 0xfd, 0xfe, 0xff])

/** Opcodes without gas beyond their static cost or side effects, folded when every operand is a literal (EXP has dynamic gas: not here). */
const FOLDABLE = new Set([0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0b, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d])

/** The value of a literal the code generator wrote (`0x…n` or `0n`), undefined for a local or an expression. */
function litValue(v: string | undefined): bigint | undefined {
  if (v === '0n') return 0n
  return v !== undefined && /^0x[0-9a-f]+n$/.test(v) ? BigInt(v.slice(0, -1)) : undefined
}

/** A literal below 2^32 as a number (a memory offset or size known at compile time), else undefined. */
function small(v: string): number | undefined {
  const x = litValue(v)
  return x !== undefined && x < 0x1_0000_0000n ? Number(x) : undefined
}

/**
 * `op` on literal operands (`args[0]` the top of the stack), computed by the interpreter's own handler on a
 * scratch stack: the folded value is the interpreter's by construction. The handlers of FOLDABLE opcodes read
 * and write only the frame's stack and height.
 */
function fold(op: number, args: readonly bigint[]): bigint {
  const scratch = { stack: [...args].reverse(), sp: args.length }
  I.HANDLERS[op]!(undefined as unknown as Evm, scratch as unknown as Frame)
  return scratch.stack[scratch.sp - 1]!
}

/** Compiles the block starting at `start` into a function (see the module comment for its contract). */
export function compileBlock(info: CodeInfo, t: ForkTables, starts: Uint8Array, start: number): BlockFn {
  const t0 = performance.now()
  const src = blockSource(info, t, starts, start)
  H ??= helpers()
  const make = new Function('H', `"use strict";\nconst { ${HELPER_NAMES.join(', ')} } = H;\nreturn function block_${start}(e, f) {\n${src}\n}`) as (h: unknown) => BlockFn
  const fn = make(H)
  compilerStats.blocksCompiled++
  compilerStats.compileMs += performance.now() - t0
  return fn
}

/** The body of a block's function (exported for tests and debugging). */
export function blockSource(info: CodeInfo, t: ForkTables, starts: Uint8Array, start: number): string {
  const code = info.code
  const n = code.length
  const ops: Op[] = []
  let pc = start
  let end: 'fallthrough' | 'terminator' | 'codeEnd' = 'codeEnd'
  while (pc < n) {
    const op = code[pc]!
    ops.push({ pc, op })
    pc += op >= 0x60 && op <= 0x7f ? op - 0x5e : 1
    if (TERMINATES.has(op) || t.handlers[op] === I.INVALID_OPCODE) {
      end = 'terminator'
      break
    }
    if (pc < n && starts[pc] === 1) {
      end = 'fallthrough'
      break
    }
  }
  const next = pc

  // Stack needs of the whole block, and segments (static gas charged at each segment's start).
  let h = 0
  let need = 0
  let up = 0
  const segStart: boolean[] = []
  const segGas: number[] = []
  let seg = -1
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!.op
    if (i === 0 || READS_GAS.has(ops[i - 1]!.op)) {
      segStart[i] = true
      segGas[++seg] = 0
    }
    segGas[seg]! += t.gas[op]!
    const [inp, out] = I.STACK[op] ?? [0, 0]
    if (t.handlers[op] !== I.INVALID_OPCODE) {
      need = Math.max(need, inp - h)
      h += out - inp
      up = Math.max(up, h)
    }
  }

  const L: string[] = []
  const emit = (line: string) => L.push(line)
  let tmp = 0
  const local = () => `t${tmp++}`
  const slots = new Map<number, Slot>()
  h = 0
  const at = (p: number) => (p === 0 ? 'sp0' : p > 0 ? `sp0 + ${p}` : `sp0 - ${-p}`)
  const get = (p: number): string => {
    let v = slots.get(p)
    if (v === undefined) {
      const name = local()
      emit(`const ${name} = s[${at(p)}];`)
      v = { v: name, dirty: false }
      slots.set(p, v)
    }
    return v.v
  }
  const pop = (): string => {
    h--
    const v = get(h)
    slots.delete(h)
    return v
  }
  const push = (v: string) => {
    slots.set(h, { v, dirty: true })
    h++
  }
  /** `expr` evaluated once into a local, pushed. */
  const pushExpr = (expr: string) => {
    const name = local()
    emit(`const ${name} = ${expr};`)
    push(name)
  }
  const flushCode = (): string => {
    const out: string[] = []
    for (const [p, v] of slots) if (p < h && v.dirty) out.push(`s[${at(p)}] = ${v.v};`)
    out.push(`f.sp = ${at(h)};`)
    return out.join(' ')
  }
  const flush = () => {
    emit(flushCode())
    for (const v of slots.values()) v.dirty = false
  }
  /** Runs `op` through its interpreter handler on the real stack. */
  const viaHandler = (o: Op) => {
    flush()
    emit(`f.pc = ${o.pc + 1}; I.HANDLERS[${o.op}](e, f);`)
    const [inp, out] = I.STACK[o.op] ?? [0, 0]
    slots.clear()
    h += out - inp
  }
  const lit = (v: bigint) => `0x${v.toString(16)}n`

  emit('const s = f.stack; const sp0 = f.sp;')
  emit(`if (sp0 < ${need} || sp0 > ${1024 - up}) return false;`)
  seg = -1
  for (let i = 0; i < ops.length; i++) {
    const o = ops[i]!
    const op = o.op
    if (segStart[i] === true) {
      const g = segGas[++seg]!
      if (g > 0) {
        // Not enough gas for the segment: the stack as the interpreter expects it, and the interpreter from here.
        emit(i === 0 ? `if (f.gas < ${g}) return false;` : `if (f.gas < ${g}) { ${flushCode()} f.pc = ${o.pc}; return false; }`)
        emit(`f.gas -= ${g};`)
      }
    }
    if (t.handlers[op] === I.INVALID_OPCODE) {
      emit('throw HALT_INVALID;')
      return L.join('\n')
    }
    if (op >= 0x60 && op <= 0x7f) {
      push(lit(info.pushes[o.pc]!))
      continue
    }
    if (op >= 0x80 && op <= 0x8f) {
      push(get(h - (op - 0x7f)))
      continue
    }
    if (op >= 0x90 && op <= 0x9f) {
      const d = op - 0x8f
      const a = get(h - 1)
      const b = get(h - 1 - d)
      slots.set(h - 1, { v: b, dirty: true })
      slots.set(h - 1 - d, { v: a, dirty: true })
      continue
    }
    // Pure arithmetic on operands all known at compile time: the result is a literal (no code).
    const folded = FOLDABLE.has(op) ? foldLiterals(op) : undefined
    if (folded !== undefined) {
      push(lit(folded))
      continue
    }
    switch (op) {
      case 0x00:
        emit('f.running = false; return true;')
        return L.join('\n')
      case 0x01: {
        const a = pop()
        const b = pop()
        pushExpr(`(${a} + ${b}) & M256`)
        break
      }
      case 0x02: {
        const a = pop()
        const b = pop()
        pushExpr(`(${a} * ${b}) & M256`)
        break
      }
      case 0x03: {
        const a = pop()
        const b = pop()
        pushExpr(`(${a} - ${b}) & M256`)
        break
      }
      case 0x04: {
        const a = pop()
        const b = pop()
        pushExpr(`${b} === 0n ? 0n : ${a} / ${b}`)
        break
      }
      case 0x05:
        binary('sdiv')
        break
      case 0x06: {
        const a = pop()
        const b = pop()
        pushExpr(`${b} === 0n ? 0n : ${a} % ${b}`)
        break
      }
      case 0x07:
        binary('smod')
        break
      case 0x08:
      case 0x09: {
        const a = pop()
        const b = pop()
        const m = pop()
        pushExpr(`${m} === 0n ? 0n : (${a} ${op === 0x08 ? '+' : '*'} ${b}) % ${m}`)
        break
      }
      case 0x0a: {
        const a = pop()
        const b = pop()
        pushExpr(`exp(e, f, ${a}, ${b})`)
        break
      }
      case 0x0b:
        binary('signext')
        break
      case 0x10:
      case 0x11:
      case 0x14: {
        const a = pop()
        const b = pop()
        pushExpr(`${a} ${op === 0x10 ? '<' : op === 0x11 ? '>' : '==='} ${b} ? 1n : 0n`)
        break
      }
      case 0x12:
        binary('slt')
        break
      case 0x13:
        binary('sgt')
        break
      case 0x15: {
        const a = pop()
        pushExpr(`${a} === 0n ? 1n : 0n`)
        break
      }
      case 0x16:
      case 0x17:
      case 0x18: {
        const a = pop()
        const b = pop()
        pushExpr(`${a} ${op === 0x16 ? '&' : op === 0x17 ? '|' : '^'} ${b}`)
        break
      }
      case 0x19: {
        const a = pop()
        pushExpr(`M256 ^ ${a}`)
        break
      }
      case 0x1a:
        binary('byte')
        break
      case 0x1b: {
        const a = pop()
        const b = pop()
        pushExpr(`${a} >= 256n ? 0n : (${b} << ${a}) & M256`)
        break
      }
      case 0x1c: {
        const a = pop()
        const b = pop()
        pushExpr(`${a} >= 256n ? 0n : ${b} >> ${a}`)
        break
      }
      case 0x1d:
        binary('sar')
        break
      case 0x20: {
        const a = pop()
        const b = pop()
        const [o, n] = [small(a), small(b)]
        pushExpr(o !== undefined && n !== undefined ? `keccakK(f, ${o}, ${n})` : `keccak(f, ${a}, ${b})`)
        break
      }
      case 0x30:
        pushExpr('I.addressWord(f)')
        break
      case 0x32:
        pushExpr('e.originWord')
        break
      case 0x33:
        pushExpr('I.callerWord(f)')
        break
      case 0x34:
        pushExpr('f.value')
        break
      case 0x35: {
        const a = pop()
        const o = small(a)
        pushExpr(o !== undefined ? `I.calldataAt(f, ${o})` : `calldataload(f, ${a})`)
        break
      }
      case 0x36:
        pushExpr('BigInt(f.data.length)')
        break
      case 0x38:
        push(lit(BigInt(n)))
        break
      case 0x3a:
        pushExpr('e.gasPrice')
        break
      case 0x3d:
        pushExpr('BigInt(f.returnData.length)')
        break
      case 0x42:
        pushExpr('e.block.timestamp')
        break
      case 0x43:
        pushExpr('e.block.number')
        break
      case 0x45:
        pushExpr('e.block.gasLimit')
        break
      case 0x46:
        pushExpr('e.block.chainId')
        break
      case 0x47:
        pushExpr('f.self.balance')
        break
      case 0x48:
        pushExpr('e.block.baseFee')
        break
      case 0x4a:
        pushExpr('e.block.blobBaseFee')
        break
      case 0x50:
        pop()
        break
      case 0x51: {
        const a = pop()
        const o = small(a)
        pushExpr(o !== undefined ? `mloadK(f, ${o})` : `mload(f, ${a})`)
        break
      }
      case 0x52:
      case 0x53: {
        const a = pop()
        const b = pop()
        const o = small(a)
        emit(op === 0x52 && o !== undefined ? `mstoreK(f, ${o}, ${b});` : `${op === 0x52 ? 'mstore' : 'mstore8'}(f, ${a}, ${b});`)
        break
      }
      case 0x54: {
        const a = pop()
        pushExpr(`sload(e, f, ${a})`)
        break
      }
      case 0x55: {
        const a = pop()
        const b = pop()
        emit(`sstore(e, f, ${a}, ${b});`)
        break
      }
      case 0x56: {
        const d = pop()
        flush()
        const dest = constDest(d)
        if (dest === undefined) emit(`jump(f, ${d}); return true;`)
        else if (dest === -1) emit('throw HALT_JUMP;')
        else emit(`f.pc = ${dest}; return true;`)
        return L.join('\n')
      }
      case JUMPI: {
        const d = pop()
        const c = pop()
        flush()
        const dest = constDest(d)
        if (dest === undefined) emit(`if (${c} !== 0n) jump(f, ${d}); else f.pc = ${next}; return true;`)
        else if (dest === -1) emit(`if (${c} !== 0n) throw HALT_JUMP; f.pc = ${next}; return true;`)
        else emit(`f.pc = ${c} !== 0n ? ${dest} : ${next}; return true;`)
        return L.join('\n')
      }
      case 0x58:
        push(lit(BigInt(o.pc)))
        break
      case 0x59:
        pushExpr('BigInt(f.memWords * 32)')
        break
      case 0x5a:
        pushExpr('BigInt(f.gas)')
        break
      case 0x5b:
        break
      case 0x5f:
        push('0n')
        break
      case 0xf3:
      case 0xfd: {
        const a = pop()
        const b = pop()
        emit(`ret(f, ${a}, ${b}, ${op === 0xf3 ? 0 : 1}); return true;`)
        return L.join('\n')
      }
      case 0xfe:
        emit('throw HALT_INVALID;')
        return L.join('\n')
      default:
        viaHandler(o)
        if (TERMINATES.has(op)) {
          // Calls and creates (the frame may now wait for its callee: pc is already past the opcode) and SELFDESTRUCT.
          emit('return true;')
          return L.join('\n')
        }
    }
  }
  // The block runs into the next one, or off the end of the code (an implicit STOP).
  if (end === 'codeEnd') emit('f.running = false; return true;')
  else {
    flush()
    emit(`f.pc = ${next}; return true;`)
  }
  return L.join('\n')

  /** The top `inp` operands of `op` if all are literals, folded by the interpreter's handler; else undefined (nothing popped). */
  function foldLiterals(op: number): bigint | undefined {
    const inp = I.STACK[op]![0]
    const args: bigint[] = []
    for (let i = 1; i <= inp; i++) {
      const v = litValue(slots.get(h - i)?.v)
      if (v === undefined) return undefined
      args.push(v)
    }
    for (let i = 0; i < inp; i++) pop()
    return fold(op, args)
  }

  function binary(fn: string): void {
    const a = pop()
    const b = pop()
    pushExpr(`${fn}(${a}, ${b})`)
  }

  /** A jump target known at compile time: its pc, -1 if it is not a JUMPDEST, undefined if not a literal. */
  function constDest(d: string): number | undefined {
    if (!d.startsWith('0x')) return undefined
    const v = BigInt(d.slice(0, -1))
    return v < BigInt(n) && info.jumpdests[Number(v)] === 1 ? Number(v) : -1
  }
}
