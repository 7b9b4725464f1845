/**
 * The global registry through the public API (node.global), over real in-memory links
 * and, for partitions, the simulated network.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { createNode, Pid, type FlurryNode, type NodeInit } from '../../src/index.js'
import { offsetClock, systemClock } from '../../src/base/clock.js'
import { seededRandom } from '../../src/base/random.js'
import { SimNet } from '../../src/testing/sim.js'
import { settle, waitFor } from '../../src/testing/wait.js'
import { cluster, HB, thrownCode, type Cluster } from './helpers.js'

const c = cluster()
afterEach(() => c.closeAll())

function idle(node: FlurryNode): Pid {
  return node.spawn(async (ctx) => {
    for (;;) await ctx.receive()
  })
}

/** An actor that keeps every message it gets. */
function inbox(node: FlurryNode): { pid: Pid; got: unknown[] } {
  const got: unknown[] = []
  const pid = node.spawn(async (ctx) => {
    for (;;) got.push(await ctx.receive())
  })
  return { pid, got }
}

/** The registry events of a node as lines. */
function events(node: FlurryNode): string[] {
  const log: string[] = []
  node.global.on('register', (name, pid) => log.push(`register ${name} ${pid}`))
  node.global.on('unregister', (name, pid, reason) => log.push(`unregister ${name} ${pid} ${reason}`))
  node.global.on('conflict', (name, winner, loser) => log.push(`conflict ${name} ${winner} ${loser}`))
  return log
}

const at = (node: FlurryNode, name: string) => node.global.whereis(name)?.toString()

/** Peers a and b meshed, client cl of b, d a client of a; everyone reaching everyone. */
async function world(cl: Cluster, init: Partial<NodeInit> = {}) {
  const a = await cl.peer('a', init)
  const b = await cl.peer('b', init)
  await b.connect(cl.net.dial('memory://a'))
  const cc = await cl.node({ name: 'cc' })
  await cc.connect(cl.net.dial('memory://b'))
  const all = [a, b, cc]
  await waitFor(() => all.every((n) => n.nodes().length === 2), 'a, b and cc to reach each other', 2000)
  return { a, b, cc, all }
}

