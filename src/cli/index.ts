import { Command } from 'commander'

import { UsageError, formatErrorLine } from '../errors/index.js'
import { CGROUP_HEADROOM_BYTES } from '../storage/cgroup.js'
import { formatSize, parseSize } from '../storage/memory.js'
import { parseCount, parseMix, parseNumber } from './parse.js'
import { DEFAULT_EVM_TIER } from '../evm/tiers.js'
import { DEFAULT_FIXTURES, toolInfo } from '../run/environment.js'
import { registerAnalyses } from './analyzeOptions.js'
import { registerFetchCommand } from './fetch.js'
import { installInterruptHandlers } from '../util/interrupt.js'

/** Exit codes: 0 success, 1 a block did not verify, 2 bad input or any other error. */
export const EXIT = { ok: 0, verificationFailed: 1, error: 2 } as const

/** gate and compare exit with the verdict's code (src/gate/gate.ts EXIT_CODES). */
const GATE_EXIT_CODES = `
Exit codes:
  0  pass: counters equal; every gated timing is no change or an improvement
  1  regression: a counter changed, or a timing's whole interval lies above its floor
  2  error or refusal (unreadable file, invalid policy, runs over different blocks or configurations),
     or insufficient data (fewer runs than minRuns or paired blocks than minPairs): never a silent pass
  3  inconclusive: an interval straddles the floor; the data cannot tell a change from noise`

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
    .option('--chain <dir>', 'a chain directory written by `megabench generate` (instead of --fixtures)')
    .option('--from <n>', 'with --chain: first block to measure (earlier blocks run as warm-up)', parseCount('--from'))
    .option('--to <n>', 'with --chain: last block to replay', parseCount('--to'))
    .option('--mode <mode>', 'live (root + LMDB commit per block), historical (per --batch), or both (gives the decomposition)', 'live')
    .option('--batch <n>', 'historical: blocks per state root and persistence (default: once at the end)', parseCount('--batch'))
    .option('--memory <size>', 'cache budget, e.g. 64MB, 1GB: 25% level 1 (client cache), 75% level 2 (DB cache)', parseSize('--memory'))
    .option('--l1 <size>', 'level-1 (client state cache) budget, overrides the split', parseSize('--l1'))
    .option('--l2 <size>', 'level-2 (DB read cache) budget, overrides the split', parseSize('--l2'))
    .option('--no-l1-trie-nodes', 'level 1 (the client\'s cache) holds no trie nodes: merkleization reads them through level 2 (the DB\'s cache) only, as Reth did when the study measured it (default: level 1 holds them)')
    .option('--engine <engine>', 'baseline, mega, or both (same blocks; every block\'s state diff compared); mega,baseline runs both with the mega variants first', 'baseline')
    .option('--threads <n...>', 'mega: parallel-execution workers, e.g. 2, or a list (0,2) to run each side by side (default 0: in order)')
    .option('--verify-mpt [when]', 'mega: prove the state root with Ethereum\'s MPT kept beside the mega state: every block (bare flag), final (default: the range\'s last block) or off')
    .option('--state-diffs <file>', 'mega: append every block\'s state diff (megabench-diff-v1, length-prefixed) to this file')
    .option('--evm <evm>', 'the measured engine\'s EVM: ethereumjs (default) or fast (src/evm/; every fork, Frontier on; mega --threads uses ethereumjs). --engine baseline: the baseline\'s (over its flat state, caches and tries); mega or both: the mega engine\'s (the baseline stays the @ethereumjs reference). ethereumjs,fast runs both side by side')
    .option('--baseline-evm <evm>', 'with --engine both: the baseline\'s EVM, ethereumjs (default: the differential\'s reference) or fast (mega vs baseline on the same EVM: the state architecture alone); ethereumjs,fast runs both')
    .option('--evm-tier <tier>', `--evm fast: interpreter, compiled (every basic block compiled on first entry) or tiered (hot blocks compiled; default ${DEFAULT_EVM_TIER}); a comma list runs each side by side`)
    .option('--sender-workers <n>', 'mega: worker threads recovering senders ahead of execution (default 1; 0 = during execution)', parseCount('--sender-workers'))
    .option('--storage <kind>', 'lmdb (flat state + tries on LMDB) or memory (trie in memory, live only)', 'lmdb')
    .option('--db <dir>', 'keep the LMDB state here and resume at its head (default: a temporary DB)')
    .option('--cgroup', 'also bind the OS page cache: a memory cgroup around this process (its charged anonymous memory − caches + --memory + headroom, re-limited before every block and every 20 ms, lifted after the last), where one is writable', false)
    .option('--cgroup-headroom <size>', `--cgroup: page cache allowed above the budget for what V8 allocates between two re-limits (default ${formatSize(CGROUP_HEADROOM_BYTES)}); smaller binds the page cache closer to --memory, at the risk of the cgroup's OOM killer`, parseSize('--cgroup-headroom'))
    .option('--miss-latency <us>', 'a declared disk model: every level-2 miss (LMDB read) costs this many µs in modelled totals (run.json storage.binding; measured numbers unchanged), e.g. 18 (the study\'s mean miss penalty)', parseNumber('--miss-latency'))
    .option('--opcodes', 'also run profiled passes: the opcode profile comes from them, timings from unprofiled passes (the probe\'s overhead is measured and reported)', false)
    .option('--repeat <n>', 'measured passes per variant, interleaved A B B A; medians and spreads reported (default 1)', parseCount('--repeat'))
    .option('--warmup <n>', 'warm-up passes per variant before them, not reported (default 1; V8 compiles hot code in the first pass)', parseCount('--warmup'))
    .option('--senders <source>', 'recover (default: from signatures, on every engine) or cache (the source\'s sender cache, on every engine)')
    .option('--json', 'print the run result as JSON on stdout instead of the summary', false)
    .option('--out <dir>', 'output directory (default: reports/<timestamp>)')
    .option('--force', 'replace an earlier megabench output at --out (never anything megabench did not write)', false)
    .option('--no-report', 'do not write report.html beside run.json')
    .option('--shard <i/n>', 'replay only shard i of n: a contiguous slice of the fixture files or of the chain range (merge with `megabench merge`)')
    .option('--profile <kind>', 'cpu (V8 profile of the replay window: replay.cpuprofile + flame graph in the report), clinic-flame or clinic-doctor (when clinic is installed)')
    .action(async (opts) => {
      const { replayCommand } = await import('./replay.js')
      process.exitCode = await replayCommand(opts)
    })

  program
    .command('sweep')
    .description('replay the same blocks under several memory budgets, one fresh process each (the study\'s memory sweep)')
    .requiredOption('--memory <sizes>', 'comma-separated budgets, e.g. 16MB,64MB,256MB,1GB')
    .option('--repeat <n>', 'repetitions per limit (interleaved; medians reported)', parseCount('--repeat'))
    .option('--bind <how>', 'what bounds the read path besides the caches: cgroup (a memory cgroup around each run: the OS page cache too), model (a declared latency per level-2 miss, MODELLED totals beside measured ones), caches (budgets only), or auto (default: cgroup where one can be made, else model)', 'auto')
    .option('--miss-latency <us>', `--bind model: µs per level-2 miss (default 18, the study's mean miss penalty)`, parseNumber('--miss-latency'))
    .option('--out <dir>', 'output directory (default: reports/sweep-<timestamp>)')
    .option('--force', 'replace an earlier megabench output at --out (never anything megabench did not write)', false)
    .option('--json', 'print sweep.json on stdout', false)
    .option('--no-report', 'do not write report.html beside sweep.json')
    .allowUnknownOption()
    .allowExcessArguments()
    .addHelpText('after', '\nAny other option is passed to every `megabench replay` run (e.g. --chain <dir> --mode historical).')
    .action(async (opts, cmd: Command) => {
      const { sweepCommand } = await import('./sweep.js')
      process.exitCode = await sweepCommand(opts, cmd.args)
    })

  program
    .command('report')
    .description('render run.json / sweep.json results (files or their directories) as one self-contained report')
    .argument('<results...>', 'run.json or sweep.json files, or directories holding them')
    .option('--out <file>', 'output file (default: report.html; Markdown goes to stdout)')
    .option('--force', 'replace an earlier megabench output at --out (never anything megabench did not write)', false)
    .option('--format <format>', 'html (charts, offline) or md (key tables, e.g. for CI job summaries)', 'html')
    .action(async (paths: string[], opts) => {
      const { reportCommand } = await import('./report.js')
      process.exitCode = await reportCommand(paths, opts)
    })

  program
    .command('gate')
    .description('compare two versions\' runs: deterministic counters exactly, per-block timings with a two-stage (runs, then blocks) bootstrap interval')
    .requiredOption('--baseline <run.json...>', 'baseline run results (one per replay process: repeats, and any sources), or one counters file')
    .requiredOption('--current <run.json...>', 'current run results (same sources and configuration), or one counters file')
    .option('--policy <file>', 'policy JSON: counter tolerances, timing metrics and floors, statistic, minRuns, minPairs (see README)')
    .option('--out <file>', 'JSON verdict file (default gate-verdict.json)')
    .option('--force', 'replace an earlier megabench output at --out (never anything megabench did not write)', false)
    .option('--json', 'print the verdict as JSON instead of Markdown', false)
    .addHelpText('after', GATE_EXIT_CODES)
    .action(async (opts) => {
      const { gateCommand } = await import('./gate.js')
      process.exitCode = await gateCommand(opts)
    })

  program
    .command('merge')
    .description('combine the run results of shards (replay --shard i/n) into one run result and report')
    .argument('<results...>', 'run.json files (or their directories) of the shards')
    .requiredOption('--out <dir>', 'output directory (run.json, blocks.jsonl, report.html)')
    .option('--force', 'replace an earlier megabench output at --out (never anything megabench did not write)', false)
    .option('--json', 'print the merged run result on stdout', false)
    .option('--no-report', 'do not write report.html')
    .action(async (paths: string[], opts) => {
      const { mergeCommand } = await import('./merge.js')
      process.exitCode = await mergeCommand(paths, opts)
    })

  program
    .command('compare')
    .description('replay two versions (checkout directories or git refs) interleaved on the same blocks and gate B against A')
    .requiredOption('--a <dir|git-ref>', 'baseline version: a megabench checkout directory or a git ref of this repository')
    .requiredOption('--b <dir|git-ref>', 'current version')
    .option('--repeat <n>', 'measured runs per version, each a fresh process, in the order A B, B A, A B … (default 5; the gate needs minRuns, default 4)', parseCount('--repeat'))
    .option('--warmup <n>', 'discarded runs per version before them (default 1)', parseCount('--warmup'))
    .option('--policy <file>', 'gate policy JSON (see `megabench gate`)')
    .option('--out <dir>', 'output directory (default reports/compare-<timestamp>)')
    .option('--force', 'replace an earlier megabench output at --out (never anything megabench did not write)', false)
    .option('--json', 'print the verdict as JSON', false)
    .allowUnknownOption()
    .allowExcessArguments()
    .addHelpText('after', `\nAny other option is passed to every \`megabench replay\` run (e.g. --chain <dir> --from 50).\n${GATE_EXIT_CODES}`)
    .action(async (opts, cmd: Command) => {
      const { compareCommand } = await import('./compare.js')
      process.exitCode = await compareCommand(opts, cmd.args)
    })

  program
    .command('generate')
    .description('generate a mainnet-like chain on real contracts (OpenZeppelin ERC20, Uniswap V2, WETH9)')
    .argument('<workload>', 'eth-transfer | erc20-transfer | uniswap-swap | mixed')
    .requiredOption('--out <dir>', 'chain directory to write (new or empty; an earlier generated chain only with --force)')
    .option('--force', 'replace an earlier megabench output at --out (never anything megabench did not write)', false)
    .option('--accounts <n>', 'accounts in the genesis, e.g. 10k, 1M, 10M (default 10k)', parseCount('--accounts'))
    .option('--senders <n>', 'accounts with keys that send transactions (default max(100, accounts/100))', parseCount('--senders'))
    .option('--tokens <n>', 'ERC20 token contracts (default 4 when the workload uses tokens)', parseCount('--tokens'))
    .option('--contracts <n>', 'alias of --tokens', parseCount('--contracts'))
    .option('--pairs <n>', 'Uniswap V2 pairs (default 4 when the workload swaps)', parseCount('--pairs'))
    .option('--zipf <s>', 'popularity skew of senders, recipients, tokens and pairs; 0 = uniform (default 1)', parseNumber('--zipf'))
    .option('--blocks <n>', 'blocks to generate (default 100)', parseCount('--blocks'))
    .option('--txs-per-block <n>', 'transactions per block (default 100)', parseCount('--txs-per-block'))
    .option('--gas-per-block <gas>', 'fill blocks up to this much gas instead, e.g. 15M', parseCount('--gas-per-block'))
    .option('--block-gas-limit <gas>', 'block gas limit (default 30M, or 2 × --gas-per-block)', parseCount('--block-gas-limit'))
    .option('--seed <s>', 'seed: the same seed and options give byte-identical output (default 1)')
    .option('--mix <mix>', 'mixed only: percentages, e.g. eth=30,erc20=25,swap=45 (the default)', parseMix)
    .option('--hardfork <name>', 'the chain\'s hardfork: shanghai, cancun, prague, osaka, bpo1, bpo2 (default bpo2, the newest on mainnet)')
    .option('--json', 'print the generation statistics as JSON', false)
    .action(async (workload: string, opts) => {
      if (opts.contracts !== undefined) {
        if (opts.tokens !== undefined && opts.tokens !== opts.contracts) throw new UsageError('--contracts is an alias of --tokens: give one')
        opts.tokens = opts.contracts
      }
      delete opts.contracts
      const { generateCommand } = await import('./generate.js')
      process.exitCode = await generateCommand(workload, opts)
    })

  program
    .command('conformance')
    .description('run BlockchainTests (ethereum/tests, legacytests, EEST fixtures: .json / .json.gz) on the fast EVM and/or @ethereumjs (exit 0 all pass or skip, 1 a test failed or timed out, 2 bad input)')
    .argument('<paths...>', 'test files or directories (searched recursively for .json and .json.gz)')
    .option('--evm <evm>', 'fast, ethereumjs, or both (lists the tests whose outcome differs)', 'fast')
    .option('--evm-tier <tier>', `the fast EVM's tier: interpreter, compiled (every basic block compiled on first entry) or tiered (default ${DEFAULT_EVM_TIER})`)
    .option('--json', 'print {totals, folders, failures[, differences]} as JSON (see README)', false)
    .option('--workers <n>', 'worker threads (default: the number of cores; 0 = in this thread, no time limit)', parseCount('--workers'))
    .option('--timeout <seconds>', 'per-test limit on each EVM, in CPU seconds of its worker thread (wall seconds off Linux); a test stopped by it counts as timeout (0 = none)', parseNumber('--timeout'), 90)
    .option('--depth <n>', 'count tests per folder of the first n directory levels (default: two levels below BlockchainTests/blockchain_tests)', parseCount('--depth'))
    .option('--filter <text>', 'run only the tests whose name contains this text')
    .action(async (paths: string[], opts) => {
      const { conformanceCommand } = await import('./conformance.js')
      process.exitCode = await conformanceCommand(paths, opts)
    })

  program
    .command('study')
    .description("the study's table from a reth-like configuration: generate mainnet-like chains, replay them and real blocks on the baseline with the fast EVM (historical + live, opcodes, analyses), sweep memory budgets (bound), report")
    .option('--out <dir>', 'output directory (default: reports/study-<timestamp>)')
    .option('--force', 'replace an earlier megabench output at --out (never anything megabench did not write)', false)
    .option('--chains <dir>', 'keep generated chains here and reuse the ones that match (default: generated inside --out)')
    .option('--accounts <n>', 'accounts in each generated chain (default 1M)', parseCount('--accounts'), 1_000_000)
    .option('--blocks <n>', 'blocks per generated chain (default 100)', parseCount('--blocks'), 100)
    .option('--txs-per-block <n>', 'transactions per block (default 50)', parseCount('--txs-per-block'), 50)
    .option('--long-blocks <n>', "the long range: the first workload again on a chain of n blocks, historical + live only (historical's one root spread over n blocks, nearer the study's root every 500k); 0 = none (default 1000)", parseCount('--long-blocks'), 1000)
    .option('--workloads <list>', 'generated chains: erc20-transfer, uniswap-swap, mixed, or none', 'erc20-transfer,uniswap-swap,mixed')
    .option('--fixtures <path...>', 'real blocks (realblock-v1 files or directories), e.g. ../shared/data/mainnet (default: the bundled fixtures/mainnet)')
    .option('--memory <sizes>', 'sweep budgets, or none (the smallest default is 256 MiB: with the fast EVM the cgroup binding OOM-killed a 64 MiB run on 1M accounts)', '256MB,512MB,1GB,2GB')
    .option('--sweep-workloads <list>', 'the chains the sweep runs on (live and historical)', 'erc20-transfer')
    .option('--bind <how>', 'the sweep\'s binding: auto (a memory cgroup where one can be made, else the disk model), cgroup, model or caches', 'auto')
    .option('--evm <evm>', "the baseline's EVM: fast (default, the reth-like configuration) or ethereumjs", 'fast')
    .option('--repeat <n>', 'measured passes per replay and runs per sweep budget (default 1)', parseCount('--repeat'))
    .option('--no-analyze', 'skip the analyses (parallelism, state diff, JIT bound, hardware bounds)')
    .option('--hardfork <name>', 'the generated chains\' hardfork (default: generate\'s)')
    .option('--seed <s>', 'the generated chains\' seed (default: generate\'s)')
    .option('--dry-run', 'print the steps (commands) and stop', false)
    .option('--json', 'print study.json (or with --dry-run the steps) as JSON', false)
    .action(async (opts) => {
      const { studyCommand } = await import('./study.js')
      if (opts.fixtures === undefined) opts.fixtures = [DEFAULT_FIXTURES]
      process.exitCode = await studyCommand(opts)
    })

  // Analyses (issue 7): `analyze`, and replay's --analyze.
  registerAnalyses(program)

  registerFetchCommand(program)
  return program
}

export async function main(argv: readonly string[] = process.argv): Promise<void> {
  installInterruptHandlers()
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
