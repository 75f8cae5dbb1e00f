/**
 * The access pass: replays a source through an engine with the access-set probe installed and returns
 * every verified block's access sets. It is a separate pass from any timed run, so the probe's cost
 * never shows in a measured time. The baseline engine runs on a temporary LMDB with per-block state
 * diffs on, so that each block's diff rebuilt from the access sets can be checked against the engine's.
 */
import { createBaselineEngine } from '../engines/baseline/engine.js'
import { createMegaEngine } from '../engines/mega/engine.js'
import type { BlockRun, EngineName, StorageOptions } from '../engines/types.js'
import { BlockExecutionError } from '../errors/index.js'
import { AccessSetProbe } from '../probes/accessSets.js'
import type { BlockSource } from '../types.js'
import type { AnalysedBlock } from './types.js'

export type CollectParameters = {
  source: BlockSource
  /** Engine the access sets are recorded on (default baseline). */
  engine?: EngineName
  onBlock?: (run: BlockRun) => void
}

export type CollectedAccessSets = {
  engine: EngineName
  blocks: AnalysedBlock[]
  /** Blocks that did not reproduce their header: left out of every analysis. */
  unverified: { origin: string; number: number }[]
}

export async function collectAccessSets(p: CollectParameters): Promise<CollectedAccessSets> {
  const name = p.engine ?? 'baseline'
  const engine = name === 'mega' ? createMegaEngine() : createBaselineEngine()
  const storage: StorageOptions = { kind: 'lmdb', mode: 'live', batch: null, caches: { l1: Number.MAX_SAFE_INTEGER, l2: Number.MAX_SAFE_INTEGER } }
  const probe = new AccessSetProbe()
  const blocks: AnalysedBlock[] = []
  const unverified: CollectedAccessSets['unverified'] = []
  try {
    for await (const unit of p.source.units()) {
      const chain = unit.rules.kind === 'network' ? `network:${unit.rules.chainId}` : `chain:${unit.rules.chainId}:${unit.origin}`
      const runs = engine.runUnit(unit, {
        storage,
        stateDiffs: true,
        accessSets: probe,
        mega: { mode: 'live', batch: null, verifyMpt: 'final', senderWorkers: 0, stateDiffs: undefined, threads: 0 },
      })
      for await (const run of runs) {
        if (run.warmup) continue
        const access = probe.takeBlock(run.hash)
        if (access === undefined) throw new BlockExecutionError({ origin: run.origin, block: run.number }, 'the access-set probe recorded no block')
        p.onBlock?.(run)
        if (run.mismatches.length > 0) {
          unverified.push({ origin: run.origin, number: Number(run.number) })
          continue
        }
        blocks.push({ chain, origin: run.origin, number: Number(run.number), access, engineDiffDigest: run.diff?.digest ?? null })
      }
    }
  } finally {
    await engine.close?.()
  }
  return { engine: name, blocks, unverified }
}
