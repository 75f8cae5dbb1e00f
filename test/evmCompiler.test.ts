/**
 * The fast EVM's compiler tier against its interpreter: the same calls (random programs, and the
 * workload's real contracts at every gas limit around their needs) must give the same status, gas,
 * output, logs and state changes whichever tier runs them; and call depth never meets the JS stack.
 */
import { encodeFunctionData } from 'viem'
import { beforeAll, describe, expect, test } from 'vitest'

import { type EvmTier, blockSource, blockStarts, compilerStats } from '../src/evm/compiler.js'
import { type Rules, rulesFor, type Fork } from '../src/evm/forks.js'
import { type BlockEnv, Evm, analyze, tablesFor } from '../src/evm/interpreter.js'
import { precompilesFor } from '../src/evm/precompiles.js'
import { type AccountRecord, MemoryBackend, type StateBackend, type StateChanges, WorldState, hex } from '../src/evm/state.js'
import { Workbench, fromHex } from '../src/conformance/workbench.js'
import { initKeccak } from '../src/util/keccak.js'
import { loadArtifact } from '../src/workloads/artifacts.js'
import { Rng } from '../src/workloads/rng.js'

beforeAll(initKeccak)

/** The tiers compared, the interpreter first; 'tiered, threshold 1' mixes interpreted and compiled blocks in one frame. */
type Variant = { name: string; tier: EvmTier; threshold?: number }
const TIERS: Variant[] = [{ name: 'interpreter', tier: 'interpreter' }, { name: 'compiled', tier: 'compiled' }, { name: 'tiered', tier: 'tiered' }, { name: 'tiered, threshold 1', tier: 'tiered', threshold: 1 }]
const INTERPRETER = TIERS[0]!

/** Reads from `base`; records the changes a flush hands it instead of applying them. */
class RecordingBackend implements StateBackend {
  changes: StateChanges | undefined
  constructor(private readonly base: StateBackend) {}
  getAccount(a: string): AccountRecord | undefined {
    return this.base.getAccount(a)
  }
  getCode(h: Uint8Array): Uint8Array {
    return this.base.getCode(h)
  }
  getStorage(a: string, s: bigint, k: string): bigint {
    return this.base.getStorage(a, s, k)
  }
  hasStorage(a: string): boolean {
    return this.base.hasStorage(a)
  }
  applyChanges(c: StateChanges): void {
    this.changes = c
  }
}

const CALLER = 'cafe00000000000000000000000000000000cafe'

/** One message call on a fresh working state over `backend`: everything observable, as a string. */
function callOnce(v: Variant, backend: StateBackend, rules: Rules, env: BlockEnv, to: string, data: Uint8Array, gas: number, value = 0n, from = CALLER): string {
  const rec = new RecordingBackend(backend)
  const st = new WorldState(rec)
  const pre = precompilesFor(rules)
  st.beginTx()
  if (rules.berlin) {
    st.warmAddress(from)
    st.warmAddress(to)
    for (const a of pre.keys()) st.warmAddress(a)
  }
  const evm = new Evm(st, rules, env, pre, v.tier, v.threshold)
  evm.setTx(from, 7n, [])
  const res = evm.callMessage(from, to, to, value, data, gas, 0, false, 'call')
  st.finalizeTx(rules.eip158)
  st.flush()
  const c = rec.changes!
  return JSON.stringify({
    status: res.status,
    gasLeft: res.gasLeft,
    refund: evm.refund,
    output: hex(res.output),
    logs: res.status === 0 ? evm.logs.map((l) => [l.address, l.topics.map(hex), hex(l.data)]) : [],
    accounts: [...c.accounts].map(([a, r]) => [a, r === null ? null : [String(r.nonce), String(r.balance), hex(r.codeHash)]]).sort(),
    storage: [...c.storage].map(([a, m]) => [a, [...m].map(([k, v]) => [k, String(v)]).sort()]).sort(),
    wiped: [...c.wiped].sort(),
  })
}

