/** Actors on one node (src/actor/actor.ts, src/actor/actors.ts) through the public API. */
import { afterEach, describe, expect, it } from 'vitest'
import { FlurryError, Pid } from '../../src/index.js'
import { waitFor, settle } from '../../src/testing/wait.js'
import { cluster, rejectionCode, thrownCode } from '../node/helpers.js'

const c = cluster()
afterEach(() => c.closeAll())

describe('spawn and receive', () => {
  it('spawn returns a Pid at once, before the body runs', async () => {
    const n = await c.node({ name: 'n' })
    let started = false
    const pid = n.spawn(async () => {
      started = true
    })
    expect(pid).toBeInstanceOf(Pid)
    expect(pid.node).toBe(n.id)
    expect(typeof pid.id).toBe('number')
    expect(pid.toString()).toBe(`<${n.id}.${pid.id}>`)
    expect(started).toBe(false)
    await waitFor(() => started, 'the actor body to run', 1000)
  })

  it('receives messages in the order sent', async () => {
    const n = await c.node()
    const got: number[] = []
    const pid = n.spawn(async (ctx) => {
      for (let i = 0; i < 100; i++) got.push(await ctx.receive())
    })
    for (let i = 0; i < 100; i++) n.send(pid, i)
    await waitFor(() => got.length === 100, '100 messages', 1000)
    expect(got).toEqual([...Array(100).keys()])
  })

  it('receive({ timeoutMs }) rejects TIMEOUT when nothing comes', async () => {
    const n = await c.node()
    let err: unknown
    const t0 = Date.now()
    n.spawn(async (ctx) => {
      try {
        await ctx.receive({ timeoutMs: 40 })
      } catch (e) {
        err = e
      }
    })
    await waitFor(() => err !== undefined, 'receive to time out', 1000)
    expect(err).toBeInstanceOf(FlurryError)
    expect((err as FlurryError).code).toBe('TIMEOUT')
    expect(Date.now() - t0).toBeGreaterThanOrEqual(35)
  })

  it('a message arriving in time beats the receive timeout', async () => {
    const n = await c.node()
    let got: unknown
    const pid = n.spawn(async (ctx) => {
      got = await ctx.receive({ timeoutMs: 1000 })
    })
    n.send(pid, 'hi')
    await waitFor(() => got !== undefined, 'the message', 1000)
    expect(got).toBe('hi')
  })
})

describe('actor ends', () => {
  it("an actor that returns ends with 'normal'", async () => {
    const n = await c.node()
    const reasons: unknown[] = []
    const pid = n.spawn(async (ctx) => {
      await ctx.receive()
    })
    n.monitor(pid, (r) => reasons.push(r))
    n.send(pid, 'go')
    await waitFor(() => reasons.length === 1, 'the monitor', 1000)
    expect(reasons).toEqual(['normal'])
  })

  it('an actor that throws ends with the error', async () => {
    const n = await c.node()
    const boom = new Error('boom')
    const reasons: unknown[] = []
    const pid = n.spawn(async (ctx) => {
      await ctx.receive()
      throw boom
    })
    n.monitor(pid, (r) => reasons.push(r))
    n.send(pid, 'go')
    await waitFor(() => reasons.length === 1, 'the monitor', 1000)
    expect(reasons[0]).toBe(boom)
    // Other actors keep running.
    let alive = false
    n.spawn(async () => {
      alive = true
    })
    await waitFor(() => alive, 'another actor to run', 1000)
  })

  it('node.exit(pid, reason) ends it; its monitors get the reason and its receive rejects', async () => {
    const n = await c.node()
    let receiveErr: unknown
    let waiting = false
    const pid = n.spawn(async (ctx) => {
      waiting = true
      try {
        await ctx.receive()
      } catch (e) {
        receiveErr = e
      }
    })
    const r1: unknown[] = []
    const r2: unknown[] = []
    n.monitor(pid, (r) => r1.push(r))
    n.monitor(pid, (r) => r2.push(r))
    await waitFor(() => waiting, 'the actor to wait in receive', 1000)
    n.exit(pid, 'shutdown-now')
    expect(r1).toEqual(['shutdown-now'])
    expect(r2).toEqual(['shutdown-now'])
    await waitFor(() => receiveErr !== undefined, 'the pending receive to reject', 1000)
    expect((receiveErr as FlurryError).code).toBe('NO_PROCESS')
    // Exiting again does nothing more.
    n.exit(pid, 'again')
    await settle(10)
    expect(r1).toEqual(['shutdown-now'])
  })

  it('node.exit without a Pid throws BAD_ARGUMENT', async () => {
    const n = await c.node()
    expect(thrownCode(() => n.exit('x' as unknown as Pid))).toBe('BAD_ARGUMENT')
  })
})

