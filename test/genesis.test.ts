import { MerklePatriciaTrie } from '@ethereumjs/mpt'
import { Caches, MerkleStateManager } from '@ethereumjs/statemanager'
import { Account, bytesToHex, createAddressFromString, hexToBytes, setLengthLeft } from '@ethereumjs/util'
import { keccak_256 } from '@noble/hashes/sha3.js'
import { describe, expect, test } from 'vitest'

import { MissingNodeSignal, NodeStore } from '../src/trie/nodeStore.js'
import type { GenesisStateSpec } from '../src/workloads/genesis.js'
import { accountRlp, buildGenesisState, mappingSlot } from '../src/workloads/genesis.js'
import { AccountSet, dormantBalance } from '../src/workloads/accounts.js'

const TOKEN = '0x00000000000000000000000000000000000000a1'
const ROUTER = '0x00000000000000000000000000000000000000b2'
const spec: GenesisStateSpec = {
  accounts: { count: 300, senders: 20, seed: 'g', senderBalance: '0x3635c9adc5dea00000', dormantBalance: 'megabench-v1' },
  tokenHoldings: [
    { token: TOKEN, balanceSlot: 0, allowanceSlot: 1, balance: '0x64', allowances: [{ spender: ROUTER, amount: '0xff' }] },
  ],
  alloc: {
    [TOKEN]: {
      nonce: '0x1',
      balance: '0x0',
      code: '0x6001600055',
      storage: { '0x0000000000000000000000000000000000000000000000000000000000000002': '0x00000000000000000000000000000000000000000000000000000000000007d0' },
    },
    '0x00000000000000000000000000000000000000c3': { nonce: '0x5', balance: '0x10' },
  },
}

describe('buildGenesisState', () => {
  test('default: same state root as inserting every account and slot into @ethereumjs/statemanager', async () => {
    const store = new NodeStore()
    const built = buildGenesisState(spec, store)

    const sm = new MerkleStateManager({ caches: new Caches() })
    const set = new AccountSet(300, 20, 'g')
    for (let i = 0; i < 300; i++) {
      const address = set.address(i)
      const balance = i < 20 ? BigInt(spec.accounts.senderBalance) : dormantBalance(keccak_256(address))
      await sm.putAccount(createAddressFromString(bytesToHex(address)), new Account(0n, balance))
    }
    const token = createAddressFromString(TOKEN)
    await sm.putAccount(token, new Account(1n, 0n))
    await sm.putCode(token, hexToBytes('0x6001600055'))
    await sm.putStorage(token, setLengthLeft(hexToBytes('0x02'), 32), hexToBytes('0x07d0'))
    for (let i = 0; i < 20; i++) {
      const holder = setLengthLeft(set.address(i), 32)
      await sm.putStorage(token, mappingSlot(holder, 0), hexToBytes('0x64'))
      await sm.putStorage(token, keccak_256(new Uint8Array([...setLengthLeft(hexToBytes(ROUTER), 32), ...mappingSlot(holder, 1)])), hexToBytes('0xff'))
    }
    await sm.putAccount(createAddressFromString('0x00000000000000000000000000000000000000c3'), new Account(5n, 16n))
    expect(bytesToHex(built.stateRoot)).toBe(bytesToHex(await sm.getStateRoot()))
    expect(built.accounts).toBe(302)
    expect(built.storageSlots).toBe(41)

    // The store holds a complete trie: every account can be read through @ethereumjs/mpt.
    const trie = new MerklePatriciaTrie({ db: store, root: built.stateRoot, useKeyHashing: true })
    for (const i of [0, 19, 20, 299]) expect(await trie.get(set.address(i))).not.toBeNull()
  })

  test('behavior: an account listed twice is refused', () => {
    const set = new AccountSet(300, 20, 'g')
    const dup: GenesisStateSpec = { ...spec, alloc: { ...spec.alloc, [bytesToHex(set.address(7))]: { nonce: '0x0', balance: '0x1' } } }
    expect(() => buildGenesisState(dup, new NodeStore())).toThrowError(/genesis lists the account with hashed address 0x[0-9a-f]{64} twice/)
  })
})

test('accountRlp matches RLP.encode', async () => {
  const { RLP } = await import('@ethereumjs/rlp')
  const { bigIntToUnpaddedBytes, KECCAK256_RLP, KECCAK256_NULL } = await import('@ethereumjs/util')
  for (const [nonce, balance] of [[0n, 0n], [1n, 0x7fn], [0x80n, 0x100n], [2n ** 64n, 10n ** 30n], [0n, 2n ** 256n - 1n]] as const) {
    expect(accountRlp(nonce, balance, KECCAK256_RLP, KECCAK256_NULL)).toEqual(
      RLP.encode([bigIntToUnpaddedBytes(nonce), bigIntToUnpaddedBytes(balance), KECCAK256_RLP, KECCAK256_NULL]),
    )
  }
})

describe('NodeStore', () => {
  test('default: stores and finds many entries across growth; puts of existing keys are no-ops', async () => {
    const store = new NodeStore(true, 4)
    const keys: Uint8Array[] = []
    for (let i = 0; i < 20_000; i++) {
      const key = keccak_256(new Uint8Array([i & 0xff, i >> 8, i >> 16]))
      keys.push(key)
      store.putBytes(key, new Uint8Array(i % 300).fill(i & 0xff))
    }
    store.putBytes(keys[5]!, new Uint8Array([1, 2, 3]))
    expect(store.size).toBe(20_000)
    for (const i of [0, 5, 19_999]) expect(store.getBytes(keys[i]!)).toEqual(new Uint8Array(i % 300).fill(i & 0xff))
    expect(await store.get(bytesToHex(keys[7]!).slice(2))).toEqual(new Uint8Array(7).fill(7))
    let n = 0
    store.forEach(() => n++)
    expect(n).toBe(20_000)
  })

  test('behavior: strict stores throw on a missing node but not on the empty trie root', async () => {
    const store = new NodeStore()
    await expect(store.get('ab'.repeat(32))).rejects.toBeInstanceOf(MissingNodeSignal)
    await expect(store.get('56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421')).resolves.toBeUndefined()
    expect(await new NodeStore(false).get('ab'.repeat(32))).toBeUndefined()
  })
})
