/**
 * Register on one process → visible on another, one name at a time (the next is
 * registered only after the previous was seen), p50 and p99 over NAMES names:
 * - mesh: three peer processes A, B, C; A registers, C's `register` event is the
 *   moment it is visible;
 * - relays: two relay processes R1, R2 (meshed) with a client process on each, X on
 *   R1 and Y on R2; X registers, Y's `register` event is the moment.
 * Time: hr() (CLOCK_MONOTONIC, one clock for every process of the host; harness
 * clockCheck verifies it) taken on the registering process just before `register`,
 * and on the seeing process inside its `register` handler; the event travels to the
 * bench over IPC afterwards, outside the measured span.
 * Baseline, interleaved name by name between the same processes: a raw ws message
 * one way (raw.ts frame, flushed at the end of the task as Flurry's are), A → C
 * directly, and X → R1 → R2 → Y through raw forwarders in the relay processes (the
 * same hops as Flurry's path), timed the same way.
 */
import { reference, row, type Row } from '../table.js'
import { EventWaiter, clockCheck, meshPeers, startWorkers, stopWorkers, type Worker } from './harness.js'

const NAMES = 1000
const RUNS = 5
const STEP_TIMEOUT_MS = 2000

function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b)
  if (s.length === 0) return Number.NaN
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] as number
}

interface Stats {
  p50: number[]
  p99: number[]
  max: number[]
  lost: number
}

/** One run: NAMES names from `from` seen on `to`, each followed by a raw mark along `rawTag`'s path. */
async function measure(from: Worker, to: Worker, rawTag: string, prefix: string, flurry: Stats, raw: Stats): Promise<void> {
  const seen = new EventWaiter(to, 'seen')
  const rawSeen = new EventWaiter(to, 'rawseen')
  const f: number[] = []
  const r: number[] = []
  try {
    for (let i = 0; i < NAMES; i++) {
      const name = `${prefix}${i}`
      const reg = await from.call<{ t: number; ok: boolean }>('reg.one', { name })
      if (!reg.ok) throw new Error(`register ${name} returned false`)
      const e = await seen.wait(name, STEP_TIMEOUT_MS)
      if (e === null) flurry.lost++
      else f.push(to.local(e.t as number) - from.local(reg.t))
      const mark = await from.call<{ t: number }>('raw.mark', { tag: rawTag, name })
      const m = await rawSeen.wait(name, STEP_TIMEOUT_MS)
      if (m === null) raw.lost++
      else r.push(to.local(m.t as number) - from.local(mark.t))
    }
  } finally {
    seen.off()
    rawSeen.off()
  }
  for (const [s, xs] of [
    [flurry, f],
    [raw, r],
  ] as const) {
    s.p50.push(percentile(xs, 50))
    s.p99.push(percentile(xs, 99))
    s.max.push(Math.max(...xs))
  }
}

const empty = (): Stats => ({ p50: [], p99: [], max: [], lost: 0 })

async function mesh(): Promise<{ flurry: Stats; raw: Stats; clock: string }> {
  const ws = await startWorkers(['A', 'B', 'C'])
  const [a, b, c] = ws as [Worker, Worker, Worker]
  try {
    await meshPeers([a, b, c])
    await a.call('reg.actors', { count: 1 })
    await c.call('reg.stream', { prefix: 'vis:' })
    const rc = await c.call<{ url: string }>('raw.listen')
    await a.call('raw.connect', { url: rc.url, tag: 'C' })
    await c.call('raw.waitConn', { tag: 'A' })
    const clock = await clockCheck(ws)
    const flurry = empty()
    const raw = empty()
    await measure(a, c, 'C', 'vis:warm:', empty(), empty())
    for (let r = 0; r < RUNS; r++) await measure(a, c, 'C', `vis:${r}:`, flurry, raw)
    return { flurry, raw, clock }
  } finally {
    await stopWorkers(ws)
  }
}

