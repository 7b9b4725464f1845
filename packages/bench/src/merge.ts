/**
 * 3. `mergeSnapshot` of a snapshot holding a 100k-name slice of another owner, into a
 * fresh registry that counts that owner (so every name is linked and fires
 * `register`). Baseline: building a plain Map of 100k entries from the same flat
 * array. A second row merges into a registry that does not count the owner (the
 * slice is only stored: no chains, no events), to show where the time goes.
 */
import { node } from './cluster.js'
import { gc, makeNames, now } from './measure.js'
import { EventCounter, flatSlice, registryClass, ROLE_CLIENT, type RegistryCtor, type WholeSliceLike } from './snapshot.js'
import { row, type Row } from './table.js'

const NAMES = 100_000
const RUNS = 7
const OWNER = 'other@0123456789abcdef'

function timeMerge(Registry: RegistryCtor, snap: WholeSliceLike[], counted: boolean): number {
  const events = new EventCounter()
  const r = new Registry('merger@0123456789abcdef', { events })
  if (counted) r.setCounted(OWNER, true)
  gc()
  const t0 = now()
  r.mergeSnapshot(snap)
  const ms = now() - t0
  const want = counted ? NAMES : 0
  if (events.registers !== want || r.size !== want) throw new Error(`merge fired ${events.registers} registers, size ${r.size}, wanted ${want}`)
  return ms
}

function timeMap(flat: unknown[]): number {
  gc()
  const t0 = now()
  const m = new Map<string, { pidId: number; at: number }>()
  for (let i = 0; i < flat.length; i += 3) m.set(flat[i] as string, { pidId: flat[i + 1] as number, at: flat[i + 2] as number })
  const ms = now() - t0
  if (m.size !== NAMES) throw new Error('map size')
  return ms
}

export async function run(): Promise<Row[]> {
  const n = await node('merge')
  const Registry = registryClass(n)
  await n.close()
  const flat = flatSlice(makeNames(NAMES))
  const src = new Registry('source@0123456789abcdef')
  src.setCounted(OWNER, true)
  src.mergeSlice({ owner: OWNER, seq: 1, role: ROLE_CLIENT, clients: null, names: flat })
  const snap = src.snapshot()
  const held = snap.find((s) => s.owner === OWNER)
  if (held === undefined || held.names.length !== 3 * NAMES) throw new Error('snapshot does not hold the slice')

  timeMerge(Registry, snap, true)
  timeMap(flat)
  const counted: number[] = []
  const uncounted: number[] = []
  const map: number[] = []
  for (let r = 0; r < RUNS; r++) {
    counted.push(timeMerge(Registry, snap, true))
    map.push(timeMap(flat))
    uncounted.push(timeMerge(Registry, snap, false))
  }
  return [
    row({
      bench: 'merge',
      name: 'mergeSnapshot, 100k names, owner counted',
      unit: 'ms',
      better: 'lower',
      runs: counted,
      baselineRuns: map,
      baselineLabel: 'Map of 100k',
      goal: 100,
      note: 'Registry.mergeSnapshot of a snapshot whose slice of one other owner holds 100k names, into a fresh registry counting that owner (100k register events to a counter); baseline: new Map from the same flat [name, pidId, at] array',
    }),
    row({
      bench: 'merge',
      name: '  of which: owner not counted',
      unit: 'ms',
      better: 'lower',
      runs: uncounted,
      baselineRuns: map,
      baselineLabel: 'Map of 100k',
      goal: null,
      note: 'the same merge into a registry that does not count the owner: claims built and stored, no winner chains, no events',
    }),
  ]
}
