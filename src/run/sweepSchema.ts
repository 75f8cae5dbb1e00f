import { z } from 'zod'

/** sweep.json: one memory sweep (every run's summary and the medians per limit). Versioned. */
export const SWEEP_SCHEMA_VERSION = 2

/** One engine of a run (e.g. `baseline/live`, `mega/live`): its time and throughput at this limit. */
const engineSummary = z.object({
  label: z.string(),
  totalMs: z.number(),
  txPerSec: z.number(),
  executionMs: z.number(),
  merkleizationMs: z.number(),
  writeMs: z.number(),
})

/** The curves' fields (totalMs … lmdbReads) describe the engine on LMDB whose caches the sweep varies. */
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
  /** --bind model: total time and tx/s with every level-2 miss at the declared latency (MODELLED). */
  modelledTotalMs: z.number().optional(),
  modelledTxPerSec: z.number().optional(),
  /** --bind cgroup: major page faults of the run's process (pages read from disk). */
  majorFaults: z.number().optional(),
  /** Every engine of the run (with --engine both: the baseline and the mega engine side by side). */
  engines: z.array(engineSummary),
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
    modelledTotalMs: z.number().optional(),
    modelledTxPerSec: z.number().optional(),
    majorFaults: z.number().optional(),
    /** Medians per engine label, in run order. */
    engines: z.array(engineSummary.pick({ label: true, totalMs: true, txPerSec: true })),
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
    /**
     * What bound the read path beside the caches' budgets: `cgroup` (each run's process in a memory cgroup,
     * so the OS page cache is bounded too), `model` (a declared latency per level-2 miss, modelled totals
     * beside the measured ones), or `caches` (the budgets only). Absent in sweeps before this field: caches.
     */
    bind: z.object({ kind: z.enum(['cgroup', 'model', 'caches']), missLatencyNs: z.number().optional(), why: z.string() }).optional(),
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
