/**
 * One load measurement at N clients: K client processes (clients-proc.ts) and an
 * observer process, first against a bare `ws` server (bare-proc.ts: the baseline),
 * then against a real relay process (relay-proc.ts). Phases, each with a deadline:
 *
 * 1. connect all N (bounded concurrency per process), 2 names each; time to admit all;
 * 2. quiet: relay CPU per second; RSS after GC, minus the RSS with 0 clients;
 * 3. register → visible on the observer, everyone idle (timed registrations);
 * 4. the same while 1% of the clients each unregister and register a name every 100 ms;
 * 5. kill -9 of one client process (N/K clients): time until the observer was told
 *    (UNCOUNT) of every one of them.
 *
 * Every process is stopped by pid at the end, whatever happened.
 */
import { fileURLToPath } from 'node:url'
import { sleep } from '../measure.js'
import { Worker } from '../procs/harness.js'
import { procStat, type ProcStat } from './proc-stat.js'
import { newTally, type Tally } from './raw-client.js'
import { wallNow } from './wall.js'

const here = (f: string): string => fileURLToPath(new URL(f, import.meta.url))
const CLIENTS = here('./clients-proc.js')
const RELAY = here('./relay-proc.js')
const BARE = here('./bare-proc.js')
export const COOKIE = 'load-bench'

export interface LoadOptions {
  clients: number
  procs: number
  concurrency: number
  samples: number
  /** Write a CPU profile of the relay process into this folder. */
  profileDir: string | null
  log: (line: string) => void
}

export interface Latency {
  p50: number | null
  p99: number | null
  count: number
  lost: number
}

export interface SideResult {
  admitted: number
  admitMs: number | null
  failures: Record<string, number>
  rssPerClientBytes: number | null
  visible: Latency
  visibleChurn: Latency
  churners: number
}

export interface RelayResult extends SideResult {
  /** Names the observer saw after admission (2 per client expected). */
  namesSeen: number
  tally: Tally
  cpuAdmitMsPerClient: number | null
  /** CPU of the relay and of all client processes while they connected (is the relay what is measured?). */
  relayCpuAdmitMs: number
  clientCpuAdmitMs: number
  /** After the churn stopped: until one registration was seen again (null: not in 120 s). */
  drainMs: number | null
  bytesInPerClient: number | null
  bytesOutPerClient: number | null
  /** Relay CPU while everyone is idle (heartbeats), µs per second per client. */
  idleCpuUsPerSecPerClient: number | null
  rss0Kb: number
  rssNKb: number
  killed: number
  cleanupGone: number
  cleanupMs: number | null
  profile: string | null
}

export interface LoadResult {
  clients: number
  bare: SideResult | null
  relay: RelayResult | null
  errors: string[]
}

export function percentile(xs: readonly number[], p: number): number | null {
  if (xs.length === 0) return null
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] as number
}

function mergeTally(into: Tally, t: Tally): void {
  for (const k of ['refused', 'errors', 'closed'] as const) for (const [c, n] of Object.entries(t[k])) into[k][c] = (into[k][c] ?? 0) + n
}

/** Timed registrations spread over the client processes, seen (or not) by the observer. */
async function visibleSample(procs: Worker[], observer: Worker, prefix: string, total: number, ratePerSec: number, seenTimeoutMs = 10_000): Promise<Latency> {
  const per = Math.max(1, Math.ceil(total / procs.length))
  const intervalMs = (1000 * procs.length) / ratePerSec
  const sent = (
    await Promise.all(procs.map((p) => p.call<Array<{ name: string; t: number }>>('sample', { count: per, intervalMs, prefix }, per * intervalMs + 30_000)))
  ).flat()
  const seen = await observer.call<Array<number | null>>('seenTimes', { names: sent.map((s) => s.name), timeoutMs: seenTimeoutMs }, seenTimeoutMs + 10_000)
  const lat: number[] = []
  let lost = 0
  sent.forEach((s, i) => {
    const t = seen[i]
    if (t === null || t === undefined) lost++
    else lat.push(t - s.t)
  })
  // A lost registration counts as slower than any seen one.
  const all = [...lat, ...Array.from({ length: lost }, () => Infinity)]
  const finite = (x: number | null): number | null => (x === null || !Number.isFinite(x) ? null : x)
  return { p50: finite(percentile(all, 50)), p99: finite(percentile(all, 99)), count: lat.length, lost }
}

