/**
 * The cluster benchmark suite: Flurry between real OS processes over WebSocket on
 * 127.0.0.1, each figure beside a raw `ws` + msgpack baseline measured in the same
 * run between the same processes. Each benchmark runs in a child process of its own,
 * which forks the worker processes it needs (procs/worker.ts) and stops them by pid.
 * One table on stdout and the same as JSON in `bench-results/cluster.json`.
 *
 * `node --expose-gc dist/run-cluster.js [name ...]` runs the named benchmarks only.
 */
import { CLUSTER_BENCHES } from './benches.js'
import { isMain, mainSuite, type Suite } from './suite.js'

export const CLUSTER: Suite = {
  name: 'cluster',
  title: 'Flurry cluster benchmarks (OS processes, ws on 127.0.0.1)',
  benches: CLUSTER_BENCHES,
  childTimeoutMs: 120_000,
  legend:
    'Figures are medians of several runs; ratio = Flurry / baseline (raw ws + msgpack between the same processes); spread = ±half the range of the runs.',
}

if (isMain(import.meta.url)) mainSuite(CLUSTER)
