/**
 * 100k names across OS processes, each run on fresh processes: peers A, B, C (mesh),
 * a peer D that joins later, and V (raw only, the victim of the raw kill). Times are
 * hr() (CLOCK_MONOTONIC, one clock for the host; harness clockCheck verifies it), so
 * a time taken in one process and one taken in another subtract exactly.
 * 1. Replication: A registers N names (100 actors, CHUNK per task); from A's first
 *    register until B and C have fired `register` for all N. Baseline: A sends the
 *    same N (name, pid id, stamp) as raw.ts frames of CHUNK names, one per task, to B
 *    and C, which put them in a Map; until both hold N.
 * 2. Join: D (listening, a peer) calls connect(C); from the call until D has fired
 *    `register` for all N names (A's slice comes from A once D dialed it from C's peer
 *    list), then checked with whereis. Baseline: D dials A's raw server, asks for its
 *    names, until its Map holds all N.
 * 3. kill -9: the bench sends SIGKILL to A (owner of the N names, seen by B, C, D);
 *    from the signal until each of B, C, D fired `unregister` for all N; the figure is
 *    the last of the three. Baseline: the same for V, which gave B, C, D N names over
 *    raw ws: each deletes them from its Map when the socket closes.
 * Flurry and raw alternate which goes first from run to run.
 */
import { reference, row, type Row } from '../table.js'
import { clockCheck, meshPeers, startWorkers, stopWorkers, type Worker } from './harness.js'
import type { Crossed } from './protocol.js'

const N = 100_000
const CHUNK = 1000
const ACTORS = 100
const RUNS = 3
const WAIT_MS = 20_000

interface RunResult {
  replicate: number
  replicateRaw: number
  join: number
  joinRaw: number
  joinConnect: number
  kill: number
  killRaw: number
  notes: string[]
}

function latest(ws: readonly Worker[], crossed: readonly Crossed[], what: string): number {
  let t = -Infinity
  crossed.forEach((c, i) => {
    const w = ws[i] as Worker
    if (c.t === null) throw new Error(`${what}: ${w.name} stopped at ${c.count}`)
    t = Math.max(t, w.local(c.t))
  })
  return t
}

/** Sends a waiting request to each worker and returns once each has it (IPC is in order). */
async function armed(ws: readonly Worker[], cmd: string, args: Record<string, unknown>): Promise<Array<Promise<Crossed>>> {
  const waits = ws.map((w) => w.call<Crossed>(cmd, { ...args, timeoutMs: WAIT_MS }, WAIT_MS + 5000))
  await Promise.all(ws.map((w) => w.call('now')))
  return waits
}