describe('register and whereis', () => {
  it('a name registered on a peer is visible on the other peer and on its client, with events', async () => {
    const { a, b, cc, all } = await world(c)
    const logs = all.map(events)
    const pid = idle(a)
    expect(a.global.register('room:lobby', pid)).toBe(true)
    expect(at(a, 'room:lobby')).toBe(pid.toString())
    await waitFor(() => all.every((n) => at(n, 'room:lobby') === pid.toString()), 'the name everywhere', 2000)
    for (const n of all) {
      expect(n.global.whereis('room:lobby')).toBeInstanceOf(Pid)
      expect(n.global.names()).toEqual(['room:lobby'])
    }
    for (const log of logs) expect(log).toEqual([`register room:lobby ${pid}`])
    // And from the client outwards.
    const cpid = idle(cc)
    expect(cc.global.register('client:name', cpid)).toBe(true)
    await waitFor(() => all.every((n) => at(n, 'client:name') === cpid.toString()), 'the client name everywhere', 2000)
    expect(b.global.names()).toEqual(['client:name', 'room:lobby'])
  })

  it('register returns false for a visible name, on the same node and elsewhere', async () => {
    const { a, b, cc, all } = await world(c)
    const pid = idle(a)
    expect(a.global.register('taken', pid)).toBe(true)
    expect(a.global.register('taken', pid)).toBe(false)
    expect(a.global.register('taken', idle(a))).toBe(false)
    await waitFor(() => all.every((n) => at(n, 'taken') !== undefined), 'the name everywhere', 2000)
    expect(b.global.register('taken', idle(b))).toBe(false)
    expect(cc.global.register('taken', idle(cc))).toBe(false)
    await settle(30)
    for (const n of all) expect(at(n, 'taken')).toBe(pid.toString())
  })

  it('register throws NOT_LOCAL for a remote pid, NO_PROCESS for a dead one, BAD_ARGUMENT for a bad name', async () => {
    const { a, b } = await world(c)
    expect(thrownCode(() => a.global.register('x', idle(b)))).toBe('NOT_LOCAL')
    const dead = a.spawn(async () => {})
    let ended = false
    a.monitor(dead, () => (ended = true))
    await waitFor(() => ended, 'the actor to end', 1000)
    expect(thrownCode(() => a.global.register('x', dead))).toBe('NO_PROCESS')
    expect(thrownCode(() => a.global.register('', idle(a)))).toBe('BAD_ARGUMENT')
    expect(thrownCode(() => a.global.register('x', 'pid' as unknown as Pid))).toBe('BAD_ARGUMENT')
    expect(a.global.whereis('x')).toBeUndefined()
  })

  it("unregister removes the name everywhere (reason 'unregister'); only the owner can", async () => {
    const { a, b, all } = await world(c)
    const pid = idle(a)
    a.global.register('gone', pid)
    await waitFor(() => all.every((n) => at(n, 'gone') !== undefined), 'the name everywhere', 2000)
    const logs = all.map(events)
    expect(b.global.unregister('gone')).toBe(false)
    expect(a.global.unregister('gone')).toBe(true)
    expect(a.global.unregister('gone')).toBe(false)
    await waitFor(() => all.every((n) => at(n, 'gone') === undefined), 'the name gone everywhere', 2000)
    for (const log of logs) expect(log).toEqual([`unregister gone ${pid} unregister`])
    // Free again: anyone may take it.
    const bpid = idle(b)
    expect(b.global.register('gone', bpid)).toBe(true)
    await waitFor(() => all.every((n) => at(n, 'gone') === bpid.toString()), 'the new holder everywhere', 2000)
  })

  it("an actor's exit removes all its names everywhere (reason 'exit')", async () => {
    const { cc, all } = await world(c)
    const pid = idle(cc)
    cc.global.register('n1', pid)
    cc.global.register('n2', pid)
    await waitFor(() => all.every((n) => n.global.names().length === 2), 'both names everywhere', 2000)
    const logs = all.map(events)
    cc.exit(pid, 'done')
    await waitFor(() => all.every((n) => n.global.names().length === 0), 'the names gone everywhere', 2000)
    for (const log of logs) expect([...log].sort()).toEqual([`unregister n1 ${pid} exit`, `unregister n2 ${pid} exit`])
  })

  it("a client's close removes its names everywhere in one step (reason 'nodedown')", async () => {
    const { a, b, cc } = await world(c)
    const pids = [idle(cc), idle(cc), idle(cc)]
    pids.forEach((p, i) => cc.global.register(`c${i}`, p))
    await waitFor(() => [a, b].every((n) => n.global.names().length === 3), 'the names on a and b', 2000)
    // Each event records the "step" it fired in: a counter bumped by the first microtask after it.
    const steps = new Map<FlurryNode, number[]>()
    for (const n of [a, b]) {
      let step = 0
      let bump = false
      const list: number[] = []
      steps.set(n, list)
      n.global.on('unregister', (name, pid, reason) => {
        expect(reason).toBe('nodedown')
        expect(pids.some((p) => p.equals(pid))).toBe(true)
        list.push(step)
        if (!bump) {
          bump = true
          queueMicrotask(() => {
            step++
            bump = false
          })
        }
      })
    }
    await cc.close()
    await waitFor(() => [a, b].every((n) => n.global.names().length === 0), 'the names gone on a and b', 2000)
    for (const n of [a, b]) expect(steps.get(n)).toEqual([0, 0, 0])
  })
})

