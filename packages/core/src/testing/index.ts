/**
 * Test helpers that need no test runner: the simulated network (SimNet: nodes on
 * memory links with a virtual clock and a seeded scheduler) and the waiting helpers.
 * The transport compliance suites, which need vitest, are in `@flurry/core/testing/suites`.
 *
 * @example
 * import { createNode } from '@flurry/core'
 * import { waitFor } from '@flurry/core/testing'
 * await waitFor(() => node.nodes().length === 2, 'both nodes up', 5000)
 */
export { waitFor, settle, testSeed, sameBytes, rejection } from './wait.js'
export { SimNet, SimClock, SimClockView, SimScheduler, prng } from './sim.js'
export type { Timer } from './sim.js'
