import { Command } from 'commander'

import { formatErrorLine } from '../errors/index.js'
import { toolInfo } from '../run/environment.js'

/** Exit codes: 0 success, 1 a block did not verify, 2 bad input or any other error. */
export const EXIT = { ok: 0, verificationFailed: 1, error: 2 } as const

export function buildProgram(): Command {
  const program = new Command()
  program
    .name('megabench')
    .description('Replay, prove and profile Ethereum blocks')
    .version(toolInfo().version)
    .showHelpAfterError()
    // Throw instead of exiting, so that main() decides the exit code (subcommands inherit this).
    .exitOverride()

  program
    .command('replay')
    .description('replay blocks through the instrumented EVM, verify every block against its header, and profile it')
    .option('--fixtures <path...>', 'realblock-v1 files or directories (default: the bundled fixtures/mainnet)')
    .option('--opcodes', 'time every opcode (adds the profiler overhead to all timings)', false)
    .option('--json', 'print the run result as JSON on stdout instead of the summary', false)
    .option('--out <dir>', 'output directory (default: reports/<timestamp>)')
    .action(async (opts) => {
      const { replayCommand } = await import('./replay.js')
      process.exitCode = await replayCommand(opts)
    })

  return program
}

export async function main(argv: readonly string[] = process.argv): Promise<void> {
  const program = buildProgram()
  try {
    await program.parseAsync(argv as string[])
  } catch (err) {
    // commander has already printed its own usage errors and help/version output.
    const code = (err as { code?: string }).code
    if (code === 'commander.helpDisplayed' || code === 'commander.version' || code === 'commander.help') {
      process.exitCode = EXIT.ok
      return
    }
    if (typeof code === 'string' && code.startsWith('commander.')) {
      process.exitCode = EXIT.error
      return
    }
    process.stderr.write(`megabench: ${formatErrorLine(err)}\n`)
    if (process.env.MEGABENCH_DEBUG) console.error(err)
    process.exitCode = EXIT.error
  }
}