async function relays(): Promise<{ flurry: Stats; raw: Stats }> {
  const ws = await startWorkers(['R1', 'R2', 'X', 'Y'])
  const [r1, r2, x, y] = ws as [Worker, Worker, Worker, Worker]
  try {
    const p1 = await r1.call<{ id: string; url: string }>('flurry.relay')
    const p2 = await r2.call<{ id: string; url: string }>('flurry.relay', { peers: [p1.url] })
    const px = await x.call<{ id: string }>('flurry.client', { home: p1.url })
    await y.call('flurry.client', { home: p2.url })
    if (!(await y.call<boolean>('flurry.waitNodes', { ids: [p1.id, p2.id, px.id], timeoutMs: 10_000 }))) throw new Error('Y does not reach X')
    await x.call('reg.actors', { count: 1 })
    await y.call('reg.stream', { prefix: 'vis:' })
    // The raw chain X → R1 → R2 → Y: the relay processes forward every mark.
    const q1 = await r1.call<{ url: string }>('raw.listen')
    const q2 = await r2.call<{ url: string }>('raw.listen')
    await r1.call('raw.forward', { on: true })
    await r2.call('raw.forward', { on: true })
    await r1.call('raw.connect', { url: q2.url, tag: 'R2' })
    await y.call('raw.connect', { url: q2.url, tag: 'R2' })
    await x.call('raw.connect', { url: q1.url, tag: 'R1' })
    await r2.call('raw.waitConn', { tag: 'R1' })
    await r2.call('raw.waitConn', { tag: 'Y' })
    await r1.call('raw.waitConn', { tag: 'X' })
    await clockCheck(ws)
    const flurry = empty()
    const raw = empty()
    await measure(x, y, 'R1', 'vis:warm:', empty(), empty())
    for (let r = 0; r < RUNS; r++) await measure(x, y, 'R1', `vis:${r}:`, flurry, raw)
    return { flurry, raw }
  } finally {
    await stopWorkers(ws)
  }
}

function lostNote(f: Stats, r: Stats): string {
  return f.lost + r.lost > 0 ? `; not seen within ${STEP_TIMEOUT_MS} ms: Flurry ${f.lost}, raw ${r.lost}` : ''
}

const maxes = (s: Stats): string => s.max.map((m) => m.toFixed(2)).join(', ')

export async function run(): Promise<Row[]> {
  const m = await mesh()
  const rl = await relays()
  const p50 = row({
    bench: 'visible',
    name: 'register on A → visible on C, 3 peers: p50',
    unit: 'ms',
    better: 'lower',
    runs: m.flurry.p50,
    baselineRuns: m.raw.p50,
    baselineLabel: 'raw ws one way A → C',
    goal: null,
    note:
      `${NAMES} names per run, one at a time (the next after C saw the previous), ${RUNS} runs; from hr() before node.global.register on A to hr() in C's register handler; ` +
      `clock: ${m.clock}. Baseline, interleaved name by name: one raw.ts frame A → C, from hr() before it is queued to hr() in C's frame handler`,
  })
  const p99 = row({
    bench: 'visible',
    name: 'register on A → visible on C, 3 peers: p99',
    unit: 'ms',
    better: 'lower',
    runs: m.flurry.p99,
    baselineRuns: m.raw.p99,
    baselineLabel: 'raw ws one way A → C',
    goal: 2,
    note: `worst per run: Flurry ${maxes(m.flurry)} ms, raw ${maxes(m.raw)} ms${lostNote(m.flurry, m.raw)}`,
  })
  const r50 = row({
    bench: 'visible',
    name: 'client on R1 registers → client on R2 sees: p50',
    unit: 'ms',
    better: 'lower',
    runs: rl.flurry.p50,
    baselineRuns: rl.raw.p50,
    baselineLabel: 'raw ws X → R1 → R2 → Y',
    goal: null,
    note:
      'relay processes R1 and R2 (startRelay, meshed), client processes X (home R1) and Y (home R2); X registers, Y’s register handler sees it (X → R1 → R2 → Y). ' +
      'Baseline: a raw.ts frame along the same three hops, the relay processes forwarding it as it came',
  })
  const r99 = row({
    bench: 'visible',
    name: 'client on R1 registers → client on R2 sees: p99',
    unit: 'ms',
    better: 'lower',
    runs: rl.flurry.p99,
    baselineRuns: rl.raw.p99,
    baselineLabel: 'raw ws X → R1 → R2 → Y',
    goal: 2,
    note: `worst per run: Flurry ${maxes(rl.flurry)} ms, raw ${maxes(rl.raw)} ms${lostNote(rl.flurry, rl.raw)}`,
  })
  return [
    p50,
    reference(p50, 'Erlang global p50 (static)', 0.74),
    p99,
    reference(p99, 'Erlang global p99 (static)', 2.94, "Erlang's global:register_name seen on another node, measured earlier on this machine, not in this run"),
    r50,
    r99,
  ]
}
