import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import { join } from 'node:path'

import { ecrecoverBackend } from '../chain/crypto.js'

import { PACKAGE_ROOT } from '../util/paths.js'

export { PACKAGE_ROOT }

/** The fixtures `replay` uses when none are given. */
export const DEFAULT_FIXTURES = join(PACKAGE_ROOT, 'fixtures', 'mainnet')

function readJson(path: string): { version?: string } {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as { version?: string }
  } catch {
    return {}
  }
}

export function toolInfo(): { name: 'megabench'; version: string; gitCommit: string | null } {
  let gitCommit: string | null = null
  try {
    gitCommit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: PACKAGE_ROOT, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim()
  } catch {
    gitCommit = null
  }
  return { name: 'megabench', version: readJson(join(PACKAGE_ROOT, 'package.json')).version ?? '0.0.0', gitCommit }
}

export function machineInfo() {
  const cpu = cpus()
  return {
    cpuModel: cpu[0]?.model.trim() ?? 'unknown',
    cores: cpu.length,
    memoryBytes: totalmem(),
    nodeVersion: process.version,
    platform: process.platform,
    arch: process.arch,
    ecrecover: ecrecoverBackend,
    ethereumjs: readJson(join(PACKAGE_ROOT, 'node_modules', '@ethereumjs', 'vm', 'package.json')).version ?? 'unknown',
  }
}
