import { cp, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { getHeapStatistics } from 'node:v8'

import { Common, Hardfork, Mainnet } from '@ethereumjs/common'
import { Caches, MerkleStateManager } from '@ethereumjs/statemanager'
import { Account, bytesToHex, createAddressFromString, setLengthLeft } from '@ethereumjs/util'
import { describe, expect, test } from 'vitest'

import { MegabenchError } from '../src/errors/index.js'
import { replay } from '../src/run/replay.js'
import { createChainSource } from '../src/sources/chain.js'
import { createFixtureSource } from '../src/sources/fixtures.js'
import { ByteLru, entryBytes } from '../src/storage/byteLru.js'
import { FlatStateManager } from '../src/storage/flatStateManager.js'
import { LogHistogram } from '../src/storage/histogram.js'
import { parseSize, splitBudget } from '../src/storage/memory.js'
import { CACHE_KINDS, HEAP_CACHE_CAP, StateStore } from '../src/storage/stateStore.js'
import { initKeccak } from '../src/util/keccak.js'
import { Rng } from '../src/workloads/rng.js'
import { FIXTURES_DIR, tempDir } from './helpers/fixtures.js'

const CHAINS_DIR = join(import.meta.dirname, '..', 'fixtures', 'chains')
const MIXED = join(CHAINS_DIR, 'mixed')

const lmdb = (memory: number | undefined, batch: number | null = null, dir?: string) => ({
  kind: 'lmdb' as const,
  batch,
  memory: splitBudget({ memory }),
  dir,
})

const replayChain = async (dir: string, modes: ('live' | 'historical')[], storage = lmdb(undefined)) =>
  replay({ source: await createChainSource({ dir }), sourcePaths: [dir], modes, storage, warmup: 0 })

describe('sync modes on LMDB', () => {
  test('default: live and historical both verify every block of the bundled mixed chain; the decomposition is reported', async () => {
    const r = await replayChain(MIXED, ['historical', 'live'])
    expect(r.verification.failed).toEqual([])
    const [h, l] = r.engines
    expect(h!.mode).toBe('historical')
    expect(l!.mode).toBe('live')
    expect(h!.totals.verifiedBlocks).toBe(10)
    expect(l!.totals.verifiedBlocks).toBe(10)
    // Historical: one root and one commit for the range; live: one per block.
    expect(h!.storage!.merkleization.roots).toBe(1)
    expect(h!.storage!.persistence.commits).toBe(1)
    expect(l!.storage!.merkleization.roots).toBe(10)
    expect(l!.storage!.persistence.commits).toBe(10)
    // The commits (pages out + fsync) are a part of the write transactions, which are a part of the phase.
    for (const e of [h!, l!]) {
      const p = e.storage!.persistence
      expect(p.syncMs!).toBeGreaterThan(0)
      expect(p.syncMs!).toBeLessThan(p.ms)
      expect(p.ms).toBeLessThanOrEqual(e.totals.phases.persistence)
    }
    const d = r.decomposition!
    expect(d.slowdown).toBeCloseTo(d.merkleizationFactor * d.persistenceFactor, 9)
    expect(d.liveMs).toBeCloseTo(l!.totals.processingMs, 6)
    // Historical's one batch root and commit, and live against historical without them.
    expect(d.historicalBatchRootMs).toBeCloseTo(h!.totals.phases.merkleization + h!.totals.phases.persistence, 6)
    expect(d.historicalBatchRootMs!).toBeGreaterThan(0)
    expect(d.slowdownVsHistoricalWithoutBatchRoot).toBeCloseTo(d.liveMs / (d.historicalMs - d.historicalBatchRootMs!), 9)
    expect(d.slowdownVsHistoricalWithoutBatchRoot!).toBeGreaterThan(d.slowdown)
  })

  test('behavior: historical with --batch 4 computes and checks a root every 4 blocks', async () => {
    const r = await replayChain(MIXED, ['historical'], lmdb(undefined, 4))
    expect(r.verification.failed).toEqual([])
    expect(r.engines[0]!.storage!.merkleization.roots).toBe(3) // blocks 4, 8, 10
  })

  test('behavior: --no-l1-trie-nodes: merkleization reads trie nodes through level 2 only, the same roots', async () => {
    // Unbounded caches: level 1 evicts nothing either way, so the flat state's counters must not move.
    const [on, off] = [
      await replayChain(MIXED, ['live'], lmdb(undefined)),
      await replayChain(MIXED, ['live'], { ...lmdb(undefined), l1TrieNodes: false } as ReturnType<typeof lmdb>),
    ]
    for (const r of [on, off]) expect(r.verification.failed).toEqual([])
    const [a, b] = [on.engines[0]!.storage!, off.engines[0]!.storage!]
    expect([a.config.l1TrieNodes, b.config.l1TrieNodes]).toEqual([undefined, false])
    expect(a.l1.trieNode.hits).toBeGreaterThan(0)
    expect(b.l1.trieNode).toEqual({ hits: 0, misses: 0 })
    // Every trie-node read that level 1 answered now reaches level 2; the flat state's reads are untouched.
    const lookups = (c: { hits: number; misses: number }) => c.hits + c.misses
    expect(lookups(b.l2.trieNode)).toBe(lookups(a.l1.trieNode))
    expect(b.l1.account).toEqual(a.l1.account)
    expect(b.merkleization.nodeReads).toBe(a.merkleization.nodeReads)
  })

  test('behavior: every bundled real block verifies in live mode on LMDB (partial witness state, flat misses proven)', async () => {
    const r = await replay({ source: await createFixtureSource({ paths: [FIXTURES_DIR] }), sourcePaths: [FIXTURES_DIR], storage: lmdb(undefined), warmup: 0 })
    expect(r.verification).toEqual({ blocks: 13, verified: 13, failed: [] })
    expect(r.engines[0]!.storage!.persistence.commits).toBe(13)
  })

  test('behavior: the memory backend refuses historical sync', async () => {
    await expect(replayChain(MIXED, ['historical'], { kind: 'memory' } as never)).rejects.toThrowError(/historical sync needs LMDB storage/)
  })
})

describe('two-level caches', () => {
  test('default: hits + misses = lookups at each level, and level-2 misses are LMDB reads', async () => {
    const r = await replayChain(MIXED, ['live'], lmdb(256 * 1024))
    const st = r.engines[0]!.storage!
    for (const k of CACHE_KINDS) expect(st.l2[k].hits + st.l2[k].misses).toBe(st.l1[k].misses)
    expect(Object.values(st.lmdbReads).reduce((a, b) => a + b, 0)).toBe(st.l2.total.misses)
    expect(st.l1.total.hits + st.l1.total.misses).toBe(CACHE_KINDS.reduce((s, k) => s + st.l1[k].hits + st.l1[k].misses, 0))
    expect(st.missPenalty.execution.count + st.missPenalty.merkleization.count).toBe(st.l2.total.misses)
    // Per-block cache traffic adds up to the run's.
    const blocks = r.engines[0]!.blocks
    const l1Misses = blocks.reduce((s, b) => s + CACHE_KINDS.reduce((t, k) => t + b.cache!.l1[k].misses, 0), 0)
    expect(l1Misses).toBe(st.l1.total.misses)
  })

  test('behavior: on a fixed range, misses fall as memory grows', async () => {
    const misses: number[] = []
    const lmdbReads: number[] = []
    for (const memory of [32 * 1024, 256 * 1024, 64 * 1024 * 1024]) {
      const st = (await replayChain(MIXED, ['live'], lmdb(memory))).engines[0]!.storage!
      misses.push(st.l1.total.misses)
      lmdbReads.push(st.l2.total.misses)
      expect(st.config.l1Bytes).toBe(memory / 4)
    }
    expect(misses[0]).toBeGreaterThan(misses[1]!)
    expect(misses[1]).toBeGreaterThan(misses[2]!)
    expect(lmdbReads[0]).toBeGreaterThan(lmdbReads[2]!)
  })
})

describe('LMDB reads', () => {
  // The tables are keyed by hashes: read-ahead only fills the page cache (and a memory budget) with pages no one
  // reads. MDB_NORDAHEAD advises the map MADV_RANDOM, which Linux shows as the `rr` flag of the mapping.
  test.skipIf(process.platform !== 'linux')('behavior: the state DB is mapped without read-ahead (MADV_RANDOM: `rr` in /proc/self/smaps)', async () => {
    const dir = join(await tempDir(), 'db')
    const store = StateStore.open(dir, { caches: { l1: 0, l2: 0 } })
    try {
      const smaps = await readFile('/proc/self/smaps', 'utf8')
      const file = join(dir, 'data.mdb')
      const mapping = smaps.split(/\n(?=[0-9a-f]+-[0-9a-f]+ )/).find((m) => m.split('\n')[0]!.endsWith(file))
      expect(mapping).toBeDefined()
      expect(/^VmFlags:.* rr( |$)/m.test(mapping!)).toBe(true)
    } finally {
      await store.close()
    }
  })
})

describe('unbounded caches', () => {
  test('behavior: without a budget each level holds up to an eighth of the heap limit, then evicts (the caches cannot exhaust the heap on a long range)', async () => {
    const store = StateStore.open(join(await tempDir(), 'db'), { caches: { l1: Number.MAX_SAFE_INTEGER, l2: Number.MAX_SAFE_INTEGER } })
    try {
      const l1 = (store as unknown as { l1: ByteLru<number> }).l1
      expect(l1.capacity).toBe(HEAP_CACHE_CAP)
      expect(HEAP_CACHE_CAP).toBe(Math.floor(getHeapStatistics().heap_size_limit / 8))
      // A budget that is given stays as given.
      const given = StateStore.open(join(await tempDir(), 'db2'), { caches: { l1: 12345, l2: 0 } })
      expect((given as unknown as { l1: ByteLru<number> }).l1.capacity).toBe(12345)
      await given.close()
    } finally {
      await store.close()
    }
  })
})

describe('DB reuse', () => {
  test('behavior: a DB from another chain or schema version is refused', async () => {
    const dir = join(await tempDir(), 'db')
    await replayChain(MIXED, ['live'], lmdb(undefined, null, dir))
    await expect(replayChain(join(CHAINS_DIR, 'eth-transfer'), ['live'], lmdb(undefined, null, dir))).rejects.toThrowError(
      /state DB holds chain:1337:0x[0-9a-f]{64}, not chain:1337:0x[0-9a-f]{64}/,
    )
    const store = StateStore.open(dir, { caches: { l1: 0, l2: 0 } })
    const { open } = await import('lmdb')
    await store.close()
    const root = open({ path: dir, maxDbs: 8 })
    const meta = root.openDB({ name: 'meta', encoding: 'json' })
    await meta.put('meta', { ...(meta.get('meta') as object), schemaVersion: 99 })
    await root.close()
    expect(() => StateStore.open(dir, { caches: { l1: 0, l2: 0 } })).toThrowError(MegabenchError)
    expect(() => StateStore.open(dir, { caches: { l1: 0, l2: 0 } })).toThrowError(/schema version 99; this megabench reads version 1/)
  })

  test('behavior: a DB at its head resumes after it (no block executed twice)', async () => {
    const root = await tempDir()
    const chain = join(root, 'chain')
    await cp(MIXED, chain, { recursive: true })
    const dir = join(root, 'db')
    const first = await replay({ source: await createChainSource({ dir: chain, to: 4 }), sourcePaths: [chain], storage: lmdb(undefined, null, dir), warmup: 0 })
    expect(first.engines[0]!.blocks.map((b) => b.number)).toEqual([1, 2, 3, 4])
    const second = await replayChain(chain, ['live'], lmdb(undefined, null, dir))
    expect(second.engines[0]!.blocks.map((b) => b.number)).toEqual([5, 6, 7, 8, 9, 10])
    expect(second.verification.failed).toEqual([])
    expect(second.engines[0]!.storage!.import.resumedAt).toBe(4)
    await rm(root, { recursive: true, force: true })
  })
})

describe('FlatStateManager', () => {
  test('default: random accounts, slots, checkpoints and reverts give the same state and root as MerkleStateManager', async () => {
    await initKeccak()
    const common = new Common({ chain: Mainnet, hardfork: Hardfork.Cancun })
    const store = StateStore.open(join(await tempDir(), 'db'), { caches: { l1: 4096, l2: 4096 } })
    const empty = new MerkleStateManager().getStateRoot()
    const flat = new FlatStateManager(common, store, await empty, true)
    const ref = new MerkleStateManager({ caches: new Caches() })
    const rng = new Rng('flat')
    const addresses = Array.from({ length: 12 }, (_, i) => createAddressFromString(`0x${(i + 1).toString(16).padStart(40, '0')}`))
    const pick = () => addresses[rng.nextBelow(addresses.length)]!
    let depth = 0
    for (let step = 0; step < 3000; step++) {
      const op = rng.nextBelow(10)
      const a = pick()
      if (op < 3) {
        // As the EVM does: read the account (keeping its storage root), change it, write it back.
        const [nonce, balance] = [BigInt(rng.nextBelow(5)), BigInt(rng.nextBelow(1000))]
        for (const sm of [flat, ref]) {
          const acct = (await sm.getAccount(a)) ?? new Account()
          acct.nonce = nonce
          acct.balance = balance
          await sm.putAccount(a, acct)
        }
      } else if (op < 6) {
        if ((await ref.getAccount(a)) === undefined) continue
        const key = setLengthLeft(new Uint8Array([rng.nextBelow(8)]), 32)
        const value = rng.nextBelow(3) === 0 ? new Uint8Array(0) : new Uint8Array([1 + rng.nextBelow(200)])
        for (const sm of [flat, ref]) await sm.putStorage(a, key, value)
      } else if (op === 6 && depth < 4) {
        depth++
        for (const sm of [flat, ref]) await sm.checkpoint()
      } else if (op === 7 && depth > 0) {
        depth--
        const commit = rng.nextBelow(2) === 0
        for (const sm of [flat, ref]) await (commit ? sm.commit() : sm.revert())
      } else if (op === 8 && depth === 0 && rng.nextBelow(20) === 0) {
        expect(bytesToHex(await flat.getStateRoot())).toBe(bytesToHex(await ref.getStateRoot()))
        if (rng.nextBelow(2) === 0) await flat.persist({ number: step, hash: '0x' }, { schemaVersion: 1, chainKey: 't', complete: true })
      } else if (op === 9) {
        const key = setLengthLeft(new Uint8Array([rng.nextBelow(8)]), 32)
        expect(bytesToHex(await flat.getStorage(a, key))).toBe(bytesToHex(await ref.getStorage(a, key)))
        expect((await flat.getAccount(a))?.balance).toBe((await ref.getAccount(a))?.balance)
      }
    }
    while (depth-- > 0) for (const sm of [flat, ref]) await sm.commit()
    expect(bytesToHex(await flat.getStateRoot())).toBe(bytesToHex(await ref.getStateRoot()))
    await store.close()
  })
})

describe('FlatStateManager: deletions', () => {
  // Not compared with MerkleStateManager: in @ethereumjs/statemanager 10.1.3 a deleted account's
  // cached storage survives (StorageCache.clearStorage is neither journaled nor applied to slots
  // already in the checkpoint diff), so a deleted-and-recreated account still reads its old slots.
  test('behavior: a deleted account loses its storage (cached and persisted); reverting the deletion restores it', async () => {
    await initKeccak()
    const common = new Common({ chain: Mainnet, hardfork: Hardfork.Cancun })
    const store = StateStore.open(join(await tempDir(), 'db'), { caches: { l1: 1 << 20, l2: 1 << 20 } })
    const flat = new FlatStateManager(common, store, await new MerkleStateManager().getStateRoot(), true)
    const a = createAddressFromString('0x00000000000000000000000000000000000000aa')
    const k = (n: number) => setLengthLeft(new Uint8Array([n]), 32)
    const meta = { schemaVersion: 1, chainKey: 't', complete: true }
    await flat.putAccount(a, new Account(1n, 5n))
    await flat.putStorage(a, k(1), new Uint8Array([11]))
    await flat.persist({ number: 1, hash: '0x' }, meta)
    await flat.putStorage(a, k(2), new Uint8Array([22]))
    await flat.checkpoint()
    await flat.deleteAccount(a)
    expect(await flat.getAccount(a)).toBeUndefined()
    expect(await flat.getStorage(a, k(1))).toEqual(new Uint8Array(0))
    await flat.revert()
    expect(await flat.getStorage(a, k(1))).toEqual(new Uint8Array([11]))
    expect(await flat.getStorage(a, k(2))).toEqual(new Uint8Array([22]))
    await flat.deleteAccount(a)
    await flat.putAccount(a, new Account(0n, 1n))
    expect(await flat.getStorage(a, k(1))).toEqual(new Uint8Array(0))
    // Persisted: the wiped slots are gone from the flat table, and the root is that of an empty storage.
    await flat.persist({ number: 2, hash: '0x' }, meta)
    expect(await flat.getStorage(a, k(1))).toEqual(new Uint8Array(0))
    const ref = new MerkleStateManager()
    await ref.putAccount(a, new Account(0n, 1n))
    expect(bytesToHex(flat.currentRoot)).toBe(bytesToHex(await ref.getStateRoot()))
    await store.close()
  })
})

describe('building blocks', () => {
  test('ByteLru: evicts least recently used entries to stay within its byte budget', () => {
    const lru = new ByteLru<0>(3 * entryBytes('a', new Uint8Array(10)), 1)
    for (const k of ['a', 'b', 'c']) lru.set(k, new Uint8Array(10))
    expect(lru.get(0, 'a')).toBeDefined() // a is now the most recent
    lru.set('d', new Uint8Array(10))
    expect(lru.get(0, 'b')).toBeUndefined()
    expect(lru.get(0, 'a')).toBeDefined()
    expect(lru.size).toBe(3)
    expect(lru.bytesUsed).toBeLessThanOrEqual(lru.capacity)
    expect(lru.hits[0]).toBe(2)
    expect(lru.misses[0]).toBe(1)
    expect(new ByteLru<0>(0, 1).size).toBe(0)
  })

  test('LogHistogram: buckets, mean and quantiles', () => {
    const h = new LogHistogram()
    for (const ns of [100, 100, 100, 5000]) h.addMs(ns / 1e6)
    expect(h.count).toBe(4)
    expect(h.meanNs).toBeCloseTo(1325, 6)
    expect(h.quantileNs(0.5)).toBe(128)
    expect(h.quantileNs(0.99)).toBe(8192)
    expect(h.buckets()).toEqual([
      { fromNs: 64, toNs: 128, count: 3 },
      { fromNs: 4096, toNs: 8192, count: 1 },
    ])
  })

  test('sizes and the budget split', () => {
    expect(parseSize('--memory')('64MB')).toBe(64 * 2 ** 20)
    expect(parseSize('--memory')('1.5GiB')).toBe(1.5 * 2 ** 30)
    expect(parseSize('--memory')('512k')).toBe(512 * 1024)
    expect(() => parseSize('--memory')('lots')).toThrowError('--memory expects a size such as 64MB, 1GB or 512k (got "lots")')
    expect(splitBudget({ memory: 1000 })).toEqual({ l1: 250, l2: 750, total: 1000 })
    expect(splitBudget({ memory: 1000, l1: 100 })).toEqual({ l1: 100, l2: 900, total: 1000 })
    expect(splitBudget({ l1: 10, l2: 20 })).toEqual({ l1: 10, l2: 20, total: 30 })
    expect(splitBudget({}).total).toBeNull()
  })
})
