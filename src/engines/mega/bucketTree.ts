import { type Blake3, createBlake3 } from '../../util/blake3.js'
import { type TreeHasher, createTreeHasher } from '../../util/blake3Simd.js'

/**
 * The mega engine's authenticated state: a fixed-shape tree over hash buckets, after MegaETH's SALT.
 *
 * - Keys are 32-byte hashes (keccak of an address, or of address ‖ slot); a key's bucket is its first
 *   `bucketBits` bits, so the shape never changes and the layout depends only on the key set.
 * - A bucket is a contiguous run of bytes in one slab: its entries `key ‖ u8 length ‖ value`, kept sorted
 *   by key on insert (no sort at commit, no per-entry objects). Its digest is blake3 of exactly those bytes
 *   (one WASM hash of one contiguous array), so it is independent of insertion order; an empty bucket's
 *   digest is blake3 of nothing.
 * - Above the buckets, a complete 4-ary tree of `bucketBits / 2` levels: a node's digest is blake3 of
 *   its 4 children's digests (128 contiguous bytes, two BLAKE3 compressions). Digests of all nodes live in
 *   one typed array per level, so an update touches exactly one node per level and no node is ever read
 *   from disk. Why 4-ary: a key's path costs one compression per bit of the bucket index with 2- or 4-ary
 *   nodes and two with 16-ary ones (a 512-byte node is 8 compressions per 4 bits); a block's updates share
 *   few nodes below the top levels, so at 2^20 buckets and 2,000 updates a commit hashes ~4.3 nodes of 128
 *   bytes per update (~8.7 compressions) where the 16-ary tree hashed ~1.9 of 512 (~15.3). The arrays
 *   live where the tree hasher (util/blake3Simd.ts) works on them: in its WebAssembly SIMD module's memory,
 *   which hashes a level's dirty nodes in one call without copying them in or out.
 * - Updates are batched: `set` copies the update into a staging area; `commit` (or a full staging area)
 *   sorts the staged updates by bucket and applies them in that order, each bucket's bytes edited in place
 *   and the bucket marked dirty (a flag and a list, no set); touching the slots of a run of updates before
 *   editing them overlaps their cache misses (at 1M entries, staging and the ordered apply took ~0.6–0.8 µs
 *   per update against 1.4 µs for edits in call order). Then `commit`
 *   rehashes each dirty bucket once, then each dirty node once, level by level (SALT sums group-element
 *   deltas instead; with a hash we recompute the dirty paths once per block).
 * - A proof of one key is the bucket's entries and, per level, the 3 sibling digests.
 *
 * The slab: bucket b occupies a slot of `capacity` bytes at `offset`, `used` of them entries. A bucket that
 * outgrows its slot moves to the end of the slab with twice the room (the old slot becomes garbage); the
 * slab doubles when full, and is compacted instead once more than half of it is garbage.
 *
 * Memory: 32 bytes per tree node (1.33 × 32 B per bucket in all), 16 B of slot bookkeeping and dirty flag
 * per bucket, plus the entries themselves (33 B + the value, and up to 2× that in slack); the staging area
 * holds at most 65,536 updates (their bytes, and 12 B of offset and sort key each).
 */
export class BucketTree {
  readonly bucketBits: number
  readonly levels: number
  /** digests[0] = buckets, digests[levels] = the root (one node). */
  private readonly digests: Uint8Array[]
  private slab: Uint8Array
  /** Bytes of the slab in use (slots handed out), and of them, bytes of abandoned slots. */
  private top = 0
  private garbage = 0
  /** Per bucket, in one cache line's quarter: slot offset, slot capacity, bytes used, dirty flag. */
  private readonly meta: Uint32Array
  /** Per level: the list of dirty nodes (level 0 = buckets). */
  private readonly dirtyList: Int32Array[]
  private dirtyCount = 0
  /** Staged updates: their bytes, each one's offset there, and (bucket · SEQ + sequence) to sort them by. */
  private stage = new Uint8Array(1 << 20)
  private stageTop = 0
  private stageAt = new Int32Array(STAGED)
  private order = new Float64Array(STAGED)
  private staged = 0
  /** Updates staged before they are applied: STAGED, or unbounded during a bulk load. */
  private stageLimit = STAGED
  /** bucket · seq + sequence stays an exact double: seq = 2^min(28, 53 − bucketBits). */
  private readonly seq: number
  /** Where the touching pass's sums go, so that they are not optimized away. */
  sink = 0
  private readonly emptyDigest: Uint8Array[]
  private entries = 0
  private readonly hasher: Blake3
  /** Where the digests and dirty lists live and how levels and buckets are hashed (batched, SIMD where it can). */
  private readonly nodes: TreeHasher
  /** Counters for the benchmark: bucket and node hashes computed, updates applied. */
  readonly counters = { updates: 0, bucketHashes: 0, nodeHashes: 0, commits: 0 }

