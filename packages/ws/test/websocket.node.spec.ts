import { createServer as createHttpServer } from 'node:http'
import type { Server } from 'node:http'
import { createServer as createTcpServer } from 'node:net'
import type { Socket } from 'node:net'
import { isFlurryError } from '@flurry/core'
import type { Dialer, Link, Listener } from '@flurry/core'
import { settle, waitFor, rejection } from '@flurry/core/testing'
import { linkSuite } from '@flurry/core/testing/suites'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket, WebSocketServer } from 'ws'
import { dialWebSocket, listenWebSocket } from '../src/index.js'
import type { ListenWebSocketInit } from '../src/index.js'

linkSuite('ws', async () => {
  const accepted: Link[] = []
  const listener = await listenWebSocket({ port: 0 }).listen((link) => accepted.push(link))
  const a = await dialWebSocket(listener.url).dial()
  await waitFor(() => accepted.length === 1, 'the accepted link')
  return { a, b: accepted[0] as Link, cleanup: () => listener.close() }
})

/** A link's events, taken as soon as the link is had. */
interface Watched {
  link: Link
  got: Uint8Array[]
  closes: string[]
}
function watch(link: Link): Watched {
  const w: Watched = { link, got: [], closes: [] }
  link.onmessage = (data) => w.got.push(data)
  link.onclose = (reason) => w.closes.push(reason)
  return w
}


