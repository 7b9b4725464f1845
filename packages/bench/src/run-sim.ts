/**
 * The simulated-network benchmark: 10 peers × 1,000 clients on SimNet in one process
 * (sim-scale.ts). One table on stdout and the same as JSON in `bench-results/sim.json`.
 */
import { SIM_BENCHES } from './benches.js'
import { isMain, mainSuite, type Suite } from './suite.js'

export const SIM: Suite = {
  name: 'sim',
  title: 'Flurry on a simulated network (SimNet: simulated time, seeded scheduler)',
  benches: SIM_BENCHES,
  childTimeoutMs: 1_800_000,
  legend: 'Times are simulated ms (one run, seeded); the goal is the design promise, no baseline; notes give real time and heap.',
}

if (isMain(import.meta.url)) mainSuite(SIM)
