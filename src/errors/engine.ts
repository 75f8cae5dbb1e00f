import { MegabenchError } from './base.js'

/** Where a block came from, for error messages: `fixtures/mainnet/mainnet-97.json block 97`. */
export type BlockLocation = { origin: string; block: number | bigint }

const at = (loc: BlockLocation) => `${loc.origin} block ${loc.block}`

/**
 * Execution needed a trie node (or code) that the witness does not hold. `reading` says what was
 * being read or updated when the node was needed, e.g. `reading account 0x… (trie key 0x…)` or
 * `updating storage slot 0x… (trie key 0x…) of account 0x… (trie key 0x…)`.
 */
export class MissingTrieNodeError extends MegabenchError {
  override name = 'MissingTrieNodeError'
  constructor(
    loc: BlockLocation,
    readonly nodeHash: string | undefined,
    cause?: unknown,
    readonly reading?: string,
  ) {
    super(
      `trie node ${nodeHash ?? '(unknown hash)'} needed during execution is missing from the witness${reading === undefined ? '' : ` (${reading})`}`,
      { where: at(loc), cause },
    )
  }
}

/** BLOCKHASH asked for an ancestor whose hash the source did not record. */
export class MissingAncestorError extends MegabenchError {
  override name = 'MissingAncestorError'
  constructor(
    loc: BlockLocation,
    readonly ancestor: number,
  ) {
    super(`BLOCKHASH(${ancestor}) needs an ancestor hash that the source does not record`, {
      where: at(loc),
    })
  }
}

/** The block names a hardfork megabench does not know, or one that does not match mainnet rules. */
export class HardforkError extends MegabenchError {
  override name = 'HardforkError'
  constructor(loc: BlockLocation, message: string) {
    super(message, { where: at(loc) })
  }
}

/** The block could not be executed at all (invalid transaction, engine failure…). */
export class BlockExecutionError extends MegabenchError {
  override name = 'BlockExecutionError'
  constructor(loc: BlockLocation, message: string, cause?: unknown) {
    super(message, { where: at(loc), cause })
  }
}

/** A block needs KZG (a blob transaction, or a point-evaluation call) and no KZG backend could be loaded. */
export class KzgUnavailableError extends MegabenchError {
  override name = 'KzgUnavailableError'
  constructor(loc: BlockLocation, message: string, cause?: unknown) {
    super(message, { where: at(loc), cause })
  }
}
