import type { Command } from 'commander'
import cliProgress from 'cli-progress'

import { UsageError } from '../errors/index.js'
import type { AssembledChain } from '../fetch/chain.js'
import type { FetchParameters, FetchResult } from '../fetch/fetch.js'
import { WITNESS_METHODS } from '../fetch/methods.js'
import { parseCount } from './parse.js'

export type FetchCliOptions = Pick<FetchParameters, 'rpc' | 'from' | 'to' | 'out' | 'concurrency' | 'chainId' | 'fork'> & {
  witness: string
  retries?: number
  timeout?: number
  chain?: boolean
  json?: boolean
}

/** Registers `megabench fetch` (the library call is loaded on use). */
export function registerFetchCommand(program: Command): void {
  program
    .command('fetch')
    .description('turn a block range of any JSON-RPC node into realblock-v1 fixtures, each replayed and verified before it is written')
    .requiredOption('--rpc <url>', 'JSON-RPC endpoint, http(s); credentials in it are never printed or written')
    .requiredOption('--from <n>', 'first block (≥ 1)', parseCount('--from'))
    .requiredOption('--to <n>', 'last block', parseCount('--to'))
    .requiredOption('--out <dir>', 'directory of realblock-v1 files (a fetch into it resumes: blocks present are kept), or with --chain the chain directory')
    .option('--concurrency <n>', 'blocks fetched at once and RPC requests in flight (default 4)', parseCount('--concurrency'))
    .option('--chain-id <id>', 'refuse a node that serves another chain', parseCount('--chain-id'))
    .option('--fork <name>', "a devnet's hardfork (shanghai … bpo2); default: read off the header, and within prague … bpo2 asked of the node (eth_config, anvil_nodeInfo)")
    .option('--witness <method>', `how touched state is found: auto, ${WITNESS_METHODS.join(', ')}`, 'auto')
    .option('--retries <n>', 'retries of a failed request (timeouts, 429, 5xx, dropped connections, garbage) (default 6)', parseCount('--retries'))
    .option('--timeout <ms>', 'per-request timeout in ms (default 30000)', parseCount('--timeout'))
    .option('--chain', 'write one chain directory (replay --chain): blocks go to <out>.blocks first (resumable), then are assembled, replayed and verified, and renamed into place', false)
    .option('--json', 'print the result as JSON', false)
    .action(async (opts: FetchCliOptions) => {
      process.exitCode = await fetchCommand(opts)
    })
}

export async function fetchCommand(opts: FetchCliOptions): Promise<number> {
  if (opts.witness !== 'auto' && !(WITNESS_METHODS as readonly string[]).includes(opts.witness)) {
    throw new UsageError(`--witness must be auto, ${WITNESS_METHODS.join(', ')} (got ${JSON.stringify(opts.witness)})`)
  }
  const bar =
    opts.json !== true && process.stderr.isTTY
      ? new cliProgress.SingleBar(
          { stream: process.stderr, format: ' {bar} {value}/{total} blocks | ETA {eta_formatted} | {label}', hideCursor: true, clearOnComplete: true, etaBuffer: 20 },
          cliProgress.Presets.shades_classic,
        )
      : undefined
  let started = false
  const { fetchRange } = await import('../fetch/fetch.js')
  const chain = opts.chain === true ? await import('../fetch/chain.js') : undefined
  let result: FetchResult
  try {
    result = await fetchRange({
      rpc: opts.rpc,
      from: opts.from,
      to: opts.to,
      out: chain === undefined ? opts.out : chain.partsDirFor(opts.out),
      concurrency: opts.concurrency,
      chainId: opts.chainId,
      fork: opts.fork,
      witness: opts.witness as 'auto',
      rpcOptions: { ...(opts.retries === undefined ? {} : { retries: opts.retries }), ...(opts.timeout === undefined ? {} : { timeoutMs: opts.timeout }) },
      onProgress: (p) => {
        if (bar === undefined) return
        const label = p.block === null ? (p.resumed > 0 ? `${p.resumed} already fetched` : '') : `block ${p.block} verified`
        if (!started) {
          bar.start(p.total, p.done, { label })
          started = true
        } else bar.update(p.done, { label })
      },
    })
  } finally {
    if (started) bar?.stop()
  }
  const assembled = chain === undefined ? undefined : await chain.assembleChain({ parts: chain.partsDirFor(opts.out), chainId: result.chainId, from: opts.from, to: opts.to, out: opts.out })
  if (opts.json === true) process.stdout.write(`${JSON.stringify(assembled === undefined ? result : { ...result, chain: assembled })}\n`)
  else {
    process.stdout.write(`${formatFetchSummary(result)}\n`)
    if (assembled !== undefined) process.stdout.write(`${formatChainSummary(assembled)}\n`)
  }
  return 0
}

export function formatChainSummary(c: AssembledChain): string {
  return (
    `chain directory ${c.out}: ${c.blocks} blocks, ${c.txs} txs; start state ${c.nodes.toLocaleString('en-US')} trie nodes + ${c.codes} codes; ` +
    `${Math.round(c.bytes / Math.max(c.blocks, 1)).toLocaleString('en-US')} bytes/block; replayed and verified in ${c.verifySeconds.toFixed(2)} s (replay it: megabench replay --chain ${c.out})`
  )
}

export function formatFetchSummary(r: FetchResult): string {
  const n = Math.max(r.fetched, 1)
  const lines = [
    `megabench fetch · chain ${r.chainId} · blocks ${r.from}…${r.to} from ${r.endpoint} (${r.witnessMethod})`,
    `fetched and verified ${r.fetched} block${r.fetched === 1 ? '' : 's'}${r.resumed > 0 ? ` (${r.resumed} already present, kept)` : ''} into ${r.out}`,
  ]
  if (r.hardforks.length > 0) {
    const how = r.fork === undefined ? 'the network\'s fork schedule' : r.fork.source === 'header' ? "the header's fields" : `${r.fork.source}${r.fork.detail === undefined ? '' : `: ${r.fork.detail}`}`
    lines.push(`hardfork ${r.hardforks.join(', ')} (${how})`)
  }
  if (r.fetched > 0) {
    lines.push(
      `${(r.fetched / r.seconds).toFixed(2)} blocks/s · ${(r.rpcCalls / n).toFixed(1)} RPC calls/block · ${Math.round(r.bytes / n).toLocaleString('en-US')} bytes/block · ${r.retries} retries`,
    )
  }
  return lines.join('\n')
}