async function oneRun(r: number): Promise<RunResult> {
  const ws = await startWorkers(['A', 'B', 'C', 'D', 'V'])
  const [a, b, c, d, v] = ws as [Worker, Worker, Worker, Worker, Worker]
  const notes: string[] = []
  try {
    const [, , pc] = (await meshPeers([a, b, c])) as [unknown, unknown, { id: string; url: string }]
    await d.call('flurry.peer')
    const raws: Record<string, string> = {}
    for (const w of [a, b, c, d]) raws[w.name] = (await w.call<{ url: string }>('raw.listen')).url
    for (const to of [b, c]) {
      await a.call('raw.connect', { url: raws[to.name], tag: to.name })
      await to.call('raw.waitConn', { tag: 'A' })
    }
    await a.call('reg.actors', { count: ACTORS })
    for (const w of [b, c, d]) await w.call('reg.track')
    await clockCheck(ws)
    const flurryFirst = r % 2 === 1

    // 1. Replication to B and C.
    const replicateFlurry = async (): Promise<number> => {
      await Promise.all(ws.map((w) => w.call('gc')))
      const waits = await armed([b, c], 'reg.waitCount', { count: N })
      const reg = await a.call<{ t0: number; t1: number; ok: number }>('reg.chunked', { prefix: 'n:', n: N, chunk: CHUNK }, WAIT_MS)
      if (reg.ok !== N) throw new Error(`A registered ${reg.ok} of ${N}`)
      const end = latest([b, c], await Promise.all(waits), 'replication')
      notes.push(`A's register loop ${(reg.t1 - reg.t0).toFixed(0)} ms`)
      return (N * 1000) / (end - a.local(reg.t0))
    }
    const replicateRaw = async (): Promise<number> => {
      await Promise.all(ws.map((w) => w.call('gc')))
      const waits = await armed([b, c], 'rawreg.waitCount', { count: N })
      const sent = await a.call<{ t0: number; t1: number }>('rawreg.chunked', { tags: ['B', 'C'], prefix: 'n:', n: N, chunk: CHUNK }, WAIT_MS)
      const end = latest([b, c], await Promise.all(waits), 'raw replication')
      return (N * 1000) / (end - a.local(sent.t0))
    }
    let replicate: number
    let replicateRawRate: number
    if (flurryFirst) {
      replicate = await replicateFlurry()
      replicateRawRate = await replicateRaw()
    } else {
      replicateRawRate = await replicateRaw()
      replicate = await replicateFlurry()
    }

    // 2. D joins.
    let joinConnect = Number.NaN
    const joinFlurry = async (): Promise<number> => {
      await Promise.all(ws.map((w) => w.call('gc')))
      const [wait] = await armed([d], 'reg.waitCount', { count: N })
      const conn = await d.call<{ t0: number; t1: number }>('flurry.connect', { url: pc.url }, WAIT_MS)
      const crossed = await (wait as Promise<Crossed>)
      if (crossed.t === null) throw new Error(`join: D resolves ${crossed.count} of ${N} names after ${WAIT_MS} ms`)
      joinConnect = conn.t1 - conn.t0
      const found = await d.call<number>('reg.resolve', { prefix: 'n:', n: N })
      if (found !== N) notes.push(`D resolves only ${found} of ${N} with whereis`)
      return crossed.t - conn.t0
    }
    const joinRaw = async (): Promise<number> => {
      await Promise.all(ws.map((w) => w.call('gc')))
      const j = await d.call<{ t0: number; t1: number | null; count: number }>('rawreg.join', { url: raws.A, tag: 'A', n: N, timeoutMs: WAIT_MS }, WAIT_MS + 5000)
      if (j.t1 === null) throw new Error(`raw join: D holds ${j.count} of ${N}`)
      return j.t1 - j.t0
    }
    let join: number
    let joinRawMs: number
    if (flurryFirst) {
      join = await joinFlurry()
      joinRawMs = await joinRaw()
    } else {
      joinRawMs = await joinRaw()
      join = await joinFlurry()
    }

    // A's raw names go (their sockets close) before the kills; V gives B, C, D its own.
    await a.call('raw.closeAll')
    for (const w of [b, c, d]) {
      const z = await w.call<Crossed>('rawreg.waitCount', { count: 0, below: true, timeoutMs: WAIT_MS }, WAIT_MS + 5000)
      if (z.t === null) throw new Error(`${w.name} still holds ${z.count} raw names of A`)
    }
    for (const to of [b, c, d]) {
      await v.call('raw.connect', { url: raws[to.name], tag: to.name })
      await to.call('raw.waitConn', { tag: 'V' })
    }
    const vWaits = await armed([b, c, d], 'rawreg.waitCount', { count: N })
    await v.call('rawreg.chunked', { tags: ['B', 'C', 'D'], prefix: 'v:', n: N, chunk: CHUNK }, WAIT_MS)
    latest([b, c, d], await Promise.all(vWaits), 'raw names of V')
    const flurryHeld = await Promise.all([b, c, d].map((w) => w.call<number>('reg.count')))
    if (flurryHeld.some((k) => k !== N)) throw new Error(`before the kill B, C, D hold ${flurryHeld.join(', ')} names`)

    // 3. kill -9.
    const killFlurry = async (): Promise<number> => {
      await Promise.all([b, c, d].map((w) => w.call('gc')))
      const waits = await armed([b, c, d], 'reg.waitCount', { count: 0, below: true })
      const t = a.kill()
      return latest([b, c, d], await Promise.all(waits), 'kill -9') - t
    }
    const killRaw = async (): Promise<number> => {
      await Promise.all([b, c, d].map((w) => w.call('gc')))
      const waits = await armed([b, c, d], 'rawreg.waitCount', { count: 0, below: true })
      const t = v.kill()
      return latest([b, c, d], await Promise.all(waits), 'raw kill -9') - t
    }
    let kill: number
    let killRawMs: number
    if (flurryFirst) {
      kill = await killFlurry()
      killRawMs = await killRaw()
    } else {
      killRawMs = await killRaw()
      kill = await killFlurry()
    }
    return { replicate, replicateRaw: replicateRawRate, join, joinRaw: joinRawMs, joinConnect, kill, killRaw: killRawMs, notes }
  } finally {
    await stopWorkers(ws)
  }
}

