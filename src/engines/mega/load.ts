import type { Common } from '@ethereumjs/common'
import { RLP } from '@ethereumjs/rlp'
import { CODEHASH_PREFIX } from '@ethereumjs/statemanager'
import { bytesToBigInt, bytesToHex, concatBytes, equalsBytes, hexToBytes } from '@ethereumjs/util'

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
 * parallel-execution workers, which each hold a replica.
 */
export function loadMegaState(
  origin: string,
  s: WitnessState | GenesisState,
  opts: { common?: Common | undefined; mirror: boolean },
): { state: MegaState; mirror: MptMirror | undefined; importMs: number } {
  const t0 = now()
  const state = new MegaState()
  let mirror: MptMirror | undefined
  if (s.kind === 'witness') {
    const nodes = new Map<string, Uint8Array>()
    for (const n of s.nodes) if (!(n.length === 1 && n[0] === 0x80)) nodes.set(bytesToHex(keccak256(n)).slice(2), n)
    const storageRoots: [string, Uint8Array][] = []
    walkTrie(nodes, s.stateRoot, () => {}, (key, value) => {
      const f = RLP.decode(value) as Uint8Array[]
      const k = bytesToHex(key).slice(2)
      state.loadAccount(k, { nonce: bytesToBigInt(f[0]!), balance: bytesToBigInt(f[1]!), storageRoot: f[2]!, codeHash: f[3]! })
      storageRoots.push([k, f[2]!])
    })
    for (const [k, root] of storageRoots) {
      walkTrie(nodes, root, () => {}, (slot, value) => state.loadSlot(k, bytesToHex(slot).slice(2), RLP.decode(value) as Uint8Array))
    }
    for (const c of s.codes) state.loadCode(keccak256(c), c)
    if (opts.mirror) mirror = new MptMirror(opts.common!, NodeStore.fromWitness(s.nodes, s.codes, CODEHASH_PREFIX), s.stateRoot)
  } else {
    const store = opts.mirror ? new NodeStore(true, Math.ceil(s.spec.accounts.count * 1.4) + 1024) : undefined
    const built = buildGenesisState(s.spec, {
      node: (hash, node) => store?.putBytes(hash, node),
      code: (hash, code) => {
        state.loadCode(hash, code)
        store?.putBytes(concatBytes(CODEHASH_PREFIX, hash), code)
      },
      account: (key, rlp) => {
        const f = RLP.decode(rlp) as Uint8Array[]
        state.loadAccount(bytesToHex(key).slice(2), { nonce: bytesToBigInt(f[0]!), balance: bytesToBigInt(f[1]!), storageRoot: f[2]!, codeHash: f[3]! })
      },
      slot: (hashedAddress, hashedSlot, value) => state.loadSlot(bytesToHex(hashedAddress).slice(2), bytesToHex(hashedSlot).slice(2), value),
    })
    if (!equalsBytes(built.stateRoot, hexToBytes(s.spec.stateRoot as `0x${string}`))) {
      throw new FixtureError(origin, `genesis expands to state root ${bytesToHex(built.stateRoot)}, not the ${s.spec.stateRoot} it declares`)
    }
    if (store !== undefined) mirror = new MptMirror(opts.common!, store, built.stateRoot)
  }
  return { state, mirror, importMs: now() - t0 }
}
