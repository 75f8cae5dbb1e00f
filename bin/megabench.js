#!/usr/bin/env node
// The megabench CLI. The code lives in dist/ (built by `npm install` through the prepare script).
import { main } from '../dist/cli/index.js'

await main()
