import type { BlockAccess } from '../probes/accessSets.js'

/** One replayed, verified block with its access sets: the input of every access-based analysis. */
export type AnalysedBlock = {
  /** Blocks are consecutive when their chain is the same and their numbers follow. */
  chain: string
  origin: string
  number: number
  access: BlockAccess
  /** The engine's own net-diff digest for the block (megabench-diff-v1), to check the probe's against. */
  engineDiffDigest: string | null
}
