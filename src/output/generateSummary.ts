import type { GenerateStats } from '../workloads/generate.js'

const fmt = (x: number, digits = 1) => x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })

/** The terminal summary of `megabench generate`. */
export function formatGenerateSummary(s: GenerateStats, out: string): string {
  const w = s.spec
  const blocks = w.blocks
  const bytes = s.bytesOnDisk
  return [
    `megabench generate · ${w.name} → ${out} · chain ${s.manifest.chainId} at ${s.manifest.hardfork}`,
    `${w.accounts.toLocaleString('en-US')} accounts (${w.senders.toLocaleString('en-US')} senders), ${w.tokens} tokens, ${w.pairs} pairs, ` +
      `zipf ${w.zipf}, seed ${JSON.stringify(w.seed)}, mix eth ${w.mix.eth}% / erc20 ${w.mix.erc20}% / swap ${w.mix.swap}%`,
    `genesis: ${s.manifest.genesis.stateRoot} (${s.genesisNodes.toLocaleString('en-US')} trie nodes and codes, built in ${fmt(s.genesisMs / 1000, 2)} s; contracts deployed in ${fmt(s.setupMs / 1000, 2)} s)`,
    `blocks 1…${blocks}: ${s.txs.toLocaleString('en-US')} txs, ${fmt(s.gasUsed / 1e6, 2)} Mgas, built and executed in ${fmt(s.blocksMs / 1000, 2)} s ` +
      `(${fmt(blocks / (s.blocksMs / 1000), 2)} blocks/s, ${fmt(s.txs / (s.blocksMs / 1000), 0)} tx/s)`,
    `on disk: genesis.json ${fmt(bytes.genesis / 1024)} KiB, blocks ${fmt(bytes.blocks / 1024)} KiB (${fmt(bytes.blocks / blocks / 1024, 2)} KiB/block), ` +
      `senders ${fmt(bytes.senders / 1024)} KiB`,
    `head: block ${s.manifest.head.number} ${s.manifest.head.hash}`,
  ].join('\n')
}
