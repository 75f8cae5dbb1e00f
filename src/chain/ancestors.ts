import type { EVMMockBlockchainInterface } from '@ethereumjs/evm'

import { MissingAncestorError } from '../errors/index.js'

/**
 * The chain as BLOCKHASH sees it: only the ancestor hashes the source recorded for the block being
 * executed (`setBlock` before each block). Asking for any other block is an error: answering zero
 * would silently compute a wrong state.
 */
export class AncestorChain implements EVMMockBlockchainInterface {
  constructor(
    private hashes: ReadonlyMap<bigint, Uint8Array>,
    private origin: string,
    private blockNumber: bigint,
  ) {}

  setBlock(hashes: ReadonlyMap<bigint, Uint8Array>, origin: string, blockNumber: bigint): void {
    this.hashes = hashes
    this.origin = origin
    this.blockNumber = blockNumber
  }

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