  private constructor(bucketBits: number, hasher: Blake3, nodes: TreeHasher, slabBytes: number) {
    if (bucketBits % 4 !== 0 || bucketBits < 4 || bucketBits > 28) throw new RangeError(`bucketBits must be a multiple of 4 in 4…28 (got ${bucketBits})`)
    this.bucketBits = bucketBits
    this.levels = bucketBits / FANOUT_BITS
    this.seq = 2 ** Math.min(28, 53 - bucketBits)
    this.hasher = hasher
    this.nodes = nodes
    const n = 2 ** bucketBits
    this.slab = new Uint8Array(Math.max(1 << 16, slabBytes))
    this.meta = new Uint32Array(4 * n)
    this.emptyDigest = [this.hash(new Uint8Array(0))]
    for (let l = 1; l <= this.levels; l++) {
      const children = new Uint8Array(NODE_BYTES)
      for (let i = 0; i < FANOUT; i++) children.set(this.emptyDigest[l - 1]!, i * 32)
      this.emptyDigest.push(this.hash(children))
    }
    this.digests = []
    this.dirtyList = []
    for (let l = 0; l <= this.levels; l++) {
      const count = 2 ** (bucketBits - FANOUT_BITS * l)
      const a = nodes.bytes(count * 32)
      const e = this.emptyDigest[l]!
      for (let i = 0; i < count; i++) a.set(e, i * 32)
      this.digests.push(a)
      this.dirtyList.push(nodes.ints(count))
    }
  }

  /**
   * A tree sized for about `expectedEntries` (≈ 0.25–4 entries per bucket, 2^8 … 2^20 buckets): a
   * bucket is rehashed whole on every update, so small buckets keep updates cheap, for 32 B of digest
   * per bucket. The slab starts with room for that many entries.
   */
  static async create(p: { bucketBits?: number; expectedEntries?: number; simd?: boolean }): Promise<BucketTree> {
    let bits = p.bucketBits
    if (bits === undefined) {
      bits = 8
      while (bits < 20 && (p.expectedEntries ?? 0) / 2 ** bits > 4) bits += 4
    }
    return new BucketTree(bits, await createBlake3(), await createTreeHasher(BucketTree.arrayBytes(bits), { simd: p.simd }), Math.min(2 ** 31, (p.expectedEntries ?? 0) * 64))
  }

  /** Bytes of the digest arrays and dirty lists of a tree of 2^bits buckets (36 per node). */
  private static arrayBytes(bits: number): number {
    let n = 0
    for (let l = 0; l <= bits / FANOUT_BITS; l++) n += 36 * 2 ** (bits - FANOUT_BITS * l)
    return n
  }

  /** How its levels and buckets are hashed: 'wasm-simd' (batched, WebAssembly SIMD) or 'plain' (one hash-wasm call each). */
  get hasherKind(): TreeHasher['kind'] {
    return this.nodes.kind
  }

  get size(): number {
    this.flush()
    return this.entries
  }

  get root(): Uint8Array {
    return this.digests[this.levels]!.slice(0, 32)
  }

  /** True if there are updates not yet committed. */
  get pending(): boolean {
    return this.dirtyCount > 0 || this.staged > 0
  }

