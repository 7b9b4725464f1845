/**
 * Delivery across a route change (src/node/router.ts): two clients of one home that
 * also share a bus first talk through the home, then directly over the bus once each
 * knows the other there. A fence down the old route keeps order; nothing is doubled.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { createNode, type FlurryNode, type Pid } from '../../src/index.js'
import { broadcastChannel } from '../../src/link/broadcast-channel.js'
import { seededRandom } from '../../src/base/random.js'
import { SimNet } from '../../src/testing/sim.js'
import { waitFor } from '../../src/testing/wait.js'
import { Session } from '../../src/session/session.js'
import { cluster, HB } from './helpers.js'

const N = 1000

/** Which kind of hop a frame from `from` to `to` takes now: home session or bus. */
function hopKind(from: FlurryNode, to: FlurryNode): string {
  const hop = from.core.router.nextHop(to.id)
  return hop === null ? 'none' : hop instanceof Session ? 'home' : 'bus'
}

function sink(node: FlurryNode): { pid: Pid; got: number[] } {
  const got: number[] = []
  const pid = node.spawn(async (ctx) => {
    for (;;) got.push(await ctx.receive())
  })
  return { pid, got }
}

function inOrderOnce(got: number[]): boolean {
  if (got.length !== N) return false
  for (let i = 0; i < N; i++) if (got[i] !== i) return false
  return true
}

describe('route change home -> bus (simulated network)', () => {
  for (const seed of [1, 2, 3]) {
    it(`1000 numbered messages sent across the switch arrive in order, once (seed ${seed})`, async () => {
      const net = new SimNet(seed)
      const mk = (name: string, i: number) =>
        createNode({ name, cookie: 'c', clock: net.clock.view(), random: seededRandom(seed * 10 + i), ...HB })
      const home = await mk('home', 1)
      const c1 = await mk('c1', 2)
      const c2 = await mk('c2', 3)
      try {
        await home.listen(net.listen('home'))
        let homed = 0
        void c1.connect(net.dialer('c1', ['memory://home'])).then(() => homed++)
        void c2.connect(net.dialer('c2', ['memory://home'])).then(() => homed++)
        expect(await net.run(2000, () => homed === 2 && c1.nodes().includes(c2.id))).toBe(true)
        let joined = 0
        void c2.join(net.bus('tabs', 'c2', true)).then(() => joined++)
        expect(await net.run(2000, () => joined === 1)).toBe(true)

        const box = sink(c2)
        const hops: string[] = []
        let i = 0
        const pump = (count: number) => {
          for (let k = 0; k < count && i < N; k++) {
            hops.push(hopKind(c1, c2))
            c1.send(box.pid, i++)
          }
        }
        pump(200)
        await net.run(2)
        void c1.join(net.bus('tabs', 'c1', true)).then(() => joined++)
        while (i < N) {
          pump(10)
          await net.run(1)
        }
        expect(await net.run(3000, () => box.got.length >= N)).toBe(true)
        await net.run(100)
        expect(joined).toBe(2)
        // The switch happened while messages were flowing: first home, then bus.
        const firstBus = hops.indexOf('bus')
        expect(hops[0]).toBe('home')
        expect(firstBus).toBeGreaterThan(200)
        expect(firstBus).toBeLessThan(N)
        expect(hops.slice(firstBus).every((h) => h === 'bus')).toBe(true)
        expect(box.got.length).toBe(N)
        expect(inOrderOnce(box.got)).toBe(true)
      } finally {
        await c1.close()
        await c2.close()
        await home.close()
      }
    })
  }
})

describe('route change home -> bus when the bus is faster (simulated network)', () => {
  it('frames still on the home route when bus frames arrive are delivered first, none lost', async () => {
    const net = new SimNet(9)
    const mk = (name: string, i: number) =>
      createNode({ name, cookie: 'c', clock: net.clock.view(), random: seededRandom(90 + i), ...HB })
    const home = await mk('home', 1)
    const c1 = await mk('c1', 2)
    const c2 = await mk('c2', 3)
    try {
      await home.listen(net.listen('home'))
      let homed = 0
      void c1.connect(net.dialer('c1', ['memory://home'])).then(() => homed++)
      void c2.connect(net.dialer('c2', ['memory://home'])).then(() => homed++)
      expect(await net.run(2000, () => homed === 2 && c1.nodes().includes(c2.id))).toBe(true)
      let joined = 0
      void c2.join(net.bus('tabs', 'c2', true)).then(() => joined++)
      expect(await net.run(2000, () => joined === 1)).toBe(true)
      const box = sink(c2)
      // The home is slow to pass frames on to c2 (held, well under a heartbeat timeout).
      net.cutOneWay('home', 'c2')
      let i = 0
      for (; i < 100; i++) c1.send(box.pid, i)
      void c1.join(net.bus('tabs', 'c1', true)).then(() => joined++)
      expect(await net.run(100, () => joined === 2 && hopKind(c1, c2) === 'bus')).toBe(true)
      for (; i < 200; i++) c1.send(box.pid, i)
      await net.run(20)
      net.heal('home', 'c2')
      await net.run(1000, () => box.got.length >= 200)
      await net.run(50)
      expect(box.got.length).toBe(200)
      expect(box.got).toEqual([...Array(200).keys()])
      expect(c2.nodes()).toContain(c1.id)
    } finally {
      await c1.close()
      await c2.close()
      await home.close()
    }
  })
})

describe('route change home -> bus (BroadcastChannel in Node, memory links)', () => {
  const c = cluster()
  afterEach(() => c.closeAll())

  it('1000 numbered messages sent across the switch arrive in order, once', async () => {
    const busName = `route-change-${process.pid}-${Date.now()}`
    await c.peer('home')
    const c1 = await c.node({ name: 'c1' })
    const c2 = await c.node({ name: 'c2' })
    await c1.connect(c.net.dial('memory://home'))
    await c2.connect(c.net.dial('memory://home'))
    await waitFor(() => c1.nodes().includes(c2.id), 'c1 to reach c2 through the home', 2000)
    await c2.join(broadcastChannel(busName, { locks: false }))
    const box = sink(c2)
    const hops: string[] = []
    let i = 0
    const pump = (count: number) => {
      for (let k = 0; k < count && i < N; k++) {
        hops.push(hopKind(c1, c2))
        c1.send(box.pid, i++)
      }
    }
    pump(100)
    const joining = c1.join(broadcastChannel(busName, { locks: false }))
    // Keep sending while the join goes on, one small batch per macrotask.
    while (i < N) {
      pump(5)
      await new Promise((r) => setImmediate(r))
    }
    await joining
    await waitFor(() => box.got.length >= N, `${N} messages`, 3000)
    expect(hops[0]).toBe('home')
    expect(hops).toContain('bus')
    expect(box.got.length).toBe(N)
    expect(inOrderOnce(box.got)).toBe(true)
  })
})
