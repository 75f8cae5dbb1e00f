import type { Block } from '@ethereumjs/block'
import type { Common } from '@ethereumjs/common'
import { Account, type Address, bytesToHex, createAddressFromString, hexToBytes, setLengthLeft } from '@ethereumjs/util'
import { type VM, createVM } from '@ethereumjs/vm'
import { type Abi, type Hex, decodeFunctionResult, encodeDeployData, encodeFunctionData } from 'viem'

import type { AllocAccount } from '../sources/chainFormat.js'
import type { ContractArtifact } from './artifacts.js'

const GAS = 30_000_000n

/**
 * An EVM outside any chain, for deploying and configuring contracts before genesis: deployments and
 * calls really execute (constructors, CREATE2, storage), and every storage slot written is recorded
 * with its raw key, so that the resulting accounts can be written into a genesis alloc.
 */
export class ScratchEvm {
  private readonly written = new Map<string, Set<string>>()

  private constructor(
    readonly vm: VM,
    private readonly block: Block,
    readonly sender: Address,
  ) {}

  static async create(common: Common, block: Block, sender: Address, balance: bigint): Promise<ScratchEvm> {
    const vm = await createVM({ common: common.copy() })
    const scratch = new ScratchEvm(vm, block, sender)
    const sm = vm.stateManager
    const put = sm.putStorage.bind(sm)
    sm.putStorage = async (address: Address, key: Uint8Array, value: Uint8Array) => {
      const a = address.toString()
      let keys = scratch.written.get(a)
      if (keys === undefined) scratch.written.set(a, (keys = new Set()))
      keys.add(bytesToHex(key))
      return put(address, key, value)
    }
    await sm.putAccount(sender, new Account(0n, balance))
    return scratch
  }

  /** Deploys `artifact` with constructor `args`; returns its address. */
  async deploy(artifact: ContractArtifact, args: readonly unknown[] = []): Promise<Hex> {
    const data = encodeDeployData({ abi: artifact.abi, bytecode: artifact.bytecode, args })
    const res = await this.vm.evm.runCall({ caller: this.sender, data: hexToBytes(data), gasLimit: GAS, block: this.block })
    const err = res.execResult.exceptionError
    if (err !== undefined || res.createdAddress === undefined) {
      throw new Error(`deploying ${artifact.contractName} failed: ${err?.error ?? 'no address'}`)
    }
    return res.createdAddress.toString() as Hex
  }

  /** Calls `functionName` on `to`; throws on revert; returns the decoded result. */
  async call(to: Hex, abi: Abi, functionName: string, args: readonly unknown[] = [], value = 0n): Promise<unknown> {
    const data = encodeFunctionData({ abi, functionName, args })
    const res = await this.vm.evm.runCall({
      caller: this.sender,
      to: createAddressFromString(to),
      data: hexToBytes(data),
      value,
      gasLimit: GAS,
      block: this.block,
    })
    if (res.execResult.exceptionError !== undefined) {
      throw new Error(`${functionName} on ${to} reverted: ${res.execResult.exceptionError.error}`)
    }
    return decodeFunctionResult({ abi, functionName, data: bytesToHex(res.execResult.returnValue) })
  }

  /** The account at `address` as a genesis alloc entry: nonce, balance, code, written storage (raw keys). */
  async allocOf(address: Hex): Promise<AllocAccount> {
    const a = createAddressFromString(address)
    const sm = this.vm.stateManager
    const account = (await sm.getAccount(a)) ?? new Account()
    const out: AllocAccount = { nonce: `0x${account.nonce.toString(16)}`, balance: `0x${account.balance.toString(16)}` }
    const code = await sm.getCode(a)
    if (code.length > 0) out.code = bytesToHex(code)
    const storage: Record<string, string> = {}
    for (const key of [...(this.written.get(a.toString()) ?? [])].sort()) {
      const value = await sm.getStorage(a, hexToBytes(key as Hex))
      if (value.length > 0) storage[key] = bytesToHex(setLengthLeft(value, 32))
    }
    if (Object.keys(storage).length > 0) out.storage = storage
    return out
  }
}