/** Connects every client process; time from the first connect to the last admission. */
async function connectAll(procs: Worker[], url: string, o: LoadOptions, bare: boolean, timeoutMs: number): Promise<{ admitted: number; ms: number | null; failures: Record<string, number> }> {
  const res = await Promise.all(
    procs.map((p) =>
      p.call<{ admitted: number; failures: Record<string, number>; t0: number; tLast: number }>(
        'connect',
        { url, concurrency: o.concurrency, timeoutMs, bare, names: bare ? 0 : 2 },
        timeoutMs + 30_000,
      ),
    ),
  )
  const failures: Record<string, number> = {}
  for (const r of res) for (const [k, n] of Object.entries(r.failures)) failures[k] = (failures[k] ?? 0) + n
  const admitted = res.reduce((n, r) => n + r.admitted, 0)
  const t0 = Math.min(...res.map((r) => r.t0))
  const t1 = Math.max(...res.map((r) => r.tLast))
  // Until the last admission, whether or not every client made it (a row says how many did not).
  return { admitted, ms: admitted > 0 ? t1 - t0 : null, failures }
}

async function churnSample(procs: Worker[], observer: Worker, prefix: string, o: LoadOptions, rate: number): Promise<{ lat: Latency; churners: number }> {
  const n = Math.max(1, Math.ceil(o.clients / 100))
  let churners = 0
  for (const [i, p] of procs.entries()) {
    const mine = Math.floor(n / procs.length) + (i < n % procs.length ? 1 : 0)
    if (mine > 0) churners += await p.call<number>('churnStart', { n: mine, periodMs: 100 })
  }
  try {
    await sleep(1000)
    return { lat: await visibleSample(procs, observer, prefix, sampleCount(o.samples, o.clients), rate), churners }
  } finally {
    await Promise.all(procs.map((p) => p.call('churnStop').catch(() => 0)))
  }
}

/** VmRSS after full GCs, with pauses so that freed pages can go back to the OS. */
async function rssAfterGc(p: Worker): Promise<number> {
  for (let i = 0; i < 3; i++) {
    await p.call('gc', {}, 60_000)
    await sleep(200)
  }
  return procStat(p.pid).rssKb
}

/**
 * Registrations per second for the visibility samples: each is forwarded to every
 * client, so the rate keeps that fan-out near 10k frames/s (idle, not a flood).
 */
function sampleRate(n: number): number {
  return Math.min(50, 10_000 / n)
}

/** A few untimed registrations first: the first ones pay for lazy compilation on every side. */
async function warmUp(procs: Worker[], observer: Worker, prefix: string, n: number): Promise<void> {
  await visibleSample(procs, observer, prefix, 4 * procs.length, Math.max(sampleRate(n), 10))
}

/** At most `wanted` samples, and no more than 30 s of them. */
function sampleCount(wanted: number, n: number): number {
  return Math.max(20, Math.min(wanted, Math.ceil(sampleRate(n) * 30)))
}

