import { flatString } from '../util/hex.js'

/**
 * A least-recently-used cache bounded in bytes, with hit/miss counters per kind of entry: a Map from key
 * to entry, and the entries in a doubly-linked recency list; a hit moves the entry to the back, eviction
 * takes from the front, both O(1).
 *
 * An entry is accounted at what it costs in V8's heap (measured, Node 20 / V8 11.3, after a full GC):
 * its key's characters, its value's bytes, and ENTRY_OVERHEAD_BYTES (the Map's slot, the entry with its list links, the
 * key string's header) plus VALUE_OVERHEAD_BYTES when a value is held (its Uint8Array and ArrayBuffer).
 * Keys are stored flat: hex built byte by byte (@noble's bytesToHex, which @ethereumjs/util uses) is a
 * chain of ~32 cons strings, ~1 KB for a 64-digit key; a Map keeps it as given, so a cache bounded at 64
 * bytes of overhead per entry held 2.5–7x its budget.
 */
export const ENTRY_OVERHEAD_BYTES = 140
export const VALUE_OVERHEAD_BYTES = 200

/** Bytes an entry is accounted at (see above). */
export function entryBytes(key: string, value: Uint8Array | null): number {
  return key.length + ENTRY_OVERHEAD_BYTES + (value === null ? 0 : value.length + VALUE_OVERHEAD_BYTES)
}

/** An entry, linked into the recency list (`prev` towards the least recently used end). */
type Entry = { key: string; value: Uint8Array | null; bytes: number; prev: Entry; next: Entry }

export class ByteLru<K extends number> {
  private readonly map = new Map<string, Entry>()
  /**
   * The recency list's sentinel: `head.next` is the least recently used entry, `head.prev` the most recent.
   * Not the Map's insertion order: evicting through `map.keys().next()` walks past every entry deleted
   * since V8 last rehashed the Map (deleted slots stay in its order table), so one eviction cost grew to
   * tens of µs and more as a full cache kept evicting (a 2,000-block live replay spent ~250 ms a block
   * in it by block 1,600; 2026-12-07).
   */
  private readonly head: Entry
  private used = 0
  readonly hits: number[]
  readonly misses: number[]
  evictions = 0

  constructor(
    /** Budget in bytes; 0 disables the cache (every lookup misses). */
    readonly capacity: number,
    kinds: number,
  ) {
    this.hits = new Array(kinds).fill(0)
    this.misses = new Array(kinds).fill(0)
    const head = { key: '', value: null, bytes: 0 } as unknown as Entry
    head.prev = head
    head.next = head
    this.head = head
  }

  /** The cached value (null = cached absence), or undefined on a miss. Counts the lookup for `kind`. */
  get(kind: K, key: string): Uint8Array | null | undefined {
    const e = this.map.get(key)
    if (e === undefined) {
      this.misses[kind]! += 1
      return undefined
    }
    this.hits[kind]! += 1
    if (e.next !== this.head) {
      unlink(e)
      this.append(e)
    }
    return e.value
  }

  /** Inserts or replaces an entry, evicting the least recently used ones to stay within budget. */
  set(key: string, value: Uint8Array | null): void {
    if (this.capacity === 0) return
    const bytes = entryBytes(key, value)
    const old = this.map.get(key)
    if (old !== undefined) {
      if (bytes > this.capacity) {
        this.remove(old)
        return
      }
      this.used -= old.bytes
      old.value = value
      old.bytes = bytes
      unlink(old)
      this.append(old)
    } else {
      if (bytes > this.capacity) return
      const flat = flatString(key)
      const e = { key: flat, value, bytes } as Entry
      this.map.set(flat, e)
      this.append(e)
    }
    this.used += bytes
    while (this.used > this.capacity) {
      this.remove(this.head.next)
      this.evictions++
    }
  }

  delete(key: string): void {
    const e = this.map.get(key)
    if (e !== undefined) this.remove(e)
  }

  /** Removes every entry whose key starts with `prefix` (a scan: for rare events such as account wipes). */
  deletePrefix(prefix: string): void {
    for (const key of [...this.map.keys()]) if (key.startsWith(prefix)) this.delete(key)
  }

  get bytesUsed(): number {
    return this.used
  }

  get size(): number {
    return this.map.size
  }

  /** Keys from the least to the most recently used (for tests). */
  keysByRecency(): string[] {
    const out: string[] = []
    for (let e = this.head.next; e !== this.head; e = e.next) out.push(e.key)
    return out
  }

  private append(e: Entry): void {
    const last = this.head.prev
    e.prev = last
    e.next = this.head
    last.next = e
    this.head.prev = e
  }

  /** Unlinks and forgets `e`. */
  private remove(e: Entry): void {
    unlink(e)
    this.map.delete(e.key)
    this.used -= e.bytes
  }
}

function unlink(e: Entry): void {
  e.prev.next = e.next
  e.next.prev = e.prev
}
