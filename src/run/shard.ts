import { UsageError } from '../errors/index.js'
import { readManifest } from '../sources/chain.js'
import { listFixtureFiles } from '../sources/fixtures.js'

/** Shard `index` (1-based) of `count`. */
export type Shard = { index: number; count: number }

/** "2/4" → { index: 2, count: 4 }. */
export function parseShard(text: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text)
  const index = Number(m?.[1])
  const count = Number(m?.[2])
  if (m === null || !(count >= 1 && index >= 1 && index <= count)) {
    throw new UsageError(`--shard expects i/n with 1 <= i <= n, e.g. 2/4 (got ${JSON.stringify(text)})`)
  }
  return { index, count }
}

/**
 * The contiguous part [start, end) of `length` items that shard i of n gets: item k goes to shard
 * ⌊k·n/length⌋ + 1, so shards differ in size by at most one and keep the items' order.
 */
export function shardBounds(length: number, s: Shard): { start: number; end: number } {
  if (length < s.count) throw new UsageError(`--shard ${s.index}/${s.count}: only ${length} item${length === 1 ? '' : 's'} to split, fewer than ${s.count} shards`)
  return { start: Math.ceil(((s.index - 1) * length) / s.count), end: Math.ceil((s.index * length) / s.count) }
}

/**
 * Applies a shard to replay's source options: a fixture set becomes the shard's contiguous slice of
 * its files (in the order replay reads them); a chain range [from, to] becomes the shard's contiguous
 * sub-range, whose earlier blocks the chain source replays as warm-up from the genesis state, so that
 * each shard starts from its own imported state and measures exactly its blocks.
 */
export async function applyShard(
  o: { fixtures?: string[] | undefined; chain?: string | undefined; from?: number | undefined; to?: number | undefined },
  s: Shard,
  defaultFixtures: string,
): Promise<{ fixtures?: string[]; from?: number; to?: number }> {
  if (o.chain !== undefined) {
    const m = await readManifest(o.chain)
    const from = o.from ?? m.blocks.first
    const to = o.to ?? m.blocks.last
    if (to < from) throw new UsageError(`--to ${to} is before --from ${from}`)
    const b = shardBounds(to - from + 1, s)
    return { from: from + b.start, to: from + b.end - 1 }
  }
  const files = await listFixtureFiles(o.fixtures && o.fixtures.length > 0 ? o.fixtures : [defaultFixtures])
  const b = shardBounds(files.length, s)
  return { fixtures: files.slice(b.start, b.end) }
}
