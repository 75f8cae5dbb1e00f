import { keccak256 } from '../util/keccak.js'
import { rlpHeaderLength, writeRlpHeader } from '../util/rlpHeader.js'

/**
 * Receives every node that a parent references by hash (RLP length >= 32) and the root node. key = keccak256(node).
 * Both arrays are fresh copies the sink may keep. Identical subtrees (same path suffix and value) yield the same
 * node, which is then emitted once per occurrence.
 */
export type NodeSink = (hash: Uint8Array, node: Uint8Array) => void

const KEY_BYTES = 32
const KEY_NIBBLES = KEY_BYTES * 2
/** A reference by hash is the RLP string of the 32-byte hash: 0xa0 followed by the hash. */
const HASH_REFERENCE_BYTES = 33
/** Every child reference fits in this many bytes: a hash reference or an embedded node shorter than 32 bytes. */
const SLOT_BYTES = HASH_REFERENCE_BYTES
const BRANCH_SLOTS = 16
/** Largest branch RLP: list header (3 bytes) + 16 hash references + empty value (0x80). */
const MAX_BRANCH_BYTES = 3 + BRANCH_SLOTS * SLOT_BYTES + 1
const RLP_EMPTY_STRING = 0x80
const RLP_SHORT_STRING = 0x80
const RLP_SHORT_LIST = 0xc0
/** Hex-prefix (compact) flag nibbles: bit 1 marks a leaf, bit 0 an odd number of nibbles. */
const HP_LEAF_FLAG = 0x20
const HP_ODD_FLAG = 0x10
/** Marks the pending node as the previous leaf rather than a finished branch. */
const PENDING_LEAF = -1

/** keccak256(RLP('')): the root of the empty trie. */
const EMPTY_TRIE_ROOT = keccak256(Uint8Array.of(RLP_EMPTY_STRING))


/**
 * Builds the Ethereum hexary Merkle Patricia Trie of a sorted stream of 32-byte keys without keeping
 * the trie in memory, producing exactly the nodes and root that `@ethereumjs/mpt` (plain `put`, no key
 * hashing) would produce for the same key/value pairs.
 *
 * Algorithm (the "hash builder" of reth / geth's StackTrie): with sorted keys, a branch node sits at
 * nibble depth d exactly where two neighbouring keys first differ at nibble d, and once a key has been
 * seen, every subtree hanging off the path of the previous key deeper than their common prefix is
 * final. The builder keeps the previous leaf pending (its compact path depends on its parent's depth,
 * which the next key decides) and a stack of open branches along the previous key's path, one per
 * branching depth (at most 64), each holding the references to its finished children. `add` computes
 * the common-prefix length `c` with the previous key, then attaches the pending node to the deepest
 * open branch and closes (RLP-encodes) every branch deeper than `c`, each closed branch becoming the
 * pending child of the next one up, with an extension node in front of it when it sits more than one
 * nibble below its parent; a branch at depth `c` is opened if none exists. A finished node whose RLP
 * is 32 bytes or longer is hashed, passed to `onNode` and referenced by its hash; a shorter one is
 * embedded verbatim in its parent. `finish` closes everything; the last pending node is the root,
 * which is always hashed and emitted. Memory use is bounded by the 64-level stack, whatever the number
 * of keys.
 */
export class StreamingTrieBuilder {
  private readonly onNode: NodeSink | undefined
  private leafCount = 0
  private finished = false
  /** The most recently added key: the path of the pending leaf and of every open branch. */
  private readonly previousKey = new Uint8Array(KEY_BYTES)
  private previousValue = new Uint8Array(128)
  private previousValueLength = 0
  /** Nibble depth of each open branch, from the root downwards (strictly increasing). */
  private readonly branchDepths = new Uint8Array(KEY_NIBBLES)
  private openBranches = 0
  /** Child references of the open branches: `SLOT_BYTES` per slot, 16 slots per open branch. */
  private readonly slots = new Uint8Array(KEY_NIBBLES * BRANCH_SLOTS * SLOT_BYTES)
  /** Length of each child reference in `slots`; 0 marks an empty slot. */
  private readonly slotLengths = new Uint8Array(KEY_NIBBLES * BRANCH_SLOTS)
  /** Depth of the closed branch waiting for its parent, or `PENDING_LEAF` when the pending node is the previous leaf. */
  private pendingBranchDepth = PENDING_LEAF
  /** RLP of the pending closed branch. */
  private readonly branchRlp = new Uint8Array(MAX_BRANCH_BYTES)
  private branchRlpLength = 0
  /** Reference to the pending branch while it is wrapped in an extension node. */
  private readonly branchReference = new Uint8Array(SLOT_BYTES)
  /** Scratch space for leaf and extension nodes; grows with the largest value. */
  private nodeRlp = new Uint8Array(256)

