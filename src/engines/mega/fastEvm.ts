/**
 * The mega engine's `--evm fast` path: the fast EVM (src/evm/) over the MegaState, one block at a
 * time. `MegaBackend` is the fast EVM's StateBackend over a MegaState: reads by hashed keys, a
 * block's writes applied through MegaState's journaled writes (so the block diff, the tree and the
 * change tracking see them exactly as with ethereumjs).
 */
import type { Block } from '@ethereumjs/block'
import { bytesToUnprefixedHex } from '@ethereumjs/util'

import type { FastBlockProbe } from '../../evm/profile.js'
import { runFastBlock } from '../fastBlock.js'
import type { EvmTier } from '../../evm/tiers.js'
import type { Fork } from '../../evm/forks.js'
import { bigToBytes, bytesToWord } from '../../evm/interpreter.js'
import { type AccountRecord, type StateBackend, type StateChanges, fromHex } from '../../evm/state.js'
import type { ExecutedBlock } from '../baseline/executeBlock.js'
import type { MegaState } from './megaState.js'

const EMPTY = new Uint8Array(0)

export class MegaBackend implements StateBackend {
  /** The last address asked for and its hashed key: a contract's slot reads come in runs of the same address. */
  private lastAddress = ''
  private lastKey = ''

  constructor(readonly state: MegaState) {}

  private keyOf(address: string): string {
    if (address !== this.lastAddress) {
      this.lastKey = this.state.accountKeyOfHex(address)
      this.lastAddress = address
    }
    return this.lastKey
  }

  getAccount(address: string): AccountRecord | undefined {
    this.state.reads.accounts++
    return this.state.accountFieldsByKey(this.keyOf(address))
  }

  getCode(codeHash: Uint8Array): Uint8Array {
    const code = this.state.codes.get(bytesToUnprefixedHex(codeHash))
    if (code === undefined) throw new Error(`code ${bytesToUnprefixedHex(codeHash)} is not in the mega state`)
    this.state.reads.code++
    this.state.reads.codeBytes += code.length
    return code
  }

  getStorage(address: string, _slot: bigint, slotHex: string): bigint {
    this.state.reads.storageSlots++
    const key = this.keyOf(address)
    // An account without live slots (most) needs no slot hash.
    if (!this.state.hasStorageByKey(key)) return 0n
    const v = this.state.getSlotByKey(key, this.state.slotKeyOfHex(slotHex))
    return v.length === 0 ? 0n : bytesToWord(v)
  }

  hasStorage(address: string): boolean {
    return this.state.hasStorageByKey(this.keyOf(address))
  }

  applyChanges(c: StateChanges): void {
    const st = this.state
    for (const a of c.wiped) st.wipe(fromHex(a))
    for (const [h, code] of c.codes) if (!st.codes.has(h)) st.addCode(code)
    for (const [a, slots] of c.storage) {
      const key = st.accountKeyOfHex(a)
      for (const [k, v] of slots) {
        // No unhashed slot or address bytes with the changes: nothing downstream reads them (the MPT mirror
        // and the tree key by hash), and decoding them was ~3% of a block.
        st.putSlotByKey(key, st.slotKeyOfHex(k), v === 0n ? EMPTY : bigToBytes(v))
      }
    }
    for (const [a, rec] of c.accounts) {
      const key = st.accountKeyOfHex(a)
      const prev = st.accountFieldsByKey(key)
      if (rec === null) {
        if (prev !== undefined) {
          const bytes = fromHex(a)
          st.putAccountByKey(key, null, bytes)
          if (this.hasStorage(a)) st.wipe(bytes)
        }
        continue
      }
      // Storage emptiness (EIP-7610) is the state's own count of live slots: only the fields are written.
      if (prev === undefined || prev.nonce !== rec.nonce || prev.balance !== rec.balance || !sameBytes(prev.codeHash, rec.codeHash)) {
        st.putAccountByKey(key, { nonce: rec.nonce, balance: rec.balance, codeHash: rec.codeHash })
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
