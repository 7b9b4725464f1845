/**
 * 5. Heap bytes per registered name: gc, heapUsed, register 100k names (the name
 * strings built beforehand, so they are in the baseline heap), gc, heapUsed. Needs
 * --expose-gc (the bench runs every benchmark with it). Baseline: the bytes per entry
 * of a plain Map<string, { pid }> holding the same names. A second row: names of
 * another owner merged into a registry that counts it (what every other node holds).
 */
import type { FlurryNode } from '@flurry/core'
import { idleActors, node, registerChunked } from './cluster.js'
import { gc, hasGc, makeNames, tick } from './measure.js'
import { EventCounter, flatSlice, registryClass, ROLE_CLIENT, type RegistryLike } from './snapshot.js'
import { row, type Row } from './table.js'

const NAMES = 100_000
const ACTORS = 100
const RUNS = 3
const OWNER = 'other@0123456789abcdef'

async function heapUsed(): Promise<number> {
  await tick()
  gc()
  await tick()
  gc()
  return process.memoryUsage().heapUsed
}

async function ownNames(names: string[]): Promise<number> {
  const n = await node('heap')
  const pids = idleActors(n, ACTORS)
  await tick()
  const h0 = await heapUsed()
  const ok = await registerChunked(n, names, pids, 1000)
  const h1 = await heapUsed()
  if (ok !== NAMES) throw new Error(`registered ${ok} of ${NAMES}`)
  await close(n)
  return (h1 - h0) / NAMES
}

async function close(n: FlurryNode): Promise<void> {
  await n.close()
}

async function mapEntries(names: string[], n: FlurryNode): Promise<number> {
  const pids = idleActors(n, ACTORS)
  const h0 = await heapUsed()
  const m = new Map<string, { pid: unknown }>()
  for (let i = 0; i < names.length; i++) m.set(names[i] as string, { pid: pids[i % ACTORS] })
  const h1 = await heapUsed()
  if (m.size !== NAMES) throw new Error('map size')
  return (h1 - h0) / NAMES
}

async function remoteNames(names: string[], Registry: new (id: string, init?: object) => RegistryLike): Promise<number> {
  const flat = flatSlice(names)
  const r = new Registry('holder@0123456789abcdef', { events: new EventCounter() })
  r.setCounted(OWNER, true)
  const h0 = await heapUsed()
  r.mergeSlice({ owner: OWNER, seq: 1, role: ROLE_CLIENT, clients: null, names: flat })
  flat.length = 0
  const h1 = await heapUsed()
  if (r.size !== NAMES) throw new Error('merge size')
  return (h1 - h0) / NAMES
}

export async function run(): Promise<Row[]> {
  if (!hasGc()) throw new Error('run with node --expose-gc')
  const names = makeNames(NAMES)
  const spare = await node('spare')
  const Registry = registryClass(spare)
  const own: number[] = []
  const map: number[] = []
  const remote: number[] = []
  for (let r = 0; r < RUNS; r++) {
    own.push(await ownNames(names))
    map.push(await mapEntries(names, spare))
    remote.push(await remoteNames(names, Registry))
  }
  await spare.close()
  return [
    row({
      bench: 'heap',
      name: 'heap per registered name (own actors)',
      unit: 'bytes/name',
      better: 'lower',
      runs: own,
      baselineRuns: map,
      baselineLabel: 'Map<string, {pid}>',
      goal: 300,
      note: `heapUsed after gc, before and after registering ${NAMES} names (strings built beforehand) for ${ACTORS} actors of a createNode node; baseline: the same names in a Map<string, { pid }>`,
    }),
    row({
      bench: 'heap',
      name: '  names of another owner, counted',
      unit: 'bytes/name',
      better: 'lower',
      runs: remote,
      baselineRuns: map,
      baselineLabel: 'Map<string, {pid}>',
      goal: null,
      note: 'a Registry merging a 100k-name slice of another owner that it counts (events to a counter): what each other node holds per name',
    }),
  ]
}
