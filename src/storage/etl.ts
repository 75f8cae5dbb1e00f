import { closeSync, mkdirSync, openSync, readSync, rmSync, writeSync } from 'node:fs'
import { join } from 'node:path'

/**
 * An external sorter for bulk loads, after reth's ETL collector: entries are buffered, sorted and
 * spilled to temporary files in runs of at most `bufferBytes`, then merged, so that they reach the
 * database in key order and can be appended (LMDB's MDB_APPEND: no page splits, each page written
 * once). Inserting hash-keyed entries in random order into a large B+tree instead rewrites a page per
 * key per transaction: a 10M-account import wrote ~700 GB that way.
 *
 * Keys are (table number, key bytes); equal keys are yielded once (the first one collected): callers
 * only collect content-addressed or unique keys, where duplicates carry the same value.
 */
export class EtlCollector {
  private buffer: Buffer[] = []
  /** Insertion order of the buffered records (ties keep the first one collected). */
  private seqs: number[] = []
  private bufferedBytes = 0
  private readonly files: string[] = []
  private dirMade = false
  private seq = 0
  count = 0
  spilledBytes = 0

  constructor(
    private readonly dir: string,
    private readonly bufferBytes = 256 * 2 ** 20,
  ) {}

  /** Collects one entry. `table` is 0…255. */
  put(table: number, key: Uint8Array, value: Uint8Array): void {
    if (key.length > 0xffff) throw new RangeError(`ETL key of ${key.length} bytes`)
    const rec = Buffer.allocUnsafe(HEADER + 1 + key.length + value.length)
    rec.writeUInt16BE(key.length, 0)
    rec.writeUInt32BE(value.length, 2)
    rec[HEADER] = table
    rec.set(key, HEADER + 1)
    rec.set(value, HEADER + 1 + key.length)
    this.buffer.push(rec)
    this.seqs.push(this.seq++)
    this.bufferedBytes += rec.length + 96
    this.count++
    if (this.bufferedBytes >= this.bufferBytes) this.spill()
  }

  /** All entries in (table, key) order, each key once. Removes the temporary files when done. */
  *sorted(): Generator<{ table: number; key: Buffer; value: Buffer }> {
    try {
      const runs: RunReader[] = this.files.map((f) => new FileRun(f))
      if (this.buffer.length > 0) runs.push(new MemoryRun(this.sortBuffer()))
      this.buffer = []
      this.seqs = []
      const heap = new RecordHeap()
      for (let i = 0; i < runs.length; i++) {
        const r = runs[i]!.next()
        if (r !== undefined) heap.push({ rec: r, run: i })
      }
      let last: Buffer | undefined
      while (heap.size > 0) {
        const top = heap.pop()!
        const nextRec = runs[top.run]!.next()
        if (nextRec !== undefined) heap.push({ rec: nextRec, run: top.run })
        if (last !== undefined && compareRecords(last, top.rec) === 0) continue
        last = top.rec
        const kl = top.rec.readUInt16BE(0)
        yield { table: top.rec[HEADER]!, key: top.rec.subarray(HEADER + 1, HEADER + 1 + kl), value: top.rec.subarray(HEADER + 1 + kl) }
      }
      for (const r of runs) r.close()
    } finally {
      this.cleanup()
    }
  }

  /** Removes the temporary files (also after a failure). */
  cleanup(): void {
    if (this.dirMade) rmSync(this.dir, { recursive: true, force: true })
    this.dirMade = false
    this.files.length = 0
  }

  private sortBuffer(): Buffer[] {
    const buf = this.buffer
    const n = buf.length
    // Sort on a numeric prefix (table and the first five key bytes: exact in a double), falling back
    // to the bytes on ties: hash keys are uniform, so the comparator rarely touches the buffers.
    const prefix = new Float64Array(n)
    for (let i = 0; i < n; i++) prefix[i] = numericPrefix(buf[i]!)
    const idx = new Uint32Array(n)
    for (let i = 0; i < n; i++) idx[i] = i
    const seqs = this.seqs
    idx.sort((a, b) => prefix[a]! - prefix[b]! || compareRecords(buf[a]!, buf[b]!) || seqs[a]! - seqs[b]!)
    const out = new Array<Buffer>(n)
    for (let i = 0; i < n; i++) out[i] = buf[idx[i]!]!
    return out
  }