describe('the home checks its clients claims', () => {
  it('a client past maxNamesPerClient has its extra claim refused: QUOTA, and the name is gone everywhere', async () => {
    const { a, b, cc, all } = await world(c, { maxNamesPerClient: 2 })
    const errs: string[] = []
    b.on('error', (e) => errs.push(e.code))
    const box = inbox(cc)
    expect(cc.global.register('q1', box.pid)).toBe(true)
    expect(cc.global.register('q2', box.pid)).toBe(true)
    await waitFor(() => [a, b].every((n) => n.global.names().length === 2), 'two names on the peers', 2000)
    // The third is accepted locally (optimistic), then withdrawn.
    expect(cc.global.register('q3', box.pid)).toBe(true)
    await waitFor(() => box.got.length === 1, 'the refusal notice', 2000)
    expect(box.got[0]).toEqual({ flurry: 'name_refused', name: 'q3', code: 'QUOTA' })
    expect(cc.global.whereis('q3')).toBeUndefined()
    await settle(50)
    for (const n of all) expect(n.global.names()).toEqual(['q1', 'q2'])
    expect(errs).toContain('QUOTA')
  })

  it('a claim authorize refuses is withdrawn with code NOT_AUTHORIZED; others pass', async () => {
    const asked: string[] = []
    const { a, b, cc, all } = await world(c, {
      authorize: (nodeId, name) => {
        asked.push(`${nodeId} ${name}`)
        return !name.startsWith('admin:')
      },
    })
    const box = inbox(cc)
    const pa = idle(a)
    // A peer's own names are not the home's business.
    expect(a.global.register('admin:peer', pa)).toBe(true)
    expect(cc.global.register('admin:root', box.pid)).toBe(true)
    expect(cc.global.register('user:ok', box.pid)).toBe(true)
    await waitFor(() => box.got.length === 1, 'the refusal notice', 2000)
    expect(box.got[0]).toEqual({ flurry: 'name_refused', name: 'admin:root', code: 'NOT_AUTHORIZED' })
    await waitFor(() => all.every((n) => n.global.names().join() === 'admin:peer,user:ok'), 'the allowed names everywhere', 2000)
    expect(asked).toContain(`${cc.id} admin:root`)
    expect(asked).toContain(`${cc.id} user:ok`)
    expect(asked.some((x) => x.endsWith('admin:peer'))).toBe(false)
    expect(at(b, 'user:ok')).toBe(box.pid.toString())
  })

  it('a client whose clock is a minute behind still has its claims accepted: it adopts its home time', async () => {
    const a = await c.peer('a', { maxClockOffsetMs: 1000 })
    const b = await c.peer('b', { maxClockOffsetMs: 1000 })
    await b.connect(c.net.dial('memory://a'))
    const late = await c.node({ name: 'late', clock: offsetClock(systemClock, -60_000) })
    const box = inbox(late)
    // Claimed before it has a home (its own, late, clock) and after.
    expect(late.global.register('before', box.pid)).toBe(true)
    await late.connect(c.net.dial('memory://b'))
    expect(late.global.register('after', box.pid)).toBe(true)
    await waitFor(
      () => [a, b, late].every((n) => n.global.names().join() === 'after,before'),
      'both names on every node',
      2000,
    )
    await settle(50)
    expect(box.got).toEqual([])
    for (const n of [a, b, late]) expect(n.global.names()).toEqual(['after', 'before'])
  })
})

// ---- partitions, on simulated time ------------------------------------------------

function simWorld(seed: number, names: string[], init: Partial<Record<string, Partial<NodeInit>>> = {}) {
  const net = new SimNet(seed)
  const nodes: FlurryNode[] = []
  const mk = async (name: string, i: number) => {
    const n = await createNode({
      name,
      cookie: 'c',
      clock: net.clock.view(),
      random: seededRandom(seed * 100 + i),
      ...HB,
      reconnect: { minDelayMs: 20, maxDelayMs: 100 },
      ...(init[name] ?? {}),
    })
    nodes.push(n)
    return n
  }
  return {
    net,
    async peers(): Promise<FlurryNode[]> {
      const made: FlurryNode[] = []
      for (const [i, name] of names.entries()) {
        const n = await mk(name, i + 1)
        await n.listen(net.listen(name))
        made.push(n)
      }
      for (const n of made.slice(1)) {
        let done = false
        void n.connect(net.dialer(names[made.indexOf(n)] as string, [`memory://${names[0]}`])).then(() => (done = true))
        expect(await net.run(1000, () => done)).toBe(true)
      }
      expect(await net.run(2000, () => made.every((n) => n.nodes().length === made.length - 1))).toBe(true)
      return made
    },
    async close() {
      await Promise.all(nodes.map((n) => n.close()))
    },
  }
}

