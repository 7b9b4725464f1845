/**
 * Compliance suites every transport runs (vitest), and the waiting helpers they use.
 *
 * @example
 * import { linkSuite } from '@flurry/core/testing'
 * linkSuite('memory', async () => { const [a, b] = memoryPair(); return { a, b, cleanup: async () => {} } })
 */
export { linkSuite } from './link-suite.js'
export type { LinkPair } from './link-suite.js'
export { busSuite } from './bus-suite.js'
export type { BusGroup } from './bus-suite.js'
export { waitFor, settle, testSeed, sameBytes } from './wait.js'
export { SimNet, SimClock, SimClockView, SimScheduler, prng } from './sim.js'
