/**
 * The `analyses` field of run.json (optional, nullable: runs without `--analyze` omit it), and the
 * output of `megabench analyze`. Numbers only; non-finite values are null.
 */
import { z } from 'zod'

const num = z.number()
const distribution = z.object({ n: num, median: num, p10: num, p90: num, mean: num, min: num, max: num }).nullable()

const windowParallelism = z.object({
  txs: num,
  gas: num,
  criticalPathTxs: num,
  criticalPathGas: num,
  parallelism: num,
  gasParallelism: num,
  speedup: z.record(z.string(), num),
})
const treatment = z.enum(['commutative', 'conflict'])

export const parallelismSchema = z.object({
  definition: z.string(),
  blocks: z.array(z.object({ number: num, origin: z.string(), txs: num, gas: num, commutative: windowParallelism, conflict: windowParallelism })),
  summaries: z.array(
    z.object({
      k: num,
      treatment,
      windows: num,
      parallelism: distribution,
      gasParallelism: distribution,
      speedup: z.array(z.object({ cores: num, median: num.nullable(), aggregate: num.nullable() })),
    }),
  ),
})

const compressed = z.object({ bytes: num, expanded: z.boolean(), sentBytes: num })
const sized = { txs: num, keys: num, raw: num, model: num, deflate: compressed, brotli: compressed }
const perTx = z.object({ raw: num, model: num, deflate: num, brotli: num })

export const stateDiffSchema = z.object({
  encoding: z.string(),
  model: z.string(),
  compressors: z.object({ deflate: z.string(), brotli: z.string() }),
  tps: num,
  perTx: z.object({ txs: num, raw: distribution, model: distribution, keys: distribution, note: z.string() }),
  blocks: z.array(z.object({ number: num, origin: z.string(), ...sized })),
  windows: z.array(
    z.object({
      k: num,
      windows: num,
      txs: num,
      keys: num,
      raw: num,
      model: num,
      compressed: z.object({
        deflate: z.object({ bytes: num, sentBytes: num, expanded: num }),
        brotli: z.object({ bytes: num, sentBytes: num, expanded: num }),
      }),
      bytesPerTx: perTx,
      mbps: perTx,
    }),
  ),
  check: z.object({ compared: num, matched: num, mismatched: z.array(num) }),
})

export const jitSchema = z.object({
  definition: z.string(),
  categories: z.array(z.string()),
  opcodes: z.array(z.string()),
  compilableMs: num,
  shares: z.object({ opcodes: num, execution: num, executionAndInterpreter: num }),
  bounds: z.array(z.object({ k: num.nullable(), label: z.string(), opcodes: num.nullable(), execution: num.nullable(), executionAndInterpreter: num.nullable() })),
  /** The run the profile came from. */
  source: z.string(),
})

const ceiling = z.object({ resource: z.string(), tps: num.nullable(), arithmetic: z.string() })
export const boundsSchema = z.object({
  note: z.string(),
  machine: z.object({ cores: num, iops: num, mbps: num }),
  measured: z.object({
    cpuUsPerTx: num,
    cpuSource: z.string(),
    updatesPerTx: num,
    bytesPerTx: perTx,
    speedupAtCores: num.nullable(),
  }),
  ceilings: z.array(ceiling),
  binding: ceiling.nullable(),
})

export const analysesSchema = z.object({
  /** The access pass the access-based analyses ran on. */
  accessPass: z
    .object({
      engine: z.string(),
      workload: z.string(),
      blocks: num,
      txs: num,
      unverified: z.array(z.object({ origin: z.string(), number: num })),
      note: z.string(),
    })
    .nullable(),
  parallelism: parallelismSchema.nullable(),
  statediff: stateDiffSchema.nullable(),
  jit: jitSchema.nullable(),
  bounds: boundsSchema.nullable(),
})

export type Analyses = z.infer<typeof analysesSchema>
