/**
 * Two real `flurry-relay` CLIs meshed with --peer, one client process on each: names,
 * calls and monitors cross both relays. Then one relay restarts (SIGTERM: exit 0 after
 * a goodbye; started again on the same port): its client's names vanish everywhere and
 * come back when the client reconnects, except a name another node took meanwhile (a
 * client that fails over re-stamps, DESIGN.md "Partial connectivity").
 */
import { afterEach, describe, expect, it } from 'vitest'
import {
  COOKIE,
  HEARTBEAT_INTERVAL_MS,
  HEARTBEAT_TIMEOUT_MS,
  freePort,
  pidKey,
  startCli,
  startNode,
  stopAll,
  tablesAre,
  tablesOf,
  waitFor,
  type CliProc,
  type NodeProc,
} from './harness.js'

afterEach(() => stopAll())

function cliArgs(name: string, port: number, peerPort: number): string[] {
  return [
    '--host', '127.0.0.1',
    '--port', String(port),
    '--cookie', COOKIE,
    '--name', name,
    '--peer', `ws://127.0.0.1:${peerPort}/flurry`,
    '--heartbeat-interval-ms', String(HEARTBEAT_INTERVAL_MS),
    '--heartbeat-timeout-ms', String(HEARTBEAT_TIMEOUT_MS),
  ]
}

/** A relay's visible table, from its /status.json (name -> 'node.id'). */
async function relayTable(relay: CliProc): Promise<Record<string, string | null>> {
  const res = await fetch(`${relay.httpUrl}/status.json`)
  const body = (await res.json()) as { names: Array<{ name: string; pid: string | null }> }
  // pid is '<node.id>'
  return Object.fromEntries(body.names.map((n) => [n.name, n.pid === null ? null : n.pid.slice(1, -1)]))
}

async function relayTablesAre(relays: CliProc[], expected: Record<string, string>): Promise<boolean> {
  const want = JSON.stringify(Object.entries(expected).sort())
  for (const r of relays) if (JSON.stringify(Object.entries(await relayTable(r)).sort()) !== want) return false
  return true
}

