import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

import { ecrecoverBackend } from '../engines/baseline/crypto.js'

/** The package root (where package.json and fixtures/ are), from this file's location in dist/run/. */
export const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

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
