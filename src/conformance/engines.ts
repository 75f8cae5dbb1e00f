/**
 * The two EVMs behind one interface: a state handle per accepted block (so that a test's block tree
 * can branch), a block applied on its parent's state (a new state, or the reason it is rejected),
 * and the final state compared with the test's expected post-state.
 */
import type { Block } from '@ethereumjs/block'
import type { Common } from '@ethereumjs/common'
import { Caches, MerkleStateManager } from '@ethereumjs/statemanager'
import { MerklePatriciaTrie } from '@ethereumjs/mpt'
import { RLP } from '@ethereumjs/rlp'
import { Account, bigIntToBytes, bytesToHex, createAddressFromString, equalsBytes, hexToBytes, setLengthLeft } from '@ethereumjs/util'
import { type VM, createVM } from '@ethereumjs/vm'

import { AncestorChain } from '../chain/ancestors.js'
import { BlockExecution } from '../engines/baseline/executeBlock.js'
import { ReplayStateManager } from '../engines/baseline/stateManager.js'
import { PhaseClock } from '../probes/phases.js'
import { keccak256 } from '../util/keccak.js'
import { executeBlockFast, receiptsRoot } from '../evm/block.js'
import { type Fork, rulesFor } from '../evm/forks.js'
import type { EvmTier } from '../evm/tiers.js'
import { bytesToWord } from '../evm/interpreter.js'
import { stateRoot, trieRoot } from '../evm/mptRoot.js'
import { MemoryBackend, WorldState } from '../evm/state.js'
import { commonFor } from './common.js'
import { firstLine } from './genesis.js'
import type { BlockchainTest, EvmKind, JsonAccount } from './types.js'

/** What a block is executed with besides its parent's state. */
export type BlockContext = {
  fork: Fork
  /** Hashes of the block's ancestors (up to 256), by number, for BLOCKHASH. */
  ancestors: ReadonlyMap<bigint, Uint8Array>
  /** The network's DAO fork block, if any. */
  daoBlock: bigint | undefined
}

export interface EvmDriver<S> {
  genesis(): Promise<S>
  /** Executes `block` on `parent` and checks gas, bloom, receipts root and state root against its header. */
  apply(parent: S, block: Block, ctx: BlockContext): Promise<{ state: S } | { reason: string }>
  /** Compares a final state with the test's `postState` / `postStateHash`; a reason, or undefined if equal. */
  check(state: S): Promise<string | undefined>
}

/** `genesisCommon`: the Common of the test's genesis fork; `tier`: the fast EVM's (default DEFAULT_EVM_TIER). */
export function driverFor(evm: EvmKind, t: BlockchainTest, genesisCommon: Common, tier?: EvmTier): EvmDriver<unknown> {
  return (evm === 'fast' ? fastDriver(t, tier) : ethereumjsDriver(t, genesisCommon)) as EvmDriver<unknown>
}

function toKey(addr: string): string {
  return addr.slice(2).toLowerCase()
}

/** A test's accounts as the fast EVM's in-memory state. */
export function loadAccounts(accounts: Record<string, JsonAccount>): MemoryBackend {
  const b = new MemoryBackend()
  for (const [addr, a] of Object.entries(accounts)) {
    const key = toKey(addr)
    const code = hexToBytes(a.code as `0x${string}`)
    const codeHash = code.length === 0 ? keccak256(code) : b.putCode(code)
    b.accounts.set(key, { nonce: BigInt(a.nonce), balance: BigInt(a.balance), codeHash })
    const m = new Map<bigint, bigint>()
    for (const [k, v] of Object.entries(a.storage)) if (BigInt(v) !== 0n) m.set(BigInt(k), BigInt(v))
    if (m.size > 0) b.storage.set(key, m)
  }
  return b
}

function cloneBackend(b: MemoryBackend): MemoryBackend {
  const c = new MemoryBackend()
  for (const [k, v] of b.accounts) c.accounts.set(k, { ...v })
  for (const [k, v] of b.storage) c.storage.set(k, new Map(v))
  for (const [k, v] of b.codes) c.codes.set(k, v)
  return c
}