describe('two flurry-relay CLIs meshed with --peer, a client on each', () => {
  it('names, calls and monitors cross both relays; a relay restart hides its client until it returns', async () => {
    const [portA, portB] = [await freePort(), await freePort()]
    let relayA = await startCli(cliArgs('relayA', portA, portB))
    const relayB = await startCli(cliArgs('relayB', portB, portA))
    expect(relayA.wsUrl).toBe(`ws://127.0.0.1:${portA}/flurry`)
    await relayA.waitLine(new RegExp(`event nodeup ${relayB.id}`), 'nodeup of relay B')
    await relayB.waitLine(new RegExp(`event nodeup ${relayA.id}`), 'nodeup of relay A')

    const c1 = await startNode({ kind: 'client', name: 'c1', home: relayA.wsUrl })
    const c2 = await startNode({ kind: 'client', name: 'c2', home: relayB.wsUrl })
    await waitFor(async () => (await c1.nodes()).includes(c2.id) && (await c2.nodes()).includes(c1.id), 'c1 and c2 to see each other')

    // ---- names and calls across both relays
    const svc1 = await c1.spawnActor('svc1')
    const other1 = await c1.spawnActor('other1')
    const svc2 = await c2.spawnActor('svc2')
    expect(await c1.register('c1:svc', svc1)).toBe(true)
    expect(await c1.register('c1:other', other1)).toBe(true)
    expect(await c2.register('c2:svc', svc2)).toBe(true)
    const full = { 'c1:svc': pidKey(svc1) as string, 'c1:other': pidKey(other1) as string, 'c2:svc': pidKey(svc2) as string }
    await waitFor(
      async () => (await tablesAre([c1, c2], full)) && (await relayTablesAre([relayA, relayB], full)),
      'the three names on both clients and both relays',
      5000,
      async () => ({ clients: await tablesOf([c1, c2]), a: await relayTable(relayA), b: await relayTable(relayB) }),
    )
    expect(await c2.cmd('call', { to: 'c1:svc', msg: { q: 1 } })).toEqual({ reply: { q: 1 }, tag: 'svc1', node: c1.id })
    expect(await c1.cmd('call', { to: 'c2:svc', msg: { q: 2 } })).toEqual({ reply: { q: 2 }, tag: 'svc2', node: c2.id })
    await c1.cmd('send', { to: 'c2:svc', msg: 'one way' })
    await waitFor(async () => (await c2.received(svc2)).includes('one way'), 'the send to reach c2')

    // ---- monitors across both relays: an exit reason, and (below) a lost node
    const watched = await c1.spawnActor('watched')
    expect(await c1.register('c1:watched', watched)).toBe(true)
    await waitFor(async () => (await c2.whereis('c1:watched')) !== null, 'c1:watched on c2')
    const exitRef: number = await c2.cmd('monitor', { pid: watched })
    const lostRef: number = await c2.cmd('monitor', { pid: svc1 })
    // The monitor request travels c2 -> relay B -> relay A -> c1; a call behind it on
    // the same channel answers once it has been handled.
    await c2.cmd('call', { to: watched, msg: 'sync' })
    await c1.cmd('exit', { pid: watched, reason: { why: 'done' } })
    expect((await c2.waitEvent('down', (e) => e.ref === exitRef, 'the monitor of c1 watched')).reason).toEqual({ why: 'done' })
    await waitFor(async () => (await c2.whereis('c1:watched')) === null, 'c1:watched gone on c2 (exit)')
    expect(c2.find('unregister', (e) => e.name === 'c1:watched')[0]?.reason).toBe('exit')

    // ---- relay A restarts: SIGTERM, goodbye, exit 0
    const oldA = relayA.id
    relayA.kill('SIGTERM')
    expect(await relayA.exited()).toBe(0)
    await relayB.waitLine(new RegExp(`event nodedown ${oldA} \\(goodbye\\)`), "nodedown 'goodbye' of relay A")
    expect((await c1.waitEvent('homedown', (e) => e.node === oldA, 'homedown')).reason).toBe('goodbye')
    // c1's names vanish everywhere else; c2's monitor of c1's actor fires.
    await waitFor(
      async () => JSON.stringify(await c2.table()) === JSON.stringify({ 'c2:svc': pidKey(svc2) }) &&
        JSON.stringify(await relayTable(relayB)) === JSON.stringify({ 'c2:svc': pidKey(svc2) }),
      "c1's names gone on c2 and relay B",
      3000,
      async () => ({ c2: await c2.table(), b: await relayTable(relayB) }),
    )
    for (const n of ['c1:svc', 'c1:other']) {
      expect(c2.find('unregister', (e) => e.name === n)[0]?.reason).toBe('nodedown')
    }
    expect((await c2.waitEvent('down', (e) => e.ref === lostRef, 'the monitor of c1 svc1')).reason).toBe('noconnection')
    expect(c2.find('nodedown', (e) => e.node === c1.id).map((e) => e.reason)).toEqual(['home-down'])
    await relayB.waitLine(new RegExp(`event nodedown ${c1.id} \\(home-down\\)`), "nodedown 'home-down' of c1")
    await expect(c2.cmd('call', { to: svc1, msg: 'x' })).rejects.toMatchObject({ code: 'NODE_DOWN' })

    // Meanwhile c2 takes one of c1's names.
    const taker = await c2.spawnActor('taker')
    expect(await c2.register('c1:other', taker)).toBe(true)

    // Relay A comes back on the same port (a new incarnation); c1 reconnects to it.
    relayA = await startCli(cliArgs('relayA', portA, portB))
    expect(relayA.id).not.toBe(oldA)
    await c1.waitEvent('homeup', (e) => e.node === relayA.id, 'homeup with the new relay A', 10_000)
    const after = { 'c1:svc': pidKey(svc1) as string, 'c1:other': pidKey(taker) as string, 'c2:svc': pidKey(svc2) as string }
    await waitFor(
      async () => (await tablesAre([c1, c2], after)) && (await relayTablesAre([relayA, relayB], after)),
      "c1's names back, except the one c2 took",
      10_000,
      async () => ({ clients: await tablesOf([c1, c2]), a: await relayTable(relayA), b: await relayTable(relayB) }),
    )
    // The returning client re-stamped: the taker keeps the name, c1's actor is told.
    const notice = await c1.waitEvent('notice', (e) => e.pid.id === other1.id, "c1's actor told of the conflict")
    expect(notice.msg).toEqual({ flurry: 'name_conflict', name: 'c1:other', winner: taker })
    expect(c2.find('notice')).toEqual([])
    expect(await c2.cmd('call', { to: 'c1:svc', msg: 'back' })).toMatchObject({ reply: 'back', node: c1.id })
    // The relays' logs tell the story, one line per event.
    await relayB.waitLine(new RegExp(`event nodeup ${relayA.id}`), 'nodeup of the new relay A')
    const health = (await (await fetch(`${relayB.httpUrl}/healthz`)).json()) as { id: string; nodes: number; names: number }
    expect(health).toMatchObject({ id: relayB.id, nodes: 3, names: 3, unreachable: [] })
    expect(health).toMatchObject({ id: relayB.id, nodes: 3, names: 3 })
  })
})
