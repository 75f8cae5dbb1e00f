import { Common, Hardfork, Mainnet } from '@ethereumjs/common'
import type { EVM } from '@ethereumjs/evm'
import { Account, createAddressFromString, hexToBytes } from '@ethereumjs/util'
import { createVM } from '@ethereumjs/vm'
import { describe, expect, test } from 'vitest'

import { OpcodeProfiler, type OpcodeRow } from '../src/probes/opcodeProfiler.js'
import { OPCODES } from '../src/probes/opcodes.js'

const A = createAddressFromString('0x00000000000000000000000000000000000000aa')
const B = createAddressFromString('0x00000000000000000000000000000000000000bb')
const CALLER = createAddressFromString('0x00000000000000000000000000000000000000cc')

/** A Cancun VM with the given contracts deployed. */
async function vmWith(contracts: [typeof A, string][]) {
  const vm = await createVM({ common: new Common({ chain: Mainnet, hardfork: Hardfork.Cancun }) })
  await vm.stateManager.putAccount(CALLER, new Account(0n, 10n ** 18n))
  for (const [address, code] of contracts) {
    await vm.stateManager.putAccount(address, new Account())
    await vm.stateManager.putCode(address, hexToBytes(code as `0x${string}`))
  }
  return vm
}

// A loop that counts down from 10:
//   0: PUSH1 0x0a   2: JUMPDEST   3: PUSH1 0x01   5: SWAP1   6: SUB   7: DUP1   8: PUSH1 0x02   10: JUMPI   11: STOP
const LOOP = '0x600a5b600190038060025700'

// Contract B: 1000 iterations of KECCAK256 over 32 bytes of memory.
//   0: PUSH2 0x03e8  3: JUMPDEST  4: PUSH1 0x20  6: PUSH1 0x00  8: KECCAK256  9: POP  10: PUSH1 0x01
//   12: SWAP1  13: SUB  14: DUP1  15: PUSH1 0x03  17: JUMPI  18: STOP
const HASH_LOOP = '0x6103e85b6020600020506001900380600357' + '00'
// Contract A: CALL(gas, B, 0, 0, 0, 0, 0); POP; STOP
const CALL_B = `0x6000600060006000600073${B.toString().slice(2)}5af15000`

const row = (rows: OpcodeRow[], name: string) => rows.find((r) => r.name === name)

