/** listenWebSocket (Node only): a `ws` server whose sockets become Links. */
import { createServer } from 'node:http'
import type { IncomingMessage, Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import { FlurryError } from '@flurry/core'
import type { Dialer, Link, LinkRemote, Listener, ListenerSpec } from '@flurry/core'
import { WebSocketServer } from 'ws'
import type { WebSocket } from 'ws'
import { dialWebSocket } from './dial.js'
import { DEFAULT_MAX_MESSAGE_BYTES, linkOf } from './node-socket.js'
import type { WebSocketLink } from './socket-link.js'

export interface ListenWebSocketInit {
  /**
   * Address to bind when opening a port (ignored with `server`).
   * @default '127.0.0.1'
   */
  host?: string
  /**
   * Port to open; 0 picks a free one, which `listener.url` reports.
   * @default 0
   */
  port?: number
  /**
   * The HTTP path of the WebSocket endpoint.
   * @default '/flurry'
   */
  path?: string
  /**
   * An HTTP server that is already listening: the endpoint takes its `upgrade`
   * requests for `path` (others are left to its other handlers) instead of opening a
   * port; `close()` then only detaches and closes the endpoint's sockets.
   */
  server?: Server
  /**
   * With `server`: what happens to upgrade requests for other paths. 'leave' them to
   * the server's other upgrade handlers, or 'refuse' them (HTTP 404, socket closed)
   * when there are none: an upgrade nobody answers stays open until the socket pile
   * keeps honest clients out. Without `server` they are always refused.
   * @default 'leave'
   */
  otherPaths?: 'leave' | 'refuse'
  /**
   * Origin allowlist: an upgrade whose `Origin` header is present and not listed gets
   * HTTP 403. Requests without `Origin` (Node peers) are always let in.
   * @default every origin
   */
  origins?: string[]
  /**
   * Largest incoming message; a bigger one closes the link with 'message too big'.
   * @default DEFAULT_MAX_FRAME_BYTES + 64 KiB
   */
  maxMessageBytes?: number
  /**
   * The URL other nodes dial, when it is not the bound address (a wildcard host,
   * a proxy in front).
   * @default ws://<bound address>:<port><path>
   */
  publicUrl?: string
}

/** How long close() waits for sockets to finish their close handshake. */
const CLOSE_GRACE_MS = 1000

/**
 * A WebSocket endpoint: every accepted socket becomes a Link (kind 'ws') whose
 * `remote` carries the upgrade's Origin and the peer's address.
 */
export function listenWebSocket(init: ListenWebSocketInit = {}): ListenerSpec {
  const maxMessageBytes = init.maxMessageBytes
  const spec = {
    kind: 'ws',
    listen: (accept: (link: Link) => void) => listen(init, accept),
    /** Dials the peers a peer learns, with this endpoint's message limit. */
    dialerFor: (url: string): Dialer | null =>
      /^wss?:\/\//i.test(url) ? dialWebSocket(url, maxMessageBytes !== undefined ? { maxMessageBytes } : {}) : null,
  }
  return spec
}

async function listen(init: ListenWebSocketInit, accept: (link: Link) => void): Promise<Listener> {
  const path = init.path ?? '/flurry'
  const own = init.server === undefined
  if (!own && init.server?.address() == null) {
    throw new FlurryError('BAD_ARGUMENT', 'listenWebSocket({ server }) needs a server that is listening')
  }
  const server =
    init.server ??
    createServer((_req, res) => {
      res.writeHead(426, { 'content-type': 'text/plain' }).end('WebSocket upgrade expected\n')
    })
  const wss = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    perMessageDeflate: false,
    maxPayload: init.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
  })
  const links = new Map<WebSocket, WebSocketLink>()
  let closing: Promise<void> | undefined

  const onupgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    if (pathOf(req.url) !== path) {
      // On a shared server another upgrade handler may own this path, unless told not.
      if (own || init.otherPaths === 'refuse') refuse(socket, 404, 'Not Found')
      return
    }
    const origin = req.headers.origin
    if (origin !== undefined && init.origins !== undefined && !init.origins.includes(origin)) {
      refuse(socket, 403, 'Forbidden')
      return
    }
    if (closing !== undefined) {
      refuse(socket, 503, 'Service Unavailable')
      return
    }
    const remote: LinkRemote = {}
    if (origin !== undefined) remote.origin = origin
    if (req.socket.remoteAddress !== undefined) remote.address = req.socket.remoteAddress
    wss.handleUpgrade(req, socket, head, (ws) => {
      if (closing !== undefined) {
        ws.terminate()
        return
      }
      const link = linkOf(ws, remote)
      links.set(ws, link)
      ws.once('close', () => links.delete(ws))
      accept(link)
    })
  }

  if (own) await bind(server, init.host ?? '127.0.0.1', init.port ?? 0)
  server.on('upgrade', onupgrade)
  const url = init.publicUrl ?? urlOf(server.address(), path)

  return {
    url,
    close() {
      closing ??= (async () => {
        server.off('upgrade', onupgrade)
        for (const link of links.values()) link.close('listener closed')
        await drain([...links.keys()], CLOSE_GRACE_MS)
        wss.close()
        if (own) {
          await new Promise<void>((resolve) => {
            server.close(() => resolve())
            server.closeAllConnections()
          })
        }
      })()
      return closing
    },
  }
}

function bind(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onerror = (err: Error): void =>
      reject(new FlurryError('BAD_ARGUMENT', `cannot listen on ${host}:${port}: ${err.message}`, { cause: err }))
    server.once('error', onerror)
    server.listen(port, host, () => {
      server.off('error', onerror)
      // Accept errors after this are the peer's problem; a library must not crash on them.
      server.on('error', () => {})
      resolve()
    })
  })
}

function pathOf(url: string | undefined): string {
  if (url === undefined) return '/'
  const q = url.indexOf('?')
  return q === -1 ? url : url.slice(0, q)
}

function urlOf(address: AddressInfo | string | null, path: string): string {
  if (address === null) throw new FlurryError('BAD_ARGUMENT', 'the server is not listening')
  if (typeof address === 'string') return `ws+unix://${address}:${path}`
  const host = address.address.includes(':') ? `[${address.address}]` : address.address
  return `ws://${host}:${address.port}${path}`
}

/** Ends an upgrade with a bare HTTP status, as `ws` does. */
function refuse(socket: Duplex, status: number, text: string): void {
  socket.on('error', () => {})
  socket.once('finish', () => socket.destroy())
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
}

/** Waits for the sockets' close handshakes, up to `graceMs`, then cuts the rest. */
async function drain(sockets: WebSocket[], graceMs: number): Promise<void> {
  const open = sockets.filter((ws) => ws.readyState !== ws.CLOSED)
  if (open.length === 0) return
  let timer: ReturnType<typeof setTimeout> | undefined
  await Promise.race([
    Promise.all(open.map((ws) => new Promise((resolve) => ws.once('close', resolve)))),
    new Promise((resolve) => {
      timer = setTimeout(resolve, graceMs)
    }),
  ])
  clearTimeout(timer)
  for (const ws of open) ws.terminate()
}