  bucketOf(key: Uint8Array): number {
    // The key's first 32 bits, shifted down to bucketBits (≤ 28).
    return (((key[0]! << 24) | (key[1]! << 16) | (key[2]! << 8) | key[3]!) >>> (32 - this.bucketBits))
  }

  get(key: Uint8Array): Uint8Array | undefined {
    this.flush()
    const o = this.find(this.bucketOf(key), key, 0)
    return o < 0 ? undefined : this.slab.slice(o + 33, o + 33 + this.slab[o + 32]!)
  }

  /**
   * Sets (or with null, deletes) an entry; the tree is updated at the next `commit`. The bytes are copied:
   * into a staging area (`key ‖ u16 length or 0xffff = delete ‖ value`), applied in bucket order at the next
   * `commit` (or once STAGED updates wait).
   */
  set(key: Uint8Array, value: Uint8Array | null): void {
    if (key.length !== 32) throw new RangeError('BucketTree keys are 32 bytes')
    if (value !== null && value.length > 255) throw new RangeError('BucketTree values are at most 255 bytes')
    this.counters.updates++
    let at = this.stageTop
    if (at + 34 + 255 > this.stage.length) {
      const next = new Uint8Array(2 * this.stage.length)
      next.set(this.stage.subarray(0, at))
      this.stage = next
    }
    const stage = this.stage
    stage.set(key, at)
    const len = value === null ? 0xffff : value.length
    stage[at + 32] = len >> 8
    stage[at + 33] = len & 255
    if (value !== null) stage.set(value, at + 34)
    if (this.staged === this.order.length) {
      const order = new Float64Array(2 * this.order.length)
      order.set(this.order)
      this.order = order
      const stageAt = new Int32Array(2 * this.stageAt.length)
      stageAt.set(this.stageAt)
      this.stageAt = stageAt
    }
    this.order[this.staged] = this.bucketOf(key) * this.seq + this.staged
    this.stageAt[this.staged++] = at
    this.stageTop = at + 34 + (value === null ? 0 : value.length)
    if (this.staged === this.stageLimit) this.flush()
  }

  /**
   * Starts a bulk load (a state import): updates are staged without bound until `endBulkLoad`, which
   * applies them all in bucket order. Buckets then fill one after another at the slab's end, each growing
   * in place, so the slab ends up packed: no abandoned slots, no slack.
   */
  beginBulkLoad(): void {
    this.stageLimit = this.seq
  }

  /**
   * Applies a bulk load, trims the slab to its live bytes (plus 1/16 and 1 MiB of room at the end for
   * buckets that grow later) and shrinks the staging area back; returns the new root.
   */
  endBulkLoad(): Uint8Array {
    this.flush()
    this.stageLimit = STAGED
    this.stage = new Uint8Array(1 << 20)
    this.order = new Float64Array(STAGED)
    this.stageAt = new Int32Array(STAGED)
    this.repack(0)
    return this.commit()
  }

  /** Bytes this tree holds: slab, bucket bookkeeping, digests, dirty lists and the staging area. */
  get heldBytes(): number {
    let n = this.slab.byteLength + this.meta.byteLength + this.stage.byteLength + this.order.byteLength + this.stageAt.byteLength + this.nodes.overheadBytes
    for (const d of this.digests) n += d.byteLength
    for (const d of this.dirtyList) n += d.byteLength
    return n
  }

  /**
   * Applies the staged updates (reads flush first; the engine flushes at the end of a block, inside its
   * merkleization phase, so that execution never pays for it), sorted by bucket (and in order within a bucket), in runs of TOUCH: first a
   * pass that only reads each run's bucket slots, then one that reads their first entry bytes, then the edits.
   * The reads of a pass do not depend on each other, so the CPU overlaps their cache misses instead of taking
   * them one after another (a random key's slot and bytes are far out of cache at 1M entries).
   */
  flush(): void {
    const n = this.staged
    if (n === 0) return
    this.staged = 0
    this.stageTop = 0
    const order = this.order.subarray(0, n).sort()
    const meta = this.meta
    let sink = 0
    for (let c = 0; c < n; c += TOUCH) {
      const e = Math.min(n, c + TOUCH)
      for (let i = c; i < e; i++) sink += meta[4 * Math.floor(order[i]! / this.seq)]!
      const slab = this.slab
      for (let i = c; i < e; i++) sink += slab[meta[4 * Math.floor(order[i]! / this.seq)]!]!
      for (let i = c; i < e; i++) {
        const b = Math.floor(order[i]! / this.seq)
        this.apply(b, this.stageAt[order[i]! - b * this.seq]!)
      }
    }
    this.sink = sink
  }

