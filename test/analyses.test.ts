import { randomBytes } from 'node:crypto'

import { describe, expect, test } from 'vitest'

import { analyzeBounds } from '../src/analyses/bounds.js'
import { analyzeJit, amdahl } from '../src/analyses/jit.js'
import { type TxNode, analyzeParallelism, criticalPath, dependencies, listSchedule, txNode, windowParallelism } from '../src/analyses/parallelism.js'
import { parseAnalysisKinds } from '../src/analyses/index.js'
import { DiffAccumulator, analyzeStateDiff, compressedSize } from '../src/analyses/statediff.js'
import { distribution, windowsOf } from '../src/analyses/stats.js'
import type { AnalysedBlock } from '../src/analyses/types.js'
import { UsageError } from '../src/errors/index.js'
import { AccessSetProbe, type AccountAccess, type SlotAccess, type TxAccess } from '../src/probes/accessSets.js'
import type { OpcodeProfileJson } from '../src/run/schema.js'

const node = (reads: string[], writes: string[], gas = 1, deltas: string[] = []): TxNode => ({ reads, writes, deltas, gas })
const one = () => 1

describe('dependency DAG and critical path', () => {
  test('default: independent transactions have no edges; parallelism = tx count', () => {
    const nodes = [node(['a'], ['a']), node(['b'], ['b']), node(['c'], ['c'])]
    expect(dependencies(nodes)).toEqual([[], [], []])
    expect(windowParallelism(nodes).parallelism).toBe(3)
  })

  test('behavior: read-after-write and write-after-write are dependencies, write-after-read is not', () => {
    // t0 writes x; t1 reads x (RAW on t0); t2 writes x (WAW on t0); t3 only reads y, t4 writes y (WAR: none).
    const nodes = [node([], ['x']), node(['x'], ['p']), node([], ['x']), node(['y'], ['q']), node([], ['y'])]
    expect(dependencies(nodes)).toEqual([[], [0], [0], [], []])
  })

  test('behavior: a chain through different keys gives a critical path of its length', () => {
    // t0 → t1 (x) → t2 (y) → t3 (z); t4 independent.
    const nodes = [node([], ['x']), node(['x'], ['y']), node(['y'], ['z']), node(['z'], ['w']), node(['v'], ['v'])]
    const preds = dependencies(nodes)
    expect(preds).toEqual([[], [0], [1], [2], []])
    expect(criticalPath(preds, one)).toBe(4)
    expect(windowParallelism(nodes).parallelism).toBe(5 / 4)
  })

  test('behavior: the gas-weighted critical path follows the heaviest path, not the longest', () => {
    // Diamond a → {b, c} → d, weights 2, 3, 1, 2: critical path a-b-d = 7 gas, 3 transactions.
    const nodes = [node([], ['a'], 2), node(['a'], ['b'], 3), node(['a'], ['c'], 1), node(['b', 'c'], ['d'], 2)]
    const preds = dependencies(nodes)
    expect(preds).toEqual([[], [0], [0], [1, 2]])
    expect(criticalPath(preds, one)).toBe(3)
    expect(criticalPath(preds, (i) => nodes[i]!.gas)).toBe(7)
    const w = windowParallelism(nodes)
    expect(w.gasParallelism).toBe(8 / 7)
  })

  test('behavior: list scheduling on n cores (hand-computed makespans)', () => {
    const diamond = [node([], ['a'], 2), node(['a'], ['b'], 3), node(['a'], ['c'], 1), node(['b', 'c'], ['d'], 2)]
    const w = (n: TxNode[]) => (i: number) => n[i]!.gas
    expect(listSchedule(dependencies(diamond), w(diamond), 1)).toBe(8)
    expect(listSchedule(dependencies(diamond), w(diamond), 2)).toBe(7) // a 0-2; b 2-5 and c 2-3; d 5-7
    // Independent 3, 3, 2, 2 on 2 cores: longest first → {3, 3} then {2, 2}: makespan 5.
    const flat = [node([], ['p'], 2), node([], ['q'], 3), node([], ['r'], 2), node([], ['s'], 3)]
    expect(listSchedule(dependencies(flat), w(flat), 2)).toBe(5)
    expect(listSchedule(dependencies(flat), w(flat), 4)).toBe(3)
    // Longest-path-first: a long chain's head starts before a heavier independent task.
    // t0 (1) → t1 (4); t2 (3) alone. 2 cores: t0 and t2 at 0, t1 at 1 → makespan 5.
    const chain = [node([], ['x'], 1), node(['x'], ['y'], 4), node([], ['z'], 3)]
    expect(listSchedule(dependencies(chain), w(chain), 2)).toBe(5)
    expect(listSchedule(dependencies(chain), w(chain), 1)).toBe(8)
  })

  test('behavior: the speedup bound never exceeds the cores or the gas parallelism', () => {
    const nodes = Array.from({ length: 30 }, (_, i) => node(i % 3 === 0 ? ['hot'] : [`r${i}`], i % 3 === 0 ? ['hot'] : [`w${i}`], 21_000 + i * 1000))
    const w = windowParallelism(nodes, [2, 4, 8, 64])
    for (const [cores, s] of Object.entries(w.speedup)) {
      expect(s).toBeLessThanOrEqual(Number(cores) + 1e-9)
      expect(s).toBeLessThanOrEqual(w.gasParallelism + 1e-9)
      expect(s).toBeGreaterThanOrEqual(1)
    }
  })
})

