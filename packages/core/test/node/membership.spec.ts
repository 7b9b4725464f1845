/** nodeup / nodedown, homeup / homedown and nodes() over real in-memory links and SimNet. */
import { afterEach, describe, expect, it } from 'vitest'
import type { FlurryNode } from '../../src/index.js'
import { SimNet } from '../../src/testing/sim.js'
import { settle, waitFor } from '../../src/testing/wait.js'
import { cluster, HB, simConnect, simNode } from './helpers.js'

const c = cluster()
afterEach(() => c.closeAll())

function record(node: FlurryNode): string[] {
  const log: string[] = []
  node.on('nodeup', (id) => log.push(`up ${id}`))
  node.on('nodedown', (id, reason) => log.push(`down ${id} ${reason}`))
  node.on('homeup', (id) => log.push(`homeup ${id}`))
  node.on('homedown', (id, reason) => log.push(`homedown ${id} ${reason}`))
  return log
}

const sorted = (xs: string[]) => [...xs].sort()

describe('peers', () => {
  it('nodeup fires on both sides; close() makes the other see nodedown goodbye once', async () => {
    const a = await c.peer('a')
    const b = await c.peer('b')
    const la = record(a)
    const lb = record(b)
    const remote = await b.connect(c.net.dial('memory://a'))
    expect(remote).toBe(a.id)
    await waitFor(() => la.length === 1 && lb.length === 1, 'nodeup on both', 2000)
    expect(la).toEqual([`up ${b.id}`])
    expect(lb).toEqual([`up ${a.id}`])
    expect(a.nodes()).toEqual([b.id])
    expect(b.nodes()).toEqual([a.id])
    expect(a.role).toBe('peer')
    await b.close()
    await waitFor(() => la.length === 2, 'nodedown on a', 2000)
    await settle(50)
    expect(la).toEqual([`up ${b.id}`, `down ${b.id} goodbye`])
    expect(a.nodes()).toEqual([])
  })

  it('three peers form a full mesh from one connect each; nodeup once per node', async () => {
    const a = await c.peer('a')
    const b = await c.peer('b')
    const d = await c.peer('d')
    const logs = [a, b, d].map(record)
    await b.connect(c.net.dial('memory://a'))
    await d.connect(c.net.dial('memory://a'))
    await waitFor(() => [a, b, d].every((n) => n.nodes().length === 2), 'a full mesh', 2000)
    await settle(50)
    for (const [i, n] of [a, b, d].entries()) {
      const others = [a, b, d].filter((x) => x !== n).map((x) => `up ${x.id}`)
      expect(sorted(logs[i] as string[])).toEqual(sorted(others))
    }
  })

  it("a peer that stops answering is down with reason 'timeout' within heartbeatTimeout + one interval", async () => {
    const net = new SimNet(3)
    const mk = (name: string, i: number) => simNode(net, name, i)
    const a = await mk('a', 1)
    const b = await mk('b', 2)
    try {
      await a.listen(net.listen('a'))
      await b.listen(net.listen('b'))
      const la = record(a)
      const lb = record(b)
      expect(await simConnect(net, b, 'b', 'memory://a', () => la.length === 1)).toBe(true)
      // Some quiet time with heartbeats only: the session stays up.
      await net.run(1000)
      expect(la).toEqual([`up ${b.id}`])
      const t0 = net.clock.now()
      net.cut('a', 'b')
      let downAt = 0
      expect(await net.run(2000, () => {
        if (la.length === 2 && downAt === 0) downAt = net.clock.now()
        return la.length === 2 && lb.length === 2
      })).toBe(true)
      expect(la[1]).toBe(`down ${b.id} timeout`)
      expect(lb[1]).toBe(`down ${a.id} timeout`)
      expect(downAt - t0).toBeGreaterThanOrEqual(HB.heartbeatTimeoutMs - HB.heartbeatIntervalMs)
      expect(downAt - t0).toBeLessThanOrEqual(HB.heartbeatTimeoutMs + HB.heartbeatIntervalMs)
      expect(a.nodes()).toEqual([])
    } finally {
      await a.close()
      await b.close()
    }
  })
})