function envOf(): BlockEnv {
  return {
    coinbase: 'c0ffee000000000000000000000000000000c0ff',
    number: 100n,
    timestamp: 1_700_000_000n,
    gasLimit: 30_000_000n,
    difficulty: 0n,
    prevRandao: 12345n,
    baseFee: 7n,
    chainId: 1n,
    blobBaseFee: 1n,
    blockHash: (n) => n * 1000n + 1n,
  }
}

// ---------------------------------------------------------------------------------------------
// Random programs: straight-line code, forward and backward jumps, memory, storage, hashing, logs,
// calls to itself, a second contract and precompiles, creates, and a halt at the end.

const A = 'aa00000000000000000000000000000000000001'
const B = 'bb00000000000000000000000000000000000002'

type Item = number[] | { label: number } | { jumpTo: number; op: number }

function randomProgram(rng: Rng, labels: number): Uint8Array {
  const items: Item[] = []
  const pushN = (v: bigint) => {
    if (v === 0n && rng.nextFloat() < 0.3) return [0x5f]
    const bytes = Math.max(1, Math.ceil(v.toString(16).length / 2))
    const out = [0x5f + bytes]
    for (let i = bytes - 1; i >= 0; i--) out.push(Number((v >> BigInt(8 * i)) & 0xffn))
    return out
  }
  const small = () => BigInt(rng.nextBelow(64))
  const word = () => {
    const r = rng.nextFloat()
    if (r < 0.4) return small()
    if (r < 0.6) return (1n << 256n) - 1n - small()
    if (r < 0.7) return 1n << BigInt(rng.nextBelow(256))
    let v = 0n
    for (let i = 0; i < 4; i++) v = (v << 64n) | BigInt(rng.nextBelow(2 ** 31)) * BigInt(rng.nextBelow(2 ** 31))
    return v & ((1n << 256n) - 1n)
  }
  const ARITH = [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e]
  const ENV = [0x30, 0x32, 0x33, 0x34, 0x36, 0x38, 0x3a, 0x3d, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x58, 0x59, 0x5a]
  let label = 0
  const n = 20 + rng.nextBelow(60)
  for (let i = 0; i < n; i++) {
    const r = rng.nextFloat()
    if (r < 0.25) items.push(pushN(word()))
    else if (r < 0.35) items.push([0x80 + rng.nextBelow(4)])
    else if (r < 0.42) items.push([0x90 + rng.nextBelow(4)])
    else if (r < 0.46) items.push([0x50])
    else if (r < 0.6) items.push([...pushN(word()), ...pushN(word()), ARITH[rng.nextBelow(ARITH.length)]!])
    else if (r < 0.64) items.push([ENV[rng.nextBelow(ENV.length)]!])
    else if (r < 0.7) items.push([...pushN(word()), ...pushN(BigInt(rng.nextBelow(rng.nextFloat() < 0.05 ? 100000 : 200))), rng.nextFloat() < 0.5 ? 0x52 : 0x53])
    else if (r < 0.73) items.push([...pushN(BigInt(rng.nextBelow(rng.nextFloat() < 0.05 ? 50000 : 200))), 0x51])
    else if (r < 0.77) items.push([...pushN(word()), ...pushN(BigInt(rng.nextBelow(4))), 0x55])
    else if (r < 0.8) items.push([...pushN(BigInt(rng.nextBelow(4))), 0x54])
    else if (r < 0.82) items.push([...pushN(BigInt(rng.nextBelow(100))), ...pushN(BigInt(rng.nextBelow(100))), 0x20])
    else if (r < 0.84) items.push([...pushN(word()), ...pushN(BigInt(rng.nextBelow(64))), ...pushN(BigInt(rng.nextBelow(64))), 0xa1])
    else if (r < 0.86 && label < labels) items.push({ label: label++ })
    else if (r < 0.89) items.push({ jumpTo: rng.nextBelow(labels), op: rng.nextFloat() < 0.7 ? 0x57 : 0x56 })
    else if (r < 0.93) {
      // CALL / STATICCALL / DELEGATECALL to itself, B or a precompile, with some or all gas.
      const target = [A, B, '0000000000000000000000000000000000000002', '0000000000000000000000000000000000000004'][rng.nextBelow(4)]!
      const kind = [0xf1, 0xfa, 0xf4][rng.nextBelow(3)]!
      const args = [...pushN(BigInt(rng.nextBelow(64))), ...pushN(BigInt(rng.nextBelow(64))), ...pushN(BigInt(rng.nextBelow(64))), ...pushN(BigInt(rng.nextBelow(64)))]
      const value = kind === 0xf1 ? pushN(BigInt(rng.nextBelow(3))) : []
      const gas = rng.nextFloat() < 0.5 ? [0x5a] : pushN(BigInt(rng.nextBelow(30000)))
      items.push([...args, ...value, 0x73, ...fromHex(target), ...gas, kind])
    } else if (r < 0.95) items.push([...pushN(BigInt(rng.nextBelow(40))), ...pushN(BigInt(rng.nextBelow(64))), ...pushN(BigInt(rng.nextBelow(2))), 0xf0]) // CREATE(value, offset, size) of memory bytes
    else if (r < 0.97) items.push([...pushN(BigInt(rng.nextBelow(3))), 0x56]) // a dynamic (mostly invalid) jump
    else items.push([[0xfe, 0x0c, 0x5c, 0x5d, 0x5e][rng.nextBelow(5)]!])
  }
  while (label < labels) items.push({ label: label++ })
  const end = [[0x00], [...pushN(BigInt(rng.nextBelow(64))), ...pushN(BigInt(rng.nextBelow(64))), 0xf3], [...pushN(BigInt(rng.nextBelow(64))), ...pushN(BigInt(rng.nextBelow(64))), 0xfd], [0x30, 0xff]][rng.nextBelow(4)]!
  items.push(end)
  // Assemble: labels are JUMPDESTs, jumps PUSH2 their label's offset.
  const offsets = new Map<number, number>()
  let pc = 0
  for (const it of items) {
    if (Array.isArray(it)) pc += it.length
    else if ('label' in it) offsets.set(it.label, pc++)
    else pc += 4
  }
  const out: number[] = []
  for (const it of items) {
    if (Array.isArray(it)) out.push(...it)
    else if ('label' in it) out.push(0x5b)
    else {
      const d = offsets.get(it.jumpTo) ?? 0
      out.push(0x61, d >> 8, d & 0xff, it.op)
    }
  }
  return new Uint8Array(out)
}

