/** The benchmarks of the core suite, in the order they run and print. */
import type { Row } from './table.js'
import * as heap from './heap.js'
import * as hide from './hide.js'
import * as merge from './merge.js'
import * as replicate from './replicate.js'
import * as roundtrip from './roundtrip.js'
import * as whereis from './whereis.js'

export interface Bench {
  /** What it measures, one line. */
  title: string
  run(): Promise<Row[]>
}

export const BENCHES: Record<string, Bench> = {
  whereis: { title: 'whereis lookups/s on 100k names', run: whereis.run },
  replicate: { title: 'registrations visible on 3 other peers', run: replicate.run },
  merge: { title: 'mergeSnapshot of 100k names', run: merge.run },
  hide: { title: 'hiding a departed client with 100k names', run: hide.run },
  heap: { title: 'heap bytes per registered name', run: heap.run },
  roundtrip: { title: 'message round trips between two peers', run: roundtrip.run },
}
