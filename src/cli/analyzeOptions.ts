import type { Command } from 'commander'

import { parseCount, parseNumber } from './parse.js'

const KINDS = 'parallelism, statediff, jit, bounds, or all'

function machineOptions(cmd: Command): Command {
  return cmd
    .option('--tps <n>', 'statediff: transaction rate for the bandwidth (default 100k)', parseCount('--tps'))
    .option('--cores <n>', 'bounds: cores of the machine (default 16)', parseCount('--cores'))
    .option('--iops <n>', 'bounds: random writes per second (default 300k, the whitepaper\'s NVMe)', parseCount('--iops'))
    .option('--mbps <n>', 'bounds: network bandwidth in Mbps (default 100)', parseNumber('--mbps'))
}

/**
 * The analyses' command-line wiring (issue 7): `megabench analyze <kinds…>` and replay's `--analyze`
 * with its parameters. Kept in one place so that src/cli/index.ts registers it in one line.
 */
export function registerAnalyses(program: Command): void {
  const replay = program.commands.find((c) => c.name() === 'replay')
  if (replay !== undefined) {
    replay.option('--analyze <kinds...>', `also run analyses over the same blocks and put them in run.json: ${KINDS} (jit needs --opcodes)`)
    machineOptions(replay)
  }
  machineOptions(
    program
      .command('analyze')
      .description('transaction parallelism, state-diff bandwidth, the JIT bound and hardware ceilings, from replayed blocks')
      .argument('<kinds...>', KINDS)
      .option('--fixtures <path...>', 'realblock-v1 files or directories (default: the bundled fixtures/mainnet)')
      .option('--chain <dir>', 'a chain directory written by `megabench generate` (instead of --fixtures)')
      .option('--from <n>', 'with --chain: first block to analyse (earlier blocks run as warm-up)', parseCount('--from'))
      .option('--to <n>', 'with --chain: last block', parseCount('--to'))
      .option('--engine <engine>', 'engine the blocks run on: baseline or mega', 'baseline')
      .option('--json', 'print the analyses as JSON', false)
      .option('--out <dir>', 'also write analyses.json (and the timed runs) to this directory')
      .option('--force', 'replace an earlier megabench output at --out', false),
  ).action(async (kinds: string[], opts) => {
    const { analyzeCommand } = await import('./analyze.js')
    process.exitCode = await analyzeCommand(kinds, opts)
  })
}
