import { RLP } from '@ethereumjs/rlp'
import { bytesToUnprefixedHex } from '@ethereumjs/util'

import { MissingNodeSignal } from '../trie/nodeStore.js'

type NodeItem = Uint8Array | NodeItem[]

/**
 * A key's value in a Merkle Patricia trie, read synchronously (what `MerklePatriciaTrie.get(key, true)`
 * returns, for a caller that cannot await: the fast EVM's reads of a witness DB). `getNode` returns a
 * node's RLP by hash (hex, no 0x); a node it lacks is a MissingNodeSignal, never an absent key. `key` is
 * the trie key itself (already hashed). Null if the key is absent.
 */
export function trieGetSync(getNode: (hashHex: string) => Uint8Array | undefined, root: Uint8Array, key: Uint8Array): Uint8Array | null {
  const load = (hash: Uint8Array): NodeItem[] => {
    const h = bytesToUnprefixedHex(hash)
    const rlp = getNode(h)
    if (rlp === undefined) throw new MissingNodeSignal(h)
    return RLP.decode(rlp) as NodeItem[]
  }
  const nibbles = new Uint8Array(key.length * 2)
  for (let i = 0; i < key.length; i++) {
    nibbles[2 * i] = key[i]! >> 4
    nibbles[2 * i + 1] = key[i]! & 15
  }
  let node = load(root)
  let pos = 0
  for (;;) {
    let next: NodeItem | undefined
    if (node.length === 17) {
      if (pos === nibbles.length) {
        const v = node[16] as Uint8Array
        return v.length > 0 ? v : null
      }
      next = node[nibbles[pos]!]
      pos++
    } else {
      const path = node[0] as Uint8Array
      const flag = path[0]! >> 4
      const odd = (flag & 1) === 1
      const isLeaf = (flag & 2) === 2
      const len = (path.length - 1) * 2 + (odd ? 1 : 0)
      for (let i = 0; i < len; i++) {
        const j = odd ? i + 1 : i + 2
        const nib = (j & 1) === 0 ? path[j >> 1]! >> 4 : path[j >> 1]! & 15
        if (nibbles[pos + i] !== nib) return null
      }
      pos += len
      if (isLeaf) return pos === nibbles.length ? (node[1] as Uint8Array) : null
      next = node[1]
    }
    if (next === undefined) return null
    if (Array.isArray(next)) node = next
    else if (next.length === 0) return null
    else node = next.length < 32 ? (RLP.decode(next) as NodeItem[]) : load(next)
  }
}
