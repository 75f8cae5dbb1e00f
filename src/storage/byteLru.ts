/**
 * A least-recently-used cache bounded in bytes (as accounted by the caller: key + value + a fixed
 * per-entry overhead), with hit/miss counters per kind of entry. A JS Map keeps insertion order;
 * a hit moves the entry to the back, eviction takes from the front.
 */
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
    /** Bytes accounted per entry on top of key and value (map entry, object headers). */
    readonly overhead = 64,
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
    const bytes = key.length + (value?.length ?? 0) + this.overhead
    const old = this.map.get(key)
    if (old !== undefined) {
      this.used -= old.bytes
      this.map.delete(key)
    }
    if (bytes > this.capacity) return
    this.map.set(key, { value, bytes })
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
