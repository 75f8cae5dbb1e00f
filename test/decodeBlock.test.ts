import { readFileSync } from 'node:fs'
import { join } from 'node:path'

import { createBlockFromRLP } from '@ethereumjs/block'
import { Common } from '@ethereumjs/common'
import { bytesToHex } from '@ethereumjs/util'
import { afterEach, describe, expect, test, vi } from 'vitest'

import { blockDecodeCommon, createChainCommon } from '../src/chain/common.js'

const CHAINS_DIR = join(import.meta.dirname, '..', 'fixtures', 'chains')
const rlp = readFileSync(join(CHAINS_DIR, 'mixed', 'blocks', '000000001.rlp'))

describe('decoding a block with one shared Common (chain blockDecodeCommon)', () => {
  afterEach(() => vi.restoreAllMocks())

  test('behavior: the block decodes to the same header, transactions and senders as with a Common copied per transaction', () => {
    const common = createChainCommon(1337n, 'cancun', { origin: 'test', block: 1n })
    const plain = createBlockFromRLP(rlp, { common })
    const shared = createBlockFromRLP(rlp, { common: blockDecodeCommon(common), freeze: false })
    expect(plain.transactions.length).toBeGreaterThan(10)
    expect(bytesToHex(shared.hash())).toBe(bytesToHex(plain.hash()))
    expect(shared.transactions.map((t) => bytesToHex(t.hash()))).toEqual(plain.transactions.map((t) => bytesToHex(t.hash())))
    expect(shared.transactions.map((t) => t.getSenderAddress().toString())).toEqual(plain.transactions.map((t) => t.getSenderAddress().toString()))
    expect(shared.transactions.map((t) => t.type)).toEqual(plain.transactions.map((t) => t.type))
    expect(shared.transactions.map((t) => t.common.hardfork())).toEqual(plain.transactions.map(() => 'cancun'))
  })

  test('behavior: the transactions share one copy, parameters are merged once per set, and the given Common is left alone', () => {
    const common = createChainCommon(1337n, 'cancun', { origin: 'test', block: 1n })
    const merges = vi.spyOn(Common.prototype, 'updateParams')
    const plain = createBlockFromRLP(rlp, { common })
    const perTx = merges.mock.calls.length
    merges.mockClear()
    const c = blockDecodeCommon(common)
    const shared = createBlockFromRLP(rlp, { common: c, freeze: false })
    expect(perTx).toBeGreaterThanOrEqual(plain.transactions.length) // one merge per transaction the ordinary way
    expect(merges.mock.calls.length).toBeLessThanOrEqual(2) // the header's set and the transactions' set
    expect(new Set(shared.transactions.map((t) => t.common)).size).toBe(1)
    expect(shared.transactions[0]!.common).toBe(c)
    expect(c).not.toBe(common)
    expect(c.copy()).toBe(c)
    expect(common.copy()).not.toBe(common)
  })
})
