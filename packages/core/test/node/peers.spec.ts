/**
 * The public peer API (node.addPeer, node.peers, node.stats) on a memory network:
 * addPeer by URL through the listener's transport, peers learned from peer lists,
 * a learned peer that closes forgotten, a configured one kept; bad arguments refused.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { waitFor } from '../../src/testing/wait.js'
import { cluster, thrownCode } from './helpers.js'

const c = cluster()
afterEach(() => c.closeAll())

describe('node.addPeer / node.peers', () => {
  it('meshes by URL; a learned peer that closes is forgotten, a configured one is kept', async () => {
    const a = await c.peer('a')
    const b = await c.peer('b')
    const d = await c.peer('d')
    b.addPeer('memory://a')
    d.addPeer(c.net.dial('memory://a'))
    await waitFor(() => [a, b, d].every((n) => n.nodes().length === 2), 'a full mesh of three', 5000)
    const byUrl = (n: typeof a) => Object.fromEntries(n.peers().map((p) => [p.url, p]))
    expect(byUrl(b)['memory://a']).toEqual({ url: 'memory://a', id: a.id, reachable: true, configured: true })
    // b learned d from a's peer list: known, reachable, not configured.
    await waitFor(() => byUrl(b)['memory://d']?.reachable === true, 'b to know d', 5000)
    expect(byUrl(b)['memory://d']).toMatchObject({ id: d.id, configured: false })

    await d.close()
    await waitFor(() => b.nodes().length === 1 && a.nodes().length === 1, 'd gone from a and b', 5000)
    expect(byUrl(b)['memory://d']).toBeUndefined()
    expect(byUrl(a)['memory://d']).toBeUndefined()

    await a.close()
    await waitFor(() => b.nodes().length === 0, 'a gone from b', 5000)
    // b configured a: still listed, unreachable, and redialled.
    expect(byUrl(b)['memory://a']).toMatchObject({ reachable: false, configured: true })
  })

  it('refuses addPeer on a client, for a URL no transport dials, and for a non-dialer', async () => {
    const client = await c.node({ name: 'cl' })
    expect(thrownCode(() => client.addPeer('memory://a'))).toBe('BAD_ARGUMENT')
    const p = await c.peer('p')
    expect(thrownCode(() => p.addPeer('http://example.com/'))).toBe('BAD_ARGUMENT')
    expect(thrownCode(() => p.addPeer({} as never))).toBe('BAD_ARGUMENT')
    expect(p.peers()).toEqual([])
  })
})

describe('node.stats', () => {
  it('counts sessions, traffic and refusals', async () => {
    const a = await c.peer('a')
    const fresh = a.stats()
    expect(fresh).toMatchObject({ nodes: 0, clients: 0, peers: 0, sessions: 0, bytesIn: 0, framesOut: 0, refusals: {} })
    const cl = await c.node({ name: 'cl' })
    await cl.connect(c.net.dial('memory://a'))
    const b = await c.peer('b')
    await b.connect(c.net.dial('memory://a'))
    const wrong = await c.node({ name: 'w', cookie: 'wrong' })
    await expect(wrong.connect(c.net.dial('memory://a'))).rejects.toMatchObject({ code: 'AUTH_FAILED' })
    await waitFor(() => a.stats().handshakeFailures === 1, 'the refused handshake counted', 5000)
    const s = a.stats()
    expect(s).toMatchObject({ nodes: 2, clients: 1, peers: 1, sessions: 2, refusals: { AUTH_FAILED: 1 }, slowConsumerDrops: 0 })
    expect(s.bytesIn).toBeGreaterThan(0)
    expect(s.bytesOut).toBeGreaterThan(0)
    expect(s.framesIn).toBeGreaterThan(2)
    expect(s.framesOut).toBeGreaterThan(2)
  })
})
