import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'

import { describe, expect, it, vi } from 'vitest'

import { runStudy } from '../src/study/index.js'
import { tempDir } from './helpers/fixtures.js'

// The report fails to render (as a chart vega could not compile once did): the measurements must survive it.
vi.mock('../src/report/html.js', () => ({
  renderHtml: async () => {
    throw new RangeError('Maximum call stack size exceeded')
  },
}))

describe('megabench study when report.html cannot be rendered', () => {
  it('keeps study.md, study.json and the runs, and says the study is incomplete', async () => {
    const out = join(await tempDir(), 'study')
    const r = await runStudy({
      out,
      accounts: 2000,
      blocks: 2,
      longBlocks: 0,
      txsPerBlock: 3,
      workloads: ['erc20-transfer'],
      fixtures: [],
      memory: [],
      sweepWorkloads: [],
      bind: 'caches',
      evm: 'fast',
      repeat: 1,
      analyze: false,
    })
    expect(r.steps.map((s) => [s.id, s.exitCode])).toEqual([
      ['generate-erc20-transfer', 0],
      ['replay-erc20-transfer', 0],
    ])
    expect(r.complete).toBe(false)
    expect(r.reportError).toBe('report.html could not be rendered: Maximum call stack size exceeded')
    expect(existsSync(join(out, 'report.html'))).toBe(false)
    expect(existsSync(join(out, 'runs', 'erc20-transfer', 'run.json'))).toBe(true)
    const study = JSON.parse(await readFile(join(out, 'study.json'), 'utf8'))
    expect([study.complete, study.reportError]).toEqual([false, r.reportError])
    const md = await readFile(join(out, 'study.md'), 'utf8')
    expect(md).toContain('**⚠ INCOMPLETE**: report.html could not be rendered: Maximum call stack size exceeded (the table below and the runs are complete).')
    expect(md).toMatch(/\| 1 \| historical-sync throughput \| .* \| [0-9,]+ tx\/s/)
  }, 300_000)
})