  /** Applies one staged update (at offset `at` of the staging area) to bucket b. */
  private apply(b: number, at: number): void {
    const stage = this.stage
    const meta = this.meta
    const m = 4 * b
    const len = (stage[at + 32]! << 8) | stage[at + 33]!
    let o = this.find(b, stage, at)
    if (o >= 0) {
      const slab = this.slab
      const oldLen = slab[o + 32]!
      const end = meta[m]! + meta[m + 2]!
      if (len === 0xffff) {
        slab.copyWithin(o, o + 33 + oldLen, end)
        meta[m + 2]! -= 33 + oldLen
        this.entries--
      } else if (len === oldLen) {
        let same = true
        for (let i = 0; i < len && same; i++) same = slab[o + 33 + i] === stage[at + 34 + i]
        if (same) return
        slab.set(stage.subarray(at + 34, at + 34 + len), o + 33)
      } else {
        const grow = len - oldLen
        if (grow > 0) o += this.reserve(b, grow) - (end - meta[m + 2]!)
        const s = this.slab
        s.copyWithin(o + 33 + len, o + 33 + oldLen, meta[m]! + meta[m + 2]!)
        s[o + 32] = len
        s.set(stage.subarray(at + 34, at + 34 + len), o + 33)
        meta[m + 2]! += grow
      }
    } else {
      if (len === 0xffff) return
      const old = meta[m]!
      o = ~o + this.reserve(b, 33 + len) - old
      const s = this.slab
      s.copyWithin(o + 33 + len, o, meta[m]! + meta[m + 2]!)
      s.set(stage.subarray(at, at + 32), o)
      s[o + 32] = len
      s.set(stage.subarray(at + 34, at + 34 + len), o + 33)
      meta[m + 2]! += 33 + len
      this.entries++
    }
    if (meta[m + 3] === 0) {
      meta[m + 3] = 1
      this.dirtyList[0]![this.dirtyCount++] = b
    }
  }

  /**
   * Rehashes every dirty bucket once and every dirty node once, bottom-up; returns the new root. The dirty
   * buckets are hashed in index order (sorted numbers, not keys), so each level's dirty parents come out
   * sorted and distinct by comparing with the previous one, and memory is walked forward. Buckets go to the
   * tree hasher in batches, and each level's dirty nodes in one call (four per SIMD pass with `wasm-simd`).
   */
  commit(): Uint8Array {
    this.flush()
    const n = this.dirtyCount
    this.dirtyCount = 0
    const buckets = this.dirtyList[0]!
    buckets.subarray(0, n).sort()
    const meta = this.meta
    const nodes = this.nodes
    const d0 = this.digests[0]!
    // Buckets (queued, hashed in batches), and their distinct parents in order (the buckets are sorted).
    let list = this.dirtyList[1]!
    let m = 0
    for (let i = 0; i < n; i++) {
      const b = buckets[i]!
      meta[4 * b + 3] = 0
      nodes.queue(this.slab, meta[4 * b]!, meta[4 * b]! + meta[4 * b + 2]!, d0, b * 32)
      const p = b >> FANOUT_BITS
      if (m === 0 || list[m - 1] !== p) list[m++] = p
    }
    nodes.flush()
    this.counters.bucketHashes += n
    // Each level's dirty nodes in one call, then their distinct parents.
    for (let l = 1; l <= this.levels; l++) {
      nodes.hashNodes(this.digests[l - 1]!, this.digests[l]!, list, m, NODE_BYTES)
      this.counters.nodeHashes += m
      if (l === this.levels) break
      const up = this.dirtyList[l + 1]!
      let k = 0
      for (let i = 0; i < m; i++) {
        const p = list[i]! >> FANOUT_BITS
        if (k === 0 || up[k - 1] !== p) up[k++] = p
      }
      list = up
      m = k
    }
    this.counters.commits++
    return this.root
  }

