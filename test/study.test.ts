import { existsSync } from 'node:fs'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

import { describe, expect, it } from 'vitest'

import { runCli } from './helpers/cli.js'
import { FIXTURES_DIR, tempDir } from './helpers/fixtures.js'

/** `megabench study`: the recipe end to end on a tiny configuration (the real one is 1M accounts). */
describe('megabench study', () => {
  it('generates, replays, sweeps and writes the study table from what it measured', async () => {
    const dir = await tempDir()
    const out = join(dir, 'study')
    const r = await runCli([
      'study', '--out', out, '--accounts', '2000', '--blocks', '3', '--txs-per-block', '5', '--workloads', 'erc20-transfer',
      '--fixtures', join(FIXTURES_DIR, 'mainnet-46147.json'), join(FIXTURES_DIR, 'mainnet-4370000.json'),
      '--memory', '1MB,8MB', '--bind', 'caches', '--no-analyze', '--long-blocks', '6',
    ])
    expect(r.stderr).toContain('study [7/7]')
    expect(r.code).toBe(0)
    const study = JSON.parse(await readFile(join(out, 'study.json'), 'utf8'))
    expect(study.format).toBe('megabench-study-v1')
    expect(study.verified).toBe(true)
    expect(study.steps.map((s: { id: string }) => s.id)).toEqual([
      'generate-erc20-transfer', 'generate-erc20-transfer-6-blocks', 'replay-erc20-transfer', 'replay-erc20-transfer-6-blocks', 'replay-real-blocks',
      'sweep-erc20-transfer-live', 'sweep-erc20-transfer-historical',
    ])
    for (const s of study.steps) {
      expect(s.exitCode).toBe(0)
      expect(await readFile(join(out, s.log), 'utf8')).toContain(`$ megabench ${s.args[0]}`)
    }
    // The fast EVM ran the replays: the study's reth-like configuration.
    const run = JSON.parse(await readFile(join(out, 'runs', 'erc20-transfer', 'run.json'), 'utf8'))
    expect(run.engines.map((e: { label: string }) => e.label)).toEqual(['baseline/historical/fast EVM', 'baseline/live/fast EVM'])
    expect(run.engines.every((e: { totals: { verifiedBlocks: number } }) => e.totals.verifiedBlocks === 3)).toBe(true)
    const md = await readFile(join(out, 'study.md'), 'utf8')
    expect(md).toContain("| # | figure | the study's value (Reth) | erc20-transfer | erc20-transfer, 6 blocks | real blocks |")
    // The long range: the same workload on a longer chain, historical + live only (one historical root over it).
    const long = JSON.parse(await readFile(join(out, 'runs', 'erc20-transfer-6-blocks', 'run.json'), 'utf8'))
    expect(long.engines.map((e: { label: string; totals: { verifiedBlocks: number } }) => [e.label, e.totals.verifiedBlocks])).toEqual([
      ['baseline/historical/fast EVM', 6],
      ['baseline/live/fast EVM', 6],
    ])
    expect(long.engines[0].storage.persistence.commits).toBe(1)
    expect(existsSync(join(out, 'chains', 'erc20-transfer-6-blocks', 'chain.json'))).toBe(true)
    // Row 1 holds the historical tx/s this run measured, per input; the sweep rows take the sweep of their mode.
    const row = (id: number) => md.split('\n').find((l) => l.startsWith(`| ${id} |`))!.split(' | ')
    const hist = run.engines[0].totals.txPerSec.toLocaleString('en-US', { maximumFractionDigits: 0 })
    expect(row(1)[3]).toBe(`${hist} tx/s, ${run.engines[0].totals.mgasPerSec.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })} Mgas/s`)
    expect(row(1)[4]).toMatch(/tx\/s, .* Mgas\/s$/)
    expect(row(10)[4]).toMatch(/live took .* the time of historical/)
    expect(row(4)[4]).toBe('—') // no opcode profile on the long range
    expect(row(1)[5]).toMatch(/tx\/s, .* Mgas\/s \|$/)
    expect(row(8)[3]).toMatch(/^total time at 1\.0 MiB was/)
    expect(row(13)[3]).toMatch(/^merkleization at 1\.0 MiB/)
    expect(row(8)[5]).toBe('— |')
    expect(md).toContain('erc20-transfer historical sweep: sweep, historical sync')
    expect(md).toContain('erc20-transfer live sweep: sweep, live sync')
    expect(existsSync(join(out, 'report.html'))).toBe(true)
    expect(existsSync(join(out, 'chains', 'erc20-transfer', 'chain.json'))).toBe(true)
  }, 300_000)

  it('a failed step does not throw the others away: the output is written, marked incomplete, exit 2', async () => {
    const dir = await tempDir()
    const out = join(dir, 'study')
    const notABlock = join(dir, 'not-a-block.json')
    await writeFile(notABlock, '{"format":"something-else"}')
    const r = await runCli(['study', '--out', out, '--accounts', '2000', '--blocks', '2', '--txs-per-block', '3', '--workloads', 'erc20-transfer', '--fixtures', notABlock, '--memory', 'none', '--no-analyze', '--long-blocks', '0'])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/study \[3\/3\] exit 2 in .* FAILED: exit 2: .*not-a-block\.json/)
    expect(r.stdout).toContain('INCOMPLETE: replay-real-blocks: exit 2')
    const study = JSON.parse(await readFile(join(out, 'study.json'), 'utf8'))
    expect(study.complete).toBe(false)
    expect(study.inputs.map((i: { name: string }) => i.name)).toEqual(['erc20-transfer'])
    const md = await readFile(join(out, 'study.md'), 'utf8')
    expect(md).toContain('**⚠ INCOMPLETE**: replay-real-blocks failed (exit 2')
    expect(md).toContain("| # | figure | the study's value (Reth) | erc20-transfer |")
  }, 300_000)

  it('reuses a matching chain from --chains and refuses one of another size in one line', async () => {
    const dir = await tempDir()
    const chains = join(dir, 'chains')
    await mkdir(join(chains, 'erc20-transfer'), { recursive: true })
    const spec = { format: 'megabench-chain-v1', workload: { name: 'erc20-transfer', accounts: 2000, blocks: 3, txsPerBlock: 5 } }
    await writeFile(join(chains, 'erc20-transfer', 'chain.json'), JSON.stringify(spec))
    await mkdir(join(chains, 'erc20-transfer-7-blocks'), { recursive: true })
    await writeFile(join(chains, 'erc20-transfer-7-blocks', 'chain.json'), JSON.stringify({ ...spec, workload: { ...spec.workload, blocks: 7 } }))
    const base = ['study', '--dry-run', '--chains', chains, '--workloads', 'erc20-transfer', '--blocks', '3', '--txs-per-block', '5', '--memory', 'none']
    const ok = await runCli([...base, '--accounts', '2000', '--long-blocks', '7'])
    expect(ok.code).toBe(0)
    expect(ok.stdout).toContain('reuse erc20-transfer: 2,000 accounts, 3 blocks')
    expect(ok.stdout).toContain('reuse erc20-transfer: 2,000 accounts, 7 blocks')
    expect(ok.stdout).toContain('(reused: not run)')
    const longer = await runCli([...base, '--accounts', '2000']) // the default long range, 1,000 blocks: not in --chains
    expect(longer.stdout).toContain('generate erc20-transfer: 2,000 accounts, 1000 blocks')
    expect(ok.stdout).not.toContain('sweep')
    const bad = await runCli([...base, '--accounts', '5000'])
    expect(bad.code).toBe(2)
    expect(bad.stderr.trim().split('\n')).toHaveLength(1)
    expect(bad.stderr).toContain('holds a chain with accounts 2000; the study asks for accounts 5000')
    const unknown = await runCli(['study', '--dry-run', '--workloads', 'erc721'])
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toContain('--workloads: "erc721" is not one of erc20-transfer, uniswap-swap, mixed')
  })
})
