import { appendFile, mkdir, rename, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'

import { gate, loadGateSide } from '../gate/gate.js'
import { verdictMarkdown } from '../gate/markdown.js'
import { readPolicy, resolvePolicy } from '../gate/policy.js'
import { checkOutputFile } from '../output/guard.js'

export type GateCliOptions = { baseline: string[]; current: string[]; policy?: string; out?: string; json?: boolean; force?: boolean }

/** `megabench gate`: two sides → verdict → Markdown (stdout, $GITHUB_STEP_SUMMARY) + JSON file. Returns the exit code. */
export async function gateCommand(opts: GateCliOptions): Promise<number> {
  const out = opts.out ?? 'gate-verdict.json'
  await checkOutputFile(out, (head) => /"format":\s*"megabench-gate-v\d+"/.test(head), { force: opts.force, inputs: [...opts.baseline, ...opts.current] })
  const policy = opts.policy === undefined ? resolvePolicy({}) : await readPolicy(opts.policy)
  const baseline = await loadGateSide(opts.baseline)
  const current = await loadGateSide(opts.current)
  const verdict = gate(baseline, current, policy)
  const md = verdictMarkdown(verdict)
  await mkdir(dirname(out), { recursive: true })
  await writeFile(`${out}.tmp`, `${JSON.stringify(verdict, null, 1)}\n`)
  await rename(`${out}.tmp`, out)
  const summary = process.env.GITHUB_STEP_SUMMARY
  if (summary !== undefined && summary !== '') await appendFile(summary, md)
  process.stdout.write(opts.json === true ? `${JSON.stringify(verdict)}\n` : md)
  return verdict.exitCode
}