  constructor(opts?: { onNode?: NodeSink }) {
    this.onNode = opts?.onNode
  }

  /** Number of leaves added so far. */
  get count(): number {
    return this.leafCount
  }

  /**
   * Adds a leaf. Keys are 32 bytes and must arrive in strictly increasing byte order (throws otherwise).
   * `value` is the leaf value as stored in the trie (e.g. an RLP-encoded account, or RLP(storage value));
   * it must not be empty, since an empty value means "absent" in the trie. Both arrays are copied, so the
   * caller may reuse them.
   */
  add(key: Uint8Array, value: Uint8Array): void {
    if (this.finished) throw new Error('StreamingTrieBuilder: add() after finish()')
    if (key.length !== KEY_BYTES) {
      throw new Error(`StreamingTrieBuilder: keys must be ${KEY_BYTES} bytes, got ${key.length}`)
    }
    if (value.length === 0) throw new Error('StreamingTrieBuilder: leaf values must not be empty')
    if (this.leafCount > 0) this.closeSubtreesBelow(this.commonPrefixNibbles(key))
    this.previousKey.set(key)
    if (value.length > this.previousValue.length) {
      this.previousValue = new Uint8Array(Math.max(value.length, this.previousValue.length * 2))
    }
    this.previousValue.set(value)
    this.previousValueLength = value.length
    this.pendingBranchDepth = PENDING_LEAF
    this.leafCount++
  }

  /**
   * Completes the trie and returns its root hash (keccak256(RLP(''))= 0x56e8…b421 when empty). Emits the
   * root node too, even when it is shorter than 32 bytes; the empty trie has no node and emits nothing.
   * The builder cannot be used afterwards.
   */
  finish(): Uint8Array {
    if (this.finished) throw new Error('StreamingTrieBuilder: finish() called twice')
    this.finished = true
    if (this.leafCount === 0) return EMPTY_TRIE_ROOT.slice()
    this.closeSubtreesBelow(-1)
    const root = this.pendingNode(-1)
    const hash = keccak256(root)
    this.onNode?.(hash, root.slice())
    return hash
  }

  /** Nibbles shared by `key` and the previous key; throws unless `key` is strictly greater. */
  private commonPrefixNibbles(key: Uint8Array): number {
    const previous = this.previousKey
    let i = 0
    while (i < KEY_BYTES && key[i] === previous[i]) i++
    if (i === KEY_BYTES) throw new Error('StreamingTrieBuilder: duplicate key')
    const next = key[i]!
    const last = previous[i]!
    if (next < last) throw new Error('StreamingTrieBuilder: keys must be added in strictly increasing order')
    return 2 * i + ((next ^ last) < 16 ? 1 : 0)
  }

  /**
   * Attaches the pending node to its parent and closes every open branch deeper than `depth`, leaving a
   * branch open at `depth` (opening one if needed). With `depth` -1 everything is closed and the pending
   * node is the whole trie.
   */
  private closeSubtreesBelow(depth: number): void {
    for (;;) {
      let top = this.openBranches > 0 ? this.branchDepths[this.openBranches - 1]! : -1
      if (top < depth) {
        this.openBranch(depth)
        top = depth
      }
      if (top < 0) return
      const slot = (this.openBranches - 1) * BRANCH_SLOTS + this.nibble(top)
      this.slotLengths[slot] = this.writeReference(this.pendingNode(top), this.slots, slot * SLOT_BYTES)
      if (top === depth) return
      this.closeTopBranch()
    }
  }

