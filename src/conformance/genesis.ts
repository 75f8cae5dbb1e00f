import { type Block, createBlock, createBlockFromRLP } from '@ethereumjs/block'
import type { Common } from '@ethereumjs/common'
import { bytesToHex, hexToBytes } from '@ethereumjs/util'

import type { BlockchainTest } from './types.js'

/** BlockchainTest header field names → @ethereumjs/block's HeaderData names (the rest are equal). */
const HEADER_FIELDS: Record<string, string> = { bloom: 'logsBloom', uncleHash: 'uncleHash', receiptTrie: 'receiptTrie', transactionsTrie: 'transactionsTrie' }
const NOT_HEADER = new Set(['hash'])

/**
 * The test's genesis block: decoded from `genesisRLP`, or, when a file has none, built from
 * `genesisBlockHeader` (and accepted only if it hashes to the header's `hash`). Returns the block, or
 * why there is none (the test is then skipped with that reason).
 */
export function genesisBlock(t: BlockchainTest, common: Common): { block: Block } | { reason: string } {
  if (typeof t.genesisRLP === 'string') {
    try {
      return { block: createBlockFromRLP(hexToBytes(t.genesisRLP as `0x${string}`), { common }) }
    } catch (err) {
      return { reason: `genesis: genesisRLP does not decode: ${firstLine(err)}` }
    }
  }
  const h = t.genesisBlockHeader
  if (h === undefined || typeof h !== 'object') return { reason: 'genesis: no genesisRLP and no genesisBlockHeader' }
  let block: Block
  try {
    const header: Record<string, string> = {}
    for (const [k, v] of Object.entries(h)) if (!NOT_HEADER.has(k)) header[HEADER_FIELDS[k] ?? k] = v
    const withdrawals = header.withdrawalsRoot === undefined ? undefined : []
    block = createBlock({ header, transactions: [], uncleHeaders: [], withdrawals }, { common, skipConsensusFormatValidation: true })
  } catch (err) {
    return { reason: `genesis: no genesisRLP, and genesisBlockHeader does not make a header: ${firstLine(err)}` }
  }
  const hash = bytesToHex(block.hash())
  if (typeof h.hash === 'string' && hash !== h.hash.toLowerCase()) {
    return { reason: `genesis: no genesisRLP, and genesisBlockHeader hashes to ${hash}, not its hash ${h.hash}` }
  }
  return { block }
}

export function firstLine(err: unknown): string {
  const m = err instanceof Error ? err.message : String(err)
  return m.split('\n')[0] ?? m
}
