/**
 * 4. Hiding a departed client that owned 100k names.
 * - In the registry: owner X (counted) holds 100k names; time `setCounted(X, false)`,
 *   each name firing `unregister` to a counter. Baseline: deleting every entry of a
 *   plain Map of 100k, calling a counting callback for each.
 * - End to end: a peer and a client over a memory link; the client registered 100k
 *   names (the peer's per-client quota raised to allow it). Time from the client's
 *   `close()` until the peer's table no longer has them (every name fired
 *   `unregister` there and whereis finds none). And the same when the client's link
 *   drops instead (no goodbye: the socket closed, the tab crashed).
 *   Baseline for both: the in-registry hide above.
 */
import { memoryNetwork, type Dialer, type FlurryNode, type Link } from '@flurry/core'
import { idleActors, node, registerChunked, type MemoryNetwork } from './cluster.js'
import { gc, makeNames, median, now, waitUntil } from './measure.js'
import { EventCounter, flatSlice, registryClass, ROLE_CLIENT, type RegistryCtor } from './snapshot.js'
import { fmt, row, type Row } from './table.js'

const NAMES = 100_000
const RUNS = 7
const E2E_RUNS = 3
const CHUNK = 1000
const ACTORS = 100
const OWNER = 'client@0123456789abcdef'
const TIMEOUT_MS = 20_000

function timeHide(Registry: RegistryCtor, flat: unknown[]): number {
  const events = new EventCounter()
  const r = new Registry('peer@0123456789abcdef', { events })
  r.setCounted(OWNER, true)
  r.mergeSlice({ owner: OWNER, seq: 1, role: ROLE_CLIENT, clients: null, names: flat })
  const before = r.size
  if (before !== NAMES) throw new Error(`setup: ${before} names`)
  events.unregisters = 0
  gc()
  const t0 = now()
  r.setCounted(OWNER, false)
  const ms = now() - t0
  if (events.unregisters !== NAMES || r.size !== 0) throw new Error(`hide fired ${events.unregisters} unregisters, ${r.size} left`)
  return ms
}

function timeMapDelete(names: string[]): number {
  const m = new Map<string, object>()
  for (const n of names) m.set(n, { n })
  let calls = 0
  const cb = (): void => {
    calls++
  }
  gc()
  const t0 = now()
  for (const k of m.keys()) {
    m.delete(k)
    cb()
  }
  const ms = now() - t0
  if (calls !== NAMES || m.size !== 0) throw new Error('map delete')
  return ms
}

/** A dialer that keeps the links it made, so the bench can drop one. */
function keeping(net: MemoryNetwork, url: string, links: Link[]): Dialer {
  const inner = net.dial(url)
  return {
    kind: inner.kind,
    target: inner.target,
    async dial(options) {
      const link = await inner.dial(options)
      links.push(link)
      return link
    },
  }
}

/** Milliseconds until the peer no longer has the names, and until the client's close() resolved. */
async function e2eRun(names: string[], how: 'close' | 'drop'): Promise<{ goneMs: number; closeMs: number }> {
  const net = memoryNetwork()
  const peer = await node('peer', { maxNamesPerClient: NAMES * 2 })
  await peer.listen(net.listen('peer'))
  // No reconnect within the bench: the dropped client stays away.
  const client = await node('client', { reconnect: { minDelayMs: 60_000, maxDelayMs: 60_000 } })
  const links: Link[] = []
  await client.connect(keeping(net, 'memory://peer', links))
  let registered = 0
  let gone = 0
  const offReg = peer.global.on('register', () => void registered++)
  const offUn = peer.global.on('unregister', () => void gone++)
  const pids = idleActors(client, ACTORS)
  const ok = await registerChunked(client, names, pids, CHUNK)
  if (ok !== NAMES || !(await waitUntil(() => registered >= NAMES, TIMEOUT_MS))) {
    await closeBoth(peer, client)
    throw new Error(`the peer saw ${registered} of ${NAMES} client names (${ok} registered)`)
  }
  const last = names[names.length - 1] as string
  gc()
  const t0 = now()
  let closeMs = Number.NaN
  if (how === 'close') void client.close().then(() => (closeMs = now() - t0))
  else (links[links.length - 1] as Link).close('bench: link dropped')
  const done = await waitUntil(() => gone >= NAMES && peer.global.whereis(last) === undefined, TIMEOUT_MS)
  const ms = now() - t0
  offReg()
  offUn()
  await closeBoth(peer, client)
  if (!done) throw new Error(`after ${how}, the peer still had ${NAMES - gone} of the client's names after ${TIMEOUT_MS} ms`)
  for (const n of names) if (peer.global.whereis(n) !== undefined) throw new Error(`${n} still visible`)
  return { goneMs: ms, closeMs }
}

async function closeBoth(peer: FlurryNode, client: FlurryNode): Promise<void> {
  await client.close()
  await peer.close()
}

export async function run(): Promise<Row[]> {
  const n = await node('hide')
  const Registry = registryClass(n)
  await n.close()
  const names = makeNames(NAMES)
  const flat = flatSlice(names)
  timeHide(Registry, flat)
  timeMapDelete(names)
  const hide: number[] = []
  const map: number[] = []
  for (let r = 0; r < RUNS; r++) {
    hide.push(timeHide(Registry, flat))
    map.push(timeMapDelete(names))
  }
  const closed: number[] = []
  const closeResolved: number[] = []
  const dropped: number[] = []
  for (let r = 0; r < E2E_RUNS; r++) {
    const c = await e2eRun(names, 'close')
    closed.push(c.goneMs)
    closeResolved.push(c.closeMs)
    dropped.push((await e2eRun(names, 'drop')).goneMs)
  }
  const inRegistry = row({
    bench: 'hide',
    name: 'hide a client with 100k names: setCounted',
    unit: 'ms',
    better: 'lower',
    runs: hide,
    baselineRuns: map,
    baselineLabel: 'Map delete ×100k',
    goal: 50,
    note: 'Registry.setCounted(owner, false) with 100k names, an unregister event each to a counter; baseline: delete every key of a Map of 100k, one callback each',
  })
  return [
    inRegistry,
    row({
      bench: 'hide',
      name: "  end to end: client close() → gone on peer",
      unit: 'ms',
      better: 'lower',
      runs: closed,
      baselineRuns: hide,
      baselineLabel: 'setCounted',
      goal: null,
      note:
        'a client (memory link to its home peer) with 100k names from 100 actors calls close(); time until the peer fired 100k unregisters and resolves none of them; ' +
        `close() says goodbye first, then ends the client's actors, which drop their 100k names locally; client and peer share one thread here, ` +
        `so that local work (close() resolved after ${fmt(median(closeResolved), 'ms')}, median) delays the peer's handling of the goodbye`,
    }),
    row({
      bench: 'hide',
      name: '  end to end: client link drops → gone on peer',
      unit: 'ms',
      better: 'lower',
      runs: dropped,
      baselineRuns: hide,
      baselineLabel: 'setCounted',
      goal: null,
      note: "the same, but the client's link closes under it (no goodbye, actors still alive)",
    }),
  ]
}
