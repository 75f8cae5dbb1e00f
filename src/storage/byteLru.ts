import { flatString } from '../util/hex.js'

/**
 * A least-recently-used cache bounded in bytes, with hit/miss counters per kind of entry. A JS Map keeps
 * insertion order; a hit moves the entry to the back, eviction takes from the front.
 *
 * An entry is accounted at what it costs in V8's heap (measured, Node 20 / V8 11.3, after a full GC):
 * its key's characters, its value's bytes, and ENTRY_OVERHEAD_BYTES (the Map's slot, the record, the
 * key string's header) plus VALUE_OVERHEAD_BYTES when a value is held (its Uint8Array and ArrayBuffer).
 * Keys are stored flat: hex built byte by byte (@noble's bytesToHex, which @ethereumjs/util uses) is a
 * chain of ~32 cons strings, ~1 KB for a 64-digit key; a Map keeps it as given, so a cache bounded at 64
 * bytes of overhead per entry held 2.5–7x its budget.
 */
export const ENTRY_OVERHEAD_BYTES = 100
export const VALUE_OVERHEAD_BYTES = 200

/** Bytes an entry is accounted at (see above). */
export function entryBytes(key: string, value: Uint8Array | null): number {
  return key.length + ENTRY_OVERHEAD_BYTES + (value === null ? 0 : value.length + VALUE_OVERHEAD_BYTES)
}

export class ByteLru<K extends number> {
  private readonly map = new Map<string, { value: Uint8Array | null; bytes: number }>()
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
  }

  /** The cached value (null = cached absence), or undefined on a miss. Counts the lookup for `kind`. */
  get(kind: K, key: string): Uint8Array | null | undefined {
    const e = this.map.get(key)
    if (e === undefined) {
      this.misses[kind]! += 1
      return undefined
    }
    this.hits[kind]! += 1
    this.map.delete(key)
    this.map.set(key, e)
    return e.value
  }

  /** Inserts or replaces an entry, evicting the least recently used ones to stay within budget. */
  set(key: string, value: Uint8Array | null): void {
    if (this.capacity === 0) return
    const bytes = entryBytes(key, value)
    const old = this.map.get(key)
    if (old !== undefined) {
      this.used -= old.bytes
      this.map.delete(key)
    }
    if (bytes > this.capacity) return
    this.map.set(flatString(key), { value, bytes })
    this.used += bytes
    while (this.used > this.capacity) {
      const first = this.map.keys().next().value as string
      this.used -= this.map.get(first)!.bytes
      this.map.delete(first)
      this.evictions++
    }
  }

  delete(key: string): void {
    const e = this.map.get(key)
    if (e !== undefined) {
      this.used -= e.bytes
      this.map.delete(key)
    }
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
}
