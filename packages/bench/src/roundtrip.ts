/**
 * 6. Message round trips per second between two peers over memory links:
 * `node.call` to an actor that answers with `ctx.reply`, and a send/receive ping-pong
 * between two actors. Baseline: the same between two actors of one node, in the same
 * run. Each measurement runs for a bounded time and a bounded count.
 */
import type { FlurryNode, Pid } from '@flurry/core'
import { closeAll, mesh, node } from './cluster.js'
import { gc, now, withDeadline } from './measure.js'
import { row, type Row } from './table.js'

const RUNS = 5
const RUN_MS = 300
const MAX_TRIPS = 1_000_000
const RESULT_TIMEOUT_MS = 10_000

function echo(n: FlurryNode): Pid {
  return n.spawn(async (ctx) => {
    for (;;) {
      await ctx.receive()
      ctx.reply('pong')
    }
  })
}

function ponger(n: FlurryNode): Pid {
  return n.spawn(async (ctx) => {
    for (;;) {
      const m = await ctx.receive<{ from: Pid; i: number }>()
      ctx.send(m.from, m.i)
    }
  })
}

/** node.call round trips per second, from outside any actor. */
async function calls(from: FlurryNode, to: Pid): Promise<number> {
  gc()
  let trips = 0
  const t0 = now()
  let t = t0
  while (trips < MAX_TRIPS && t - t0 < RUN_MS) {
    await from.call(to, trips, { timeoutMs: 5000 })
    trips++
    if ((trips & 63) === 0) t = now()
  }
  return trips / ((now() - t0) / 1000)
}

/** Ping-pong round trips per second: an actor on `from` sends, `to` sends back. */
async function pingPong(from: FlurryNode, to: Pid): Promise<number> {
  gc()
  const result = new Promise<number>((resolve, reject) => {
    from.spawn(async (ctx) => {
      try {
        let trips = 0
        const t0 = now()
        let t = t0
        while (trips < MAX_TRIPS && t - t0 < RUN_MS) {
          ctx.send(to, { from: ctx.self, i: trips })
          const got = await ctx.receive<number>({ timeoutMs: 5000 })
          if (got !== trips) throw new Error(`pong ${got} for ping ${trips}`)
          trips++
          if ((trips & 63) === 0) t = now()
        }
        resolve(trips / ((now() - t0) / 1000))
      } catch (err) {
        reject(err)
      }
    })
  })
  const r = await withDeadline(result, RESULT_TIMEOUT_MS, Number.NaN)
  if (Number.isNaN(r)) throw new Error('ping-pong gave no result in time')
  return r
}

export async function run(): Promise<Row[]> {
  const { nodes } = await mesh(2)
  const [a, b] = nodes as [FlurryNode, FlurryNode]
  const remoteEcho = echo(a)
  const remotePong = ponger(a)
  const lone = await node('lone')
  const localEcho = echo(lone)
  const localPong = ponger(lone)

  // Warm-up, then alternate remote and local runs.
  await calls(b, remoteEcho)
  await calls(lone, localEcho)
  await pingPong(b, remotePong)
  await pingPong(lone, localPong)
  const call: number[] = []
  const callLocal: number[] = []
  const ping: number[] = []
  const pingLocal: number[] = []
  for (let r = 0; r < RUNS; r++) {
    call.push(await calls(b, remoteEcho))
    callLocal.push(await calls(lone, localEcho))
    ping.push(await pingPong(b, remotePong))
    pingLocal.push(await pingPong(lone, localPong))
  }
  await closeAll(nodes)
  await lone.close()
  return [
    row({
      bench: 'roundtrip',
      name: 'round trips, 2 peers: node.call → ctx.reply',
      unit: 'trips/s',
      better: 'higher',
      runs: call,
      baselineRuns: callLocal,
      baselineLabel: 'same node',
      goal: null,
      note: 'node.call from outside any actor to an actor on the other peer that answers with ctx.reply, one call at a time; baseline: the same call to an actor of the same node',
    }),
    row({
      bench: 'roundtrip',
      name: 'round trips, 2 peers: send/receive ping-pong',
      unit: 'trips/s',
      better: 'higher',
      runs: ping,
      baselineRuns: pingLocal,
      baselineLabel: 'same node',
      goal: null,
      note: 'an actor sends { from, i } and awaits the answer that the other peer’s actor sends back with ctx.send; baseline: two actors of one node',
    }),
  ]
}
