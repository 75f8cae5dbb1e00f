import type { Block } from '@ethereumjs/block'
import type { Common, StateManagerInterface } from '@ethereumjs/common'
import type { EVMMockBlockchainInterface } from '@ethereumjs/evm'
import { SimpleStateManager } from '@ethereumjs/statemanager'
import { Account, type Address, bigIntToUnpaddedBytes, bytesToHex, hexToBytes } from '@ethereumjs/util'
import { createVM } from '@ethereumjs/vm'
import { z } from 'zod'

import { executeBlock } from '../engines/baseline/executeBlock.js'
import { PhaseClock } from '../probes/phases.js'
import type { RpcClient } from './rpc.js'
import { hash32, hexData, proofSchema } from './schemas.js'
import { type TouchedKeys, accountHasCode, slotKey, touch } from './witness.js'

const hexTag = (n: bigint) => `0x${n.toString(16)}`

/**
 * Discovers the state a block touches by executing it against lazily fetched pre-state (the
 * fallback when the node has no prestate tracer): every account, slot and code the EVM reads is
 * fetched from the node at the parent block (eth_getProof, eth_getStorageAt, eth_getCode) the first
 * time it is read, and recorded. Nothing is merkleized; the keys then get proofs like traced ones.
 */
export async function discoverTouchedKeys(rpc: RpcClient, common: Common, block: Block): Promise<{ keys: TouchedKeys; ancestors: Map<bigint, string> }> {
  const parent = block.header.number - 1n
  const state = new LazyRpcState(rpc, parent, common)
  const ancestors = new Map<bigint, string>()
  const blockchain: EVMMockBlockchainInterface = {
    async getBlock(n: number) {
      const r = await rpc.call('eth_getBlockByNumber', [hexTag(BigInt(n)), false], z.object({ hash: hash32 }))
      ancestors.set(BigInt(n), r.hash)
      return { hash: () => hexToBytes(r.hash as `0x${string}`) }
    },
    async putBlock() {},
    shallowCopy() {
      return this
    },
  }
  const vm = await createVM({ common, stateManager: state as unknown as StateManagerInterface, blockchain })
  await executeBlock(vm, block, { clock: new PhaseClock(), stateRoot: false })
  return { keys: state.touched, ancestors }
}

/** SimpleStateManager whose first read of an account or slot fetches it from the node. */
class LazyRpcState extends SimpleStateManager {
  readonly touched: TouchedKeys = new Map()
  private readonly loaded = new Set<string>()

  constructor(
    private readonly rpc: RpcClient,
    private readonly at: bigint,
    common: Common,
  ) {
    super({ common })
  }

  private seed<V>(stacks: Map<string, V>[], key: string, value: V): void {
    for (const m of stacks) if (!m.has(key)) m.set(key, value)
  }

  private async loadAccount(address: Address): Promise<void> {
    const a = address.toString().toLowerCase()
    touch(this.touched, a)
    if (this.loaded.has(a)) return
    this.loaded.add(a)
    const p = await this.rpc.call('eth_getProof', [a, [], hexTag(this.at)], proofSchema)
    const exists = p.accountProof.length > 0 && !(BigInt(p.nonce) === 0n && BigInt(p.balance) === 0n && !accountHasCode(p))
    const account = exists
      ? new Account(BigInt(p.nonce), BigInt(p.balance), hexToBytes(p.storageHash as `0x${string}`), hexToBytes(p.codeHash as `0x${string}`))
      : undefined
    this.seed(this.accountStack as Map<string, Account | undefined>[], address.toString(), account)
    if (account !== undefined && accountHasCode(p)) {
      const code = await this.rpc.call('eth_getCode', [a, hexTag(this.at)], hexData)
      this.seed(this.codeStack as Map<string, Uint8Array>[], address.toString(), hexToBytes(code as `0x${string}`))
    }
  }

  override async getAccount(address: Address) {
    await this.loadAccount(address)
    return super.getAccount(address)
  }
  override async putAccount(address: Address, account?: Account) {
    await this.loadAccount(address)
    return super.putAccount(address, account as Account)
  }
  override async deleteAccount(address: Address) {
    await this.loadAccount(address)
    return super.deleteAccount(address)
  }
  override async getCode(address: Address) {
    await this.loadAccount(address)
    return super.getCode(address)
  }
  override async putCode(address: Address, value: Uint8Array) {
    await this.loadAccount(address)
    return super.putCode(address, value)
  }

  private async loadSlot(address: Address, key: Uint8Array): Promise<void> {
    await this.loadAccount(address)
    const a = address.toString().toLowerCase()
    const slot = slotKey(bytesToHex(key))
    touch(this.touched, a, [slot])
    const id = `${address.toString()}_${bytesToHex(key)}`
    if (this.loaded.has(id)) return
    this.loaded.add(id)
    const v = await this.rpc.call('eth_getStorageAt', [a, slot, hexTag(this.at)], hexData)
    const bytes = bigIntToUnpaddedBytes(v === '0x' ? 0n : BigInt(v))
    this.seed(this.storageStack as Map<string, Uint8Array>[], id, bytes)
  }

  override async getStorage(address: Address, key: Uint8Array) {
    await this.loadSlot(address, key)
    return super.getStorage(address, key)
  }
  override async putStorage(address: Address, key: Uint8Array, value: Uint8Array) {
    await this.loadSlot(address, key)
    return super.putStorage(address, key, value)
  }
}
