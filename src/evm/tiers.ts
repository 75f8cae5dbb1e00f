/**
 * The fast EVM's tiers (no dependencies: the CLI and the run schema import it). The compiler itself
 * is compiler.ts.
 */

/**
 * Which tier runs the fast EVM's code: `interpreter` (never compile), `compiled` (every basic block
 * compiled on its first entry) or `tiered` (a block is compiled once it has been entered
 * TIERED_THRESHOLD times, in any frame, transaction or block of the process; colder blocks are
 * interpreted).
 */
export type EvmTier = 'interpreter' | 'compiled' | 'tiered'
export const EVM_TIERS: readonly EvmTier[] = ['interpreter', 'compiled', 'tiered']

export function isEvmTier(s: string): s is EvmTier {
  return (EVM_TIERS as readonly string[]).includes(s)
}

/**
 * `tiered`: entries of a basic block before it is compiled. Chosen by measurement (scripts/bench-tiers.mjs;
 * ARCHITECTURE.md, "The fast EVM: frames, tiers and the compiler"): a compiled block costs V8 a few ms of
 * compilation and optimization before it runs faster than the interpreter, which it then beats by ~15%
 * on contract code (several times on arithmetic loops), so it pays only after some 10^4 further entries;
 * a block entered this often is expected to be entered as often again. MEGABENCH_EVM_TIERED_THRESHOLD
 * overrides it (for measuring the policy).
 */
export const TIERED_THRESHOLD = thresholdFromEnv(process.env.MEGABENCH_EVM_TIERED_THRESHOLD, 16384)

/** The tier the fast EVM runs when none is given (chosen by measurement: see ARCHITECTURE.md). */
export const DEFAULT_EVM_TIER: EvmTier = 'tiered'

function thresholdFromEnv(v: string | undefined, dflt: number): number {
  if (v === undefined || v === '') return dflt
  const n = Number(v)
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`MEGABENCH_EVM_TIERED_THRESHOLD must be an integer 0…65535 (got ${JSON.stringify(v)})`)
  return n
}

/** Entries of a block before it is compiled: -1 never (interpreter), 0 on its first entry. */
export function compileThreshold(tier: EvmTier): number {
  return tier === 'interpreter' ? -1 : tier === 'compiled' ? 0 : TIERED_THRESHOLD
}

