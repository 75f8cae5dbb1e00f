#!/usr/bin/env node
// Rewrites reports/baselines/counters.json: the exact counters of the bundled fixtures that the test
// suite and .ci/run gate against. Run it (after `npm run build`) when a change is meant to change
// them (e.g. a cache policy), and commit the new file with that change.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'

import { root } from './lib.mjs'

const { CI_BASELINE, ciCounters } = await import(join(root, 'dist', 'gate', 'ciBaseline.js'))
const counters = await ciCounters()
writeFileSync(CI_BASELINE.file, `${JSON.stringify(counters, null, 1)}\n`)
console.log(`wrote ${CI_BASELINE.file}: ${counters.engines.map((e) => `${e.label} ${Object.keys(e.totals).length} totals, ${e.blocks.length} blocks`).join('; ')}`)
