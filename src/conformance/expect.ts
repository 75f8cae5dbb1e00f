import type { JsonBlock } from './types.js'

/**
 * The exception a block is expected to raise on `network`, or undefined if the block must be
 * accepted. Every form the fillers write:
 *   - `expectException` (ethereum/tests, execution-spec-tests): the test's one network;
 *   - `expectExceptionALL` (legacy tests): every network;
 *   - `expectException<Network>` (legacy tests filled for several forks, e.g. `expectExceptionByzantium`,
 *     `expectExceptionEIP150`, `expectExceptionConstantinopleFix`): only the test whose network has
 *     that name.
 * A block without any of these keys is still invalid when it has no `blockHeader`: the fillers write
 * the header of accepted blocks only, and geth's runner decides by that alone (a few legacy
 * `bcForgedTest` blocks are marked that way only).
 */
export function expectedException(block: JsonBlock, network: string): string | undefined {
  const forNetwork = block[`expectException${network}`]
  if (forNetwork !== undefined) return forNetwork
  if (block.expectException !== undefined) return block.expectException
  if (block.expectExceptionALL !== undefined) return block.expectExceptionALL
  if (block.blockHeader === undefined) return 'an invalid block (no blockHeader)'
  return undefined
}
