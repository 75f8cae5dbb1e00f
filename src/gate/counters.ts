import { z } from 'zod'

import type { BlockRow, EngineResult, RunResult } from '../run/schema.js'

/**
 * Deterministic counters of a run: what must not change between two runs of the same code on the same
 * blocks and configuration (gas, transactions, state reads, cache hits/misses at the configured budget,
 * trie nodes read and written, LMDB reads, opcode counts and gas). Times are not counters.
 *
 * Names: per block `block.<path>` (e.g. `block.cache.l2.trieNode.misses`), per engine run
 * `total.<path>` (e.g. `total.merkleization.nodeReads`, `total.opcode.SLOAD.count`).
 */
export const COUNTERS_FORMAT = 'megabench-counters-v1'

const values = z.record(z.string(), z.number())

export const counterSetSchema = z.object({
  format: z.literal(COUNTERS_FORMAT),
  /** What the counters were taken from (for messages and for checking that configurations match). */
  source: z.object({ kind: z.string(), paths: z.array(z.string()), from: z.number().nullable(), to: z.number().nullable() }),
  tool: z.object({ version: z.string(), gitCommit: z.string().nullable() }),
  engines: z.array(
    z.object({
      label: z.string(),
      /** The configuration the counters depend on: storage kind, cache budgets, batch, opcodes. */
      config: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])),
      totals: values,
      blocks: z.array(z.object({ key: z.string(), number: z.number().int(), values })),
    }),
  ),
})
export type CounterSet = z.infer<typeof counterSetSchema>
export type EngineCounters = CounterSet['engines'][number]

/** Keys pair blocks between runs: the block number, with the hash added where a number repeats. */
export function blockKeys(rows: readonly BlockRow[]): string[] {
  const seen = new Map<number, number>()
  for (const r of rows) seen.set(r.number, (seen.get(r.number) ?? 0) + 1)
  return rows.map((r) => ((seen.get(r.number) ?? 0) > 1 ? `${r.number}:${r.hash.slice(0, 12)}` : String(r.number)))
}

export function blockCounters(r: BlockRow): Record<string, number> {
  const v: Record<string, number> = {
    'block.verified': r.verified ? 1 : 0,
    'block.gasUsed': r.gasUsed,
    'block.txCount': r.txCount,
    'block.stateReads.accounts': r.stateReads.accounts,
    'block.stateReads.storageSlots': r.stateReads.storageSlots,
    'block.stateReads.code': r.stateReads.code,
    'block.stateReads.codeBytes': r.stateReads.codeBytes,
  }
  // Which EVM ran the block, where the fast EVM was asked for (every fork from Frontier on, so every block of a
  // fast replay): a fallback to @ethereumjs (the access-set pass, a fork the fast EVM does not run) removes it.
  if (r.evm !== undefined && r.evm === 'fast') v['block.evm.fast'] = 1
  // What was verified is a counter too: a check that passed (1), was not made (0) or failed (−1). A version
  // that stops checking something changes this counter, and the gate says so.
  for (const [name, c] of Object.entries(r.checks)) v[`block.check.${name}`] = c.status === 'pass' ? 1 : c.status === 'fail' ? -1 : 0
  if (r.cache !== null) {
    for (const level of ['l1', 'l2'] as const) {
      for (const [kind, c] of Object.entries(r.cache[level])) {
        v[`block.cache.${level}.${kind}.hits`] = c.hits
        v[`block.cache.${level}.${kind}.misses`] = c.misses
      }
    }
    v['block.cache.lmdbReads'] = r.cache.lmdbReads
    v['block.cache.penaltyCount'] = r.cache.penaltyCount
  }
  if (r.diff !== null) {
    v['block.diff.bytes'] = r.diff.bytes
    v['block.diff.keys'] = r.diff.keys
  }
  return v
}

function engineTotals(e: EngineResult): Record<string, number> {
  const v: Record<string, number> = {
    'total.blocks': e.totals.blocks,
    'total.verifiedBlocks': e.totals.verifiedBlocks,
    'total.txs': e.totals.txs,
    'total.gasUsed': e.totals.gasUsed,
  }
  const s = e.storage
  if (s !== null) {
    for (const [k, n] of Object.entries(s.merkleization)) if (!k.endsWith('PerKey')) v[`total.merkleization.${k}`] = n
    for (const k of ['commits', 'nodesWritten', 'garbageNodes', 'totalBytes'] as const) v[`total.persistence.${k}`] = s.persistence[k]
    for (const level of ['l1', 'l2'] as const) {
      v[`total.cache.${level}.hits`] = s[level].total.hits
      v[`total.cache.${level}.misses`] = s[level].total.misses
    }
    for (const [t, n] of Object.entries(s.lmdbReads)) v[`total.lmdbReads.${t}`] = n
    v['total.workingSetBytes'] = s.workingSetBytes
  }
  const m = e.mega
  if (m !== null) {
    for (const k of ['accounts', 'treeEntries', 'keyUpdates', 'bucketHashes', 'nodeHashes', 'commits', 'stateDiffBytes'] as const) v[`total.mega.${k}`] = m[k]
    // Parallel-execution outcomes depend on thread scheduling: counted, but only gated by a policy rule.
    for (const [k, n] of Object.entries(m.parallel)) v[`total.mega.parallel.${k}`] = n
  }
  if (e.opcodes !== null) {
    for (const row of e.opcodes.rows) {
      v[`total.opcode.${row.name}.count`] = row.count
      v[`total.opcode.${row.name}.gas`] = row.staticGas + row.dynamicGas
    }
  }
  return v
}

/** The counters of every engine run in a run result. */
export function extractCounters(run: RunResult): CounterSet {
  return {
    format: COUNTERS_FORMAT,
    source: { kind: run.config.source.kind, paths: run.config.source.paths, from: run.config.source.from, to: run.config.source.to },
    tool: { version: run.tool.version, gitCommit: run.tool.gitCommit },
    engines: run.engines.map((e) => {
      const keys = blockKeys(e.blocks)
      return {
        label: e.label,
        config: {
          storage: run.config.storage,
          mode: e.mode,
          opcodes: run.config.opcodes,
          l1Bytes: e.storage?.config.l1Bytes ?? null,
          l2Bytes: e.storage?.config.l2Bytes ?? null,
          batch: e.storage?.config.batch ?? null,
          // The fast EVM's runs only (the default @ethereumjs runs' counters stay as before).
          ...(e.evm === 'fast' ? { evm: 'fast' } : {}),
        },
        totals: engineTotals(e),
        blocks: e.blocks.map((b, i) => ({ key: keys[i]!, number: b.number, values: blockCounters(b) })),
      }
    }),
  }
}
