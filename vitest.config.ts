import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    // A private TMPDIR for the whole run, removed at the end (test/helpers/globalSetup.ts).
    globalSetup: ['test/helpers/globalSetup.ts'],
    // Replays are CPU-bound and this machine has 2 cores: keep files from fighting over them.
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
})
