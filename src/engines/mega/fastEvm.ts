/**
 * The mega engine's `--evm fast` path: the fast EVM (src/evm/) over the MegaState, one block at a
 * time. `MegaBackend` is the fast EVM's StateBackend over a MegaState: reads by hashed keys, a
 * block's writes applied through MegaState's journaled writes (so the block diff, the tree and the
 * change tracking see them exactly as with ethereumjs).
 */
import type { Block } from '@ethereumjs/block'
import { KECCAK256_RLP, bytesToUnprefixedHex, unpadBytes } from '@ethereumjs/util'

import type { FastBlockProbe } from '../../evm/profile.js'
import { runFastBlock } from '../fastBlock.js'
import type { EvmTier } from '../../evm/tiers.js'
import type { Fork } from '../../evm/forks.js'
import { bigToBytes, bytesToWord } from '../../evm/interpreter.js'
import { type AccountRecord, type StateBackend, type StateChanges, fromHex } from '../../evm/state.js'
import type { ExecutedBlock } from '../baseline/executeBlock.js'
import { type MegaState, NON_EMPTY_STORAGE } from './megaState.js'

const EMPTY = new Uint8Array(0)

export class MegaBackend implements StateBackend {
  constructor(readonly state: MegaState) {}

  getAccount(address: string): AccountRecord | undefined {
    this.state.reads.accounts++
    const a = this.state.accounts.get(this.state.accountKeyOfHex(address))
    return a === undefined || a === null ? undefined : a
  }

  getCode(codeHash: Uint8Array): Uint8Array {
    const code = this.state.codes.get(bytesToUnprefixedHex(codeHash))
    if (code === undefined) throw new Error(`code ${bytesToUnprefixedHex(codeHash)} is not in the mega state`)
    this.state.reads.code++
    this.state.reads.codeBytes += code.length
    return code
  }

  getStorage(address: string, slot: bigint): bigint {
    this.state.reads.storageSlots++
    const m = this.state.storage.get(this.state.accountKeyOfHex(address))
    if (m === undefined) return 0n
    const v = m.get(this.state.slotKeyOfHex(slot.toString(16).padStart(64, '0')))
    return v === undefined || v.length === 0 ? 0n : bytesToWord(v)
  }

  hasStorage(address: string): boolean {
    const m = this.state.storage.get(this.state.accountKeyOfHex(address))
    return m !== undefined && m.size > 0
  }

  applyChanges(c: StateChanges): void {
    const st = this.state
    for (const a of c.wiped) st.wipe(fromHex(a))
    for (const [h, code] of c.codes) if (!st.codes.has(h)) st.addCode(code)
    for (const [a, slots] of c.storage) {
      const key = st.accountKeyOfHex(a)
      for (const [k, v] of slots) {
        const slot = k.padStart(64, '0')
        st.putSlotByKey(key, st.slotKeyOfHex(slot), v === 0n ? EMPTY : unpadBytes(bigToBytes(v)), new Uint8Array(Buffer.from(slot, 'hex')))
      }
    }
    for (const [a, rec] of c.accounts) {
      const bytes = fromHex(a)
      const key = st.accountKeyOfHex(a)
      const prev = st.accounts.get(key)
      if (rec === null) {
        if (prev !== undefined && prev !== null) {
          st.putAccountByKey(key, null, bytes)
          if (this.hasStorage(a)) st.wipe(bytes)
        }
        continue
      }
      // Only emptiness of storage is observable (EIP-7610): the same marker MegaStateManager keeps.
      const next = { nonce: rec.nonce, balance: rec.balance, codeHash: rec.codeHash, storageRoot: this.hasStorage(a) ? NON_EMPTY_STORAGE : KECCAK256_RLP }
      if (prev === undefined || prev === null || prev.nonce !== next.nonce || prev.balance !== next.balance || !sameBytes(prev.codeHash, next.codeHash) || !sameBytes(prev.storageRoot, next.storageRoot)) {
        st.putAccountByKey(key, next, bytes)
      }
    }
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

export { fastForkOf } from '../fastBlock.js'

/**
 * One block on the fast EVM over the mega state (Frontier … BPO2, its EIP-7685 requests hash from Prague on);
 * with `probe`, in the instrumented interpreter. Before Byzantium, `stateRoot` gives the root after each
 * transaction (the engine's MPT mirror, as for @ethereumjs: `MegaStateManager.rootProvider`).
 */
export async function executeBlockOnFastEvm(
  state: MegaState,
  block: Block,
  p: { fork: Fork; chainId: bigint; ancestors: ReadonlyMap<bigint, Uint8Array>; daoForkBlock?: bigint | undefined; tier?: EvmTier | undefined; probe?: FastBlockProbe | undefined; stateRoot?: (() => Promise<Uint8Array>) | undefined },
): Promise<ExecutedBlock> {
  const executed = await runFastBlock(new MegaBackend(state), block, p)
  // MegaState's journal is only for ethereumjs's checkpoints; the fast EVM journals itself.
  state.journal = []
  return executed
}