async function bareSide(procs: Worker[], observer: Worker, o: LoadOptions, admitTimeoutMs: number): Promise<SideResult> {
  const server = await Worker.start('bare-ws', { script: BARE, args: [], fds: o.clients + 64 })
  try {
    const { url } = await server.call<{ url: string }>('info')
    const rss0 = await rssAfterGc(server)
    await observer.call('observe', { url, timeoutMs: 10_000, bare: true })
    const c = await connectAll(procs, url, o, true, admitTimeoutMs)
    o.log(`  bare ws: ${c.admitted} connected in ${c.ms?.toFixed(0) ?? '—'} ms`)
    await sleep(500)
    const rssN = await rssAfterGc(server)
    await warmUp(procs, observer, 'bw', o.clients)
    const visible = await visibleSample(procs, observer, 'bv', sampleCount(o.samples, o.clients), sampleRate(o.clients))
    const churn = await churnSample(procs, observer, 'bc', o, sampleRate(o.clients))
    return {
      admitted: c.admitted,
      admitMs: c.ms,
      failures: c.failures,
      rssPerClientBytes: c.admitted > 0 ? ((rssN - rss0) * 1024) / c.admitted : null,
      visible,
      visibleChurn: churn.lat,
      churners: churn.churners,
    }
  } finally {
    await Promise.all([...procs, observer].map((p) => p.call('closeAll').catch(() => false)))
    await server.stop()
  }
}

function perClient(a: ProcStat, b: ProcStat, n: number): { cpu: number; rd: number; wr: number } {
  return { cpu: (b.cpuMs - a.cpuMs) / n, rd: (b.readBytes - a.readBytes) / n, wr: (b.writeBytes - a.writeBytes) / n }
}

async function relaySide(procs: Worker[], observer: Worker, o: LoadOptions, admitTimeoutMs: number): Promise<RelayResult> {
  const prof = o.profileDir === null ? [] : ['--cpu-prof', `--cpu-prof-dir=${o.profileDir}`, `--cpu-prof-name=relay-${o.clients}-${Date.now()}.cpuprofile`]
  const relay = await Worker.start('relay', { script: RELAY, args: [COOKIE], fds: o.clients + 64, execArgv: prof })
    const stat = (): ProcStat => procStat(relay.pid)
  try {
    const { url } = await relay.call<{ url: string }>('info')
    const rss0 = await rssAfterGc(relay)
    await observer.call('observe', { url, timeoutMs: 10_000, bare: false })
    const s0 = stat()
    const clientCpu0 = procs.reduce((n, p) => n + procStat(p.pid).cpuMs, 0)
    const c = await connectAll(procs, url, o, false, admitTimeoutMs)
    const s1 = stat()
    const clientCpuMs = procs.reduce((n, p) => n + procStat(p.pid).cpuMs, 0) - clientCpu0
    o.log(`  relay: ${c.admitted} admitted in ${c.ms?.toFixed(0) ?? '—'} ms${Object.keys(c.failures).length > 0 ? `, failures ${JSON.stringify(c.failures)}` : ''}`)
    // Everyone counted and both names of each visible on the observer (or the deadline).
    const counted = await observer.call<number>('waitCounted', { n: c.admitted + 1, timeoutMs: 60_000 }, 70_000)
    const namesSeen = await observer.call<number>('seenCount')
    o.log(`  observer counts ${counted} owners, sees ${namesSeen} names`)
    await sleep(2000)
    const i0 = stat()
    const idleMs = 5000
    await sleep(idleMs)
    const i1 = stat()
    const rssN = await rssAfterGc(relay)
    const admit = perClient(s0, s1, Math.max(1, c.admitted))
    await warmUp(procs, observer, 'rw', o.clients)
    const visible = await visibleSample(procs, observer, 'rv', sampleCount(o.samples, o.clients), sampleRate(o.clients))
    o.log(`  relay visible p50 ${visible.p50?.toFixed(1)} p99 ${visible.p99?.toFixed(1)} ms, lost ${visible.lost}`)
    const churn = await churnSample(procs, observer, 'rc', o, sampleRate(o.clients))
    o.log(`  relay visible with ${churn.churners} churning: p50 ${churn.lat.p50?.toFixed(1)} p99 ${churn.lat.p99?.toFixed(1)} ms, lost ${churn.lat.lost}`)
    // The churn's backlog must be gone before the departures are timed: one registration seen.
    const drain = await visibleSample(procs.slice(0, 1), observer, 'drain', 1, 1, 120_000)
    o.log(`  drained: a registration seen ${drain.p50 === null ? 'never (120 s)' : `after ${drain.p50.toFixed(0)} ms`}`)
    const tally = newTally()
    for (const p of procs) mergeTally(tally, await p.call<Tally>('tally'))
    // kill -9 of one client process; the observer must be told of each of its clients.
    const victim = procs[procs.length - 1] as Worker
    const ids = await victim.call<string[]>('ids')
    const tKill = wallNow()
    victim.kill()
    const gone = await observer.call<{ gone: number; last: number | null }>('goneTimes', { owners: ids, timeoutMs: 60_000 }, 70_000)
    o.log(`  kill -9 of ${ids.length}: observer saw ${gone.gone} gone, last after ${gone.last === null ? '—' : (gone.last - tKill).toFixed(0)} ms`)
    return {
      admitted: c.admitted,
      admitMs: c.ms,
      failures: c.failures,
      namesSeen,
      tally,
      cpuAdmitMsPerClient: admit.cpu,
      clientCpuAdmitMs: clientCpuMs,
      relayCpuAdmitMs: s1.cpuMs - s0.cpuMs,
      drainMs: drain.p50,
      bytesInPerClient: admit.rd,
      bytesOutPerClient: admit.wr,
      idleCpuUsPerSecPerClient: ((i1.cpuMs - i0.cpuMs) * 1000) / (idleMs / 1000) / Math.max(1, c.admitted),
      rss0Kb: rss0,
      rssNKb: rssN,
      rssPerClientBytes: c.admitted > 0 ? ((rssN - rss0) * 1024) / c.admitted : null,
      visible,
      visibleChurn: churn.lat,
      churners: churn.churners,
      killed: ids.length,
      cleanupGone: gone.gone,
      cleanupMs: gone.gone === ids.length && gone.last !== null ? gone.last - tKill : null,
      profile: null,
    }
  } finally {
    await Promise.all([...procs, observer].map((p) => p.call('closeAll').catch(() => false)))
    if (o.profileDir !== null) {
      // The profile is written on a clean exit: give it time before stop() kills.
      await relay.call('close').catch(() => false)
      await Promise.race([relay.exited(), sleep(30_000)])
    }
    await relay.stop()
  }
}

