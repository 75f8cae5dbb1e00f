import { existsSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

import { type Page, chromium } from 'playwright-core'
import { describe, expect, test } from 'vitest'

import { runAnalyses } from '../src/analyses/index.js'
import { flameData } from '../src/report/flame.js'
import { renderHtml } from '../src/report/html.js'
import type { BlockRow } from '../src/run/schema.js'
import { replay } from '../src/run/replay.js'
import { createChainSource } from '../src/sources/chain.js'
import { splitBudget } from '../src/storage/memory.js'
import { block, engine, megaReport, runResult, storageReport, sweepResult } from './helpers/runResult.js'
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

/**
 * Every text element of every chart's SVG that is not inside its SVG's box (the SVG clips it), and every label
 * cut short with "…" (vega cuts legend labels at 160 px and axis labels at 180 px by default). Boxes are
 * compared in page coordinates (getBoundingClientRect of the text and of its SVG, whose size is its width and
 * height attributes): vega places text through nested transforms, which getBBox alone does not apply. The flame
 * graph's frame names are cut to their rectangle on purpose (the full name is in the tooltip): only their
 * bounds are checked.
 */
async function cutText(page: Page): Promise<string[]> {
  return page.$$eval('figure.chart', (figs) =>
    figs.flatMap((f) => {
      const svg = f.querySelector('svg')
      if (svg === null) return []
      const b = svg.getBoundingClientRect()
      const w = Number(svg.getAttribute('width'))
      const h = Number(svg.getAttribute('height'))
      const out: string[] = []
      if (Math.abs(b.width - w) > 1 || Math.abs(b.height - h) > 1) out.push(`${f.dataset.chart}: the SVG is drawn at ${b.width}x${b.height}, not its ${w}x${h}`)
      for (const t of Array.from(svg.querySelectorAll('text'))) {
        const text = t.textContent ?? ''
        if (text.trim() === '') continue
        const r = t.getBoundingClientRect()
        if (r.left < b.left - 0.5 || r.right > b.right + 0.5 || r.top < b.top - 0.5 || r.bottom > b.bottom + 0.5) {
          out.push(`${f.dataset.chart}: "${text}" outside its SVG (${Math.round(r.left - b.left)}…${Math.round(r.right - b.left)} of ${Math.round(b.width)} wide, ${Math.round(r.top - b.top)}…${Math.round(r.bottom - b.top)} of ${Math.round(b.height)} high)`)
        }
        const frameName = f.dataset.chart === 'flame' && t.closest('.role-mark') !== null
        if (text.endsWith('…') && !frameName) out.push(`${f.dataset.chart}: "${text}" is cut`)
      }
      return out
    }),
  )
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
      expect(await cutText(page)).toEqual([])
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

  test('behavior: verification is shown from the check records: the banner, the summary and the metadata say what was checked, how, and what not', async () => {
    // The differential's failure carries no expected/actual values, so run.json's verification.failed is empty.
    const FINAL = 'checked once, at the end of the range (--verify-mpt final, the default); --verify-mpt every checks every block'
    const rows: BlockRow[] = [
      { ...block(1), checks: { gasUsed: { status: 'pass' }, stateRoot: { status: 'skipped', note: FINAL }, diffVsBaseline: { status: 'pass', method: 'digest' } } },
      { ...block(2, false), checks: { gasUsed: { status: 'pass' }, stateRoot: { status: 'pass', method: 'MPT kept beside the mega state' }, diffVsBaseline: { status: 'fail', method: 'digest' } } },
    ]
    const base = engine('live', { execution: 75, merkleization: 95, persistence: 110 }, { blocks: [block(1), block(2)] })
    const mega = engine('live', { execution: 75, merkleization: 5, persistence: 0 }, { name: 'mega', blocks: rows, mega: megaReport(), unprofiled: true })
    const result = runResult([base, mega], [], { differential: { compared: 2, mismatches: 1, expected: 2, notCompared: [] } })
    expect(result.verification.failed).toEqual([])
    const file = join(await tempDir(), 'records.html')
    await writeFile(file, await renderHtml([{ label: 'records', result }], []))
    const { browser, page, errors } = await openReport(file)
    try {
      expect(errors).toEqual([])
      expect(await page.$eval('.banner', (b) => b.textContent)).toContain('mega/live: 1 of 2 blocks not verified (state diff vs baseline 1/2 match, 1 FAIL (digest))')
      const summary = await page.$eval('#summary', (s) => (s as HTMLElement).innerText)
      expect(summary).toContain(`state root 1/1 match (MPT kept beside the mega state); 1 block not checked: ${FINAL}`)
      expect(summary).toContain('state diffs vs the baseline: 1 of 2 compared DIFFER')
      const meta = await page.$eval('#metadata', (s) => (s as HTMLElement).innerText)
      expect(meta).toContain('mega/live: 1/2 blocks verified; gas used 2/2 match; state root 1/1 match (MPT kept beside the mega state); 1 block not checked')
      expect(meta).not.toMatch(/\d+\/\d+ blocks verified\n/) // never the bare count alone
    } finally {
      await browser.close()
    }
  })

  test('behavior: a run whose every block failed draws no chart: each says "no data: why", and no axis of zeros is printed', async () => {
    const failed = engine('live', { execution: 75, merkleization: 95, persistence: 110 }, { blocks: [block(1, false), block(2, false)], storage: storageReport('live', 1 << 20) })
    const result = runResult([failed], [{ engine: 'baseline/live', block: 1, origin: 'b1', field: 'stateRoot', expected: '0x01', actual: '0x02' }])
    const file = join(await tempDir(), 'all-failed.html')
    await writeFile(file, await renderHtml([{ label: 'all-failed', result }], []))
    const { browser, page, errors } = await openReport(file)
    try {
      expect(errors).toEqual([])
      const charts = await page.$$eval('figure.chart', (figs) => figs.map((f) => ({ name: f.getAttribute('data-chart'), svg: f.querySelector('svg') !== null, text: (f as HTMLElement).innerText.trim() })))
      expect(charts.filter((c) => c.svg).map((c) => c.name)).toEqual([])
      for (const c of charts) expect(c.text, c.name!).toMatch(/^no data: \S/)
      expect(charts.find((c) => c.name === 'throughput-tx')!.text).toBe('no data: no verified blocks (failed blocks feed no chart)')
      expect(charts.find((c) => c.name === 'pareto')!.text).toBe('no data: the opcode profile of baseline/live also covers its 2 failed blocks (a profile is not kept per block), so it feeds no chart')
      const body = await page.$eval('body', (b) => (b as HTMLElement).innerText)
      expect(body).not.toMatch(/0\.0{4,}|NaN|Infinity/)
      expect(await page.$eval('#summary-table tbody', (t) => (t as HTMLElement).innerText)).toContain('no data: no verified block')
    } finally {
      await browser.close()
    }
  })

  test('behavior: long series names (several runs, parallel fast-EVM variants) are never cut and no label leaves its chart', async () => {
    const real = (n: number, fork: string): BlockRow => ({ ...block(n), origin: `/f/mainnet-${n}.json`, hash: `0x${n.toString(16)}`, hardfork: fork })
    const blocks = [real(97, 'chainstart'), real(46147, 'chainstart'), real(21230867, 'cancun')]
    const p = { execution: 75, merkleization: 95, persistence: 110 }
    const run = (source: 'fixtures' | 'chain') =>
      runResult(
        [
          engine('live', p, { blocks: source === 'fixtures' ? blocks : [block(1), block(2)], storage: storageReport('live', 1 << 20) }),
          engine('live', { ...p, merkleization: 5, persistence: 0 }, { name: 'mega', label: 'mega/live/2 threads/fast EVM', evm: 'fast', blocks: source === 'fixtures' ? blocks : [block(1), block(2)], mega: megaReport('fast', 2), unprofiled: true }),
          engine('live', { ...p, merkleization: 5, persistence: 0 }, { name: 'mega', label: 'mega/live/2 threads/ethereumjs EVM', blocks: source === 'fixtures' ? blocks : [block(1), block(2)], mega: megaReport('ethereumjs', 2), unprofiled: true }),
        ],
        [],
        source === 'fixtures' ? { source: { kind: 'fixtures', paths: ['/f'], units: 3, from: null, to: null } } : {},
      )
    const sweep = sweepResult()
    for (const pt of sweep.points) pt.median.engines = pt.median.engines.map((e) => ({ ...e, label: `${e.label}/2 threads/fast EVM with a long name` }))
    const frames = [
      { id: 1, callFrame: { functionName: '(root)', url: '', lineNumber: 0, columnNumber: 0 }, children: [2] },
      { id: 2, callFrame: { functionName: 'replayEveryBlockOfTheWholeRangeOnEveryEngineVariant', url: 'file:///x/dist/run/replay.js', lineNumber: 1, columnNumber: 0 }, children: [3, 4] },
      { id: 3, callFrame: { functionName: 'executeTransactionsOneByOneOnTheMainThread', url: 'file:///x/dist/engines/mega/engine.js', lineNumber: 1, columnNumber: 0 } },
      { id: 4, callFrame: { functionName: 'aFunctionWhoseNameIsFarTooLongForItsNarrowFrame', url: 'file:///x/node_modules/@ethereumjs/evm/dist/x.js', lineNumber: 1, columnNumber: 0 } },
    ]
    const flame = flameData({ nodes: frames, startTime: 0, endTime: 1000, samples: [...Array(95).fill(3), ...Array(5).fill(4)], timeDeltas: Array(100).fill(10) })
    const html = await renderHtml(
      [
        { label: 'a-very-long-run-label-2026-12-06T18-44-00', result: run('fixtures'), flame },
        { label: 'another-long-run-label-for-the-comparison', result: run('chain') },
      ],
      [{ label: 'sweep', result: sweep }],
    )
    const file = join(await tempDir(), 'long.html')
    await writeFile(file, html)
    const { browser, page, errors } = await openReport(file)
    try {
      expect(errors).toEqual([])
      const drawn = await page.$$eval('figure.chart svg', (svgs) => svgs.map((s) => s.closest('figure')!.getAttribute('data-chart')))
      expect(drawn).toEqual(expect.arrayContaining(['throughput-tx', 'phases', 'sweep', 'sweep-engines', 'flame']))
      // The legends hold the long names whole.
      const legend = await page.$$eval('figure[data-chart="throughput-tx"] .role-legend-label text', (t) => t.map((x) => x.textContent))
      expect(legend).toContain('a-very-long-run-label-2026-12-06T18-44-00: mega/live/2 threads/fast EVM')
      // Real blocks on an ordinal axis, labelled by number in height order.
      const ticks = await page.$$eval('figure[data-chart="throughput-tx"] .role-axis-label text', (t) => t.map((x) => x.textContent))
      expect(ticks.slice(0, 5)).toEqual(['1', '2', '97', '46147', '21230867'])
      expect(await cutText(page)).toEqual([])
      // The runs' differences are flagged at the top and beside the ratios.
      expect(await page.$eval('.warning-banner', (b) => b.textContent)).toContain('verified blocks: 2 vs 3 (none in common)')
      expect(await page.$$eval('#comparison-table .warn', (w) => w.length)).toBeGreaterThan(3)
    } finally {
      await browser.close()
    }
  })
})