  /** The proof that `key` has its current value (or is absent): its bucket's entries and 3 siblings per level. */
  proof(key: Uint8Array): BucketProof {
    if (this.pending) throw new Error('commit before taking proofs')
    const b = this.bucketOf(key)
    const entries = [...this.bucketEntries(b)]
    const siblings: Uint8Array[][] = []
    let i = b
    for (let l = 0; l < this.levels; l++) {
      const level = this.digests[l]!
      const first = (i >> FANOUT_BITS) << FANOUT_BITS
      const row: Uint8Array[] = []
      for (let j = first; j < first + FANOUT; j++) if (j !== i) row.push(level.slice(j * 32, j * 32 + 32))
      siblings.push(row)
      i >>= FANOUT_BITS
    }
    return { bucket: b, entries, siblings }
  }

  /** Checks a proof against a root: the bucket's entries hash up to the root, and hold `key` → `value` (null = absent). */
  verify(root: Uint8Array, key: Uint8Array, value: Uint8Array | null, proof: BucketProof): boolean {
    if (this.bucketOf(key) !== proof.bucket || proof.siblings.length !== this.levels) return false
    const found = proof.entries.find((e) => compare(e.key, key) === 0)
    if (value === null ? found !== undefined : found === undefined || compare(found.value, value) !== 0) return false
    for (let j = 1; j < proof.entries.length; j++) if (compare(proof.entries[j - 1]!.key, proof.entries[j]!.key) >= 0) return false
    if (proof.entries.some((e) => e.key.length !== 32 || e.value.length > 255 || this.bucketOf(e.key) !== proof.bucket)) return false
    let digest = this.hash(encodeEntries(proof.entries))
    let i = proof.bucket
    for (let l = 0; l < this.levels; l++) {
      const row = proof.siblings[l]!
      if (row.length !== FANOUT - 1) return false
      const children = new Uint8Array(NODE_BYTES)
      const pos = i & (FANOUT - 1)
      let s = 0
      for (let j = 0; j < FANOUT; j++) children.set(j === pos ? digest : row[s++]!, j * 32)
      digest = this.hash(children)
      i >>= FANOUT_BITS
    }
    return compare(digest, root) === 0
  }

  /** Every entry (for differential checks and dumps), in bucket then key order; fresh arrays. */
  *entriesIter(): Generator<{ key: Uint8Array; value: Uint8Array }> {
    for (let b = 0; 4 * b < this.meta.length; b++) if (this.meta[4 * b + 2] !== 0) yield* this.bucketEntries(b)
  }

  /** Bucket b's entries in key order, copied out of the slab. */
  private *bucketEntries(b: number): Generator<{ key: Uint8Array; value: Uint8Array }> {
    const end = this.meta[4 * b]! + this.meta[4 * b + 2]!
    for (let o = this.meta[4 * b]!; o < end; o += 33 + this.slab[o + 32]!) {
      yield { key: this.slab.slice(o, o + 32), value: this.slab.slice(o + 33, o + 33 + this.slab[o + 32]!) }
    }
  }

  /** The slab offset of the entry with the key at `key[at, at + 32)` in bucket b, or ~(the offset where it would be inserted). */
  private find(b: number, key: Uint8Array, at: number): number {
    const slab = this.slab
    const end = this.meta[4 * b]! + this.meta[4 * b + 2]!
    // Every key in the bucket shares its first bucketBits bits: compare from the first byte that may differ.
    const from = this.bucketBits >> 3
    for (let o = this.meta[4 * b]!; o < end; o += 33 + slab[o + 32]!) {
      let c = 0
      for (let i = from; i < 32 && c === 0; i++) c = slab[o + i]! - key[at + i]!
      if (c === 0) return o
      if (c > 0) return ~o
    }
    return ~end
  }

