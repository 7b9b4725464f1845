/**
 * Three peers in three OS processes, meshed over WebSocket on 127.0.0.1: names and
 * messages across the mesh, and what happens to A's names when A's process is
 * killed, frozen (SIGSTOP) or restarted (DESIGN.md: Global registry, Failure
 * detection, Partial connectivity).
 */
import { afterEach, describe, expect, it } from 'vitest'
import {
  HEARTBEAT_INTERVAL_MS,
  HEARTBEAT_TIMEOUT_MS,
  AT_ONCE_MS,
  LOADED_MARGIN_MS,
  pidKey,
  startMesh,
  startNode,
  stopAll,
  tablesAre,
  tablesOf,
  waitFor,
  type NodeProc,
  type PidRef,
} from './harness.js'

afterEach(() => stopAll())

/** A with an actor holding `names`, each known on every node of `all`. */
async function namesOnA(a: NodeProc, all: NodeProc[], names: string[]): Promise<{ pid: PidRef; table: Record<string, string> }> {
  const pid = await a.spawnActor('a-svc')
  for (const n of names) expect(await a.register(n, pid)).toBe(true)
  const table = Object.fromEntries(names.map((n) => [n, pidKey(pid) as string]))
  await waitFor(() => tablesAre(all, table), `${names.join(', ')} on every node`, 5000, () => tablesOf(all))
  return { pid, table }
}