  private openBranch(depth: number): void {
    const first = this.openBranches * BRANCH_SLOTS
    this.slotLengths.fill(0, first, first + BRANCH_SLOTS)
    this.branchDepths[this.openBranches++] = depth
  }

  /** RLP-encodes the deepest open branch into `branchRlp` and makes it the pending node. */
  private closeTopBranch(): void {
    const level = --this.openBranches
    const firstSlot = level * BRANCH_SLOTS
    let payload = 1 // the empty value at index 16
    for (let i = 0; i < BRANCH_SLOTS; i++) payload += this.slotLengths[firstSlot + i] || 1
    const out = this.branchRlp
    let offset = writeRlpHeader(out, 0, payload, RLP_SHORT_LIST)
    for (let i = 0; i < BRANCH_SLOTS; i++) {
      const length = this.slotLengths[firstSlot + i]!
      if (length === 0) {
        out[offset++] = RLP_EMPTY_STRING
      } else {
        const start = (firstSlot + i) * SLOT_BYTES
        out.set(this.slots.subarray(start, start + length), offset)
        offset += length
      }
    }
    out[offset++] = RLP_EMPTY_STRING
    this.branchRlpLength = offset
    this.pendingBranchDepth = this.branchDepths[level]!
  }

  /**
   * RLP of the pending node as seen from a parent branch at `parentDepth` (-1 for the root): the leaf with
   * the rest of its path, or the closed branch, behind an extension node if it sits deeper than
   * `parentDepth + 1`.
   */
  private pendingNode(parentDepth: number): Uint8Array {
    const pathStart = parentDepth + 1
    if (this.pendingBranchDepth === PENDING_LEAF) return this.encodeLeaf(pathStart)
    const branch = this.branchRlp.subarray(0, this.branchRlpLength)
    if (this.pendingBranchDepth === pathStart) return branch
    const referenceLength = this.writeReference(branch, this.branchReference, 0)
    return this.encodeShortNode(pathStart, this.pendingBranchDepth, false, this.branchReference, referenceLength)
  }

  /** Leaf node: [compact(previousKey[pathStart..64], leaf), previousValue]. */
  private encodeLeaf(pathStart: number): Uint8Array {
    const value = this.previousValue
    const length = this.previousValueLength
    const first = value[0]!
    const valueHeader = length === 1 && first < RLP_SHORT_STRING ? 0 : rlpHeaderLength(length)
    const out = this.encodeShortNode(pathStart, KEY_NIBBLES, true, value, length, valueHeader)
    const offset = out.length - length - valueHeader
    if (valueHeader > 0) writeRlpHeader(out, offset, length, RLP_SHORT_STRING)
    return out
  }

  /**
   * Writes a two-item node [compact(previousKey[from..to], isLeaf), second] into `nodeRlp`. `second` is
   * copied as-is (already RLP: a child reference) after `secondHeader` bytes reserved for the caller.
   */
  private encodeShortNode(
    from: number,
    to: number,
    isLeaf: boolean,
    second: Uint8Array,
    secondLength: number,
    secondHeader = 0,
  ): Uint8Array {
    const pathLength = to - from
    const compactLength = (pathLength >> 1) + 1
    // A one-byte compact path (0x20, 0x3X, 0x00 or 0x1X) is below 0x80 and so is its own RLP.
    const compactRlpLength = compactLength === 1 ? 1 : 1 + compactLength
    const payload = compactRlpLength + secondHeader + secondLength
    const total = rlpHeaderLength(payload) + payload
    if (total > this.nodeRlp.length) this.nodeRlp = new Uint8Array(Math.max(total, this.nodeRlp.length * 2))
    const out = this.nodeRlp
    let offset = writeRlpHeader(out, 0, payload, RLP_SHORT_LIST)
    if (compactLength > 1) out[offset++] = RLP_SHORT_STRING + compactLength
    let flags = isLeaf ? HP_LEAF_FLAG : 0
    let nibble = from
    if ((pathLength & 1) === 1) flags |= HP_ODD_FLAG | this.nibble(nibble++)
    out[offset++] = flags
    for (; nibble < to; nibble += 2) out[offset++] = (this.nibble(nibble) << 4) | this.nibble(nibble + 1)
    offset += secondHeader
    out.set(second.subarray(0, secondLength), offset)
    return out.subarray(0, offset + secondLength)
  }

