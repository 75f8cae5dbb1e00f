import type { Common } from '@ethereumjs/common'
import { RLP } from '@ethereumjs/rlp'
import { CODEHASH_PREFIX } from '@ethereumjs/statemanager'
import { bytesToHex, concatBytes, equalsBytes, hexToBytes } from '@ethereumjs/util'

import { FixtureError } from '../../errors/index.js'
import { now } from '../../probes/clock.js'
import { walkTrie } from '../../storage/import.js'
import type { GenesisState, WitnessState } from '../../types.js'
import { keccak256 } from '../../util/keccak.js'
import { buildGenesisState } from '../../workloads/genesis.js'
import { NodeStore } from '../../trie/nodeStore.js'
import { MegaState } from './megaState.js'
import { MptMirror } from './mptMirror.js'

/**
 * Loads a unit's starting state (a witness or a genesis) into a MegaState, and, when asked, Ethereum's
 * MPT beside it (for `--verify-mpt` and pre-Byzantium receipts). Shared by the engine and its
 * parallel-execution workers, which each hold a replica. The state goes into its tree as one bulk load
 * (packed, rooted); `slotIndex` as MegaStateOptions says.
 */
export async function loadMegaState(
  origin: string,
  s: WitnessState | GenesisState,
  opts: { common?: Common | undefined; mirror: boolean; slotIndex: boolean },
): Promise<{ state: MegaState; mirror: MptMirror | undefined; importMs: number }> {
  const t0 = now()
  let mirror: MptMirror | undefined
  let state: MegaState
  if (s.kind === 'witness') {
    const nodes = new Map<string, Uint8Array>()
    for (const n of s.nodes) if (!(n.length === 1 && n[0] === 0x80)) nodes.set(bytesToHex(keccak256(n)).slice(2), n)
    const storageRoots: [Uint8Array, Uint8Array][] = []
    state = await MegaState.create({ expectedEntries: nodes.size, slotIndex: opts.slotIndex })
    state.beginLoad()
    walkTrie(nodes, s.stateRoot, () => {}, (key, value) => {
      storageRoots.push([key.slice(), state.loadAccountRlp(key, value, true)])
    })
    for (const [k, root] of storageRoots) {
      walkTrie(nodes, root, () => {}, (slot, value) => state.loadSlot(k, slot, RLP.decode(value) as Uint8Array))
    }
    for (const c of s.codes) state.loadCode(keccak256(c), c)
    state.finishLoad()
    if (opts.mirror) mirror = new MptMirror(opts.common!, NodeStore.fromWitness(s.nodes, s.codes, CODEHASH_PREFIX), s.stateRoot)
  } else {
    const store = opts.mirror ? new NodeStore(true, Math.ceil(s.spec.accounts.count * 1.4) + 1024) : undefined
    const st = (state = await MegaState.create({ expectedEntries: s.spec.accounts.count + 4 * s.spec.accounts.senders + 1024, slotIndex: opts.slotIndex }))
    st.beginLoad()
    const built = buildGenesisState(s.spec, {
      node: (hash, node) => store?.putBytes(hash, node),
      code: (hash, code) => {
        st.loadCode(hash, code)
        store?.putBytes(concatBytes(CODEHASH_PREFIX, hash), code)
      },
      account: (key, rlp) => st.loadAccountRlp(key, rlp, false),
      slot: (hashedAddress, hashedSlot, value) => st.loadSlot(hashedAddress, hashedSlot, value),
    })
    st.finishLoad()
    if (!equalsBytes(built.stateRoot, hexToBytes(s.spec.stateRoot as `0x${string}`))) {
      throw new FixtureError(origin, `genesis expands to state root ${bytesToHex(built.stateRoot)}, not the ${s.spec.stateRoot} it declares`)
    }
    if (store !== undefined) mirror = new MptMirror(opts.common!, store, built.stateRoot)
  }
  return { state, mirror, importMs: now() - t0 }
}
