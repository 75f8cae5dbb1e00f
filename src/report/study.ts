/**
 * The study's figures (../shared/docs/measurements.md, MegaETH profiling Reth on a 512 GB server),
 * with the study's values as the study states them. The report shows them only in a column labelled
 * as the study's, beside what megabench measured.
 */
export type StudyRow = { id: number; figure: string; definition: string; study: string }

export const STUDY_ROWS: readonly StudyRow[] = [
  { id: 1, figure: 'historical-sync throughput', definition: 'execute blocks; state root only after a large batch', study: '~14,000 TPS, 1,000–2,000 Mgas/s on the last 1M blocks, single thread' },
  { id: 2, figure: 'state needed to execute', definition: 'flat ("plain") state vs the trie tables vs archive', study: '~100 GB plain state, MPT +126 GB, archive 2.3 TB' },
  { id: 3, figure: 'time breakdown of historical sync', definition: 'execution vs the rest (sender recovery, DB load, write)', study: 'execution ≈ 2/3 of the time' },
  { id: 4, figure: 'opcode cost table', definition: 'per opcode: count, time, % of time, cumulative %, average cost, category', study: '(a table)' },
  { id: 5, figure: 'top-30 opcodes (Pareto)', definition: 'bars = % time per opcode, line = cumulative %', study: 'top 30 ≈ 90%; top five STATICCALL, KECCAK256, SLOAD, CALL, PUSH1; SLOAD 8.8% when state fits in memory' },
  { id: 6, figure: 'time by opcode category', definition: 'host, system, stack, arithmetic, bitwise, memory, control', study: 'host + system > 50%, stack 29%, the rest ~20%' },
  { id: 7, figure: 'JIT upper bound', definition: 'Amdahl: a compiler speeds up only the non-host, non-system share', study: '≤ ~2x on the historical workload' },
  { id: 8, figure: 'memory-limit sweep (historical)', definition: 'total time vs memory limit; execution, miss penalty, write time', study: '< 2x slowdown from 512 GB to 8 GB (7–8k TPS at 8 GB)' },
  { id: 9, figure: 'two-level cache', definition: 'miss ratio at the client cache and at the DB cache; mean miss penalty', study: '21% and 31% miss (≈ 6.5% of requests reach disk); ~18 µs penalty' },
  { id: 10, figure: 'live sync', definition: 'state root + persist after every block', study: '~1,000 TPS: 14x below historical' },
  { id: 11, figure: 'live-sync decomposition', definition: 'merkleization alone; then per-block persistence', study: '9.3x from merkleization, a further 1.5x from persistence' },
  { id: 12, figure: 'why merkleization is expensive', definition: 'trie traversal becomes DB reads; software cost per DB read', study: '~1.2 µs per MDBX read' },
  { id: 13, figure: 'live sync vs memory limit', definition: 'merkleization / execution / persistence at each limit', study: 'merkleization 6.9x slower at 8 GB vs 500 GB; TPS 5.3x lower' },
  { id: 14, figure: 'recap waterfall', definition: 'historical → live → small memory (and a 10% CPU budget)', study: '14,000 → 1,000 → ~20 TPS' },
  { id: 15, figure: 'parallelism in real blocks', definition: 'available parallelism of a block\'s transactions', study: 'median < 2 per block; 2.75 when blocks are merged' },
  { id: 16, figure: 'state-sync bandwidth', definition: 'bytes a full node must receive as state diffs', study: '100k ERC20 transfers/s → 152.6 Mbps; Uniswap swaps → 476.1 Mbps' },
  { id: 17, figure: 'MPT update cost', definition: 'DB reads per updated key', study: '100k transfers/s = 300k key updates/s → ~6M non-cached DB reads/s (≈ 20 per key)' },
  { id: 18, figure: 'hardware upper bounds', definition: 'CPU, random-IOPS and bandwidth ceilings', study: '"a modest server can do 100k TPS"' },
]