describe('three meshed peers in separate processes', () => {
  it('a name registered on A resolves on C, and send/call by name from C reach A', async () => {
    const [a, b, c] = (await startMesh(['A', 'B', 'C'])) as [NodeProc, NodeProc, NodeProc]
    const pid = await a.spawnActor('svc')
    expect(await a.register('svc:echo', pid)).toBe(true)
    await waitFor(async () => pidKey(await c.whereis('svc:echo')) === pidKey(pid), 'svc:echo on C')
    expect(await b.whereis('svc:echo')).toEqual(pid)

    // A name that is visible already cannot be registered again, on any node.
    const other = await c.spawnActor('other')
    expect(await c.register('svc:echo', other)).toBe(false)

    await c.cmd('send', { to: 'svc:echo', msg: { hello: 'from C', n: 1 } })
    const reply = await c.cmd('call', { to: 'svc:echo', msg: { ask: 'ping' } })
    expect(reply).toEqual({ reply: { ask: 'ping' }, tag: 'svc', node: a.id })
    // The send went first on the C->A channel, so it is recorded before the call.
    expect(await a.received(pid)).toEqual([{ hello: 'from C', n: 1 }, { ask: 'ping' }])

    // Sends by pid too, and an unknown name is NAME_NOT_FOUND at the sender.
    await c.cmd('send', { to: pid, msg: 'by pid' })
    await waitFor(async () => (await a.received(pid)).length === 3, 'the send by pid to arrive')
    await expect(c.cmd('send', { to: 'svc:none', msg: 1 })).rejects.toMatchObject({ code: 'NAME_NOT_FOUND' })

    // B and C learned of each other from A and dialed each other at about the same
    // time: one session per pair, one nodeup per node, no nodedown.
    for (const p of [a, b, c]) {
      const others = [a, b, c].filter((q) => q !== p).map((q) => q.id).sort()
      expect(p.find('nodeup').map((e) => e.node).sort(), `${p.config.name}: nodeups`).toEqual(others)
      expect(p.find('nodedown'), `${p.config.name}: nodedowns`).toEqual([])
    }
  })

  it('kill -9 of A: its names are gone on B and C within 1 s, with nodedown and unregister(nodedown)', async () => {
    const [a, b, c] = (await startMesh(['A', 'B', 'C'])) as [NodeProc, NodeProc, NodeProc]
    const names = ['a:1', 'a:2', 'a:3']
    await namesOnA(a, [a, b, c], names)

    const killedAt = Date.now()
    a.kill('SIGKILL')
    const gone = async () => (await b.names()).length === 0 && (await c.names()).length === 0
    await waitFor(gone, "A's names to vanish on B and C", 3000, () => tablesOf([b, c]))
    const observed = Date.now() - killedAt

    const times: number[] = []
    for (const p of [b, c]) {
      const down = await p.waitEvent('nodedown', (e) => e.node === a.id, 'nodedown for A')
      expect(down.reason).toBe('closed')
      for (const n of names) {
        const ev = p.find('unregister', (e) => e.name === n && e.pid.node === a.id)
        expect(ev, `${p.config.name}: unregister ${n}`).toHaveLength(1)
        expect(ev[0]?.reason).toBe('nodedown')
        times.push((ev[0] as { t: number }).t - killedAt)
      }
    }
    const worst = Math.max(...times)
    console.log(`kill -9 -> names gone on B and C: ${worst} ms (per event: ${times.join(', ')}; observed by polling ${observed} ms)`)
    // A closed socket: gone at once (see AT_ONCE_MS), not after a heartbeat timeout.
    expect(worst).toBeLessThan(AT_ONCE_MS)
  })

  it("SIGSTOP of A: names gone within heartbeat timeout + one interval; after SIGCONT A's older claims win back", async () => {
    const [a, b, c] = (await startMesh(['A', 'B', 'C'])) as [NodeProc, NodeProc, NodeProc]
    const names = ['a:1', 'a:2', 'a:3']
    const { pid: held, table } = await namesOnA(a, [a, b, c], names)

    const stoppedAt = Date.now()
    a.kill('SIGSTOP')
    await waitFor(
      async () => (await b.names()).length === 0 && (await c.names()).length === 0,
      "A's names to vanish on B and C",
      5000,
      () => tablesOf([b, c]),
    )
    const times: number[] = []
    for (const p of [b, c]) {
      const down = await p.waitEvent('nodedown', (e) => e.node === a.id, 'nodedown for A')
      expect(down.reason).toBe('timeout')
      for (const n of names) {
        const ev = p.find('unregister', (e) => e.name === n && e.pid.node === a.id)
        expect(ev[0]?.reason).toBe('nodedown')
        times.push((ev[0] as { t: number }).t - stoppedAt)
      }
    }
    const worst = Math.max(...times)
    const bound = HEARTBEAT_TIMEOUT_MS + HEARTBEAT_INTERVAL_MS
    const margin = LOADED_MARGIN_MS // process scheduling on a loaded 2-core machine
    console.log(`SIGSTOP -> names gone on B and C: ${worst} ms (bound ${bound} ms + ${margin} ms margin; per event: ${times.join(', ')})`)
    expect(worst).toBeLessThan(bound + margin)

    // Meanwhile C takes a name A held (A cannot object: it is frozen).
    const taker = await c.spawnActor('c-taker')
    expect(await c.register('a:2', taker)).toBe(true)
    await waitFor(async () => pidKey(await b.whereis('a:2')) === pidKey(taker), "C's a:2 on B")

    a.kill('SIGCONT')
    // Peers redial, A rejoins; A's claims are older than C's, so A keeps a:2.
    await waitFor(() => tablesAre([a, b, c], table), 'one table on A, B and C with all of A\'s names', 10_000, () =>
      tablesOf([a, b, c]),
    )
    const notice = await c.waitEvent('notice', (e) => e.pid.id === taker.id && e.msg.name === 'a:2', "C's actor told of the conflict")
    expect(notice.msg).toEqual({ flurry: 'name_conflict', name: 'a:2', winner: held })
    expect(c.find('conflict', (e) => e.name === 'a:2')).toHaveLength(1)
    // The mesh is whole again.
    for (const p of [b, c]) expect(await p.nodes()).toContain(a.id)
  })

  it('A restarted with the same name and port is a new incarnation: its old names never come back', async () => {
    const [a, b, c] = (await startMesh(['A', 'B', 'C'])) as [NodeProc, NodeProc, NodeProc]
    const port = Number(new URL(a.url).port)
    const names = ['a:1', 'a:2']
    await namesOnA(a, [a, b, c], names)

    // Events seen from here on are after the kill.
    const seenB = b.events.length
    const seenC = c.events.length
    a.kill('SIGKILL')
    await a.exited()
    await waitFor(async () => (await b.names()).length === 0 && (await c.names()).length === 0, "A's names gone")

    const a2 = await startNode({ kind: 'peer', name: 'A', port })
    expect(a2.url).toBe(a.url)
    expect(a2.id).not.toBe(a.id)
    expect(a2.id.startsWith('A@')).toBe(true)
    // B and C redial A's URL and find the new incarnation there.
    await waitFor(
      async () => (await b.nodes()).includes(a2.id) && (await c.nodes()).includes(a2.id) && (await a2.nodes()).length === 2,
      'the new A meshed with B and C',
      10_000,
    )
    const pid = await a2.spawnActor('a2')
    expect(await a2.register('a2:new', pid)).toBe(true)
    await waitFor(() => tablesAre([a2, b, c], { 'a2:new': pidKey(pid) as string }), 'the new name on every node', 5000, () =>
      tablesOf([a2, b, c]),
    )
    // The old incarnation is never counted again: none of its names reappeared.
    for (const [p, seen] of [[b, seenB], [c, seenC]] as const) {
      expect(await p.nodes()).not.toContain(a.id)
      const back = p.events.slice(seen).filter((e) => e.ev === 'register' && e.pid.node === a.id)
      expect(back, `${p.config.name}: names of the old A registered again`).toEqual([])
      expect(p.find('nodeup', (e) => e.node === a.id)).toHaveLength(1)
    }
    // Its names are free to take for the new incarnation.
    const again = await a2.spawnActor('again')
    expect(await a2.register('a:1', again)).toBe(true)
    await waitFor(async () => pidKey(await b.whereis('a:1')) === pidKey(again), 'a:1 held by the new A on B')
  })
})