describe('clients', () => {
  it('homeup fires; nodes() lists every node of the cluster through the home', async () => {
    const a = await c.peer('a')
    const b = await c.peer('b')
    await b.connect(c.net.dial('memory://a'))
    const cl = await c.node({ name: 'cl' })
    const d = await c.node({ name: 'd' })
    const lc = record(cl)
    expect(await cl.connect(c.net.dial('memory://b'))).toBe(b.id)
    expect(cl.role).toBe('client')
    expect(lc).toContain(`homeup ${b.id}`)
    await d.connect(c.net.dial('memory://a'))
    const all = [a, b, cl, d]
    await waitFor(() => all.every((n) => n.nodes().length === 3), 'everyone to reach everyone', 2000)
    for (const n of all) expect(sorted(n.nodes())).toEqual(sorted(all.filter((x) => x !== n).map((x) => x.id)))
    expect(lc.filter((l) => l.startsWith('homeup'))).toEqual([`homeup ${b.id}`])
    expect(sorted(lc.filter((l) => l.startsWith('up')))).toEqual(sorted([a, b, d].map((x) => `up ${x.id}`)))
  })

  it('the home closing: homedown and nodedown of everything; the client reconnects to a peer back at the same URL', async () => {
    const a = await c.peer('a')
    const b = await c.peer('b')
    await b.connect(c.net.dial('memory://a'))
    const cl = await c.node({ name: 'cl' })
    const lc = record(cl)
    await cl.connect(c.net.dial('memory://b'))
    await waitFor(() => cl.nodes().length === 2 && a.nodes().includes(cl.id), 'the client and a to reach each other', 2000)
    lc.length = 0
    const la = record(a)
    await b.close()
    await waitFor(() => lc.length === 3, 'homedown and two nodedowns', 2000)
    await settle(30)
    // a did not go anywhere: the client lost it with its home ('home-down'), never
    // with a 'shutdown' that was b's (bug fixed in src/node/replication.ts).
    expect(sorted(lc)).toEqual(sorted([`homedown ${b.id} goodbye`, `down ${b.id} goodbye`, `down ${a.id} home-down`]))
    expect(cl.nodes()).toEqual([])
    await waitFor(() => la.length === 2, 'a to see b and the client go', 2000)
    expect(sorted(la)).toEqual(sorted([`down ${b.id} goodbye`, `down ${cl.id} home-down`]))
    // A new peer at the same URL: the client comes back on its own.
    lc.length = 0
    const b2 = await c.peer('b')
    await b2.connect(c.net.dial('memory://a'))
    await waitFor(() => lc.includes(`homeup ${b2.id}`), 'homeup with the new peer', 3000)
    await waitFor(() => cl.nodes().length === 2, 'the client to reach a and b2 again', 2000)
    expect(sorted(cl.nodes())).toEqual(sorted([a.id, b2.id]))
    await waitFor(() => a.nodes().includes(cl.id), 'a to reach the client through b2', 2000)
  })

  it("a peer sees a closing peer's clients go with reason 'home-down', whatever the order of sessions", async () => {
    // The client connects before b meshes with a: b's client session is older than its mesh one.
    const a = await c.peer('a')
    const b = await c.peer('b')
    const cl = await c.node({ name: 'cl' })
    await cl.connect(c.net.dial('memory://b'))
    await b.connect(c.net.dial('memory://a'))
    await waitFor(() => a.nodes().length === 2, 'a to reach b and the client', 2000)
    const la = record(a)
    await b.close()
    await waitFor(() => la.length === 2, 'a to see b and the client go', 2000)
    expect(sorted(la)).toEqual(sorted([`down ${b.id} goodbye`, `down ${cl.id} home-down`]))
  })

  it('a client whose home stops answering sees homedown timeout (simulated time)', async () => {
    const net = new SimNet(5)
    const mk = (name: string, i: number) => simNode(net, name, i)
    const p = await mk('p', 1)
    const cl = await mk('cl', 2)
    try {
      await p.listen(net.listen('p'))
      const lc = record(cl)
      const lp = record(p)
      expect(await simConnect(net, cl, 'cl', 'memory://p')).toBe(true)
      await net.run(500)
      const t0 = net.clock.now()
      net.cut('cl', 'p')
      let at = 0
      expect(await net.run(2000, () => {
        if (at === 0 && lc.some((l) => l.startsWith('homedown'))) at = net.clock.now()
        return at !== 0 && lp.length === 2
      })).toBe(true)
      expect(lc).toContain(`homedown ${p.id} timeout`)
      expect(lc).toContain(`down ${p.id} timeout`)
      expect(lp).toEqual([`up ${cl.id}`, `down ${cl.id} timeout`])
      expect(at - t0).toBeLessThanOrEqual(HB.heartbeatTimeoutMs + HB.heartbeatIntervalMs)
    } finally {
      await p.close()
      await cl.close()
    }
  })
})