/** The first difference between a state and the expected post-state (every account field and slot). */
export function comparePost(b: MemoryBackend, post: Record<string, JsonAccount>): string | undefined {
  const expected = new Set<string>()
  for (const [addr, a] of Object.entries(post)) {
    const key = toKey(addr)
    expected.add(key)
    const got = b.accounts.get(key)
    if (got === undefined) return `account ${addr} missing`
    if (got.balance !== BigInt(a.balance)) return `balance of ${addr}: ${got.balance} != ${BigInt(a.balance)}`
    if (got.nonce !== BigInt(a.nonce)) return `nonce of ${addr}: ${got.nonce} != ${BigInt(a.nonce)}`
    if (!equalsBytes(got.codeHash, keccak256(hexToBytes(a.code as `0x${string}`)))) return `code of ${addr}`
    const slots = b.storage.get(key) ?? new Map<bigint, bigint>()
    let n = 0
    for (const [k, v] of Object.entries(a.storage)) {
      if (BigInt(v) === 0n) continue
      n++
      if (slots.get(BigInt(k)) !== BigInt(v)) return `storage ${k} of ${addr}: ${slots.get(BigInt(k))} != ${BigInt(v)}`
    }
    if (n !== slots.size) return `storage of ${addr}: ${slots.size} slots, expected ${n}`
  }
  for (const k of b.accounts.keys()) if (!expected.has(k)) return `unexpected account 0x${k}`
  return undefined
}

/** The storage root of a test account's storage. */
function storageRoot(storage: Record<string, string>): Uint8Array {
  const entries: [Uint8Array, Uint8Array][] = []
  for (const [k, v] of Object.entries(storage)) {
    if (BigInt(v) !== 0n) entries.push([keccak256(setLengthLeft(bigIntToBytes(BigInt(k)), 32)), RLP.encode(BigInt(v))])
  }
  return trieRoot(entries)
}

function compareHeader(h: Block['header'], gasUsed: bigint, logsBloom: Uint8Array, receipts: Uint8Array, root: Uint8Array, requestsHash: Uint8Array | undefined): string | undefined {
  if (gasUsed !== h.gasUsed) return `gasUsed ${gasUsed} != ${h.gasUsed}`
  if (!equalsBytes(logsBloom, h.logsBloom)) return 'logsBloom'
  if (!equalsBytes(receipts, h.receiptTrie)) return 'receiptsRoot'
  if (!equalsBytes(root, h.stateRoot)) return 'stateRoot'
  // EIP-7685 (Prague and later): the requests' commitment.
  if (requestsHash !== undefined || h.requestsHash !== undefined) {
    if (requestsHash === undefined || h.requestsHash === undefined || !equalsBytes(requestsHash, h.requestsHash)) return 'requestsHash'
  }
  return undefined
}

function fastDriver(t: BlockchainTest, tier: EvmTier | undefined): EvmDriver<MemoryBackend> {
  return {
    async genesis() {
      return loadAccounts(t.pre)
    },
    async apply(parent, block, ctx) {
      const trial = cloneBackend(parent)
      const state = new WorldState(trial)
      let res
      try {
        res = executeBlockFast(state, block, {
          fork: ctx.fork,
          chainId: 1n,
          blockHash: (n) => {
            const h = ctx.ancestors.get(n)
            return h === undefined ? 0n : bytesToWord(h)
          },
          daoForkBlock: ctx.daoBlock,
          tier,
          strictSystemCalls: true,
          intermediateRoot: rulesFor(ctx.fork).byzantium ? undefined : () => stateRoot(trial),
        })
      } catch (err) {
        return { reason: `execution: ${firstLine(err)}` }
      }
      const reason = compareHeader(block.header, res.gasUsed, res.logsBloom, await receiptsRoot(res.encodedReceipts), stateRoot(trial), res.requestsHash)
      return reason === undefined ? { state: trial } : { reason }
    },
    async check(state) {
      if (t.postState !== undefined) return comparePost(state, t.postState)
      if (t.postStateHash !== undefined && bytesToHex(stateRoot(state)) !== t.postStateHash) return 'postStateHash'
      return undefined
    },
  }
}