describe('WebSocket links', () => {
  const cleanups: Array<() => unknown> = []
  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn()
  })

  async function listen(init: ListenWebSocketInit = {}): Promise<{ listener: Listener; accepted: Watched[] }> {
    const accepted: Watched[] = []
    const listener = await listenWebSocket({ port: 0, ...init }).listen((link) => accepted.push(watch(link)))
    cleanups.push(() => listener.close())
    return { listener, accepted }
  }

  async function httpServer(): Promise<Server> {
    const server = createHttpServer((_req, res) => res.end('hello'))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve())
          server.closeAllConnections()
        }),
    )
    return server
  }

  /** A URL where nothing listens: a port we held a moment ago. */
  async function deadUrl(): Promise<string> {
    const server = await httpServer()
    const { port } = server.address() as { port: number }
    await new Promise<void>((resolve) => server.close(() => resolve()))
    return `ws://127.0.0.1:${port}/flurry`
  }

  it('reports the real port in its URL', async () => {
    const { listener } = await listen()
    expect(listener.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/flurry$/)
    expect(listener.url).not.toMatch(/:0\//)
  })

  it('tells the accepted link where it comes from, and delivers plain Uint8Arrays', async () => {
    const { listener, accepted } = await listen()
    const a = watch(await dialWebSocket(listener.url, { headers: { Origin: 'https://app.example' } }).dial())
    await waitFor(() => accepted.length === 1, 'the accepted link')
    const b = accepted[0] as Watched
    expect(b.link.kind).toBe('ws')
    expect(a.link.kind).toBe('ws')
    expect(b.link.remote).toEqual({ origin: 'https://app.example', address: '127.0.0.1' })
    a.link.send(new Uint8Array([1, 2, 3]))
    b.link.send(new Uint8Array([4, 5]))
    await waitFor(() => a.got.length === 1 && b.got.length === 1, 'a message each way')
    for (const m of [a.got[0], b.got[0]]) expect(Object.getPrototypeOf(m)).toBe(Uint8Array.prototype)
    expect([...(b.got[0] as Uint8Array)]).toEqual([1, 2, 3])
  })

  it('rejects with CONNECT_FAILED naming the URL when nothing listens', async () => {
    const url = await deadUrl()
    const err = await rejection(dialWebSocket(url).dial())
    expect(isFlurryError(err, 'CONNECT_FAILED')).toBe(true)
    expect((err as Error).message).toContain(url)
    expect((err as Error).message).toContain('ECONNREFUSED')
  })

  it('rejects with CONNECT_FAILED for a malformed URL', async () => {
    const err = await rejection(dialWebSocket('not a url').dial())
    expect(isFlurryError(err, 'CONNECT_FAILED')).toBe(true)
  })

  it('rejects with CONNECT_FAILED on a wrong path of its own server (404)', async () => {
    const { listener } = await listen()
    const err = await rejection(dialWebSocket(listener.url.replace('/flurry', '/nope')).dial())
    expect(isFlurryError(err, 'CONNECT_FAILED')).toBe(true)
    expect((err as Error).message).toContain('404')
  })

  describe('against a server that never answers the upgrade', () => {
    async function silentServer(): Promise<{ url: string; sockets: Socket[]; cut: Socket[] }> {
      const sockets: Socket[] = []
      const cut: Socket[] = []
      const server = createTcpServer((socket) => {
        sockets.push(socket)
        socket.resume() // read (and drop) the upgrade request, so the close is seen
        socket.on('close', () => cut.push(socket))
      })
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      cleanups.push(
        () =>
          new Promise<void>((resolve) => {
            for (const s of sockets) s.destroy()
            server.close(() => resolve())
          }),
      )
      const { port } = server.address() as { port: number }
      return { url: `ws://127.0.0.1:${port}/flurry`, sockets, cut }
    }

    it('rejects with ABORTED when the signal is aborted already', async () => {
      const { url, sockets } = await silentServer()
      const err = await rejection(dialWebSocket(url).dial({ signal: AbortSignal.abort() }))
      expect(isFlurryError(err, 'ABORTED')).toBe(true)
      await settle()
      expect(sockets).toEqual([]) // checked before any attempt
    })

    it('rejects with ABORTED when aborted while connecting', async () => {
      const { url, sockets, cut } = await silentServer()
      const abort = new AbortController()
      const dialing = rejection(dialWebSocket(url).dial({ signal: abort.signal }))
      await waitFor(() => sockets.length === 1, 'the TCP connection')
      abort.abort()
      const err = await dialing
      expect(isFlurryError(err, 'ABORTED')).toBe(true)
      // The attempt's socket is cut, not left open.
      await waitFor(() => cut.length === 1, 'the socket cut')
    })

    it('rejects with CONNECT_FAILED after the connect timeout', async () => {
      const { url } = await silentServer()
      const started = Date.now()
      const err = await rejection(dialWebSocket(url, { connectTimeoutMs: 200 }).dial())
      expect(isFlurryError(err, 'CONNECT_FAILED')).toBe(true)
      expect((err as Error).message).toContain(url)
      expect(Date.now() - started).toBeLessThan(5000)
    })
  })

  describe('Origin allowlist', () => {
    it('refuses an upgrade from an origin not listed with HTTP 403', async () => {
      const { listener, accepted } = await listen({ origins: ['https://good.example'] })
      const err = await rejection(dialWebSocket(listener.url, { headers: { Origin: 'https://evil.example' } }).dial())
      expect(isFlurryError(err, 'CONNECT_FAILED')).toBe(true)
      expect((err as Error).message).toContain('403')
      expect(accepted).toEqual([])
    })

    it('lets in listed origins and requests without Origin', async () => {
      const { listener, accepted } = await listen({ origins: ['https://good.example'] })
      const good = await dialWebSocket(listener.url, { headers: { Origin: 'https://good.example' } }).dial()
      const bare = await dialWebSocket(listener.url).dial()
      await waitFor(() => accepted.length === 2, 'both links accepted')
      expect(accepted.map((w) => w.link.remote?.origin).sort()).toEqual(['https://good.example', undefined])
      good.close()
      bare.close()
    })
  })

  describe('message size limit', () => {
    it('closes with "message too big" on both sides when the listener gets too much', async () => {
      const { listener, accepted } = await listen({ maxMessageBytes: 1024 })
      const a = watch(await dialWebSocket(listener.url).dial())
      await waitFor(() => accepted.length === 1, 'the accepted link')
      const b = accepted[0] as Watched
      a.link.send(new Uint8Array(1024)) // at the limit: fine
      await waitFor(() => b.got.length === 1, 'the message at the limit')
      a.link.send(new Uint8Array(1025))
      await waitFor(() => a.closes.length === 1 && b.closes.length === 1, 'both links closed')
      expect(b.closes).toEqual(['message too big'])
      expect(a.closes).toEqual(['message too big'])
      expect(b.got.length).toBe(1)
    })

    it('closes with "message too big" when the dialer gets too much', async () => {
      const { listener, accepted } = await listen()
      const a = watch(await dialWebSocket(listener.url, { maxMessageBytes: 100 }).dial())
      await waitFor(() => accepted.length === 1, 'the accepted link')
      const b = accepted[0] as Watched
      b.link.send(new Uint8Array(101))
      await waitFor(() => a.closes.length === 1 && b.closes.length === 1, 'both links closed')
      expect(a.closes).toEqual(['message too big'])
      expect(b.closes).toEqual(['message too big'])
    })
  })

  describe('on an existing HTTP server', () => {
    it('takes upgrades on its path, leaves plain requests to the server, and detaches on close', async () => {
      const server = await httpServer()
      const { port } = server.address() as { port: number }
      const accepted: Watched[] = []
      const listener = await listenWebSocket({ server, path: '/ws' }).listen((link) => accepted.push(watch(link)))
      cleanups.push(() => listener.close())
      expect(listener.url).toBe(`ws://127.0.0.1:${port}/ws`)

      const a = watch(await dialWebSocket(listener.url).dial())
      await waitFor(() => accepted.length === 1, 'the accepted link')
      a.link.send(new Uint8Array([7]))
      await waitFor(() => (accepted[0] as Watched).got.length === 1, 'a message')
      expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('hello')

      await listener.close()
      await waitFor(() => a.closes.length === 1, 'the dialed link closed')
      expect(a.closes).toEqual(['listener closed'])
      expect((accepted[0] as Watched).closes).toEqual(['listener closed'])
      // The server itself still serves, but no longer upgrades.
      expect(server.listening).toBe(true)
      expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('hello')
      const err = await rejection(dialWebSocket(listener.url, { connectTimeoutMs: 2000 }).dial())
      expect(isFlurryError(err, 'CONNECT_FAILED')).toBe(true)
    })

    it("with otherPaths: 'refuse', answers upgrades to other paths with 404 at once", async () => {
      const server = await httpServer()
      const listener = await listenWebSocket({ server, path: '/ws', otherPaths: 'refuse' }).listen(() => {})
      cleanups.push(() => listener.close())
      const { port } = server.address() as { port: number }
      const err = await rejection(dialWebSocket(`ws://127.0.0.1:${port}/other`, { connectTimeoutMs: 5000 }).dial())
      expect(isFlurryError(err, 'CONNECT_FAILED')).toBe(true)
      expect((err as Error).message).toContain('404')
    })

    it('refuses to attach to a server that is not listening', async () => {
      const server = createHttpServer()
      const err = await rejection(listenWebSocket({ server }).listen(() => {}))
      expect(isFlurryError(err, 'BAD_ARGUMENT')).toBe(true)
    })
  })

  it('closing the listener closes its links and its port', async () => {
    const { listener, accepted } = await listen()
    const a = watch(await dialWebSocket(listener.url).dial())
    await waitFor(() => accepted.length === 1, 'the accepted link')
    await listener.close()
    await waitFor(() => a.closes.length === 1, 'the dialed link closed')
    expect(a.closes).toEqual(['listener closed'])
    expect((accepted[0] as Watched).closes).toEqual(['listener closed'])
    const err = await rejection(dialWebSocket(listener.url).dial())
    expect(isFlurryError(err, 'CONNECT_FAILED')).toBe(true)
    await listener.close() // idempotent
  })

  it('a listener on a busy port rejects', async () => {
    const { listener } = await listen()
    const port = Number(new URL(listener.url).port)
    const err = await rejection(listenWebSocket({ port }).listen(() => {}))
    expect(isFlurryError(err, 'BAD_ARGUMENT')).toBe(true)
    expect((err as Error).message).toContain('EADDRINUSE')
  })

  it('fails over through a URL list, round robin', async () => {
    const { listener, accepted } = await listen()
    const dead = await deadUrl()
    const dialer = dialWebSocket([dead, listener.url])
    expect(dialer.target).toBe(`${dead}, ${listener.url}`)
    const first = await rejection(dialer.dial())
    expect(isFlurryError(first, 'CONNECT_FAILED')).toBe(true)
    expect((first as Error).message).toContain(dead)
    const link = await dialer.dial()
    await waitFor(() => accepted.length === 1, 'the accepted link')
    link.close()
    expect(isFlurryError(await rejection(dialer.dial()), 'CONNECT_FAILED')).toBe(true) // back to the first
  })

  it('offers a dialer of the same kind for ws URLs only', async () => {
    const spec = listenWebSocket({})
    const dialer = dialWebSocket('ws://127.0.0.1:1/flurry')
    // dialerFor is optional in the contracts; ws offers it on both.
    for (const owner of [spec, dialer] as Array<{ dialerFor?(url: string): Dialer | null }>) {
      expect(owner.dialerFor?.('ws://127.0.0.1:2/flurry')?.target).toBe('ws://127.0.0.1:2/flurry')
      expect(owner.dialerFor?.('memory://x')).toBeNull()
    }
  })

  describe('against a raw ws peer', () => {
    async function rawServer(): Promise<{ url: string; sockets: WebSocket[] }> {
      const sockets: WebSocket[] = []
      const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
      wss.on('connection', (ws) => sockets.push(ws))
      await new Promise<void>((resolve) => wss.once('listening', resolve))
      cleanups.push(
        () =>
          new Promise<void>((resolve) => {
            for (const ws of wss.clients) ws.terminate()
            wss.close(() => resolve())
          }),
      )
      const { port } = wss.address() as { port: number }
      return { url: `ws://127.0.0.1:${port}`, sockets }
    }

    it('a text message closes the dialed link with "bad frame: text message"', async () => {
      const { url, sockets } = await rawServer()
      const a = watch(await dialWebSocket(url).dial())
      await waitFor(() => sockets.length === 1, 'the raw connection')
      const peer = sockets[0] as WebSocket
      const closed: Array<[number, string]> = []
      peer.on('close', (code, reason) => closed.push([code, reason.toString()]))
      peer.send('hello')
      await waitFor(() => a.closes.length === 1 && closed.length === 1, 'both sides closed')
      expect(a.closes).toEqual(['bad frame: text message'])
      expect(closed).toEqual([[4000, 'bad frame: text message']])
    })

    it('a text message closes the accepted link too', async () => {
      const { listener, accepted } = await listen()
      const peer = new WebSocket(listener.url)
      cleanups.push(() => peer.terminate())
      await new Promise((resolve, reject) => {
        peer.once('open', resolve)
        peer.once('error', reject)
      })
      await waitFor(() => accepted.length === 1, 'the accepted link')
      peer.send('hello')
      const b = accepted[0] as Watched
      await waitFor(() => b.closes.length === 1, 'the accepted link closed')
      expect(b.closes).toEqual(['bad frame: text message'])
    })

    it('the remote reason arrives, and a dropped connection closes the link once', async () => {
      const { url, sockets } = await rawServer()
      const a = watch(await dialWebSocket(url).dial())
      await waitFor(() => sockets.length === 1, 'the raw connection')
      ;(sockets[0] as WebSocket).close(1000, 'shutting down')
      await waitFor(() => a.closes.length === 1, 'the link closed')
      expect(a.closes).toEqual(['shutting down'])

      const b = watch(await dialWebSocket(url).dial())
      await waitFor(() => sockets.length === 2, 'the second raw connection')
      ;(sockets[1] as WebSocket).terminate()
      await waitFor(() => b.closes.length === 1, 'the link closed')
      await settle()
      expect(b.closes.length).toBe(1)
      expect(b.closes[0]).toMatch(/^(closed|error: .+)$/)
    })

    it('delivers messages that arrive right after open', async () => {
      // The server greets at once: those frames may be parsed before dial() resolves.
      const greeting = new WebSocketServer({ host: '127.0.0.1', port: 0 })
      greeting.on('connection', (ws) => {
        for (let i = 0; i < 5; i++) ws.send(new Uint8Array([i]))
      })
      await new Promise<void>((resolve) => greeting.once('listening', resolve))
      cleanups.push(
        () =>
          new Promise<void>((resolve) => {
            for (const ws of greeting.clients) ws.terminate()
            greeting.close(() => resolve())
          }),
      )
      const { port } = greeting.address() as { port: number }
      const a = watch(await dialWebSocket(`ws://127.0.0.1:${port}`).dial())
      await waitFor(() => a.got.length === 5, 'the greeting')
      expect(a.got.map((m) => m[0])).toEqual([0, 1, 2, 3, 4])
    })
  })
})
