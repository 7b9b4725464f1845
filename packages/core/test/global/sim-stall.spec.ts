/**
 * SimNet's event-loop stall, which the convergence property's stall schedules use:
 * while a node is stalled none of its timers run and nothing reaches it; when the
 * stall ends its backlog runs as in a real process (the timers that came due, in due
 * order, then the queued I/O in arrival order), with the clock already at the end.
 */
import { describe, expect, it } from 'vitest'
import { SimNet } from '../../src/testing/sim.js'

async function dialed(net: SimNet, from: string, to: string) {
  const accepted: Array<{ onmessage: ((d: Uint8Array) => void) | null; send(d: Uint8Array): void }> = []
  await net.listen(to).listen(async (l) => accepted.push(l))
  const a = await net.dialer(from, [`memory://${to}`]).dial()
  return { a, accepted }
}

describe('SimNet stalls', () => {
  it('holds timers and deliveries of the stalled node, then runs timers first and I/O in arrival order', async () => {
    const net = new SimNet(7)
    const clock = net.clock.view(0, 'x')
    const other = net.clock.view(0, 'y')
    const seen: string[] = []
    const { a, accepted } = await dialed(net, 'y', 'x')
    const b = accepted[0]
    if (b === undefined) throw new Error('no link accepted')
    b.onmessage = (d) => seen.push(`frame ${d[0]} at ${clock.now() - t0}`)
    const t0 = clock.now()
    net.stall('x', 3000)
    clock.setTimeout(() => seen.push(`x timer 500 at ${clock.now() - t0}`), 500)
    clock.setTimeout(() => seen.push(`x timer 100 at ${clock.now() - t0}`), 100)
    other.setTimeout(() => {
      seen.push(`y timer at ${other.now() - t0}`)
      a.send(new Uint8Array([1]))
      a.send(new Uint8Array([2]))
    }, 200)
    net.inject('x', () => seen.push(`injected at ${clock.now() - t0}`))
    await net.run(2000)
    expect(seen).toEqual(['y timer at 200'])
    expect(net.isStalled('x')).toBe(true)
    await net.run(2000)
    expect(net.isStalled('x')).toBe(false)
    expect(seen).toEqual(['y timer at 200', 'x timer 100 at 3000', 'x timer 500 at 3000', 'injected at 3000', 'frame 1 at 3000', 'frame 2 at 3000'])
  })

  it('a stalled listener accepts a dial only when its loop runs again, before the frames sent on it', async () => {
    const net = new SimNet(8)
    const clock = net.clock.view(0, 'x')
    const seen: string[] = []
    const t0 = clock.now()
    await net.listen('x').listen(async (l) => {
      seen.push(`accepted at ${clock.now() - t0}`)
      l.onmessage = (d) => seen.push(`frame ${d[0]}`)
    })
    net.stall('x', 1000)
    const a = await net.dialer('y', ['memory://x']).dial()
    a.send(new Uint8Array([9]))
    await net.run(500)
    expect(seen).toEqual([])
    await net.run(1000)
    expect(seen).toEqual(['accepted at 1000', 'frame 9'])
  })

  it('a crash ends the stall: nothing of the dead node runs later', async () => {
    const net = new SimNet(9)
    const clock = net.clock.view(0, 'x')
    const seen: string[] = []
    net.stall('x', 1000)
    clock.setTimeout(() => seen.push('timer'), 10)
    await net.run(100)
    net.crash('x', ['x', 'y'])
    clock.kill()
    await net.run(2000)
    expect(net.isStalled('x')).toBe(false)
    expect(seen).toEqual([])
  })
})