/**
 * @ethereumjs/vm on one in-memory trie per test: a state is a state root in it (every block's nodes
 * stay, so any accepted block can be a parent). Per block: a state manager at the parent's root with
 * caches (megabench's ReplayStateManager: storage writes stay in the cache until the root is computed)
 * and a VM at the block's fork.
 */
function ethereumjsDriver(t: BlockchainTest, genesisCommon: Common): EvmDriver<Uint8Array> {
  const trie = new MerklePatriciaTrie({ useKeyHashing: true, useKeyHashingFunction: keccak256 })
  // Given a Common, a state manager neither builds its own (Common's constructor is costly) nor hashes with @noble.
  const newStateManager = (common: Common) => new ReplayStateManager({ trie: trie.shallowCopy(false), caches: new Caches(), common })
  let vm: { fork: Fork; chain: AncestorChain; vm: VM } | undefined
  return {
    async genesis() {
      const sm = new MerkleStateManager({ trie, common: genesisCommon })
      for (const [addr, a] of Object.entries(t.pre)) {
        const address = createAddressFromString(addr)
        await sm.putAccount(address, new Account(BigInt(a.nonce), BigInt(a.balance)))
        const code = hexToBytes(a.code as `0x${string}`)
        if (code.length > 0) await sm.putCode(address, code)
        for (const [k, v] of Object.entries(a.storage)) {
          if (BigInt(v) === 0n) continue
          await sm.putStorage(address, setLengthLeft(bigIntToBytes(BigInt(k)), 32), bigIntToBytes(BigInt(v)))
        }
      }
      return sm.getStateRoot()
    },
    async apply(parent, block, ctx) {
      // One VM per fork, reused for the test's next block after a block that ran to its end (as the
      // baseline engine keeps one VM per unit); an execution error leaves its journal mid-block, so the
      // next block gets a new one.
      let v = vm
      vm = undefined
      if (v === undefined || v.fork !== ctx.fork) {
        const common = commonFor(ctx.fork, ctx.daoBlock).copy()
        const chain = new AncestorChain(ctx.ancestors, 'test', block.header.number)
        v = { fork: ctx.fork, chain, vm: await createVM({ common, stateManager: newStateManager(common), blockchain: chain }) }
      } else v.chain.setBlock(ctx.ancestors, 'test', block.header.number)
      await v.vm.stateManager.setStateRoot(parent)
      let ex
      try {
        const e = await BlockExecution.begin(v.vm, block, { clock: new PhaseClock(), stateRoot: true, strictSystemCalls: true })
        for (const tx of block.transactions) await e.addTransaction(tx)
        ex = await e.finish()
      } catch (err) {
        return { reason: `execution: ${firstLine(err)}` }
      }
      vm = v
      const reason = compareHeader(block.header, ex.gasUsed, ex.logsBloom, ex.receiptsRoot, ex.stateRoot!, ex.requestsHash)
      return reason === undefined ? { state: ex.stateRoot! } : { reason }
    },
    async check(root) {
      if (t.postStateHash !== undefined) return bytesToHex(root) === t.postStateHash ? undefined : 'postStateHash'
      if (t.postState === undefined) return undefined
      // The expected post-state's root (computed as the fast EVM computes its own); on a difference,
      // the first account that differs.
      if (equalsBytes(stateRoot(loadAccounts(t.postState)), root)) return undefined
      const sm = newStateManager(genesisCommon)
      await sm.setStateRoot(root)
      for (const [addr, a] of Object.entries(t.postState)) {
        const got = await sm.getAccount(createAddressFromString(addr))
        if (got === undefined) return `account ${addr} missing`
        if (got.balance !== BigInt(a.balance)) return `balance of ${addr}: ${got.balance} != ${BigInt(a.balance)}`
        if (got.nonce !== BigInt(a.nonce)) return `nonce of ${addr}: ${got.nonce} != ${BigInt(a.nonce)}`
        if (!equalsBytes(got.codeHash, keccak256(hexToBytes(a.code as `0x${string}`)))) return `code of ${addr}`
        if (!equalsBytes(got.storageRoot, storageRoot(a.storage))) return `storage of ${addr}`
      }
      return 'an unexpected account (state root differs)'
    },
  }
}
