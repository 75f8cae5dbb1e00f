import { readFile } from 'node:fs/promises'

import { z } from 'zod'

import { UsageError } from '../errors/index.js'

/** Per-block times the gate can compare: the block's total (sum of phases) or one phase. */
export const TIMING_METRICS = ['total', 'senderRecovery', 'execution', 'stateLoad', 'merkleization', 'persistence'] as const
export type TimingMetric = (typeof TIMING_METRICS)[number]

/**
 * The gate's policy (a JSON file given with --policy; every field optional). Defaults:
 * - counters: exact (tolerance 0, relative), except `total.mega.parallel.*` (thread scheduling) ignored;
 * - timings: metric `total` with a practical floor of 1%; statistic median of paired per-block ratios;
 *   95% percentile-bootstrap interval, 2000 resamples, seed "megabench-gate"; at least 20 paired blocks,
 *   blocks whose baseline time is under 1 ms left out (timer-resolution noise).
 * The defaults are the ones the A/A test (test/gate.test.ts) checks on recorded noisy runs: with 100
 * paired blocks and per-block medians of 5 interleaved repeats per side (`megabench compare --repeat 5`)
 * they give ≤ 1% false positives and ≥ 95% detection of a 5% slowdown under this machine's noise.
 */
export const policySchema = z
  .object({
    /** Engine labels to gate (e.g. ["baseline/live"]); default every label both sides have. */
    engines: z.array(z.string()).optional(),
    counters: z
      .object({
        enabled: z.boolean().default(true),
        /** Allowed relative difference |current − baseline| / |baseline|; 0 = exact. */
        tolerance: z.number().min(0).default(0),
        /** First matching rule wins; `match` is a counter name with `*` wildcards, e.g. "block.cache.*". */
        rules: z
          .array(z.object({ match: z.string().min(1), tolerance: z.number().min(0).optional(), ignore: z.boolean().optional() }).strict())
          .default([{ match: 'total.mega.parallel.*', ignore: true }]),
      })
      .strict()
      .prefault({}),
    timings: z
      .object({
        enabled: z.boolean().default(true),
        statistic: z.enum(['median-ratio', 'ratio-of-sums', 'trimmed-geomean']).default('trimmed-geomean'),
        /** How a block's times over a side's runs become one value (in log space): geometric mean or median. */
        runs: z.enum(['mean', 'median', 'min']).default('median'),
        confidence: z.number().gt(0.5).lt(1).default(0.95),
        resamples: z.number().int().min(200).max(100_000).default(2000),
        seed: z.string().default('megabench-gate'),
        /** Fewer paired blocks than this (over all sources): "insufficient data" (exit 2), never a pass. */
        minPairs: z.number().int().min(3).default(10),
        /** Fewer runs (replay processes) than this on a side, for any source: "insufficient data" (exit 2). */
        minRuns: z.number().int().min(1).default(4),
        /** Blocks whose baseline time is below this many ms are left out (counted as excluded). */
        minBlockMs: z.number().min(0).default(1),
        /** Metric → practical floor (relative change, 0.03 = 3%): smaller changes are never called. */
        metrics: z
          .partialRecord(z.enum(TIMING_METRICS), z.object({ floor: z.number().min(0).max(10) }).strict())
          .default({ total: { floor: 0.01 } }),
      })
      .strict()
      .prefault({}),
  })
  .strict()

export type GatePolicy = z.infer<typeof policySchema>
export type PolicyInput = z.input<typeof policySchema>

export function resolvePolicy(input: unknown = {}, where = 'policy'): GatePolicy {
  const r = policySchema.safeParse(input)
  if (!r.success) {
    const issue = r.error.issues[0]
    throw new UsageError(`invalid gate policy at ${issue?.path.join('.') || '(root)'}: ${issue?.message}`, { where })
  }
  return r.data
}

export async function readPolicy(file: string): Promise<GatePolicy> {
  let json: unknown
  try {
    json = JSON.parse(await readFile(file, 'utf8'))
  } catch (cause) {
    throw new UsageError(`cannot read policy (${(cause as Error).message})`, { where: file, cause })
  }
  return resolvePolicy(json, file)
}

/** Tolerance of a counter under the policy, or null when it is ignored. */
export function counterTolerance(policy: GatePolicy, name: string): number | null {
  for (const rule of policy.counters.rules) {
    if (globMatch(rule.match, name)) return rule.ignore === true ? null : (rule.tolerance ?? policy.counters.tolerance)
  }
  return policy.counters.tolerance
}

function globMatch(pattern: string, name: string): boolean {
  const re = new RegExp(`^${pattern.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`)
  return re.test(name)
}
