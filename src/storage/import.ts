import { RLP } from '@ethereumjs/rlp'
import { KECCAK256_RLP, bytesToHex, bytesToUnprefixedHex, concatBytes, equalsBytes, hexToBytes } from '@ethereumjs/util'

import type { GenesisSpec } from '../sources/chainFormat.js'
import type { WitnessState } from '../types.js'
import { keccak256 } from '../util/keccak.js'
import { buildGenesisState } from '../workloads/genesis.js'
import type { StateStore, StoreMeta } from './stateStore.js'
import { STORAGE_SCHEMA_VERSION } from './stateStore.js'

export type ImportStats = { accounts: number; slots: number; nodes: number; codes: number }

/**
 * Imports a Merkle witness into an empty store: every node reachable from the state root goes to the
 * account trie table, every node reachable from an account's storage root to the storage trie table,
 * and the leaves found on the way become the flat state (hashed keys). Nodes reachable from neither
 * (some witnesses carry post-state siblings) go to both trie tables. The flat state is partial:
 * the store is marked incomplete, so that flat misses are proven with the trie.
 */
export function importWitness(store: StateStore, w: WitnessState, chainKey: string): ImportStats {
  const nodes = new Map<string, Uint8Array>()
  for (const n of w.nodes) if (!(n.length === 1 && n[0] === 0x80)) nodes.set(bytesToUnprefixedHex(keccak256(n)), n)
  const imp = store.importer()
  const stats: ImportStats = { accounts: 0, slots: 0, nodes: 0, codes: 0 }
  try {
    const used = new Set<string>()
    const storageRoots: { hashedAddress: Uint8Array; root: Uint8Array }[] = []
    walkTrie(nodes, w.stateRoot, (hash, node) => {
      imp.put('account_trie', hexToBytes(`0x${hash}`), node)
      used.add(hash)
      stats.nodes++
    }, (key, value) => {
      imp.put('accounts', key, value)
      stats.accounts++
      const storageRoot = (RLP.decode(value) as Uint8Array[])[2]!
      if (!equalsBytes(storageRoot, KECCAK256_RLP)) storageRoots.push({ hashedAddress: key, root: storageRoot })
    })
    for (const { hashedAddress, root } of storageRoots) {
      walkTrie(nodes, root, (hash, node) => {
        imp.put('storage_trie', hexToBytes(`0x${hash}`), node)
        used.add(hash)
        stats.nodes++
      }, (key, value) => {
        imp.put('storage', concatBytes(hashedAddress, key), RLP.decode(value) as Uint8Array)
        stats.slots++
      })
    }
    for (const [hash, node] of nodes) {
      if (used.has(hash)) continue
      imp.put('account_trie', hexToBytes(`0x${hash}`), node)
      imp.put('storage_trie', hexToBytes(`0x${hash}`), node)
      stats.nodes++
    }
    for (const code of w.codes) {
      imp.put('bytecodes', keccak256(code), code)
      stats.codes++
    }
    imp.finish(meta(chainKey, false))
  } catch (err) {
    imp.abort()
    throw err
  }
  return stats
}

/** Imports a generated chain's genesis into an empty store, in bulk: flat state, tries and codes. */
export function importGenesis(store: StateStore, spec: GenesisSpec, chainKey: string): ImportStats & { stateRoot: Uint8Array } {
  const imp = store.importer()
  const stats: ImportStats = { accounts: 0, slots: 0, nodes: 0, codes: 0 }
  let built: ReturnType<typeof buildGenesisState>
  try {
    built = buildGenesisState(spec, {
      node: (hash, node, trie) => {
        imp.put(trie === 'account' ? 'account_trie' : 'storage_trie', hash, node)
        stats.nodes++
      },
      code: (hash, code) => {
        imp.put('bytecodes', hash, code)
        stats.codes++
      },
      account: (key, rlp) => {
        imp.put('accounts', key.slice(), rlp)
        stats.accounts++
      },
      slot: (hashedAddress, hashedSlot, value) => {
        imp.put('storage', concatBytes(hashedAddress, hashedSlot), value)
        stats.slots++
      },
    })
    imp.finish(meta(chainKey, true))
  } catch (err) {
    imp.abort()
    throw err
  }
  return { ...stats, stateRoot: built.stateRoot }
}

function meta(chainKey: string, complete: boolean): StoreMeta {
  return { schemaVersion: STORAGE_SCHEMA_VERSION, chainKey, complete, head: null }
}

type NodeItem = Uint8Array | NodeItem[]

/**
 * Walks the trie under `root` over the nodes present in `nodes`: `onNode` for every stored node
 * reached, `onLeaf(key, value)` for every leaf with its full 32-byte key. Missing nodes are skipped
 * (a witness holds only the paths the block touches).
 */
export function walkTrie(
  nodes: ReadonlyMap<string, Uint8Array>,
  root: Uint8Array,
  onNode: (hash: string, node: Uint8Array) => void,
  onLeaf: (key: Uint8Array, value: Uint8Array) => void,
): void {
  const visited = new Set<string>()
  const visitHash = (hash: Uint8Array, path: number[]) => {
    const h = bytesToUnprefixedHex(hash)
    if (visited.has(h)) return
    const node = nodes.get(h)
    if (node === undefined) return
    visited.add(h)
    onNode(h, node)
    visitItems(RLP.decode(node) as NodeItem[], path)
  }
  const visitChild = (c: NodeItem | undefined, path: number[]) => {
    if (c === undefined) return
    if (Array.isArray(c)) visitItems(c, path)
    else if (c.length === 32) visitHash(c, path)
  }
  const visitItems = (items: NodeItem[], path: number[]) => {
    if (items.length === 17) {
      for (let i = 0; i < 16; i++) visitChild(items[i], [...path, i])
      const v = items[16]
      if (v instanceof Uint8Array && v.length > 0) onLeaf(nibblesToKey(path), v)
      return
    }
    const compact = items[0] as Uint8Array
    const flag = compact[0]! >> 4
    const nibbles: number[] = []
    if (flag & 1) nibbles.push(compact[0]! & 0x0f)
    for (let i = 1; i < compact.length; i++) nibbles.push(compact[i]! >> 4, compact[i]! & 0x0f)
    const full = [...path, ...nibbles]
    if (flag & 2) onLeaf(nibblesToKey(full), items[1] as Uint8Array)
    else visitChild(items[1], full)
  }
  visitHash(root, [])
}

function nibblesToKey(nibbles: number[]): Uint8Array {
  if (nibbles.length !== 64) throw new Error(`trie leaf at a ${nibbles.length}-nibble path: not a 32-byte key (${bytesToHex(new Uint8Array(nibbles))})`)
  const out = new Uint8Array(32)
  for (let i = 0; i < 32; i++) out[i] = (nibbles[2 * i]! << 4) | nibbles[2 * i + 1]!
  return out
}