export async function measureLoad(o: LoadOptions): Promise<LoadResult> {
  const out: LoadResult = { clients: o.clients, bare: null, relay: null, errors: [] }
  const per = Math.ceil(o.clients / o.procs)
  const admitTimeoutMs = Math.max(30_000, o.clients * 40)
  const started: Worker[] = []
  try {
    const names = Array.from({ length: o.procs }, (_, i) => `c${i}`)
    const procs = await Promise.all(names.map((n) => Worker.start(n, { script: CLIENTS, args: [n, COOKIE], fds: per + 64 })))
    started.push(...procs)
    const observer = await Worker.start('observer', { script: CLIENTS, args: ['observer', COOKIE] })
    started.push(observer)
    // Identities are made before anything is timed; the last process takes what is left.
    await Promise.all(procs.map((p, i) => p.call('keys', { n: Math.min(per, o.clients - per * i) }, 120_000)))
    try {
      out.bare = await bareSide(procs, observer, o, admitTimeoutMs)
    } catch (err) {
      out.errors.push(`bare ws baseline: ${(err as Error).message}`)
    }
    try {
      out.relay = await relaySide(procs, observer, o, admitTimeoutMs)
    } catch (err) {
      out.errors.push(`relay: ${(err as Error).message}`)
    }
  } finally {
    await Promise.all(started.map((p) => p.stop()))
  }
  return out
}
