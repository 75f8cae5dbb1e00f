import { UsageError } from '../errors/index.js'

/** "64MB", "1GB", "512k", "1.5GiB", or a plain number of bytes → bytes. Decimal units are powers of 1024. */
export function parseSize(flag: string) {
  return (text: string): number => {
    const m = /^\s*([0-9]+(?:\.[0-9]+)?)\s*([kmgt]?)(i?b)?\s*$/i.exec(text)
    const unit = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 }[m?.[2]?.toLowerCase() ?? ''] ?? Number.NaN
    const bytes = m ? Math.round(Number(m[1]) * unit) : Number.NaN
    if (!Number.isSafeInteger(bytes) || bytes < 0) {
      throw new UsageError(`${flag} expects a size such as 64MB, 1GB or 512k (got ${JSON.stringify(text)})`)
    }
    return bytes
  }
}

export function formatSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let v = bytes
  let i = 0
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024
    i++
  }
  return `${v >= 100 || i === 0 ? v.toFixed(0) : v.toFixed(1)} ${units[i]}`
}

/** Share of the memory budget given to level 1 (the client's state cache); level 2 gets the rest. */
export const L1_SHARE = 0.25

/**
 * Splits a total memory budget between the two cache levels. Rule: level 1, the client's own state
 * cache (accounts, slots, code, trie nodes), gets 25%; level 2, the DB's cache of KV reads (standing in
 * for the OS page cache under MDBX, which gets whatever the client does not use), gets 75%.
 * `--l1`/`--l2` override either share. No budget = unbounded caches (everything stays in memory).
 */
export function splitBudget(p: { memory?: number | undefined; l1?: number | undefined; l2?: number | undefined }): {
  l1: number
  l2: number
  total: number | null
} {
  if (p.memory === undefined && p.l1 === undefined && p.l2 === undefined) {
    return { l1: Number.MAX_SAFE_INTEGER, l2: Number.MAX_SAFE_INTEGER, total: null }
  }
  const total = p.memory ?? (p.l1 ?? 0) + (p.l2 ?? 0)
  const l1 = p.l1 ?? (p.l2 !== undefined ? Math.max(0, total - p.l2) : Math.floor(total * L1_SHARE))
  const l2 = p.l2 ?? Math.max(0, total - l1)
  return { l1, l2, total }
}
