/**
 * 1. `node.global.whereis(name)` on a node holding 100k names registered by 100 local
 * actors, over a pre-built array of those names in a seeded random order. Baseline:
 * `Map<string, object>.get` over the same keys, in the same order, in the same run.
 */
import { idleActors, node, registerChunked } from './cluster.js'
import { gc, makeNames, median, now, shuffled } from './measure.js'
import { fmt, reference, row, type Row } from './table.js'

const NAMES = 100_000
const ACTORS = 100
const RUNS = 5
/** Passes over all names per run, bounded by time too. */
const MAX_PASSES = 40
const MAX_RUN_MS = 300

export async function run(): Promise<Row[]> {
  const n = await node('whereis')
  const pids = idleActors(n, ACTORS)
  const names = makeNames(NAMES)
  const registered = await registerChunked(n, names, pids, 10_000)
  if (registered !== NAMES) throw new Error(`registered ${registered} of ${NAMES}`)
  const map = new Map<string, object>()
  for (let i = 0; i < NAMES; i++) map.set(names[i] as string, { pid: pids[i % ACTORS] })
  const order = shuffled(names)
  const inOrder = names.slice()

  const g = n.global
  const flurryPass = (keys: string[]): number => {
    let hits = 0
    for (let i = 0; i < keys.length; i++) if (g.whereis(keys[i] as string) !== undefined) hits++
    return hits
  }
  const mapPass = (keys: string[]): number => {
    let hits = 0
    for (let i = 0; i < keys.length; i++) if (map.get(keys[i] as string) !== undefined) hits++
    return hits
  }
  /** CPU time of this process, for the note: other processes' load shows in wall time. */
  const cpu: Record<string, number[]> = { flurry: [], map: [] }
  /** Lookups per second over as many passes as fit in MAX_RUN_MS (at most MAX_PASSES). */
  const measure = (pass: (keys: string[]) => number, keys: string[], cpuInto?: number[]): number => {
    let lookups = 0
    let hits = 0
    const c0 = process.cpuUsage()
    const t0 = now()
    let t = t0
    for (let p = 0; p < MAX_PASSES && t - t0 < MAX_RUN_MS; p++) {
      hits += pass(keys)
      lookups += keys.length
      t = now()
    }
    const c = process.cpuUsage(c0)
    if (hits !== lookups) throw new Error(`only ${hits} of ${lookups} lookups found their name`)
    cpuInto?.push(lookups / ((c.user + c.system) / 1e6))
    return lookups / ((t - t0) / 1000)
  }

  // Warm both paths up, then alternate them so load from elsewhere hits both alike.
  measure(flurryPass, order)
  measure(mapPass, order)
  const flurry: number[] = []
  const base: number[] = []
  const flurrySeq: number[] = []
  const baseSeq: number[] = []
  for (let r = 0; r < RUNS; r++) {
    gc()
    flurry.push(measure(flurryPass, order, cpu.flurry))
    gc()
    base.push(measure(mapPass, order, cpu.map))
    gc()
    flurrySeq.push(measure(flurryPass, inOrder))
    gc()
    baseSeq.push(measure(mapPass, inOrder))
  }
  await n.close()

  const main = row({
    bench: 'whereis',
    name: 'whereis, 100k names (random order)',
    unit: 'lookups/s',
    better: 'higher',
    runs: flurry,
    baselineRuns: base,
    baselineLabel: 'Map.get',
    goal: 10e6,
    note:
      `node.global.whereis over a seeded shuffle of the ${NAMES} registered names; baseline Map<string, object>.get over the same keys in the same order; ` +
      `per second of this process's CPU time instead of wall time: ${fmt(median(cpu.flurry as number[]), 'lookups/s')} (Map.get ${fmt(median(cpu.map as number[]), 'lookups/s')})`,
  })
  const seq = row({
    bench: 'whereis',
    name: 'whereis, 100k names (registration order)',
    unit: 'lookups/s',
    better: 'higher',
    runs: flurrySeq,
    baselineRuns: baseSeq,
    baselineLabel: 'Map.get',
    goal: null,
    note: 'the same lookups in the order the names were registered (friendlier to caches for both)',
  })
  return [main, reference(main, "Erlang global (static)", 2.2e6, "Erlang's global:whereis_name on this machine, measured earlier, not in this run"), seq]
}
