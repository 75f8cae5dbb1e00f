import { join } from 'node:path'

import { UsageError } from '../errors/index.js'
import { type ClinicKind, runUnderClinic as run } from '../run/clinic.js'

export type ProfileKind = 'cpu' | ClinicKind

export function parseProfileKind(text: string | undefined): ProfileKind | undefined {
  if (text === undefined) return undefined
  if (text === 'cpu' || text === 'clinic-flame' || text === 'clinic-doctor') return text
  throw new UsageError(`--profile must be cpu, clinic-flame or clinic-doctor (got ${JSON.stringify(text)})`)
}

/** Re-runs this replay command under clinic; its output goes beside the replay's --out directory. */
export function runUnderClinic(kind: ClinicKind, out: string | undefined): number {
  const argv = process.argv.slice(2)
  const args = argv.slice(argv.indexOf('replay') + 1)
  const dest = `${out ?? join('reports', `clinic-${new Date().toISOString().replace(/\.\d+Z$/, 'Z').replaceAll(':', '-')}`)}-${kind}`
  return run(kind, args, dest)
}
