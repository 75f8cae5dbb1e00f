import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'

import { formatSize } from './memory.js'

export type CgroupResult = { applied: boolean; version: 1 | 2 | null; path: string | null; limitBytes: number; message: string }

/**
 * Puts this process into a new memory cgroup limited to its current resident size plus `budget`
 * bytes, so that the OS page cache it can fill (LMDB pages are charged to it) is bounded like the
 * caches are. Uses cgroup v2 (`memory.max`) where the memory controller is delegated to us, else the
 * v1 memory controller if it is writable. Where neither is possible, says why and changes nothing:
 * the byte budgets of the two cache levels still apply.
 */
export function enforceMemoryLimit(budget: number): CgroupResult {
  const limitBytes = process.memoryUsage().rss + budget
  const lines = safeRead('/proc/self/cgroup')?.split('\n') ?? []
  const reasons: string[] = []

  const v2Path = lines.find((l) => l.startsWith('0::'))?.slice(3)
  const v2Mount = ['/sys/fs/cgroup/unified', '/sys/fs/cgroup'].find((m) => existsSync(join(m, 'cgroup.controllers')))
  if (v2Path !== undefined && v2Mount !== undefined) {
    const parent = join(v2Mount, v2Path)
    const controllers = safeRead(join(parent, 'cgroup.subtree_control')) ?? ''
    if (!controllers.split(/\s+/).includes('memory')) {
      reasons.push(`cgroup v2: the memory controller is not enabled for children of ${parent} (cgroup.subtree_control: "${controllers.trim()}")`)
    } else {
      const r = attempt(join(parent, `megabench-${process.pid}`), 'memory.max', limitBytes)
      if (r === null) return ok(2, join(parent, `megabench-${process.pid}`), limitBytes)
      reasons.push(`cgroup v2: ${r}`)
    }
  } else {
    reasons.push('cgroup v2: no unified hierarchy mounted')
  }

  const v1Path = lines.find((l) => /^\d+:(?:[^:]*,)?memory(?:,[^:]*)?:/.test(l))?.split(':')[2]
  if (v1Path !== undefined && existsSync('/sys/fs/cgroup/memory')) {
    const dir = join('/sys/fs/cgroup/memory', v1Path, `megabench-${process.pid}`)
    const r = attempt(dir, 'memory.limit_in_bytes', limitBytes)
    if (r === null) return ok(1, dir, limitBytes)
    reasons.push(`cgroup v1: ${r}`)
  } else {
    reasons.push('cgroup v1: no memory controller')
  }
  return {
    applied: false,
    version: null,
    path: null,
    limitBytes,
    message: `--cgroup: not enforced (${reasons.join('; ')}); continuing with the cache budgets only`,
  }
}

function ok(version: 1 | 2, path: string, limitBytes: number): CgroupResult {
  return {
    applied: true,
    version,
    path,
    limitBytes,
    message: `--cgroup: this process now runs in ${path} (cgroup v${version}), memory limited to ${formatSize(limitBytes)} (resident size at start + --memory)`,
  }
}

/**
 * Creates `dir`, sets the limit and moves this process in; returns null on success or why it failed.
 * At exit the process moves back to the parent group and removes `dir`.
 */
function attempt(dir: string, limitFile: string, limit: number): string | null {
  try {
    mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, limitFile), String(limit))
    writeFileSync(join(dir, 'cgroup.procs'), String(process.pid))
    process.on('exit', () => {
      try {
        writeFileSync(join(dirname(dir), 'cgroup.procs'), String(process.pid))
        rmdirSync(dir)
      } catch {
        // best effort: an empty group left behind is harmless
      }
    })
    return null
  } catch (err) {
    try {
      rmdirSync(dir)
    } catch {
      // it may not exist
    }
    return `cannot use ${dir} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`
  }
}

function safeRead(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return undefined
  }
}
