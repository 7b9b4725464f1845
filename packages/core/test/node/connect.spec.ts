/** connect errors: cookie, protocol version, nothing at the URL (src/session/session.ts via the node). */
import { afterEach, describe, expect, it } from 'vitest'
import { FlurryError, type FlurryNode } from '../../src/index.js'
import { waitFor } from '../../src/testing/wait.js'
import { cluster, rejectionCode } from './helpers.js'

const c = cluster()
afterEach(() => c.closeAll())

function errors(node: FlurryNode): FlurryError[] {
  const got: FlurryError[] = []
  node.on('error', (err) => got.push(err))
  return got
}

describe('connect errors', () => {
  it('a wrong cookie rejects connect with AUTH_FAILED; the listening node emits error AUTH_FAILED', async () => {
    const a = await c.peer('a')
    const seen = errors(a)
    const intruderClient = await c.node({ name: 'x', cookie: 'wrong' })
    const p = intruderClient.connect(c.net.dial('memory://a'))
    await expect(p).rejects.toBeInstanceOf(FlurryError)
    expect(await rejectionCode(p)).toBe('AUTH_FAILED')
    await waitFor(() => seen.length > 0, 'an error event on a', 1000)
    expect(seen[0]).toBeInstanceOf(FlurryError)
    expect(seen[0]?.code).toBe('AUTH_FAILED')
    expect(a.nodes()).toEqual([])
    expect(intruderClient.nodes()).toEqual([])

    // A peer with the wrong cookie likewise.
    const intruderPeer = await c.peer('y', { cookie: 'wrong' })
    expect(await rejectionCode(intruderPeer.connect(c.net.dial('memory://a')))).toBe('AUTH_FAILED')
    await waitFor(() => seen.length > 1, 'a second error event on a', 1000)
    expect(seen[1]?.code).toBe('AUTH_FAILED')
    expect(a.nodes()).toEqual([])
  })

  it('a client refused once can connect again with nothing left behind', async () => {
    const a = await c.peer('a', { clientCookie: 'pages' })
    const cl = await c.node({ name: 'cl', cookie: 'nope' })
    expect(await rejectionCode(cl.connect(c.net.dial('memory://a')))).toBe('AUTH_FAILED')
    const ok = await c.node({ name: 'ok', cookie: 'pages' })
    expect(await ok.connect(c.net.dial('memory://a'))).toBe(a.id)
    await waitFor(() => a.nodes().includes(ok.id), 'a to count the client', 1000)
    expect(a.nodes()).toEqual([ok.id])
  })

  it('non-overlapping protocol versions reject VERSION_MISMATCH on both ends', async () => {
    const a = await c.peer('a')
    const seen = errors(a)
    const future = await c.node({ name: 'f', protocolVersions: [2, 3] })
    expect(await rejectionCode(future.connect(c.net.dial('memory://a')))).toBe('VERSION_MISMATCH')
    await waitFor(() => seen.length > 0, 'an error event on a', 1000)
    expect(seen[0]?.code).toBe('VERSION_MISMATCH')
    // The other way round: a listener that only speaks a newer version.
    const b = await c.peer('b', { protocolVersions: [2, 3] })
    const old = await c.node({ name: 'o' })
    expect(await rejectionCode(old.connect(c.net.dial('memory://b')))).toBe('VERSION_MISMATCH')
    expect(b.nodes()).toEqual([])
  })

  it('dialing nothing rejects CONNECT_FAILED, for a client and for a peer', async () => {
    const cl = await c.node({ name: 'cl' })
    expect(await rejectionCode(cl.connect(c.net.dial('memory://nobody')))).toBe('CONNECT_FAILED')
    const p = await c.peer('p')
    expect(await rejectionCode(p.connect(c.net.dial('memory://nobody')))).toBe('CONNECT_FAILED')
    // The client can still make a home once something listens.
    await c.peer('nobody')
    await cl.connect(c.net.dial('memory://nobody'))
    expect(cl.nodes().length).toBe(1)
  })

  it('connect and listen check their arguments; a client has one home', async () => {
    const a = await c.peer('a')
    expect(await rejectionCode(a.connect(null as never))).toBe('BAD_ARGUMENT')
    const cl = await c.node({ name: 'cl' })
    await cl.connect(c.net.dial('memory://a'))
    expect(await rejectionCode(cl.connect(c.net.dial('memory://a')))).toBe('BAD_ARGUMENT')
    expect(await rejectionCode(cl.listen(c.net.listen('late')))).toBe('BAD_ARGUMENT')
  })

  it('a closed node refuses connect, listen and spawn with CLOSED', async () => {
    await c.peer('a')
    const n = await c.node()
    await n.close()
    expect(await rejectionCode(n.connect(c.net.dial('memory://a')))).toBe('CLOSED')
    expect(await rejectionCode(n.listen(c.net.listen('z')))).toBe('CLOSED')
    let code: string | undefined
    try {
      n.spawn(async () => {})
    } catch (err) {
      code = (err as FlurryError).code
    }
    expect(code).toBe('CLOSED')
  })
})
