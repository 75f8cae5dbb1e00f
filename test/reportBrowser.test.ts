import { existsSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

import { chromium } from 'playwright-core'
import { describe, expect, test } from 'vitest'

import { runAnalyses } from '../src/analyses/index.js'
import { renderHtml } from '../src/report/html.js'
import { replay } from '../src/run/replay.js'
import { createChainSource } from '../src/sources/chain.js'
import { splitBudget } from '../src/storage/memory.js'
import { engine, runResult, sweepResult } from './helpers/runResult.js'
import { tempDir } from './helpers/fixtures.js'

const CHROMIUM = '/usr/bin/chromium'
const ARTIFACTS = join(import.meta.dirname, '..', 'test-artifacts')
const MIXED = join(import.meta.dirname, '..', 'fixtures', 'chains', 'mixed')

/** Opens `file` in headless Chromium with the network off; collects console errors and every request. */
async function openReport(file: string) {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's Chromium (apt-get install -y chromium); .ci/run does`)
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  })
  const context = await browser.newContext({ offline: true, viewport: { width: 1280, height: 900 } })
  const page = await context.newPage()
  const errors: string[] = []
  const requests: string[] = []
  const failed: string[] = []
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text())
  })
  page.on('pageerror', (e) => errors.push(e.message))
  page.on('request', (r) => requests.push(r.url()))
  page.on('requestfailed', (r) => failed.push(r.url()))
  await page.goto(pathToFileURL(file).href)
  return { browser, page, errors, requests, failed }
}

describe('HTML report in a real browser', () => {
  test('default: opens offline with no errors or requests; every chart has marks; the opcode table sorts', async () => {
    const result = await replay({
      source: await createChainSource({ dir: MIXED, to: 4 }),
      sourcePaths: [MIXED],
      modes: ['historical', 'live'],
      opcodes: true,
      storage: { kind: 'lmdb', batch: null, memory: splitBudget({ memory: 1 << 20 }) },
    })
    result.analyses = await runAnalyses({ kinds: ['parallelism', 'statediff', 'jit'], source: await createChainSource({ dir: MIXED, to: 4 }), workload: 'mixed', run: result })
    const html = await renderHtml([{ label: 'mixed', result }], [{ label: 'sweep', result: sweepResult() }])
    const file = join(await tempDir(), 'report.html')
    await writeFile(file, html)
    const { browser, page, errors, requests, failed } = await openReport(file)
    try {
      expect(errors).toEqual([])
      expect(failed).toEqual([])
      expect(requests).toEqual([pathToFileURL(file).href]) // nothing but the page itself
      const charts = await page.$$eval('figure.chart', (figs) =>
        figs.map((f) => ({ name: f.getAttribute('data-chart'), empty: f.classList.contains('empty'), marks: f.querySelectorAll('svg path, svg rect, svg line').length })),
      )
      const drawn = charts.filter((c) => !c.empty)
      expect(drawn.map((c) => c.name).sort()).toEqual(
        ['categories', 'decomposition', 'diff-bytes', 'jit', 'miss-ratio', 'parallelism', 'pareto', 'penalty-histogram', 'phases', 'recap', 'speedup', 'sweep', 'sweep-engines', 'throughput-gas', 'throughput-tx'].sort(),
      )
      for (const c of drawn) expect(c.marks, c.name!).toBeGreaterThan(3)
      // Marks carry hover tooltips (a <title> from vega's aria labels).
      expect(await page.$$eval('figure.chart svg title', (t) => t.length)).toBeGreaterThan(20)
      // Sorting: click "count" → ascending, click again → descending.
      const counts = () => page.$$eval('#opcode-table tbody tr', (rows) => rows.map((r) => Number((r.children[4] as HTMLElement).dataset.v)))
      await page.click('#opcode-table th[data-col="4"]')
      const asc = await counts()
      expect(asc).toEqual([...asc].sort((a, b) => a - b))
      await page.click('#opcode-table th[data-col="4"]')
      const desc = await counts()
      expect(desc).toEqual([...desc].sort((a, b) => b - a))
      await page.fill('#opcode-filter', 'SLOAD')
      const visible = await page.$$eval('#opcode-table tbody tr', (rows) => rows.filter((r) => (r as HTMLElement).style.display !== 'none').length)
      expect(visible).toBe(1)
      expect(await page.$('.banner')).toBeNull()
      await mkdir(ARTIFACTS, { recursive: true })
      await page.screenshot({ path: join(ARTIFACTS, 'report.png'), fullPage: true })
    } finally {
      await browser.close()
    }
  })

  test('behavior: a failed verification shows a red banner', async () => {
    const failed = runResult([engine('live', { execution: 75, merkleization: 95, persistence: 110 })], [
      { engine: 'baseline/live', block: 3, origin: 'b3', field: 'stateRoot', expected: '0x1', actual: '0x2' },
    ])
    const file = join(await tempDir(), 'failed.html')
    await writeFile(file, await renderHtml([{ label: 'failed', result: failed }], []))
    const { browser, page, errors } = await openReport(file)
    try {
      expect(errors).toEqual([])
      const banner = await page.$eval('.banner', (b) => ({ text: b.textContent, color: getComputedStyle(b).backgroundColor }))
      expect(banner.text).toContain('VERIFICATION FAILED')
      expect(banner.color).toBe('rgb(198, 40, 40)')
    } finally {
      await browser.close()
    }
  })
})