  /**
   * Writes how a parent refers to `node` into `out` at `offset` and returns its length: the node itself
   * when its RLP is shorter than 32 bytes, otherwise RLP(keccak256(node)) after emitting the node.
   */
  private writeReference(node: Uint8Array, out: Uint8Array, offset: number): number {
    if (node.length < 32) {
      out.set(node, offset)
      return node.length
    }
    const hash = keccak256(node)
    this.onNode?.(hash, node.slice())
    out[offset] = RLP_SHORT_STRING + hash.length
    out.set(hash, offset + 1)
    return HASH_REFERENCE_BYTES
  }

  private nibble(index: number): number {
    const byte = this.previousKey[index >> 1]!
    return (index & 1) === 0 ? byte >> 4 : byte & 0x0f
  }
}

/**
 * Returns the order (indices into the list) that sorts `count` 32-byte keys stored back to back in `keys`,
 * ascending by bytes; equal keys keep their input order.
 *
 * Algorithm: each key becomes a 64-bit integer whose high half is its first four bytes (big-endian) and
 * whose low half is its index, written through a 32-bit view so no BigInt is created; the engine's native
 * typed-array sort orders those. Runs of keys that share the compared four bytes are then re-keyed with
 * their next four bytes and sorted again, recursively (at most eight rounds), which makes the result exact
 * for any input while costing almost nothing for random keys.
 */
export function sortedKeyOrder(keys: Uint8Array, count: number): Uint32Array {
  if (!Number.isInteger(count) || count < 0 || count > 0xffffffff) {
    throw new Error(`sortedKeyOrder: invalid key count ${count}`)
  }
  if (keys.length < count * KEY_BYTES) {
    throw new Error(`sortedKeyOrder: ${count} keys need ${count * KEY_BYTES} bytes, got ${keys.length}`)
  }
  const packed = new BigUint64Array(count)
  const words = new Uint32Array(packed.buffer)
  const littleEndian = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1
  const sorter: PackedKeys = {
    keys,
    packed,
    words,
    indexWord: littleEndian ? 0 : 1,
    prefixWord: littleEndian ? 1 : 0,
  }
  for (let i = 0; i < count; i++) {
    words[2 * i + sorter.indexWord] = i
    words[2 * i + sorter.prefixWord] = readUint32BE(keys, i * KEY_BYTES)
  }
  packed.sort()
  refineEqualPrefixes(sorter, 0, count, 0)
  const order = new Uint32Array(count)
  for (let i = 0; i < count; i++) order[i] = words[2 * i + sorter.indexWord]!
  return order
}

/** Keys plus 64-bit (prefix, index) sort entries viewed as 32-bit words. */
interface PackedKeys {
  keys: Uint8Array
  packed: BigUint64Array
  words: Uint32Array
  indexWord: number
  prefixWord: number
}

/**
 * `packed[from..to)` is sorted by key bytes [0, byteOffset + 4), its prefix words holding bytes
 * [byteOffset, byteOffset + 4). Sorts every run of equal prefix words by the following four bytes, recursively.
 */
function refineEqualPrefixes(sorter: PackedKeys, from: number, to: number, byteOffset: number): void {
  const { keys, packed, words, indexWord, prefixWord } = sorter
  const nextOffset = byteOffset + 4
  if (nextOffset >= KEY_BYTES) return
  let runStart = from
  for (let i = from + 1; i <= to; i++) {
    if (i < to && words[2 * i + prefixWord] === words[2 * runStart + prefixWord]) continue
    if (i - runStart > 1) {
      for (let j = runStart; j < i; j++) {
        words[2 * j + prefixWord] = readUint32BE(keys, words[2 * j + indexWord]! * KEY_BYTES + nextOffset)
      }
      packed.subarray(runStart, i).sort()
      refineEqualPrefixes(sorter, runStart, i, nextOffset)
    }
    runStart = i
  }
}

function readUint32BE(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!) >>> 0
}
