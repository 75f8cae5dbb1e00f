/**
 * The JIT bound (the study's Amdahl argument): a compiler can speed up the opcodes whose work is pure
 * interpretation (stack, arithmetic, bitwise, memory, control); host opcodes (state and environment
 * access) and system opcodes (KECCAK256, calls, creates, call-context copies) already run as native
 * library code. If the compilable part ran k times faster, execution could at best speed up
 * 1 / ((1 − c) + c / k), c = its share of the time.
 *
 * Three bases for c, from the opcode profile:
 * - `opcodes`: share of the summed opcode time (the study's definition);
 * - `execution`: share of the whole execution window (transaction setup, call frames, precompiles and
 *   block-level work stay as they are);
 * - `executionAndInterpreter`: as `execution`, with the interpreter loop (dispatch, gas bookkeeping between
 *   opcodes) counted as compilable too: what a compiler removes at most.
 */
import type { OpcodeProfileJson } from '../run/schema.js'
import { OPCODES, type OpcodeCategory } from '../probes/opcodes.js'

export const COMPILABLE_CATEGORIES: readonly OpcodeCategory[] = ['stack', 'arithmetic', 'bitwise', 'memory', 'control']
const COMPILABLE = new Set<string>(COMPILABLE_CATEGORIES)

/** Speed-up factors of the compilable part (null = infinitely fast). */
export const JIT_FACTORS: readonly (number | null)[] = [10, 100, null]

/** Amdahl's bound: 1 / ((1 − c) + c/k); k = null: 1 / (1 − c). */
export function amdahl(c: number, k: number | null): number {
  if (k === null) return c < 1 ? 1 / (1 - c) : Number.POSITIVE_INFINITY
  return 1 / (1 - c + c / k)
}

export type JitBase = 'opcodes' | 'execution' | 'executionAndInterpreter'

export type JitAnalysis = {
  definition: string
  categories: readonly string[]
  /** Every defined opcode in the compilable categories (the set is stated, not implied). */
  opcodes: string[]
  /** Compilable time and the shares it is of each base. */
  compilableMs: number
  shares: Record<JitBase, number>
  bounds: { k: number | null; label: string; opcodes: number; execution: number; executionAndInterpreter: number }[]
}

export function analyzeJit(profile: OpcodeProfileJson): JitAnalysis {
  const opcodeNs = profile.categories.reduce((s, c) => s + c.totalNs, 0)
  const compilableNs = profile.categories.filter((c) => COMPILABLE.has(c.category)).reduce((s, c) => s + c.totalNs, 0)
  const cov = profile.coverage
  const windowNs = cov.windowMs * 1e6
  const share = (x: number, of: number) => (of > 0 ? Math.min(1, x / of) : 0)
  const shares: Record<JitBase, number> = {
    opcodes: share(compilableNs, opcodeNs),
    execution: share(compilableNs, windowNs),
    executionAndInterpreter: share(compilableNs + cov.interpreterMs * 1e6, windowNs),
  }
  return {
    definition:
      'Amdahl: speedup ≤ 1 / ((1 − c) + c/k) if the compilable opcodes ran k times faster; c over opcode time (the study), over the execution window, and over the window with the interpreter loop counted as compilable',
    categories: COMPILABLE_CATEGORIES,
    opcodes: OPCODES.filter((o) => COMPILABLE.has(o.category)).map((o) => o.name),
    compilableMs: compilableNs / 1e6,
    shares,
    bounds: JIT_FACTORS.map((k) => ({
      k,
      label: k === null ? 'infinitely fast' : `${k}x faster`,
      opcodes: amdahl(shares.opcodes, k),
      execution: amdahl(shares.execution, k),
      executionAndInterpreter: amdahl(shares.executionAndInterpreter, k),
    })),
  }
}
