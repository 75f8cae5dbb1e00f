import { readFile, stat } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'

import { RunResultError } from '../errors/index.js'
import { RUN_SCHEMA_VERSION, type RunResult, runResultSchema } from '../run/schema.js'
import { CPU_PROFILE_FILE, type CpuProfile } from '../probes/cpuProfile.js'
import { type FlameData, flameData } from './flame.js'
import { SWEEP_SCHEMA_VERSION, type SweepResult, sweepResultSchema } from '../run/sweepSchema.js'

export type LoadedResult = { file: string; label: string } & ({ kind: 'run'; run: RunResult; flame?: FlameData } | { kind: 'sweep'; sweep: SweepResult })

/**
 * Reads a run.json or sweep.json (or a directory holding one), checks its kind and schema version and
 * validates it. Anything else is a one-line RunResultError naming the file.
 */
export async function loadResult(path: string): Promise<LoadedResult> {
  let file = path
  try {
    if ((await stat(path)).isDirectory()) {
      file = join(path, 'run.json')
      try {
        await stat(file)
      } catch {
        file = join(path, 'sweep.json')
      }
    }
  } catch (cause) {
    throw new RunResultError(path, 'no such file or directory', cause)
  }
  let json: unknown
  try {
    json = JSON.parse(await readFile(file, 'utf8'))
  } catch (cause) {
    throw new RunResultError(file, `not a run result (${(cause as Error).message.split('\n')[0]})`, cause)
  }
  const o = json as { kind?: unknown; schemaVersion?: unknown } | null
  const label = basename(file) === 'run.json' || basename(file) === 'sweep.json' ? basename(dirname(file)) : basename(file)
  if (o?.kind === 'megabench.run') {
    if (o.schemaVersion !== RUN_SCHEMA_VERSION) {
      throw new RunResultError(file, `run.json schema version ${JSON.stringify(o.schemaVersion)} is not supported (this megabench reads version ${RUN_SCHEMA_VERSION})`)
    }
    const r = runResultSchema.safeParse(json)
    if (!r.success) throw new RunResultError(file, `not a valid run result (field ${r.error.issues[0]?.path.join('.')}: ${r.error.issues[0]?.message})`)
    return { file, label, kind: 'run', run: r.data, ...(await flameBeside(file)) }
  }
  if (o?.kind === 'megabench.sweep') {
    if (o.schemaVersion !== SWEEP_SCHEMA_VERSION) {
      throw new RunResultError(file, `sweep.json schema version ${JSON.stringify(o.schemaVersion)} is not supported (this megabench reads version ${SWEEP_SCHEMA_VERSION})`)
    }
    const r = sweepResultSchema.safeParse(json)
    if (!r.success) throw new RunResultError(file, `not a valid sweep result (field ${r.error.issues[0]?.path.join('.')}: ${r.error.issues[0]?.message})`)
    return { file, label, kind: 'sweep', sweep: r.data }
  }
  throw new RunResultError(file, 'not a megabench run or sweep result (kind is neither megabench.run nor megabench.sweep)')
}

/** The flame graph of the CPU profile saved beside a run.json (replay --profile cpu), if any. */
async function flameBeside(runFile: string): Promise<{ flame?: FlameData }> {
  const file = join(dirname(runFile), CPU_PROFILE_FILE)
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch {
    return {}
  }
  try {
    return { flame: flameData(JSON.parse(text) as CpuProfile) }
  } catch (cause) {
    throw new RunResultError(file, `not a CPU profile (${(cause as Error).message.split('\n')[0]})`, cause)
  }
}