/** A synthetic transaction: accounts touched as [address, read, written, inEvm], slots as [address, slot, read, written]. */
function tx(index: number, accounts: [string, boolean, boolean, boolean?][], slots: [string, string, boolean, boolean][] = [], coinbase: TxAccess['coinbase'] = 'fee'): TxAccess {
  const acc = (a: [string, boolean, boolean, boolean?]): AccountAccess => {
    const before = { nonce: 0n, balance: 100n, codeHash: '0xc5d2' }
    return { address: a[0], read: a[1], codeRead: false, written: a[2], wiped: false, before, after: a[2] ? { ...before, balance: 100n + BigInt(index + 1) } : before, inEvm: a[3] ?? false }
  }
  const slot = (s: [string, string, boolean, boolean]): SlotAccess => ({ address: s[0], slot: s[1], read: s[2], written: s[3], before: '0x01', after: s[3] ? '0x02' : '0x01', inEvm: true })
  return { index, hash: `0x${index}`, gasUsed: 21_000n, accounts: accounts.map(acc), slots: slots.map(slot), coinbase }
}

const CB = '0xc0'
function block(number: number, txs: TxAccess[], chain = 'test'): AnalysedBlock {
  const empty: TxAccess = { index: -1, hash: '', gasUsed: 0n, accounts: [], slots: [], coinbase: 'none' }
  return { chain, origin: 'synthetic', number, engineDiffDigest: null, access: { number: BigInt(number), hash: `0x${number}`, coinbase: CB, txs, prelude: empty, postlude: empty } }
}

describe('coinbase treatments', () => {
  // Three transfers between disjoint accounts, each paying a fee to the coinbase.
  const transfers = [0, 1, 2].map((i) => tx(i, [[`0xs${i}`, true, true], [`0xr${i}`, true, true], [CB, true, true]]))

  test('default: fee credits commute (parallelism 3); as conflicts they serialise (parallelism 1)', () => {
    const b = block(1, transfers)
    const p = analyzeParallelism([b], { windows: [1], cores: [2] })
    expect(p.blocks[0]!.commutative.criticalPathTxs).toBe(1)
    expect(p.blocks[0]!.commutative.parallelism).toBe(3)
    expect(p.blocks[0]!.conflict.criticalPathTxs).toBe(3)
    expect(p.blocks[0]!.conflict.parallelism).toBe(1)
  })

  test('behavior: a transaction whose EVM code reads the coinbase depends on every fee delta before it', () => {
    const reader = tx(3, [[`0xs3`, true, true], [CB, true, true, true]], [], 'evm')
    const after = tx(4, [[`0xs4`, true, true], [CB, true, true]])
    const nodes = [...transfers, reader, after].map((t) => txNode(t, CB, 'commutative'))
    expect(dependencies(nodes)).toEqual([[], [], [], [0, 1, 2], [3]])
    expect(nodes[4]!.deltas).toEqual([`a:${CB}`])
  })

  test('behavior: merged windows join consecutive blocks only', () => {
    const blocks = [block(1, transfers), block(2, transfers), block(4, transfers), block(5, transfers), block(6, transfers)]
    expect(windowsOf(blocks, 2).map((w) => w.map((b) => b.number))).toEqual([[1, 2], [4, 5]])
    expect(windowsOf(blocks, 3).map((w) => w.map((b) => b.number))).toEqual([[4, 5, 6]])
    expect(windowsOf([block(1, []), block(2, [], 'other')], 2)).toEqual([])
    const p = analyzeParallelism(blocks, { windows: [1, 2], cores: [2] })
    // The same senders in consecutive blocks: each transfer of block 2 depends on its twin in block 1.
    const k2 = p.summaries.find((s) => s.k === 2 && s.treatment === 'commutative')!
    expect(k2.windows).toBe(2)
    expect(k2.parallelism!.median).toBe(3)
  })
})