function backendWith(codes: [string, Uint8Array][]): MemoryBackend {
  const b = new MemoryBackend()
  for (const [addr, code] of codes) b.accounts.set(addr, { nonce: 1n, balance: 10n ** 18n, codeHash: b.putCode(code) })
  b.accounts.set(CALLER, { nonce: 0n, balance: 10n ** 20n, codeHash: b.putCode(new Uint8Array(0)) })
  b.storage.set(A, new Map([[1n, 5n], [2n, 0n + 77n]]))
  return b
}

describe('compiled blocks run exactly as the interpreter', () => {
  const forks: Fork[] = ['frontier', 'homestead', 'tangerineWhistle', 'byzantium', 'constantinople', 'istanbul', 'berlin', 'london', 'cancun', 'prague', 'osaka']

  test('random programs at random gas limits, every fork: identical outcomes and state changes in every tier', () => {
    const rng = new Rng("compiler-random-programs")
    const env = envOf()
    let runs = 0
    const statuses = new Set<string>()
    const compiledBefore = compilerStats.blocksCompiled
    const bailsBefore = compilerStats.bails
    for (let p = 0; p < 240; p++) {
      const codeA = randomProgram(rng, 4)
      const codeB = randomProgram(rng, 2)
      const backend = backendWith([
        [A, codeA],
        [B, codeB],
      ])
      const rules = rulesFor(forks[p % forks.length]!)
      const gases = [rng.nextBelow(100), rng.nextBelow(3000), rng.nextBelow(30000), rng.nextBelow(300000), 5_000_000]
      for (const gas of gases) {
        const data = new Uint8Array(rng.nextBelow(70)).map(() => rng.nextBelow(256))
        const value = BigInt(rng.nextBelow(2))
        const results = TIERS.map((t) => callOnce(t, backend, rules, env, A, data, gas, value))
        for (let i = 1; i < TIERS.length; i++) expect(results[i], `${TIERS[i]!.name}: program ${p} (${rules.fork}), gas ${gas}, code ${hex(codeA)}`).toBe(results[0])
        statuses.add(String(JSON.parse(results[0]!).status))
        runs++
      }
    }
    expect(runs).toBe(1200)
    // The programs reach success, revert and exceptional halts, and the compiler compiled their blocks.
    expect([...statuses].sort()).toEqual(['0', '1', '2'])
    expect(compilerStats.blocksCompiled - compiledBefore).toBeGreaterThan(300)
    // …and compiled blocks handed over to the interpreter where their gas or stack did not fit.
    expect(compilerStats.bails - bailsBefore).toBeGreaterThan(50)
  })

  test('ERC20 transfer and Uniswap V2 swap at every gas limit near their needs: identical in every tier', async () => {
    const wb = await Workbench.create('merkle')
    const c = wb.setup.contracts
    const token = loadArtifact('MegabenchToken').abi
    const router = loadArtifact('UniswapV2Router02').abi
    const [t0, t1] = [c.pairs[2]!.token0, c.pairs[2]!.token1]
    const calls = [
      { to: c.tokens[0]!, data: encodeFunctionData({ abi: token, functionName: 'transfer', args: ['0x0000000000000000000000000000000000001234', 5n] }) },
      { to: c.router, data: encodeFunctionData({ abi: router, functionName: 'swapExactTokensForTokens', args: [10n ** 15n, 0n, [t0, t1], c.deployer, 2_000_000_000n] }) },
    ]
    const caller = hex(wb.sender.bytes)
    for (const call of calls) {
      const to = call.to!.slice(2).toLowerCase()
      const data = fromHex(call.data)
      // From the deployer, who holds the tokens and approved the router.
      const full = JSON.parse(callOnce(INTERPRETER, wb.backend, wb.rules, wb.env, to, data, 5_000_000, 0n, caller))
      expect(full.status).toBe(0)
      // The least gas the call succeeds with (more than it uses: calls forward only 63/64 of what is left).
      let lo = 0
      let hi = 5_000_000
      while (hi - lo > 1) {
        const mid = (lo + hi) >> 1
        if (JSON.parse(callOnce(INTERPRETER, wb.backend, wb.rules, wb.env, to, data, mid, 0n, caller)).status === 0) hi = mid
        else lo = mid
      }
      const gases = new Set<number>()
      for (let g = hi - 300; g <= hi + 300; g++) gases.add(g)
      const rng = new Rng(`gas-${hi}`)
      for (let i = 0; i < 400; i++) gases.add(rng.nextBelow(hi))
      const statuses = new Set<number>()
      for (const gas of gases) {
        const results = TIERS.map((t) => callOnce(t, wb.backend, wb.rules, wb.env, to, data, gas, 0n, caller))
        for (let i = 1; i < TIERS.length; i++) expect(results[i], `${TIERS[i]!.name}: ${call.to!} gas ${gas}`).toBe(results[0])
        statuses.add(JSON.parse(results[0]!).status)
      }
      // Both sides of the out-of-gas boundary were run.
      expect(statuses.has(2)).toBe(true)
      expect(statuses.has(0)).toBe(true)
    }
  }, 120_000)

  test('a 1024-deep chain of self-calls runs in every tier (frames are not JavaScript recursion)', () => {
    // counter++ ; CALL(gas, self, 0, 0, 0, 0, 0) ; STOP — every frame to the depth limit increments once.
    const code = fromHex('6000546001016000' + '55' + '600060006000600060003' + '0' + '5a' + 'f1' + '00')
    const backend = backendWith([[A, code]])
    for (const t of TIERS) {
      // EIP-150 onwards (before it, CALL cannot forward all of GAS's reading: it runs out at depth 0).
      for (const fork of ['tangerineWhistle', 'cancun'] as Fork[]) {
        const out = JSON.parse(callOnce(t, backend, rulesFor(fork), envOf(), A, new Uint8Array(0), 1e15))
        expect(out.status).toBe(0)
        // Depths 0…1024 each ran (the call from depth 1024 fails): 1025 increments over the stored 0.
        expect(out.storage).toEqual([[A, [['0', '1025']]]])
      }
    }
  })

  test('1024 nested frames need no more JavaScript stack than one: the chain runs with ~5% of the stack left', () => {
    const code = fromHex('6000546001016000' + '55' + '600060006000600060003' + '0' + '5a' + 'f1' + '00')
    const backend = backendWith([[A, code]])
    // How deep this function recurses on an empty stack, then the same function to 95% of that depth.
    let depth = 0
    const down = (n: number, fn: () => unknown): unknown => {
      depth++
      return n === 0 ? fn() : down(n - 1, fn)
    }
    try {
      down(1e9, () => undefined)
    } catch (err) {
      expect(err).toBeInstanceOf(RangeError)
    }
    const max = depth
    // What is left at the bottom fits fewer than 1024 of these small frames: a frame-per-call EVM could not run the chain there.
    expect(max / 20).toBeLessThan(1024)
    for (const t of TIERS) {
      const out = down(Math.floor(max * 0.95), () => {
        // The stack left really is small: 20 more levels of this small function than fit on the whole stack would overflow it.
        expect(() => down(max / 20, () => undefined)).toThrow(RangeError)
        return JSON.parse(callOnce(t, backend, rulesFor('cancun'), envOf(), A, new Uint8Array(0), 1e15))
      }) as { status: number; storage: unknown }
      expect(out.status, t.name).toBe(0)
      expect(out.storage, t.name).toEqual([[A, [['0', '1025']]]])
    }
  })

  test('a block keeps its stack in locals: constants folded, one write-back at its end', () => {
    // PUSH1 2 PUSH1 3 ADD DUP1 SWAP1 POP PUSH1 11 JUMP / JUMPDEST JUMPDEST STOP
    const code = fromHex('6002600301809050600b565b5b00')
    const info = analyze(code)
    const src = blockSource(info, tablesFor(rulesFor('cancun')), blockStarts(info), 0)
    expect(src).toContain('s[sp0] = 0x5n;') // 3 + 2 computed at compile time: no addition in the code
    expect(src).not.toContain('+ 0x')
    expect(src).not.toMatch(/= s\[/) // nothing read back from the stack
    expect(src).toContain('f.pc = 11; return true;')
    expect(src.match(/f\.gas -= /g)).toHaveLength(1) // static gas charged once for the block
  })

  test('memory and hashing at offsets known at compile time take the numeric helpers; a folded chain feeds them', () => {
    // CALLDATALOAD(0) at 0x20 * 2 - 0x20 = 32; MLOAD(0x40); KECCAK256(0, 64); anything from the stack stays BigInt: MSTORE(CALLER, 1)
    const code = fromHex('60003560206020600202035260405160406000206001335250500000')
    const info = analyze(code)
    const src = blockSource(info, tablesFor(rulesFor('cancun')), blockStarts(info), 0)
    expect(src).toContain('mstoreK(f, 32, ')
    expect(src).toContain('mloadK(f, 64)')
    expect(src).toContain('keccakK(f, 0, 64)')
    expect(src).toMatch(/[^K]mstore\(f, t\d+, 0x1n\)/)
  })
})
