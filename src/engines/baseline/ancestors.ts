import type { EVMMockBlockchainInterface } from '@ethereumjs/evm'

import { MissingAncestorError } from '../../errors/index.js'

/**
 * The chain as BLOCKHASH sees it: only the ancestor hashes the source recorded. Asking for any
 * other block is an error (answering zero would silently compute a wrong state).
 */
export class AncestorChain implements EVMMockBlockchainInterface {
  constructor(
    private readonly hashes: ReadonlyMap<bigint, Uint8Array>,
    private readonly origin: string,
    private readonly blockNumber: bigint,
  ) {}

  async getBlock(blockId: number) {
    const hash = this.hashes.get(BigInt(blockId))
    if (hash === undefined) throw new MissingAncestorError({ origin: this.origin, block: this.blockNumber }, blockId)
    return { hash: () => hash }
  }

  async putBlock(): Promise<void> {}

  shallowCopy(): EVMMockBlockchainInterface {
    return this
  }
}
