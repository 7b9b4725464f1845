/**
 * Channels of departed nodes are forgotten after sliceTtlMs (no memory grows with
 * nodes that come and go). A node that returns after that gets a channel starting at
 * seq 1, and the receiver, which may still remember the old one, starts afresh.
 */
import { describe, expect, it } from 'vitest'
import { createNode, type FlurryNode } from '../../src/index.js'
import { seededRandom } from '../../src/base/random.js'
import { SimNet } from '../../src/testing/sim.js'
import { stateOf } from '../../src/node/conn.js'

describe('per-node channels', () => {
  it('a peer back after its channel was forgotten is still heard', async () => {
    const net = new SimNet(7)
    const mk = async (name: string, i: number, ttl: number) => {
      const n = await createNode({
        name,
        cookie: 'c',
        clock: net.clock.view(),
        random: seededRandom(i),
        heartbeatIntervalMs: 100,
        heartbeatTimeoutMs: 500,
        sliceTtlMs: ttl,
        reconnect: { minDelayMs: 50, maxDelayMs: 200 },
      })
      await n.listen(net.listen(name))
      return n
    }
    // a forgets b quickly; b remembers a for long: the asymmetric case.
    const a = await mk('a', 1, 1000)
    const b = await mk('b', 2, 600_000)
    const meshed = (x: FlurryNode, y: FlurryNode) => {
      const s = x.core.conns.get(y.id)
      return s !== undefined && s.isOpen && stateOf(s).ready
    }
    void b.connect(net.dialer('b', ['memory://a']))
    expect(await net.run(2000, () => meshed(a, b) && meshed(b, a))).toBe(true)
    const got: unknown[] = []
    const pid = b.spawn(async (ctx) => {
      for (;;) got.push(await ctx.receive())
    })
    for (let i = 0; i < 5; i++) a.send(pid, i)
    expect(await net.run(1000, () => got.length === 5)).toBe(true)
    net.cut('a', 'b')
    expect(await net.run(5000, () => !a.nodes().includes(b.id))).toBe(true)
    await net.run(3000) // a's sweep forgets its channel to b
    net.heal('a', 'b')
    expect(await net.run(5000, () => meshed(a, b) && meshed(b, a))).toBe(true)
    a.send(pid, 'after')
    expect(await net.run(1000, () => got.length === 6)).toBe(true)
    expect(got).toEqual([0, 1, 2, 3, 4, 'after'])
  })
})