describe('statistics', () => {
  test('default: median, p10, p90 with linear interpolation', () => {
    const d = distribution([5, 1, 4, 2, 3])!
    expect(d).toMatchObject({ n: 5, median: 3, min: 1, max: 5, mean: 3 })
    expect(d.p10).toBeCloseTo(1.4, 12)
    expect(d.p90).toBeCloseTo(4.6, 12)
    expect(distribution([])).toBeNull()
  })
})

describe('state-diff sizes', () => {
  test('default: compression that would expand says so and sends the raw size', () => {
    const noise = new Uint8Array(randomBytes(200))
    const c = compressedSize(noise, 'deflate')
    expect(c.bytes).toBeGreaterThan(noise.length)
    expect(c).toMatchObject({ expanded: true, sentBytes: noise.length })
    const repetitive = new Uint8Array(4000).fill(7)
    for (const name of ['deflate', 'brotli'] as const) {
      const r = compressedSize(repetitive, name)
      expect(r.expanded).toBe(false)
      expect(r.sentBytes).toBe(r.bytes)
      expect(r.bytes).toBeLessThan(100)
    }
  })

  test('behavior: no window reports more sent bytes than raw; the 20-byte model counts updated keys', () => {
    const txs = [0, 1, 2].map((i) => tx(i, [[`0x${'a'.repeat(39)}${i}`, true, true], [CB, true, true]], [[`0x${'b'.repeat(40)}`, `0x${'0'.repeat(63)}${i}`, true, true]]))
    const s = analyzeStateDiff([block(1, txs), block(2, [])], { windows: [1, 2], tps: 1000 })
    for (const w of s.windows) {
      for (const c of ['deflate', 'brotli'] as const) {
        expect(w.compressed[c].sentBytes).toBeLessThanOrEqual(w.raw)
        if (w.compressed[c].bytes > w.raw) expect(w.compressed[c].expanded).toBeGreaterThan(0)
      }
    }
    const w1 = s.windows.find((w) => w.k === 1)!
    // Block 1: 3 senders + the coinbase + 3 slots = 7 keys; 20 B each over 3 transactions.
    expect(w1.keys).toBe(7)
    expect(w1.model).toBe(140)
    expect(w1.bytesPerTx.model).toBeCloseTo(140 / 3, 12)
    expect(w1.mbps.raw).toBeCloseTo((w1.raw / 3) * 1000 * 8 / 1e6, 12)
    // Per transaction the fee credit is left out: 1 account + 1 slot.
    expect(s.perTx.keys!.median).toBe(2)
  })

  test('behavior: the net diff keeps a key changed and then restored out, and lists slots held after a wipe', () => {
    const A = '0x' + '1'.repeat(40)
    const v = (balance: bigint) => ({ nonce: 0n, balance, codeHash: '0x00' })
    const rec = (accounts: AccountAccess[], slots: SlotAccess[]): TxAccess => ({ index: 0, hash: '0x', gasUsed: 0n, accounts, slots, coinbase: 'none' })
    const acc = (before: bigint, after: bigint, wiped = false): AccountAccess => ({ address: A, read: true, codeRead: false, written: true, wiped, before: v(before), after: v(after), inEvm: true })
    const slot = (s: string, before: string, after: string): SlotAccess => ({ address: A, slot: s, read: true, written: before !== after, before, after, inEvm: true })
    const s1 = `0x${'0'.repeat(63)}1`
    const s2 = `0x${'0'.repeat(63)}2`
    const d1 = new DiffAccumulator().add(rec([acc(1n, 2n)], [slot(s1, '0x05', '0x06')])).add(rec([acc(2n, 1n)], [slot(s1, '0x06', '0x05')])).diff()
    expect(d1).toEqual({ accounts: [], storage: [], wipes: [] })
    const d2 = new DiffAccumulator().add(rec([acc(1n, 1n)], [slot(s1, '0x05', '0x06')])).add(rec([acc(1n, 1n, true)], [slot(s2, '0x', '0x07')])).diff()
    expect(d2.wipes).toHaveLength(1)
    expect(d2.storage.map((s) => s.value)).toEqual(['0x07'])
  })
})