describe('OpcodeProfiler', () => {
  test('default: counts and gas of a hand-assembled loop match a hand count', async () => {
    const vm = await vmWith([[A, LOOP]])
    const profiler = new OpcodeProfiler()
    profiler.attach(vm.evm as EVM)
    const res = await vm.evm.runCall({ caller: CALLER, to: A, gasLimit: 100_000n })
    profiler.detach(vm.evm as EVM)
    expect(res.execResult.exceptionError).toBeUndefined()

    const rows = profiler.profile().rows
    const counts = Object.fromEntries(rows.map((r) => [r.name, r.count]))
    expect(counts).toEqual({ PUSH1: 21, JUMPDEST: 10, SWAP1: 10, SUB: 10, DUP1: 10, JUMPI: 10, STOP: 1 })
    // Hand count: PUSH1 21×3, JUMPDEST 10×1, SWAP1/SUB/DUP1 10×3 each, JUMPI 10×10, STOP 0.
    const gas = Object.fromEntries(rows.map((r) => [r.name, r.staticGas + r.dynamicGas]))
    expect(gas).toEqual({ PUSH1: 63, JUMPDEST: 10, SWAP1: 30, SUB: 30, DUP1: 30, JUMPI: 100, STOP: 0 })
    expect(rows.reduce((s, r) => s + r.staticGas + r.dynamicGas, 0)).toBe(Number(res.execResult.executionGasUsed))
    // Rows are sorted by time; percentages add up.
    for (let i = 1; i < rows.length; i++) expect(rows[i - 1]!.totalNs).toBeGreaterThanOrEqual(rows[i]!.totalNs)
    expect(rows.at(-1)!.cumulativePct).toBeCloseTo(100, 6)
    expect(rows.every((r) => r.category === OPCODES[r.opcode]!.category)).toBe(true)
  })

  test('behavior: dynamic gas (memory expansion) is attributed to its opcode', async () => {
    // PUSH1 2, PUSH1 3, ADD, PUSH1 0, MSTORE, PUSH1 0x20, PUSH1 0, RETURN
    const vm = await vmWith([[A, '0x60026003016000526020' + '6000f3']])
    const profiler = new OpcodeProfiler()
    profiler.attach(vm.evm as EVM)
    const res = await vm.evm.runCall({ caller: CALLER, to: A, gasLimit: 100_000n })
    const rows = profiler.profile().rows
    expect(row(rows, 'MSTORE')).toMatchObject({ count: 1, staticGas: 3, dynamicGas: 3 })
    expect(row(rows, 'RETURN')).toMatchObject({ count: 1, staticGas: 0, dynamicGas: 0 })
    expect(rows.reduce((s, r) => s + r.staticGas + r.dynamicGas, 0)).toBe(Number(res.execResult.executionGasUsed))
  })

  test('behavior: CALL exclusive time excludes the child frame; inclusive time and gas include it', async () => {
    const vm = await vmWith([
      [A, CALL_B],
      [B, HASH_LOOP],
    ])
    const profiler = new OpcodeProfiler()
    profiler.attach(vm.evm as EVM)
    const res = await vm.evm.runCall({ caller: CALLER, to: A, gasLimit: 1_000_000n })
    expect(res.execResult.exceptionError).toBeUndefined()
    const rows = profiler.profile().rows
    const call = row(rows, 'CALL')!
    expect(call.count).toBe(1)
    expect(row(rows, 'KECCAK256')!.count).toBe(1000)
    // B's gas by hand: PUSH2 3; per iteration 1+3+3+36+2+3+3+3+3+3+10 = 70; first KECCAK256 expands memory by 3.
    expect(call.childGas).toBe(3 + 1000 * 70 + 3)
    // Every opcode that only B executes ran inside the CALL: all of it is in CALL's inclusive time
    // and none of it in its exclusive time.
    const childOnly = ['PUSH2', 'JUMPDEST', 'KECCAK256', 'SWAP1', 'SUB', 'DUP1', 'JUMPI']
    const childOpcodeNs = childOnly.reduce((s, n) => s + row(rows, n)!.totalNs, 0)
    expect(call.inclusiveNs - call.totalNs).toBeGreaterThanOrEqual(childOpcodeNs)
    expect(call.totalNs).toBeLessThan(call.inclusiveNs - childOpcodeNs)
    // Non-frame opcodes have inclusive = exclusive.
    expect(row(rows, 'KECCAK256')!.inclusiveNs).toBe(row(rows, 'KECCAK256')!.totalNs)
  })

  test('behavior: probe off = nothing attached; detach restores the EVM', async () => {
    const vm = await vmWith([[A, LOOP]])
    const evm = vm.evm as EVM & { _opcodeMap: unknown[] }
    const originalMap = evm._opcodeMap
    const originalEntry = evm._opcodeMap[0x01]
    const untouched = () => {
      expect(evm._opcodeMap).toBe(originalMap)
      expect(evm._opcodeMap[0x01]).toBe(originalEntry)
      for (const k of ['runCall', 'runInterpreter', 'runPrecompile']) expect(Object.hasOwn(evm, k)).toBe(false)
      expect(evm.events.listenerCount('step')).toBe(0)
      expect(evm.common.events.listenerCount('hardforkChanged')).toBe(1) // the EVM's own
    }
    untouched()
    const profiler = new OpcodeProfiler()
    profiler.attach(evm)
    expect(evm._opcodeMap).not.toBe(originalMap)
    expect(Object.hasOwn(evm, 'runCall')).toBe(true)
    expect(evm.events.listenerCount('step')).toBe(0)
    profiler.detach(evm)
    untouched()
  })

  test('behavior: the profiler re-wraps when the hardfork changes', async () => {
    const vm = await vmWith([[A, LOOP]])
    const profiler = new OpcodeProfiler()
    profiler.attach(vm.evm as EVM)
    vm.common.setHardfork(Hardfork.Shanghai)
    await vm.evm.runCall({ caller: CALLER, to: A, gasLimit: 100_000n })
    expect(row(profiler.profile().rows, 'JUMPI')!.count).toBe(10)
  })
})
