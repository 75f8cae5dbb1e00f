/**
 * The hooks engines call when a probe is given (the interfaces live here, below the engines, so
 * probes never import an engine).
 */
import type { Block } from '@ethereumjs/block'
import type { TypedTransaction } from '@ethereumjs/tx'
import type { RunTxResult } from '@ethereumjs/vm'

/** Hooks an execution probe may implement; the executor calls them only when a probe is given. */
export interface ExecutionProbe {
  blockStart(): void
  blockEnd(): void
  txStart(): void
  txEnd(): void
  /** Around every state-root computation (the state manager calls these). */
  stateRootStart(): void
  stateRootEnd(): void
}

/**
 * Per-transaction boundaries for a probe that records what each transaction did (the access-set
 * probe): called only when given, around every `addTransaction` (not for `addExecuted`, whose
 * transaction ran elsewhere) and around the block's system-level work.
 */
export interface TxObserver {
  blockStart(block: Block): void
  txStart(tx: TypedTransaction, index: number): void
  txEnd(tx: TypedTransaction, index: number, result: RunTxResult | undefined): Promise<void>
  blockEnd(block: Block): Promise<void>
}
