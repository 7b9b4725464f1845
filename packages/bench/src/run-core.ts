/**
 * The core benchmark suite (in-process, memory links): each benchmark in a child
 * process of its own (`node --expose-gc`), then one table on stdout and the same as
 * JSON in `bench-results/core.json` at the repository root.
 *
 * `node --expose-gc dist/run-core.js [name ...]` runs the named benchmarks only.
 */
import { BENCHES } from './benches.js'
import { isMain, mainSuite, type Suite } from './suite.js'

export const CORE: Suite = {
  name: 'core',
  title: 'Flurry core benchmarks',
  benches: BENCHES,
  childTimeoutMs: 90_000,
  legend: 'Figures are medians of several runs; ratio = Flurry / baseline; spread = ±half the range of the runs.',
}

if (isMain(import.meta.url)) mainSuite(CORE)
