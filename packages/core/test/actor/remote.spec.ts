/**
 * Actors across nodes: calls, replies, pids inside messages, order per pair and the
 * frame limit, over real in-memory links (src/actor/actors.ts over src/node/router.ts).
 */
import { afterEach, describe, expect, it } from 'vitest'
import { Pid } from '../../src/index.js'
import { SimNet } from '../../src/testing/sim.js'
import { waitFor } from '../../src/testing/wait.js'
import { cluster, echo, HB, rejectionCode, thrownCode, twoPeers, simConnect, simNode } from '../node/helpers.js'

const c = cluster()
afterEach(() => c.closeAll())

/**
 * "At once" (DESIGN.md: a call whose target ends or whose node goes down rejects at
 * once): one delivery, no timer. The bound is margin for a loaded 2-core machine and
 * stays far below CALL_TIMEOUT_MS, so a rejection that waited for the timeout fails.
 */
const AT_ONCE_MS = 1000
const CALL_TIMEOUT_MS = 5000

describe('calls across two nodes', () => {
  it('the reply value arrives', async () => {
    const [a, b] = await twoPeers(c)
    const pid = echo(b)
    expect(await a.call(pid, { n: 1, list: ['x', null, true] })).toEqual(['echo', { n: 1, list: ['x', null, true] }])
    const bytes = await a.call(pid, new Uint8Array([1, 2, 3]))
    expect(bytes[1]).toBeInstanceOf(Uint8Array)
    expect([...bytes[1]]).toEqual([1, 2, 3])
  })

  it('a call by global name reaches the remote actor', async () => {
    const [a, b] = await twoPeers(c)
    const pid = echo(b, 'named')
    expect(b.global.register('svc:echo', pid)).toBe(true)
    await waitFor(() => a.global.whereis('svc:echo') !== undefined, 'the name on a', 2000)
    expect(await a.call('svc:echo', 'hi')).toEqual(['named', 'hi'])
  })

  it('a call to a dead remote pid rejects NO_PROCESS at once', async () => {
    const [a, b] = await twoPeers(c)
    const pid = b.spawn(async () => {})
    let ended = false
    b.monitor(pid, () => (ended = true))
    await waitFor(() => ended, 'the actor to end', 1000)
    const t0 = Date.now()
    expect(await rejectionCode(a.call(pid, 'x', { timeoutMs: CALL_TIMEOUT_MS }))).toBe('NO_PROCESS')
    expect(Date.now() - t0).toBeLessThan(AT_ONCE_MS)
    // A pid that never existed likewise.
    expect(await rejectionCode(a.call(new Pid(b.id, 424242), 'x', { timeoutMs: CALL_TIMEOUT_MS }))).toBe('NO_PROCESS')
    expect(Date.now() - t0).toBeLessThan(2 * AT_ONCE_MS)
  })

  it('a call whose target exits while handling it rejects NO_PROCESS at once', async () => {
    const [a, b] = await twoPeers(c)
    const pid = b.spawn(async (ctx) => {
      await ctx.receive()
      throw new Error('died handling the call')
    })
    const t0 = Date.now()
    expect(await rejectionCode(a.call(pid, 'x', { timeoutMs: CALL_TIMEOUT_MS }))).toBe('NO_PROCESS')
    expect(Date.now() - t0).toBeLessThan(AT_ONCE_MS)
  })

  it('a call whose target is exited by node.exit from the caller rejects NO_PROCESS', async () => {
    const [a, b] = await twoPeers(c)
    let handling = false
    const pid = b.spawn(async (ctx) => {
      await ctx.receive()
      handling = true
      await ctx.receive()
    })
    const call = a.call(pid, 'x', { timeoutMs: CALL_TIMEOUT_MS })
    await waitFor(() => handling, 'the call to be handled', 1000)
    a.exit(pid, 'stop')
    expect(await rejectionCode(call)).toBe('NO_PROCESS')
  })

  it('a call to a node that closes rejects NODE_DOWN at once', async () => {
    const [a, b] = await twoPeers(c)
    let handling = false
    const pid = b.spawn(async (ctx) => {
      await ctx.receive()
      handling = true
      await ctx.receive()
    })
    const call = a.call(pid, 'x', { timeoutMs: CALL_TIMEOUT_MS })
    await waitFor(() => handling, 'the call to be handled', 1000)
    const t0 = Date.now()
    await b.close()
    // close() says goodbye before it stops its actors: the caller sees the node go.
    expect(await rejectionCode(call)).toBe('NODE_DOWN')
    expect(Date.now() - t0).toBeLessThan(AT_ONCE_MS)
    // A call to a node that is already gone rejects NODE_DOWN without waiting.
    await waitFor(() => !a.nodes().includes(b.id), 'b to be down on a', 1000)
    const t1 = Date.now()
    expect(await rejectionCode(a.call(pid, 'y', { timeoutMs: CALL_TIMEOUT_MS }))).toBe('NODE_DOWN')
    expect(Date.now() - t1).toBeLessThan(AT_ONCE_MS)
  })

  it('a call to a node that goes down with its actors alive rejects NODE_DOWN at once', async () => {
    // c is a client of b; a calls c's actor; b closes, so c is gone for a (home-down).
    const [a, b] = await twoPeers(c)
    const cl = await c.node({ name: 'cl' })
    await cl.connect(c.net.dial('memory://b'))
    await waitFor(() => a.nodes().includes(cl.id), 'a to reach the client', 2000)
    let handling = false
    const pid = cl.spawn(async (ctx) => {
      await ctx.receive()
      handling = true
      await ctx.receive()
    })
    const call = a.call(pid, 'x', { timeoutMs: CALL_TIMEOUT_MS })
    await waitFor(() => handling, 'the call to be handled', 1000)
    const t0 = Date.now()
    await b.close()
    expect(await rejectionCode(call)).toBe('NODE_DOWN')
    expect(Date.now() - t0).toBeLessThan(AT_ONCE_MS)
  })

  it('a call with no reply rejects TIMEOUT after about timeoutMs', async () => {
    const [a, b] = await twoPeers(c)
    const pid = b.spawn(async (ctx) => {
      for (;;) await ctx.receive()
    })
    const t0 = Date.now()
    expect(await rejectionCode(a.call(pid, 'x', { timeoutMs: 120 }))).toBe('TIMEOUT')
    const took = Date.now() - t0
    expect(took).toBeGreaterThanOrEqual(115)
    // Not long after timeoutMs: the timer plus margin for a loaded 2-core machine.
    expect(took).toBeLessThan(120 + AT_ONCE_MS)
    // A late reply after the timeout is dropped, and the next call works.
    const answering = echo(b)
    expect(await a.call(answering, 1)).toEqual(['echo', 1])
  })

  it('a call rejects BAD_ARGUMENT for a timeoutMs that is not positive', async () => {
    const [a, b] = await twoPeers(c)
    expect(await rejectionCode(a.call(echo(b), 'x', { timeoutMs: 0 }))).toBe('BAD_ARGUMENT')
  })

  it('a message over maxFrameBytes throws FRAME_TOO_LARGE at send and call; nothing is delivered', async () => {
    const [a, b] = await twoPeers(c, { maxFrameBytes: 4096 })
    const got: unknown[] = []
    const pid = b.spawn(async (ctx) => {
      for (;;) {
        const m = await ctx.receive()
        got.push(m)
        if (m === 'after') ctx.reply('ok')
      }
    })
    const big = new Uint8Array(8192)
    expect(thrownCode(() => a.send(pid, big))).toBe('FRAME_TOO_LARGE')
    expect(await rejectionCode(a.call(pid, { big }))).toBe('FRAME_TOO_LARGE')
    // The session is unharmed: the next message is the first one delivered.
    a.send(pid, 'small')
    expect(await a.call(pid, 'after')).toBe('ok')
    expect(got).toEqual(['small', 'after'])
    expect(a.nodes()).toContain(b.id)
  })
})