export async function run(): Promise<Row[]> {
  const results: RunResult[] = []
  const failures: string[] = []
  for (let r = 0; r < RUNS; r++) {
    try {
      results.push(await oneRun(r))
    } catch (err) {
      failures.push(err instanceof Error ? err.message : String(err))
    }
  }
  if (results.length === 0) throw new Error(`every run failed: ${failures.join('; ')}`)
  const pick = (k: keyof Omit<RunResult, 'notes'>): number[] => results.map((x) => x[k])
  const failed = failures.length > 0 ? `; failed runs: ${failures.join('; ')}` : ''
  const loops = results.flatMap((x) => x.notes).join(', ')
  const rep = row({
    bench: 'names',
    name: '100k registrations visible on 2 other peers',
    unit: 'names/s',
    better: 'higher',
    runs: pick('replicate'),
    baselineRuns: pick('replicateRaw'),
    baselineLabel: 'raw ws+msgpack → Map',
    goal: 50_000,
    note:
      `3 peer processes; A registers ${N} names (${ACTORS} actors, ${CHUNK} per task); from A's first register until B and C fired register for all. ` +
      `Baseline: A sends the same (name, pid id, stamp) triples as raw.ts frames of ${CHUNK}, one per task, to B and C, which put them in a Map. ${loops}${failed}`,
  })
  const join = row({
    bench: 'names',
    name: 'a new peer joins, resolves 100k names',
    unit: 'ms',
    better: 'lower',
    runs: pick('join'),
    baselineRuns: pick('joinRaw'),
    baselineLabel: 'raw ws: dial, ask, 100k → Map',
    goal: 500,
    note:
      `peer D calls connect(C) while A owns ${N} names; until D fired register for all (then whereis finds all); ` +
      `connect() itself resolved after ${pick('joinConnect')
        .map((m) => m.toFixed(0))
        .join(', ')} ms (C's sync; A's slice follows from A once D dialed it). Baseline: D dials A's raw server and receives its ${N} names into a Map`,
  })
  const kill = row({
    bench: 'names',
    name: 'kill -9 of the owner of 100k names → gone on 3 others',
    unit: 'ms',
    better: 'lower',
    runs: pick('kill'),
    baselineRuns: pick('killRaw'),
    baselineLabel: 'raw ws: close → 100k Map deletes',
    goal: 500,
    note:
      `SIGKILL to A (hr() just before); until B, C and D each fired unregister for all ${N} (the last of the three). ` +
      `Baseline: SIGKILL to V, whose ${N} names B, C, D hold from raw ws; each deletes them one by one when the socket closes`,
  })
  return [
    rep,
    reference(rep, 'Erlang global, 3 nodes (static)', 331),
    join,
    reference(join, 'Erlang global, 10.2k names (static)', 3740, "Erlang: a node joining a cluster with 10.2k global names, measured earlier on this machine, not in this run"),
    kill,
    reference(kill, 'Erlang global, 10.2k names (static)', 6400, 'Erlang: kill -9 of a node owning 10.2k global names until the others dropped them, measured earlier on this machine, not in this run'),
  ]
}
