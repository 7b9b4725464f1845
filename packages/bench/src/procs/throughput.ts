/**
 * Messages between two Node processes, A and B, over ws on 127.0.0.1, Flurry beside
 * raw `ws` + msgpack (raw.ts: one reused Encoder, length-prefixed frames batched per
 * task into one ws message of ≤ 64 KiB, every frame decoded and dispatched) between
 * the same two processes, alternating, in the same run:
 * - one direction: B sends N payloads of 100 bytes (a Uint8Array) — Flurry with
 *   `node.send` to an actor on A that counts them, raw as [DIRECT, seq, op, target,
 *   payload] frames (Flurry's own frame shape) to a consumer awaiting a promise per
 *   message; both senders run the same loop (CHUNK per task, pausing while more than
 *   1 MiB waits in the socket). Rate at the receiver, from its first message to its
 *   last. A second baseline counts in the raw frame handler itself (no consumer).
 * - ping-pong: an actor on B sends the payload to an actor on A, which sends it back;
 *   round trips per second for a bounded time. Raw: two consumers doing the same.
 */
import { row, type Row } from '../table.js'
import { startWorkers, stopWorkers, type Worker } from './harness.js'
import type { Blasted, Bounced, Counted, PidRef } from './protocol.js'

const N = 300_000
const BYTES = 100
const CHUNK = 1000
const RUNS = 7
const RUN_TIMEOUT_MS = 10_000
const PING_MS = 400
const MAX_TRIPS = 1_000_000
/** Flurry's path is deeper than raw's and takes longer to reach optimized code. */
const WARM_ROUNDS = 2

type Kind = 'flurry' | 'raw' | 'handler'

interface OneWay {
  rate: number
  sendRate: number
  complete: boolean
}

async function oneWay(a: Worker, b: Worker, kind: Kind, n: number): Promise<OneWay> {
  await Promise.all([a.call('gc'), b.call('gc')])
  let counted: Counted
  let blasted: Blasted
  if (kind === 'flurry') {
    const pid = await a.call<PidRef>('flurry.counter', { n })
    const sending = b.call<Blasted>('flurry.blast', { to: pid, n, bytes: BYTES, chunk: CHUNK, timeoutMs: RUN_TIMEOUT_MS }, RUN_TIMEOUT_MS + 5000)
    counted = await a.call<Counted>('flurry.counterWait', { pid, timeoutMs: RUN_TIMEOUT_MS }, RUN_TIMEOUT_MS + 5000)
    blasted = await sending
  } else {
    const id = await a.call<number>('raw.counter', { n, handlerOnly: kind === 'handler' })
    const sending = b.call<Blasted>('raw.blast', { tag: 'A', to: id, n, bytes: BYTES, chunk: CHUNK, timeoutMs: RUN_TIMEOUT_MS }, RUN_TIMEOUT_MS + 5000)
    counted = await a.call<Counted>('raw.counterWait', { id, timeoutMs: RUN_TIMEOUT_MS }, RUN_TIMEOUT_MS + 5000)
    blasted = await sending
  }
  const span = counted.last - counted.first
  return {
    rate: counted.count > 1 && span > 0 ? ((counted.count - 1) * 1000) / span : Number.NaN,
    sendRate: (blasted.sent * 1000) / (blasted.t1 - blasted.t0),
    complete: counted.count === n,
  }
}

interface Pair {
  fPinger: PidRef
  fPonger: PidRef
  rPinger: number
  rPonger: number
}

async function pingPong(b: Worker, p: Pair, kind: 'flurry' | 'raw', ms: number): Promise<number> {
  await b.call('gc')
  const r =
    kind === 'flurry'
      ? await b.call<Bounced>('flurry.pingpong', { pinger: p.fPinger, ponger: p.fPonger, ms, max: MAX_TRIPS }, ms + 10_000)
      : await b.call<Bounced>('raw.pingpong', { tag: 'A', pinger: p.rPinger, ponger: p.rPonger, bytes: BYTES, ms, max: MAX_TRIPS }, ms + 10_000)
  if (r.error !== undefined || r.trips === 0) throw new Error(`${kind} ping-pong: ${r.error ?? 'no trips'}`)
  return (r.trips * 1000) / r.ms
}

