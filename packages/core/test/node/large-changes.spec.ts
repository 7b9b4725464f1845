/**
 * Changes too big for one frame: many registrations (or an actor with many names
 * exiting) in one task leave as several deltas, each under the frame limit, and every
 * peer ends with the same table. Hidden slices are forgotten after sliceTtlMs.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { waitFor } from '../../src/testing/wait.js'
import type { Registry } from '../../src/global/registry.js'
import { cluster } from './helpers.js'

const c = cluster()
afterEach(() => c.closeAll())

describe('changes bigger than a frame', () => {
  it('20k registrations in one task reach the other peer, then an exit removes them all', async () => {
    const limits = { maxFrameBytes: 64 * 1024 }
    const a = await c.peer('a', limits)
    const b = await c.peer('b', limits)
    await b.connect(c.net.dial('memory://a'))
    const pid = a.spawn(async (ctx) => {
      await ctx.receive()
    })
    const n = 20_000
    for (let i = 0; i < n; i++) expect(a.global.register(`name:${i}`, pid)).toBe(true)
    await waitFor(() => b.global.names().length === n, `all ${n} names on b`, 10_000)
    expect(b.global.whereis('name:19999')?.equals(pid)).toBe(true)
    a.exit(pid, 'done')
    await waitFor(() => b.global.names().length === 0, 'every name gone on b', 10_000)
    expect(a.global.names()).toEqual([])
  })

  it('a hidden slice is forgotten after sliceTtlMs', async () => {
    const a = await c.peer('a', { sliceTtlMs: 200 })
    const client = await c.node({ name: 'c' })
    await client.connect(c.net.dial('memory://a'))
    const pid = client.spawn(async (ctx) => {
      await ctx.receive()
    })
    client.global.register('x', pid)
    await waitFor(() => a.global.whereis('x') !== undefined, 'x on a')
    const store = a.core.store as Registry
    await client.close()
    await waitFor(() => a.global.whereis('x') === undefined, 'x gone on a')
    expect(store.has(client.id)).toBe(true)
    await waitFor(() => !store.has(client.id), 'the hidden slice dropped', 5000)
  })
})
