/**
 * Browser end-to-end tests: real Chromium tabs, browser contexts, relays and Node
 * nodes. Run with `npm run test -w e2e` (or `npm run test:e2e` at the root, which first
 * makes sure Chromium is installed). The benchmark has its own config (bench/).
 */
import { defineConfig } from '@playwright/test'
import { launchOptions } from './tests/support/browser.js'

export default defineConfig({
  testDir: './tests',
  testMatch: '**/*.spec.ts',
  // Timings are part of what the tests check (detection within 1 s): one worker, so
  // two browsers never compete for the 2 cores of a small CI machine.
  workers: 1,
  fullyParallel: false,
  retries: 0,
  forbidOnly: !!process.env.CI,
  timeout: 60_000,
  globalTimeout: 10 * 60_000,
  expect: { timeout: 10_000 },
  reporter: [['list'], ['html', { open: 'never', outputFolder: 'playwright-report' }]],
  outputDir: 'test-results',
  use: {
    browserName: 'chromium',
    headless: true,
    launchOptions,
    trace: 'off',
    screenshot: 'off',
    video: 'off',
    actionTimeout: 10_000,
    navigationTimeout: 15_000,
  },
})
