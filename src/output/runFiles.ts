import { RunResultError } from '../errors/index.js'
import { type BlockRow, type RunResult, runResultSchema } from '../run/schema.js'
import { toCsv } from './files.js'

const round = (x: number, digits = 3) => Number(x.toFixed(digits))

/**
 * One block in the cross-client "slow block" shape (geth, reth, Nethermind, Besu, Erigon), so that
 * existing tooling reads it. execution_ms includes state reads (state_read_ms), as in those clients;
 * megabench-specific fields are under `megabench`.
 */
export function slowBlockLine(engine: string, row: BlockRow): string {
  const p = row.phases
  return JSON.stringify({
    block: { number: row.number, hash: row.hash, gas_used: row.gasUsed, tx_count: row.txCount },
    timing: {
      execution_ms: round(p.execution + p.stateLoad),
      state_read_ms: round(p.stateLoad),
      state_hash_ms: round(p.merkleization),
      commit_ms: round(p.persistence),
      total_ms: round(row.totalMs),
    },
    throughput: { mgas_per_sec: round(row.mgasPerSec, 2) },
    state_reads: {
      accounts: row.stateReads.accounts,
      storage_slots: row.stateReads.storageSlots,
      code: row.stateReads.code,
      code_bytes: row.stateReads.codeBytes,
    },
    ...(row.cache === null
      ? {}
      : {
          cache: {
            account: hitRate(row.cache.l1.account),
            storage: hitRate(row.cache.l1.storage),
            code: hitRate(row.cache.l1.code),
          },
        }),
    megabench: {
      engine,
      origin: row.origin,
      ...(row.cache === null ? {} : { l2: row.cache.l2, lmdb_reads: row.cache.lmdbReads, miss_penalty_ms: round(row.cache.penaltyMs) }),
      hardfork: row.hardfork,
      sender_recovery_ms: round(p.senderRecovery),
      verified: row.verified,
    },
  })
}

function hitRate(c: { hits: number; misses: number }) {
  const n = c.hits + c.misses
  return { hits: c.hits, misses: c.misses, hit_rate: n > 0 ? round((c.hits / n) * 100, 2) : 0 }
}

export const OPCODE_CSV_HEADER = [
  'opcode',
  'name',
  'category',
  'count',
  'total_ns',
  'pct_time',
  'cumulative_pct',
  'avg_ns',
  'inclusive_ns',
  'static_gas',
  'dynamic_gas',
  'child_gas',
] as const

/** The files of a run directory: run.json, blocks.jsonl and (when profiled) opcodes.csv. */
export function runFiles(result: RunResult): Map<string, string> {
  const checked = runResultSchema.safeParse(result)
  if (!checked.success) {
    const issue = checked.error.issues[0]
    throw new RunResultError('run.json', `run result does not match its schema at ${issue?.path.join('.')}: ${issue?.message}`)
  }
  const files = new Map<string, string>()
  files.set('run.json', `${JSON.stringify(result, null, 1)}\n`)
  const lines: string[] = []
  for (const e of result.engines) for (const row of e.blocks) lines.push(slowBlockLine(e.label, row))
  files.set('blocks.jsonl', lines.length ? `${lines.join('\n')}\n` : '')
  const profiled = result.engines.find((e) => e.opcodes !== null)
  if (profiled?.opcodes) {
    files.set(
      'opcodes.csv',
      toCsv(
        OPCODE_CSV_HEADER,
        profiled.opcodes.rows.map((r) => [
          `0x${r.opcode.toString(16).padStart(2, '0')}`,
          r.name,
          r.category,
          r.count,
          Math.round(r.totalNs),
          round(r.pctTime, 4),
          round(r.cumulativePct, 4),
          round(r.avgNs, 1),
          Math.round(r.inclusiveNs),
          r.staticGas,
          r.dynamicGas,
          r.childGas,
        ]),
      ),
    )
  }
  return files
}