describe('calls to a node that crashes (simulated time)', () => {
  it('reject NODE_DOWN once heartbeats time out, not at the call timeout', async () => {
    const net = new SimNet(7)
    const mk = (name: string, i: number) => simNode(net, name, i)
    const a = await mk('a', 1)
    const b = await mk('b', 2)
    try {
      await a.listen(net.listen('a'))
      await b.listen(net.listen('b'))
      expect(await simConnect(net, b, 'b', 'memory://a', () => a.nodes().includes(b.id))).toBe(true)
      const pid = b.spawn(async (ctx) => {
        for (;;) await ctx.receive()
      })
      let code: string | undefined
      void rejectionCode(a.call(pid, 'x', { timeoutMs: 10_000 })).then((x) => (code = x))
      await net.run(20)
      const t0 = net.clock.now()
      net.crash('b', ['a', 'b'])
      expect(await net.run(5000, () => code !== undefined)).toBe(true)
      expect(code).toBe('NODE_DOWN')
      expect(net.clock.now() - t0).toBeLessThanOrEqual(HB.heartbeatTimeoutMs + HB.heartbeatIntervalMs)
    } finally {
      await a.close()
      await b.close()
    }
  })
})

describe('messages across nodes', () => {
  it('pids nested in messages arrive as Pid instances usable for replies', async () => {
    const [a, b] = await twoPeers(c)
    const answers: unknown[] = []
    const asker = a.spawn(async (ctx) => {
      for (;;) answers.push(await ctx.receive())
    })
    const other = a.spawn(async (ctx) => {
      for (;;) answers.push(['other', await ctx.receive()])
    })
    let seen: unknown
    const replier = b.spawn(async (ctx) => {
      const m = await ctx.receive()
      seen = m
      ctx.send(m.from, { pong: true, me: ctx.self })
      for (const p of m.more.list) ctx.send(p, 'to nested')
    })
    a.send(replier, { from: asker, more: { list: [other] } })
    await waitFor(() => answers.length === 2, 'both answers', 2000)
    const m = seen as { from: Pid; more: { list: Pid[] } }
    expect(m.from).toBeInstanceOf(Pid)
    expect(m.from.equals(asker)).toBe(true)
    expect(m.more.list[0]).toBeInstanceOf(Pid)
    expect(m.more.list[0]?.equals(other)).toBe(true)
    const pong = answers.find((x) => !Array.isArray(x)) as { pong: boolean; me: Pid }
    expect(pong.me).toBeInstanceOf(Pid)
    expect(pong.me.equals(replier)).toBe(true)
    expect(answers).toContainEqual(['other', 'to nested'])
  })

  it('10k messages between two actors arrive in order, each once', async () => {
    const [a, b] = await twoPeers(c)
    const N = 10_000
    const got: number[] = []
    const sink = b.spawn(async (ctx) => {
      for (;;) got.push(await ctx.receive())
    })
    a.spawn(async (ctx) => {
      for (let i = 0; i < N; i++) ctx.send(sink, i)
    })
    await waitFor(() => got.length >= N, `${N} messages`, 10_000)
    expect(got.length).toBe(N)
    let ordered = true
    for (let i = 0; i < N; i++) if (got[i] !== i) ordered = false
    expect(ordered).toBe(true)
  })
})