  private spill(): void {
    if (!this.dirMade) {
      mkdirSync(this.dir, { recursive: true })
      this.dirMade = true
    }
    const sorted = this.sortBuffer()
    const path = join(this.dir, `run-${this.files.length}.etl`)
    const fd = openSync(path, 'w')
    try {
      const CHUNK = 4 * 2 ** 20
      let parts: Buffer[] = []
      let size = 0
      for (const rec of sorted) {
        parts.push(rec)
        size += rec.length
        if (size >= CHUNK) {
          writeSync(fd, Buffer.concat(parts, size))
          parts = []
          size = 0
        }
      }
      if (size > 0) writeSync(fd, Buffer.concat(parts, size))
    } finally {
      closeSync(fd)
    }
    this.spilledBytes += this.bufferedBytes
    this.files.push(path)
    this.buffer = []
    this.seqs = []
    this.bufferedBytes = 0
  }
}

const HEADER = 6

/** (table, key[0..5]) as a number; shorter keys pad with -1 per missing byte so that prefixes sort first. */
function numericPrefix(rec: Buffer): number {
  const kl = rec.readUInt16BE(0)
  let x = rec[HEADER]!
  for (let i = 0; i < 5; i++) x = x * 257 + (i < kl ? rec[HEADER + 1 + i]! + 1 : 0)
  return x
}

/** Orders records by (table, key). */
function compareRecords(a: Buffer, b: Buffer): number {
  return a.compare(b, HEADER, HEADER + 1 + b.readUInt16BE(0), HEADER, HEADER + 1 + a.readUInt16BE(0))
}

interface RunReader {
  next(): Buffer | undefined
  close(): void
}

class MemoryRun implements RunReader {
  private i = 0
  constructor(private readonly recs: Buffer[]) {}
  next(): Buffer | undefined {
    return this.recs[this.i++]
  }
  close(): void {}
}

/** Reads a spilled run in 4 MiB chunks; records are views into the chunk they were read with. */
class FileRun implements RunReader {
  private readonly fd: number
  private chunk = Buffer.alloc(0)
  private pos = 0
  private eof = false

  constructor(path: string) {
    this.fd = openSync(path, 'r')
  }

  next(): Buffer | undefined {
    if (!this.ensure(HEADER)) return undefined
    const len = HEADER + 1 + this.chunk.readUInt16BE(this.pos) + this.chunk.readUInt32BE(this.pos + 2)
    if (!this.ensure(len)) throw new Error('truncated ETL run file')
    const rec = this.chunk.subarray(this.pos, this.pos + len)
    this.pos += len
    return rec
  }

  private ensure(n: number): boolean {
    if (this.chunk.length - this.pos >= n) return true
    if (this.eof) {
      if (this.chunk.length - this.pos === 0) return false
      throw new Error('truncated ETL run file')
    }
    const rest = this.chunk.subarray(this.pos)
    const fresh = Buffer.allocUnsafe(Math.max(4 * 2 ** 20, n))
    const got = readSync(this.fd, fresh, 0, fresh.length, null)
    if (got === 0) this.eof = true
    this.chunk = Buffer.concat([rest, fresh.subarray(0, got)])
    this.pos = 0
    return this.ensure(n)
  }

  close(): void {
    closeSync(this.fd)
  }
}

/** A binary min-heap of run heads by (record, run index): earlier runs win ties (first collected). */
class RecordHeap {
  private readonly items: { rec: Buffer; run: number }[] = []

  get size(): number {
    return this.items.length
  }

  push(item: { rec: Buffer; run: number }): void {
    const a = this.items
    a.push(item)
    let i = a.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (less(a[p]!, a[i]!)) break
      ;[a[p], a[i]] = [a[i]!, a[p]!]
      i = p
    }
  }

  pop(): { rec: Buffer; run: number } | undefined {
    const a = this.items
    const top = a[0]
    const last = a.pop()
    if (a.length > 0 && last !== undefined) {
      a[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < a.length && less(a[l]!, a[m]!)) m = l
        if (r < a.length && less(a[r]!, a[m]!)) m = r
        if (m === i) break
        ;[a[m], a[i]] = [a[i]!, a[m]!]
        i = m
      }
    }
    return top
  }
}

function less(x: { rec: Buffer; run: number }, y: { rec: Buffer; run: number }): boolean {
  const c = compareRecords(x.rec, y.rec)
  return c < 0 || (c === 0 && x.run < y.run)
}
