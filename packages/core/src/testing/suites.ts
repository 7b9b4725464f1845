/**
 * Compliance suites every transport runs, written for vitest (an optional peer
 * dependency: install it to use these).
 *
 * @example
 * import { linkSuite } from '@flurry/core/testing/suites'
 * linkSuite('memory', async () => { const [a, b] = memoryPair(); return { a, b, cleanup: async () => {} } })
 */
export { linkSuite } from './link-suite.js'
export type { LinkPair } from './link-suite.js'
export { busSuite } from './bus-suite.js'
export type { BusGroup } from './bus-suite.js'
