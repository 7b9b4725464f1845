/**
 * One process of load clients (raw-client.ts) or the observer, driven over IPC by the
 * load run: identities made before anything is timed, connects with bounded
 * concurrency, 2 names per client, timed registrations, churn, tallies of refusals.
 * `node --expose-gc clients-proc.js NAME COOKIE`
 */
import { waitUntil } from '../measure.js'
import { makeIdentity, type LoadIdentity } from './identity.js'
import { newTally, RawClient, type Tally } from './raw-client.js'
import { serve } from './serve.js'
import { Visibility } from './visibility.js'
import { wallNow } from './wall.js'

const NAME = process.argv[2] ?? 'clients'
const COOKIE = process.argv[3] ?? 'load'

let keys: LoadIdentity[] = []
let clients: RawClient[] = []
let tally: Tally = newTally()
let observer: RawClient | null = null
let seen = new Visibility()
let churn: { timers: NodeJS.Timeout[]; ops: number } | null = null

function closeAll(): void {
  stopChurn()
  for (const c of clients) c.close()
  clients = []
  observer?.close()
  observer = null
}

function stopChurn(): number {
  if (churn === null) return 0
  for (const t of churn.timers) clearInterval(t)
  const ops = churn.ops
  churn = null
  return ops
}

async function connectAll(a: { url: string; concurrency: number; timeoutMs: number; bare: boolean; names: number }): Promise<unknown> {
  closeAll()
  tally = newTally()
  const failures: Record<string, number> = {}
  const t0 = wallNow()
  const deadline = t0 + a.timeoutMs
  let next = 0
  let tLast = t0
  const lane = async (): Promise<void> => {
    for (let i = next++; i < keys.length && wallNow() < deadline; i = next++) {
      const c = new RawClient(keys[i] as LoadIdentity, COOKIE, tally)
      try {
        await c.connect(a.url, Math.max(1, deadline - wallNow()), a.bare)
        tLast = wallNow()
        clients.push(c)
        for (let j = 0; j < a.names; j++) c.register(`n:${NAME}:${i}:${j}`)
      } catch (err) {
        const why = (err as Error).message.split(' ').slice(0, 3).join(' ')
        failures[why] = (failures[why] ?? 0) + 1
      }
    }
  }
  await Promise.all(Array.from({ length: a.concurrency }, lane))
  const tried = clients.length + Object.values(failures).reduce((s, n) => s + n, 0)
  if (tried < keys.length) failures['not started by the deadline'] = keys.length - tried
  return { admitted: clients.length, failures, t0, tLast }
}

serve({
  keys: ({ n }) => {
    keys = Array.from({ length: n as number }, (_, i) => makeIdentity(`${NAME}-${i}`))
    return keys.length
  },
  connect: (a) => connectAll(a as Parameters<typeof connectAll>[0]),
  ids: () => clients.map((c) => c.id),
  tally: () => ({ ...tally, open: clients.filter((c) => c.open).length }),
  /** `count` registrations, one every `intervalMs`, spread over the clients: [{ name, t }]. */
  sample: async ({ count, intervalMs, prefix }) => {
    const out: Array<{ name: string; t: number }> = []
    const step = Math.max(1, Math.floor(clients.length / Math.max(1, count)))
    for (let k = 0; k < count && clients.length > 0; k++) {
      const c = clients[(k * step) % clients.length] as RawClient
      const name = `${prefix}:${NAME}:${k}`
      out.push({ name, t: c.register(name) })
      await new Promise((r) => setTimeout(r, intervalMs))
    }
    return out
  },
  /** `n` clients each drop their last churn name and claim a new one every `periodMs`. */
  churnStart: ({ n, periodMs }) => {
    stopChurn()
    const state = { timers: [] as NodeJS.Timeout[], ops: 0 }
    churn = state
    const movers = clients.slice(0, n as number)
    movers.forEach((c, i) => {
      let k = 0
      const start = setTimeout(() => {
        state.timers.push(
          setInterval(() => {
            if (k > 0) c.unregister(`churn:${NAME}:${i}:${k - 1}`)
            c.register(`churn:${NAME}:${i}:${k++}`)
            state.ops += 2
          }, periodMs as number),
        )
      }, Math.floor(((periodMs as number) * i) / movers.length))
      state.timers.push(start)
    })
    return movers.length
  },
  churnStop: () => stopChurn(),
  closeAll: () => {
    closeAll()
    return true
  },
  // ---- the observer ----
  observe: async ({ url, timeoutMs, bare }) => {
    const me = makeIdentity(`observer-${NAME}`)
    seen = new Visibility()
    observer = new RawClient(me, COOKIE, tally, seen)
    await observer.connect(url as string, timeoutMs as number, bare as boolean)
    return me.id
  },
  /** Waits until every name is seen (or the deadline); the wall time each was first seen, or null. */
  seenTimes: async ({ names, timeoutMs }) => {
    const list = names as string[]
    await waitUntil(() => list.every((n) => seen.seen.has(n)), timeoutMs as number, 5)
    return list.map((n) => seen.seen.get(n) ?? null)
  },
  /** Waits until `n` owners are counted (or the deadline). */
  waitCounted: async ({ n, timeoutMs }) => {
    await waitUntil(() => seen.counted.size >= (n as number), timeoutMs as number, 5)
    return seen.counted.size
  },
  /** Waits until every owner is uncounted (or the deadline): how many, and the last time. */
  goneTimes: async ({ owners, timeoutMs }) => {
    const list = owners as string[]
    await waitUntil(() => list.every((o) => seen.uncounted.has(o)), timeoutMs as number, 2)
    const times = list.map((o) => seen.uncounted.get(o)).filter((t): t is number => t !== undefined)
    return { gone: times.length, last: times.length > 0 ? Math.max(...times) : null }
  },
  seenCount: () => seen.seen.size,
})
