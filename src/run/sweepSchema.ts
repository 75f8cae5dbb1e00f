import { z } from 'zod'

/** sweep.json: one memory sweep (every run's summary and the medians per limit). Versioned. */
export const SWEEP_SCHEMA_VERSION = 1

const runSummary = z.object({
  /** The run directory (run.json, blocks.jsonl) of this run. */
  dir: z.string(),
  verified: z.boolean(),
  totalMs: z.number(),
  executionMs: z.number(),
  /** The state-load phase: execution-side level-2 misses (LMDB reads). */
  missPenaltyMs: z.number(),
  writeMs: z.number(),
  merkleizationMs: z.number(),
  txPerSec: z.number(),
  l1MissRatio: z.number(),
  l2MissRatio: z.number(),
  meanPenaltyNs: z.number(),
  lmdbReads: z.number(),
  workingSetBytes: z.number(),
})

const point = z.object({
  memoryBytes: z.number(),
  runs: z.array(runSummary),
  median: z.object({
    totalMs: z.number(),
    executionMs: z.number(),
    missPenaltyMs: z.number(),
    writeMs: z.number(),
    merkleizationMs: z.number(),
    txPerSec: z.number(),
    l1MissRatio: z.number(),
    l2MissRatio: z.number(),
    meanPenaltyNs: z.number(),
  }),
})

export const sweepResultSchema = z.object({
  schemaVersion: z.literal(SWEEP_SCHEMA_VERSION),
  kind: z.literal('megabench.sweep'),
  createdAt: z.string(),
  tool: z.object({ name: z.literal('megabench'), version: z.string(), gitCommit: z.string().nullable() }),
  machine: z.record(z.string(), z.unknown()),
  config: z.object({
    replayArgs: z.array(z.string()),
    limits: z.array(z.number()),
    repeat: z.number().int(),
    mode: z.enum(['live', 'historical']),
    source: z.record(z.string(), z.unknown()),
  }),
  /** The largest working set any run measured (distinct state bytes touched). */
  workingSetBytes: z.number(),
  /** Miss-penalty histogram of the first run (log2 ns buckets). */
  penaltyHistogram: z.array(z.object({ fromNs: z.number(), toNs: z.number(), count: z.number() })),
  points: z.array(point),
})

export type SweepResult = z.infer<typeof sweepResultSchema>
export type SweepPoint = z.infer<typeof point>
export type SweepRunSummary = z.infer<typeof runSummary>