  /** Room for `extra` more bytes in bucket b's slot (moving it if needed); returns the slot's (new) offset. */
  private reserve(b: number, extra: number): number {
    const meta = this.meta
    const m = 4 * b
    const need = meta[m + 2]! + extra
    if (need <= meta[m + 1]!) return meta[m]!
    if (meta[m]! + meta[m + 1]! === this.top && meta[m]! + need <= this.slab.length) {
      // The last slot grows in place (a bulk load fills buckets in order: each one is the last).
      this.top = meta[m]! + need
      meta[m + 1] = need
      return meta[m]!
    }
    const size = Math.max(need, 2 * meta[m + 1]!, 40)
    if (this.top + size > this.slab.length) this.makeRoom(size)
    const at = this.top
    this.slab.copyWithin(at, meta[m]!, meta[m]! + meta[m + 2]!)
    this.garbage += meta[m + 1]!
    meta[m] = at
    meta[m + 1] = size
    this.top += size
    return at
  }

  /** Compacts the slab (when mostly garbage) or doubles it, so that `size` more bytes fit at its end. */
  private makeRoom(size: number): void {
    const live = this.top - this.garbage
    if (this.garbage > this.top / 2) {
      this.repack(size + (live >> 1))
      return
    }
    // Doubling up to 256 MiB, then a quarter more at a time: a large state must not need twice its size.
    const grown = this.slab.length + (this.slab.length < 1 << 28 ? this.slab.length : this.slab.length >> 2)
    const next = new Uint8Array(Math.max(grown, this.top + size + (live >> 3)))
    next.set(this.slab.subarray(0, this.top))
    this.slab = next
  }

  /**
   * Copies every bucket into a fresh slab, in bucket order, keeping each slot's capacity (`room` = 0: each
   * bucket's capacity becomes its used bytes, as after a bulk load), with `room` bytes, 1/16 of the live bytes
   * and 1 MiB free at the end.
   */
  private repack(room: number): void {
    const meta = this.meta
    let live = 0
    for (let m = 0; m < meta.length; m += 4) live += room === 0 ? meta[m + 2]! : meta[m + 1]!
    const next = new Uint8Array(live + room + (live >> 4) + (1 << 20))
    let at = 0
    for (let m = 0; m < meta.length; m += 4) {
      if (meta[m + 1] === 0) continue
      next.set(this.slab.subarray(meta[m], meta[m]! + meta[m + 2]!), at)
      meta[m] = at
      if (room === 0) meta[m + 1] = meta[m + 2]!
      at += meta[m + 1]!
    }
    this.top = at
    this.garbage = 0
    this.slab = next
  }

  private hash(data: Uint8Array): Uint8Array {
    const out = new Uint8Array(32)
    this.hasher.hashInto(data, 0, data.length, out, 0)
    return out
  }
}

/** The tree above the buckets is 2^FANOUT_BITS-ary: a node hashes its children's digests, NODE_BYTES bytes. */
const FANOUT_BITS = 2
const FANOUT = 1 << FANOUT_BITS
const NODE_BYTES = 32 * FANOUT
/** Updates staged before they are applied (bounds the staging area and the sort), outside a bulk load. */
const STAGED = 1 << 16
/** Updates per run of the touching passes: their slots and first bytes stay in cache until edited. */
const TOUCH = 256

export type BucketProof = { bucket: number; entries: { key: Uint8Array; value: Uint8Array }[]; siblings: Uint8Array[][] }

/** A bucket's bytes: `key ‖ u8 length ‖ value` per entry, in the given (sorted) order. */
export function encodeEntries(entries: readonly { key: Uint8Array; value: Uint8Array }[]): Uint8Array {
  let size = 0
  for (const e of entries) size += 33 + e.value.length
  const buf = new Uint8Array(size)
  let o = 0
  for (const e of entries) {
    buf.set(e.key, o)
    buf[o + 32] = e.value.length
    buf.set(e.value, o + 33)
    o += 33 + e.value.length
  }
  return buf
}

function compare(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!
  return a.length - b.length
}
