import { MerklePatriciaTrie, createMerkleProof } from '@ethereumjs/mpt'
import { RLP } from '@ethereumjs/rlp'
import { ValueEncoding, bytesToHex, equalsBytes, hexToBytes, setLengthLeft } from '@ethereumjs/util'
import { describe, expect, test } from 'vitest'

import { NodeStore } from '../src/trie/nodeStore.js'
import { forkOfEthConfig } from '../src/fetch/devnetFork.js'
import { Redactor, redactUrl } from '../src/fetch/redact.js'
import { deriveCollapseSiblings } from '../src/fetch/witness.js'
import { initKeccak } from '../src/util/keccak.js'

describe('credentials in RPC URLs', () => {
  test('redactUrl masks user:pass, query values, fragments and key-like path segments', () => {
    expect(redactUrl('https://alice:s3cret@node.example:8545/v3/0123456789abcdef0123456789abcdef?apikey=XYZ&x=1#tok')).toBe(
      'https://***@node.example:8545/v3/***?apikey=***&x=***#***',
    )
    expect(redactUrl('http://127.0.0.1:8545')).toBe('http://127.0.0.1:8545')
    expect(redactUrl('not a url')).toBe('(unparseable URL)')
  })

  test('Redactor scrubs the URL and every secret in it out of any text', () => {
    const url = 'https://alice:p%40ss@node.example/?token=abcdef123'
    const r = new Redactor(url)
    const text = `request to ${url} failed; token=abcdef123 user alice pass p@ss`
    const out = r.scrub(text)
    for (const secret of ['alice', 'p@ss', 'p%40ss', 'abcdef123']) expect(out).not.toContain(secret)
    expect(out).toContain('https://***@node.example?token=***')
  })
})

describe('siblings of branch collapses, derived from post-state proofs', () => {
  /** A storage-like trie of slots 1…n (keys hashed), values nonzero. */
  async function trieOf(n: number) {
    const trie = new MerklePatriciaTrie({ useKeyHashing: true })
    for (let i = 1; i <= n; i++) await trie.put(setLengthLeft(Uint8Array.of(i), 32), RLP.encode(Uint8Array.of(i)))
    return trie
  }

  test('deleting a key whose branch collapses needs the sibling: derived from the post proof, the partial trie reaches the true root', async () => {
    await initKeccak()
    const n = 16
    let collapses = 0
    let branchSiblings = 0
    for (let k = 1; k <= n; k++) {
      const key = setLengthLeft(Uint8Array.of(k), 32)
      const full = await trieOf(n)
      const preRoot = full.root()
      const pre = (await createMerkleProof(full, key)).map((x) => bytesToHex(x))
      await full.del(key)
      const postRoot = full.root()
      const post = (await createMerkleProof(full, key)).map((x) => bytesToHex(x))
      const derived = deriveCollapseSiblings(pre, [post.at(-1) as string])

      const deleteWith = async (nodes: string[]) => {
        const store = NodeStore.fromWitness(nodes.map((x) => hexToBytes(x as `0x${string}`)), [], new Uint8Array())
        const partial = new MerklePatriciaTrie({ db: store, root: preRoot, useKeyHashing: true, valueEncoding: ValueEncoding.Bytes })
        await partial.del(key)
        return partial.root()
      }
      let plainOk = true
      try {
        expect(equalsBytes(await deleteWith(pre), postRoot)).toBe(true)
      } catch {
        plainOk = false
      }
      if (plainOk) {
        expect(derived).toEqual([]) // nothing missing, nothing derived
        continue
      }
      if (derived.length === 0) {
        branchSiblings++ // the sibling is a branch: not recoverable from proofs (documented)
        continue
      }
      collapses++
      expect(bytesToHex(await deleteWith([...pre, ...derived]))).toBe(bytesToHex(postRoot))
    }
    expect(collapses).toBeGreaterThan(0)
    expect(collapses + branchSiblings).toBeGreaterThan(0)
  })
})

describe("a devnet's fork from its eth_config (EIP-7910)", () => {
  const prague = {
    activationTime: 0,
    blobSchedule: { target: 6, max: 9, baseFeeUpdateFraction: 5007716 },
    precompiles: { ECREC: '0x01', BLS12_G1ADD: '0x0b', KZG_POINT_EVALUATION: '0x0a' },
    systemContracts: { HISTORY_STORAGE_ADDRESS: '0x0000f90827f1c53a10cb7a02335b175320002935' },
  }
  const osaka = { ...prague, precompiles: { ...prague.precompiles, P256VERIFY: '0x0100' } }

  test('prague and osaka by P256VERIFY, the BPO forks by their blob schedule (mainnet values from @ethereumjs/common)', () => {
    expect(forkOfEthConfig(prague).hardfork).toBe('prague')
    expect(forkOfEthConfig(osaka)).toEqual({ hardfork: 'osaka', detail: 'P256VERIFY (EIP-7951) among its precompiles, blob schedule 6/9/5007716 (target/max/update fraction)' })
    expect(forkOfEthConfig({ ...osaka, blobSchedule: { target: 10, max: 15, baseFeeUpdateFraction: 8346193 } }).hardfork).toBe('bpo1')
    expect(forkOfEthConfig({ ...osaka, blobSchedule: { target: 14, max: 21, baseFeeUpdateFraction: 11684671 } }).hardfork).toBe('bpo2')
  })

  test('behavior: a schedule that is none of mainnet\'s, a pre-Prague config, no schedule: refused with the reason', () => {
    expect(() => forkOfEthConfig({ ...osaka, blobSchedule: { target: 3, max: 6, baseFeeUpdateFraction: 3338477 } })).toThrowError(
      "its blob schedule 3/6/3338477 (target/max/update fraction) is none of mainnet's at bpo2, bpo1, osaka (14/21/11684671, 10/15/8346193, 6/9/5007716; P256VERIFY (EIP-7951) among its precompiles)",
    )
    expect(() => forkOfEthConfig({ ...prague, blobSchedule: { target: 14, max: 21, baseFeeUpdateFraction: 11684671 } })).toThrowError(/none of mainnet's at prague/)
    expect(() => forkOfEthConfig({ activationTime: 0, precompiles: { ECREC: '0x01' }, systemContracts: { BEACON_ROOTS_ADDRESS: '0x000f3df6d732807ef1319fb7b8bb8522d0beac02' } })).toThrowError(
      'its current fork has neither the EIP-2935/7002 system contracts nor the BLS12-381 precompiles (not prague or later)',
    )
    expect(() => forkOfEthConfig({ ...prague, blobSchedule: null })).toThrowError('it gives no blob schedule (no P256VERIFY among its precompiles)')
  })
})
