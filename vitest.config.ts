import { defineConfig } from 'vitest/config'

// Unit and integration tests of every package; browser e2e runs under Playwright (e2e/).
export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.spec.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    reporters: ['default'],
  },
})
