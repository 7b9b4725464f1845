import { describe, expect, it } from 'vitest'
import { createNode, type FlurryNode } from '../../src/index.js'
import { SimNet } from '../../src/testing/sim.js'
import { seededRandom } from '../../src/base/random.js'

describe('sim smoke', () => {
  it('two peers and a client converge', async () => {
    const net = new SimNet(42)
    const mk = (name: string, i: number) =>
      createNode({ name, cookie: 'c', clock: net.clock.view(i * 1000), random: seededRandom(i), heartbeatIntervalMs: 100, heartbeatTimeoutMs: 500 })
    const p1 = await mk('p1', 1)
    const p2 = await mk('p2', 2)
    const c1 = await mk('c1', 3)
    await p1.listen(net.listen('p1'))
    await p2.listen(net.listen('p2'))
    const done: string[] = []
    void p2.connect(net.dialer('p2', ['memory://p1'])).then((id) => done.push(id))
    await net.run(1000, () => done.length === 1)
    void c1.connect(net.dialer('c1', ['memory://p2', 'memory://p1'])).then((id) => done.push(id))
    await net.run(1000, () => done.length === 2)
    const pid = c1.spawn(async (ctx) => { await ctx.receive() })
    expect(c1.global.register('x', pid)).toBe(true)
    await net.run(1000)
    for (const n of [p1, p2, c1] as FlurryNode[]) expect(n.global.whereis('x')?.toString()).toBe(pid.toString())
    net.cut('c1', 'p2')
    await net.run(3000)
    expect(c1.core.home.id).toBe(p1.id)
    for (const n of [p1, p2, c1] as FlurryNode[]) expect(n.global.whereis('x')?.toString()).toBe(pid.toString())
    expect(p1.nodes().sort()).toEqual([p2.id, c1.id].sort())
  })
})