describe('sends', () => {
  it('a message to a dead local pid is dropped silently', async () => {
    const n = await c.node()
    const pid = n.spawn(async () => {})
    const reasons: unknown[] = []
    n.monitor(pid, (r) => reasons.push(r))
    await waitFor(() => reasons.length === 1, 'the actor to end', 1000)
    expect(() => n.send(pid, 'late')).not.toThrow()
    expect(() => n.send(new Pid(n.id, 99999), 'never')).not.toThrow()
  })

  it('a send by an unknown name throws NAME_NOT_FOUND', async () => {
    const n = await c.node()
    expect(thrownCode(() => n.send('nobody', 'hi'))).toBe('NAME_NOT_FOUND')
    expect(await rejectionCode(n.call('nobody', 'hi'))).toBe('NAME_NOT_FOUND')
  })

  it('a send by a registered name reaches the actor', async () => {
    const n = await c.node()
    let got: unknown
    const pid = n.spawn(async (ctx) => {
      got = await ctx.receive()
    })
    expect(n.global.register('svc', pid)).toBe(true)
    n.send('svc', 'by name')
    await waitFor(() => got !== undefined, 'the message by name', 1000)
    expect(got).toBe('by name')
  })

  it('a local send passes the same object, not a copy', async () => {
    const n = await c.node()
    let got: unknown
    const pid = n.spawn(async (ctx) => {
      got = await ctx.receive()
    })
    const msg = { nested: { list: [1, 2, 3] }, bytes: new Uint8Array([1]) }
    n.send(pid, msg)
    await waitFor(() => got !== undefined, 'the message', 1000)
    expect(got).toBe(msg)
  })

  it('ctx.send from one actor to another, and by name', async () => {
    const n = await c.node()
    const got: unknown[] = []
    const sink = n.spawn(async (ctx) => {
      for (;;) got.push(await ctx.receive())
    })
    n.global.register('sink', sink)
    n.spawn(async (ctx) => {
      ctx.send(sink, 'by pid')
      ctx.send('sink', 'by name')
    })
    await waitFor(() => got.length === 2, 'two messages', 1000)
    expect(got).toEqual(['by pid', 'by name'])
  })
})

describe('local calls and reply', () => {
  it('ctx.reply outside a call throws BAD_ARGUMENT', async () => {
    const n = await c.node()
    let code: string | undefined
    const pid = n.spawn(async (ctx) => {
      code = thrownCode(() => ctx.reply('nobody asked'))
      await ctx.receive()
      code += ',' + thrownCode(() => ctx.reply('a plain send is not a call'))
    })
    n.send(pid, 'plain')
    await waitFor(() => code?.includes(',') === true, 'both replies to throw', 1000)
    expect(code).toBe('BAD_ARGUMENT,BAD_ARGUMENT')
  })

  it('a local call gets the reply; a second reply to the same call throws BAD_ARGUMENT', async () => {
    const n = await c.node()
    let second: string | undefined
    const pid = n.spawn(async (ctx) => {
      const m = await ctx.receive()
      ctx.reply(m * 2)
      second = thrownCode(() => ctx.reply('again'))
    })
    expect(await n.call(pid, 21)).toBe(42)
    await waitFor(() => second !== undefined, 'the second reply', 1000)
    expect(second).toBe('BAD_ARGUMENT')
  })

  it('a local call to a dead pid rejects NO_PROCESS; one never answered rejects TIMEOUT', async () => {
    const n = await c.node()
    expect(await rejectionCode(n.call(new Pid(n.id, 12345), 'x'))).toBe('NO_PROCESS')
    const silent = n.spawn(async (ctx) => {
      for (;;) await ctx.receive()
    })
    const t0 = Date.now()
    expect(await rejectionCode(n.call(silent, 'x', { timeoutMs: 50 }))).toBe('TIMEOUT')
    expect(Date.now() - t0).toBeGreaterThanOrEqual(45)
  })

  it('a local call whose target exits while handling rejects NO_PROCESS at once', async () => {
    const n = await c.node()
    const pid = n.spawn(async (ctx) => {
      await ctx.receive()
      throw new Error('crashed while handling')
    })
    const t0 = Date.now()
    expect(await rejectionCode(n.call(pid, 'x', { timeoutMs: 5000 }))).toBe('NO_PROCESS')
    // At once: margin for a loaded 2-core machine, far below the call's 5 s timeout.
    expect(Date.now() - t0).toBeLessThan(1000)
  })
})
