/**
 * 2. Registrations visible on all of 3 other nodes, per second: 4 peers over memory
 * links, 100 actors on the first register 100k names, 1000 per macrotask; the clock
 * runs from the first register until every name has fired `register` on each of the
 * 3 others (checked afterwards with whereis). Baseline: the same registrations on a
 * lone node (no peers), in the same run.
 */
import type { FlurryNode } from '@flurry/core'
import { closeAll, idleActors, mesh, node, registerChunked } from './cluster.js'
import { gc, makeNames, now, waitUntil } from './measure.js'
import { reference, row, type Row } from './table.js'

const NAMES = 100_000
const CHUNK = 1000
const ACTORS = 100
const RUNS = 3
const VISIBLE_TIMEOUT_MS = 20_000

async function clusterRun(names: string[]): Promise<{ rate: number; registerMs: number; note: string | null }> {
  const { nodes } = await mesh(4)
  const [a, ...others] = nodes as [FlurryNode, ...FlurryNode[]]
  const pids = idleActors(a, ACTORS)
  const seen = others.map(() => 0)
  others.forEach((o, i) => o.global.on('register', () => void (seen[i] = (seen[i] as number) + 1)))
  gc()
  const t0 = now()
  const ok = await registerChunked(a, names, pids, CHUNK)
  const t1 = now()
  const all = await waitUntil(() => seen.every((s) => s >= NAMES), VISIBLE_TIMEOUT_MS)
  const t2 = now()
  let note: string | null = null
  if (ok !== NAMES) note = `only ${ok} registrations returned true`
  else if (!all) note = `not visible everywhere after ${VISIBLE_TIMEOUT_MS} ms: ${seen.join(', ')} of ${NAMES}`
  else {
    for (const o of others) {
      let found = 0
      for (const name of names) if (o.global.whereis(name) !== undefined) found++
      if (found !== NAMES) note = `${o.id} resolves only ${found} of ${NAMES} names`
    }
  }
  await closeAll(nodes)
  return { rate: note === null ? NAMES / ((t2 - t0) / 1000) : Number.NaN, registerMs: t1 - t0, note }
}

async function loneRun(names: string[]): Promise<number> {
  const n = await node('lone')
  const pids = idleActors(n, ACTORS)
  gc()
  const t0 = now()
  const ok = await registerChunked(n, names, pids, CHUNK)
  const t1 = now()
  if (ok !== NAMES) throw new Error(`lone node registered ${ok} of ${NAMES}`)
  await n.close()
  return NAMES / ((t1 - t0) / 1000)
}

export async function run(): Promise<Row[]> {
  const names = makeNames(NAMES)
  const flurry: number[] = []
  const lone: number[] = []
  const notes: string[] = []
  const loopMs: number[] = []
  for (let r = 0; r < RUNS; r++) {
    const c = await clusterRun(names)
    if (c.note !== null) notes.push(c.note)
    else flurry.push(c.rate)
    loopMs.push(c.registerMs)
    lone.push(await loneRun(names))
  }
  const main = row({
    bench: 'replicate',
    name: 'registrations visible on 3 other peers',
    unit: 'names/s',
    better: 'higher',
    runs: flurry,
    baselineRuns: lone,
    baselineLabel: 'lone node',
    goal: 50_000,
    note:
      `4 peers over memory links; ${NAMES} names registered by ${ACTORS} actors on one, ${CHUNK} per macrotask; ` +
      `time from the first register until all ${NAMES} fired register on each of the 3 others ` +
      `(the register loop itself took ${loopMs.map((m) => m.toFixed(0)).join(', ')} ms)` +
      (notes.length > 0 ? `; failed runs: ${notes.join('; ')}` : ''),
  })
  return [
    main,
    reference(main, 'Erlang global, 3 nodes (static)', 331),
    reference(main, 'Erlang global, alone (static)', 1599, "Erlang's global:register_name, measured earlier on this machine, not in this run"),
  ]
}