export async function run(): Promise<Row[]> {
  const [a, b] = (await startWorkers(['A', 'B'])) as [Worker, Worker]
  try {
    const pa = await a.call<{ id: string; url: string }>('flurry.peer')
    await b.call('flurry.peer')
    await b.call('flurry.connect', { url: pa.url })
    const raw = await a.call<{ url: string }>('raw.listen')
    await b.call('raw.connect', { url: raw.url, tag: 'A' })
    await a.call('raw.waitConn', { tag: 'B' })
    const fPinger = await b.call<PidRef>('flurry.pinger', { bytes: BYTES })
    const fPonger = await a.call<PidRef>('flurry.ponger', { partner: fPinger })
    const rPinger = await b.call<number>('raw.pinger')
    const rPonger = await a.call<number>('raw.ponger', { tag: 'B', partner: rPinger })
    const pair: Pair = { fPinger, fPonger, rPinger, rPonger }

    // Warm-up: every path, until the JIT settled.
    for (let w = 0; w < WARM_ROUNDS; w++) {
      for (const k of ['flurry', 'raw', 'handler'] as const) await oneWay(a, b, k, N)
      await pingPong(b, pair, 'flurry', PING_MS)
      await pingPong(b, pair, 'raw', PING_MS)
    }

    // One run of each kind per round, the order rotating; ratios are taken per round.
    const runs: Record<Kind, number[]> = { flurry: [], raw: [], handler: [] }
    const perRound: Array<Record<Kind, number>> = []
    const sends: Record<Kind, number[]> = { flurry: [], raw: [], handler: [] }
    const incomplete: string[] = []
    const ping: number[] = []
    const pingRaw: number[] = []
    const orders: Kind[][] = [
      ['flurry', 'raw', 'handler'],
      ['raw', 'handler', 'flurry'],
      ['handler', 'flurry', 'raw'],
    ]
    for (let r = 0; r < RUNS; r++) {
      const round = { flurry: Number.NaN, raw: Number.NaN, handler: Number.NaN }
      for (const k of orders[r % orders.length] as Kind[]) {
        const o = await oneWay(a, b, k, N)
        if (!o.complete) incomplete.push(k)
        if (Number.isFinite(o.rate)) runs[k].push(o.rate)
        round[k] = o.rate
        sends[k].push(o.sendRate)
      }
      perRound.push(round)
      if (r % 2 === 0) {
        ping.push(await pingPong(b, pair, 'flurry', PING_MS))
        pingRaw.push(await pingPong(b, pair, 'raw', PING_MS))
      } else {
        pingRaw.push(await pingPong(b, pair, 'raw', PING_MS))
        ping.push(await pingPong(b, pair, 'flurry', PING_MS))
      }
    }
    const ratios = (base: Kind): number[] => perRound.map((x) => x.flurry / x[base]).filter((x) => Number.isFinite(x))
    const pingRatios = ping.map((x, i) => x / (pingRaw[i] as number))
    const k = (x: number[]): string => `${(x.reduce((s, v) => s + v, 0) / x.length / 1000).toFixed(0)}k/s`
    const partial = incomplete.length > 0 ? `; runs that did not deliver all ${N} within ${RUN_TIMEOUT_MS} ms: ${incomplete.join(', ')}` : ''
    return [
      row({
        bench: 'throughput',
        name: 'B → A, 100 B payloads: node.send → actor',
        unit: 'msgs/s',
        better: 'higher',
        runs: runs.flurry,
        baselineRuns: runs.raw,
        baselineLabel: 'raw ws+msgpack → consumer',
        goal: null,
        goalRatio: 0.8,
        ratioRuns: ratios('raw'),
        note:
          `${N} messages of a ${BYTES}-byte Uint8Array from process B to process A, ${CHUNK} per task from one loop that pauses while > 1 MiB is unsent; ` +
          `rate at the receiver from its first message to its last; ratio: the median of per-round ratios (a round runs Flurry, raw and handler-only back to back, the order rotating). Raw: the same loop and payload as [DIRECT, seq, op, target, payload] frames through raw.ts ` +
          `(one Encoder, length-prefixed, batched per task, ≤ 64 KiB per ws message), each decoded and delivered to a consumer awaiting a promise per message. ` +
          `Sender loops averaged Flurry ${k(sends.flurry)}, raw ${k(sends.raw)}${partial}`,
      }),
      row({
        bench: 'throughput',
        name: '  same, vs raw counting in its frame handler',
        unit: 'msgs/s',
        better: 'higher',
        runs: runs.flurry,
        baselineRuns: runs.handler,
        baselineLabel: 'raw ws+msgpack, handler only',
        goal: null,
        ratioRuns: ratios('handler'),
        note: 'the raw receiver counts in the frame handler itself: no mailbox, no promise per message (the floor of ws + msgpack)',
      }),
      row({
        bench: 'throughput',
        name: 'ping-pong between actors on B and A',
        unit: 'trips/s',
        better: 'higher',
        runs: ping,
        baselineRuns: pingRaw,
        baselineLabel: 'raw ws+msgpack consumers',
        goal: null,
        goalRatio: 0.8,
        ratioRuns: pingRatios,
        note: `an actor on B sends the ${BYTES}-byte payload to an actor on A, which sends it back (ctx.send); ${PING_MS} ms per run, Flurry and raw alternating, ratio the median of per-pair ratios. Raw: two consumers doing the same over raw.ts frames`,
      }),
    ]
  } finally {
    await stopWorkers([a, b])
  }
}