describe('conflicts after a partition heals (simulated time)', () => {
  it('one winner everywhere; the loser is told, its node emits conflict, others see unregister conflict then register', async () => {
    const w = simWorld(21, ['p1', 'p2', 'p3'])
    try {
      const [p1, p2, p3] = (await w.peers()) as [FlurryNode, FlurryNode, FlurryNode]
      // p1 alone on one side; p2 and p3 on the other.
      w.net.cut('p1', 'p2')
      w.net.cut('p1', 'p3')
      expect(await w.net.run(2000, () => p1.nodes().length === 0 && p2.nodes().length === 1)).toBe(true)
      const winner = inbox(p1)
      const loser = inbox(p2)
      expect(p1.global.register('leader', winner.pid)).toBe(true)
      await w.net.run(10)
      expect(p2.global.register('leader', loser.pid)).toBe(true)
      expect(await w.net.run(500, () => at(p3, 'leader') === loser.pid.toString())).toBe(true)
      const l2 = events(p2)
      const l3 = events(p3)
      w.net.heal('p1', 'p2')
      w.net.heal('p1', 'p3')
      const one = (n: FlurryNode) => at(n, 'leader') === winner.pid.toString()
      expect(await w.net.run(5000, () => [p1, p2, p3].every(one) && loser.got.length > 0)).toBe(true)
      await w.net.run(300)
      for (const n of [p1, p2, p3]) expect(at(n, 'leader')).toBe(winner.pid.toString())
      expect(loser.got).toHaveLength(1)
      const notice = loser.got[0] as { flurry: string; name: string; winner: Pid }
      expect(notice.flurry).toBe('name_conflict')
      expect(notice.name).toBe('leader')
      expect(notice.winner).toBeInstanceOf(Pid)
      expect(notice.winner.equals(winner.pid)).toBe(true)
      expect(winner.got).toEqual([])
      expect(l2).toContain(`conflict leader ${winner.pid} ${loser.pid}`)
      const change = [`unregister leader ${loser.pid} conflict`, `register leader ${winner.pid}`]
      expect(l3).toEqual(change)
      expect(l2.filter((l) => !l.startsWith('conflict'))).toEqual(change)
    } finally {
      await w.close()
    }
  })

  it("with onNameConflict: 'exit' the losing actor exits with the notice", async () => {
    const w = simWorld(22, ['p1', 'p2'], { p2: { onNameConflict: 'exit' } })
    try {
      const [p1, p2] = (await w.peers()) as [FlurryNode, FlurryNode]
      w.net.cut('p1', 'p2')
      expect(await w.net.run(2000, () => p1.nodes().length === 0)).toBe(true)
      const winner = inbox(p1)
      const loser = inbox(p2)
      const reasons: unknown[] = []
      p2.monitor(loser.pid, (r) => reasons.push(r))
      p1.global.register('leader', winner.pid)
      await w.net.run(10)
      p2.global.register('leader', loser.pid)
      w.net.heal('p1', 'p2')
      expect(await w.net.run(5000, () => reasons.length > 0)).toBe(true)
      const r = reasons[0] as { flurry: string; name: string; winner: Pid }
      expect(r.flurry).toBe('name_conflict')
      expect(r.name).toBe('leader')
      expect(r.winner).toBeInstanceOf(Pid)
      expect(r.winner.equals(winner.pid)).toBe(true)
      expect(loser.got).toEqual([])
      expect(await w.net.run(1000, () => [p1, p2].every((n) => at(n, 'leader') === winner.pid.toString()))).toBe(true)
    } finally {
      await w.close()
    }
  })
})