describe('JIT bound and hardware ceilings', () => {
  test('default: Amdahl over opcode time and over the execution window (exact numbers)', () => {
    const cat = (category: string, totalNs: number) => ({ category, totalNs, pct: 0, count: 1 })
    const profile = {
      calibration: { inRegionMs: 0, perRegionMs: 0, samples: 0 },
      rows: [],
      categories: [cat('host', 300e6), cat('system', 200e6), cat('stack', 300e6), cat('arithmetic', 200e6)],
      precompiles: [],
      coverage: { windowMs: 2000, timerOverheadMs: 0, opcodesMs: 1000, interpreterMs: 500, callFramesMs: 0, precompilesMs: 0, txSetupMs: 500, blockLevelMs: 0, stateRootsMs: 0, opcodeSharePct: 50 },
    } as OpcodeProfileJson
    const j = analyzeJit(profile)
    expect(j.shares.opcodes).toBe(0.5)
    expect(j.shares.execution).toBe(0.25)
    expect(j.shares.executionAndInterpreter).toBe(0.5)
    expect(j.bounds.map((b) => b.k)).toEqual([10, 100, null])
    expect(j.bounds[0]!.opcodes).toBeCloseTo(1 / (0.5 + 0.05), 12)
    expect(j.bounds[2]!.opcodes).toBe(2)
    expect(j.bounds[2]!.execution).toBeCloseTo(4 / 3, 12)
    expect(j.opcodes).toContain('ADD')
    expect(j.opcodes).toContain('PUSH1')
    expect(j.opcodes).not.toContain('SLOAD')
    expect(j.opcodes).not.toContain('KECCAK256')
    expect(amdahl(1, null)).toBe(Number.POSITIVE_INFINITY)
  })

  test('default: ceilings follow the whitepaper arithmetic with the measured inputs', () => {
    const b = analyzeBounds(
      { cpuUsPerTx: 100, cpuSource: 'test', updatesPerTx: 3, bytesPerTx: { raw: 250, model: 60, deflate: 200, brotli: 190 }, speedupAtCores: 2.5 },
      { cores: 8, iops: 300_000, mbps: 100 },
    )
    const tps = (r: string) => b.ceilings.find((c) => c.resource.startsWith(r))!.tps
    expect(tps('CPU, perfect')).toBe(80_000)
    expect(tps('CPU, dependency')).toBe(25_000)
    expect(tps('random IOPS')).toBe(100_000)
    expect(tps('bandwidth, megabench-diff-v1')).toBe(50_000)
    expect(tps("bandwidth, the study's")).toBeCloseTo(208_333.33, 1)
    expect(b.binding!.resource).toBe('CPU, dependency-limited')
  })

  test('behavior: analysis names are checked', () => {
    expect(parseAnalysisKinds(['bounds,parallelism'])).toEqual(['parallelism', 'bounds'])
    expect(parseAnalysisKinds('all')).toEqual(['parallelism', 'statediff', 'jit', 'bounds'])
    expect(() => parseAnalysisKinds(['speed'])).toThrow(UsageError)
  })
})

describe('access-set probe', () => {
  test('behavior: installing wraps only the given instance; uninstalling leaves it as it was', async () => {
    class FakeState {
      calls = 0
      async getAccount() {
        this.calls++
        return undefined
      }
      async getStorage() {
        return new Uint8Array()
      }
      async checkpoint() {}
    }
    const sm = new FakeState()
    const other = new FakeState()
    const evm = { runCall: async () => 'ran' }
    const before = Object.keys(sm).sort()
    const probe = new AccessSetProbe()
    const uninstall = probe.install({ stateManager: sm as never, evm })
    expect(Object.prototype.hasOwnProperty.call(sm, 'getAccount')).toBe(true)
    expect(Object.prototype.hasOwnProperty.call(other, 'getAccount')).toBe(false)
    // Outside a block nothing is recorded and calls pass straight through.
    await (sm as unknown as { getAccount: () => Promise<unknown> }).getAccount()
    expect(sm.calls).toBe(1)
    expect(await evm.runCall()).toBe('ran')
    expect(() => probe.install({ stateManager: other as never, evm })).toThrow('already installed')
    uninstall()
    expect(Object.keys(sm).sort()).toEqual(before)
    expect(Object.prototype.hasOwnProperty.call(evm, 'runCall')).toBe(true) // it was an own property: restored
    expect(await evm.runCall()).toBe('ran')
  })
})
