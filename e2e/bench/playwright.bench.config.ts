/**
 * The browser benchmark (not part of `npm test`): `npm run bench:browser -w e2e`.
 * Prints p50/p99 and writes bench-results/browser.json at the repository root.
 */
import { defineConfig } from '@playwright/test'
import { launchOptions } from '../tests/support/browser.js'

export default defineConfig({
  testDir: '.',
  testMatch: '**/*.bench.ts',
  workers: 1,
  retries: 0,
  timeout: 5 * 60_000,
  reporter: [['list']],
  outputDir: '../test-results/bench',
  use: { browserName: 'chromium', headless: true, launchOptions, trace: 'off', screenshot: 'off', video: 'off' },
})
