/** Monitors, local and remote: exactly once, with the exit reason, 'noproc' or 'noconnection'. */
import { afterEach, describe, expect, it } from 'vitest'
import { Pid, type FlurryNode } from '../../src/index.js'
import { SimNet } from '../../src/testing/sim.js'
import { settle, waitFor } from '../../src/testing/wait.js'
import { cluster, HB, thrownCode, twoPeers, simConnect, simNode } from '../node/helpers.js'

const c = cluster()
afterEach(() => c.closeAll())

function idle(node: FlurryNode): Pid {
  return node.spawn(async (ctx) => {
    for (;;) await ctx.receive()
  })
}

describe('remote monitors', () => {
  it('fire once with the exit reason', async () => {
    const [a, b] = await twoPeers(c)
    const pid = idle(b)
    const reasons: unknown[] = []
    a.monitor(pid, (r) => reasons.push(r))
    // The monitor is set up on b before the exit (frames a -> b keep their order).
    a.exit(pid, { why: 'done', n: 1 })
    await waitFor(() => reasons.length === 1, 'the monitor', 2000)
    expect(reasons).toEqual([{ why: 'done', n: 1 }])
    await settle(30)
    expect(reasons.length).toBe(1)
  })

  it("fire with 'normal' when the actor returns, and an error as { error, message }", async () => {
    const [a, b] = await twoPeers(c)
    const returns = b.spawn(async (ctx) => {
      await ctx.receive()
    })
    const throws = b.spawn(async (ctx) => {
      await ctx.receive()
      throw new Error('boom')
    })
    const reasons: Record<string, unknown> = {}
    a.monitor(returns, (r) => (reasons.returns = r))
    a.monitor(throws, (r) => (reasons.throws = r))
    a.send(returns, 'go')
    a.send(throws, 'go')
    await waitFor(() => Object.keys(reasons).length === 2, 'both monitors', 2000)
    expect(reasons.returns).toBe('normal')
    expect(reasons.throws).toMatchObject({ error: 'Error', message: 'boom' })
  })

  it("of a dead pid fire 'noproc'", async () => {
    const [a, b] = await twoPeers(c)
    const reasons: unknown[] = []
    a.monitor(new Pid(b.id, 987654), (r) => reasons.push(r))
    await waitFor(() => reasons.length === 1, 'the monitor', 2000)
    expect(reasons).toEqual(['noproc'])
  })

  it("fire 'noconnection' when the remote node says goodbye", async () => {
    const [a, b] = await twoPeers(c)
    const pid = idle(b)
    const reasons: unknown[] = []
    a.monitor(pid, (r) => reasons.push(r))
    // Wait for the monitor to be in place on b: a round trip over the same channel.
    expect(await a.call(b.spawn(async (ctx) => { await ctx.receive(); ctx.reply('ok') }), 'sync')).toBe('ok')
    await b.close()
    await waitFor(() => reasons.length === 1, 'the monitor', 2000)
    expect(reasons).toEqual(['noconnection'])
    await settle(30)
    expect(reasons.length).toBe(1)
  })

  it("of a pid on a node that is not reachable fire 'noconnection' at once", async () => {
    const a = await c.node()
    const reasons: unknown[] = []
    a.monitor(new Pid('ghost@0123456789abcdef', 1), (r) => reasons.push(r))
    await waitFor(() => reasons.length === 1, 'the monitor', 500)
    expect(reasons).toEqual(['noconnection'])
  })

  it('stop after the returned off()', async () => {
    const [a, b] = await twoPeers(c)
    const pid = idle(b)
    const stopped: unknown[] = []
    const kept: unknown[] = []
    const off = a.monitor(pid, (r) => stopped.push(r))
    a.monitor(pid, (r) => kept.push(r))
    off()
    a.exit(pid, 'bye')
    await waitFor(() => kept.length === 1, 'the kept monitor', 2000)
    await settle(30)
    expect(kept).toEqual(['bye'])
    expect(stopped).toEqual([])
  })
})

describe('local monitors', () => {
  it("of a dead pid fire 'noproc'; off() stops a live one; bad arguments throw BAD_ARGUMENT", async () => {
    const n = await c.node()
    const reasons: unknown[] = []
    n.monitor(new Pid(n.id, 31337), (r) => reasons.push(r))
    await waitFor(() => reasons.length === 1, 'the noproc monitor', 500)
    expect(reasons).toEqual(['noproc'])
    const pid = idle(n)
    const stopped: unknown[] = []
    const off = n.monitor(pid, (r) => stopped.push(r))
    off()
    n.exit(pid, 'x')
    await settle(10)
    expect(stopped).toEqual([])
    expect(thrownCode(() => n.monitor('nope' as unknown as Pid, () => {}))).toBe('BAD_ARGUMENT')
  })

  it('a monitor callback that throws does not stop the others', async () => {
    const n = await c.node()
    const pid = idle(n)
    const got: unknown[] = []
    n.monitor(pid, () => {
      throw new Error('bad callback')
    })
    n.monitor(pid, (r) => got.push(r))
    n.exit(pid, 'x')
    expect(got).toEqual(['x'])
  })
})

describe('remote monitors on heartbeat timeout (simulated time)', () => {
  it("fire 'noconnection' once within heartbeatTimeout + one interval", async () => {
    const net = new SimNet(11)
    const mk = (name: string, i: number) => simNode(net, name, i)
    const a = await mk('a', 1)
    const b = await mk('b', 2)
    try {
      await a.listen(net.listen('a'))
      await b.listen(net.listen('b'))
      expect(await simConnect(net, b, 'b', 'memory://a', () => a.nodes().includes(b.id))).toBe(true)
      const pid = idle(b)
      const reasons: unknown[] = []
      a.monitor(pid, (r) => reasons.push(r))
      await net.run(20)
      const t0 = net.clock.now()
      net.cut('a', 'b')
      expect(await net.run(2000, () => reasons.length > 0)).toBe(true)
      expect(reasons).toEqual(['noconnection'])
      expect(net.clock.now() - t0).toBeLessThanOrEqual(HB.heartbeatTimeoutMs + HB.heartbeatIntervalMs)
      // Healing brings b back (redial), but the monitor never fires again.
      net.heal('a', 'b')
      expect(await net.run(3000, () => a.nodes().includes(b.id))).toBe(true)
      b.exit(pid, 'later')
      await net.run(200)
      expect(reasons).toEqual(['noconnection'])
    } finally {
      await a.close()
      await b.close()
    }
  })
})
