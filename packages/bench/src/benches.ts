/** The benchmarks of the suites, in the order they run and print. */
import type { Row } from './table.js'
import * as heap from './heap.js'
import * as hide from './hide.js'
import * as merge from './merge.js'
import * as names from './procs/names.js'
import * as replicate from './replicate.js'
import * as roundtrip from './roundtrip.js'
import * as simScale from './sim-scale.js'
import * as throughput from './procs/throughput.js'
import * as visible from './procs/visible.js'
import * as webrtc from './webrtc.js'
import * as whereis from './whereis.js'

export interface Bench {
  /** What it measures, one line. */
  title: string
  run(): Promise<Row[]>
}

/** In-process, over memory links (run-core.ts). */
export const BENCHES: Record<string, Bench> = {
  whereis: { title: 'whereis lookups/s on 100k names', run: whereis.run },
  replicate: { title: 'registrations visible on 3 other peers', run: replicate.run },
  merge: { title: 'mergeSnapshot of 100k names', run: merge.run },
  hide: { title: 'hiding a departed client with 100k names', run: hide.run },
  heap: { title: 'heap bytes per registered name', run: heap.run },
  roundtrip: { title: 'message round trips between two peers', run: roundtrip.run },
}

/** Between OS processes over ws on 127.0.0.1, beside raw ws + msgpack (run-cluster.ts). */
export const CLUSTER_BENCHES: Record<string, Bench> = {
  throughput: { title: 'messages/s and ping-pong between two processes, vs raw ws', run: throughput.run },
  visible: { title: 'register → visible latency, 3-peer mesh and two relays, vs raw ws one way', run: visible.run },
  names: { title: '100k names: replication to 2 peers, a peer joining, kill -9 of their owner', run: names.run },
}

/** Direct links between processes over WebRTC data channels (run-webrtc.ts). */
export const WEBRTC_BENCHES: Record<string, Bench> = {
  webrtc: { title: 'data-channel Link vs raw node-datachannel vs ws, two processes', run: webrtc.run },
}

/** On the simulated network, 10 peers × 1,000 clients in one process (run-sim.ts). */
export const SIM_BENCHES: Record<string, Bench> = {
  sim: { title: '10 peers × 1,000 clients on SimNet: register → everywhere, crash cleanup (simulated ms)', run: simScale.run },
}

/** Every benchmark by name, for child.ts. */
export const ALL_BENCHES: Record<string, Bench> = { ...BENCHES, ...CLUSTER_BENCHES, ...WEBRTC_BENCHES, ...SIM_BENCHES }
