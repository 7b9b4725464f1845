/**
 * startRelay: a peer that meshes with other peers, is the home of its clients (tabs,
 * Node processes behind firewalls), and serves HTTP on the same port: /healthz, a
 * status page, and (with the browser package) /flurry.js and the demo.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { FlurryError, createNode, type FlurryNode, type Logger, type NodeInit } from '@flurry/core'
import { listenWebSocket } from '@flurry/ws'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { relayMetrics, type RelayMetrics } from './metrics.js'
import { nodeEd25519 } from './ed25519.js'
import { statusPage } from './status-page.js'
import { StaticFiles } from './static.js'

/** Where the build puts the browser bundle and the demo (from src/ or dist/ alike). */
const DEFAULT_PUBLIC = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'public')

/** The options of startRelay: only `cookie` is required. */
export interface RelayInit {
  /** @default '127.0.0.1' */
  host?: string
  /** 0 picks a free port. @default 8080 */
  port?: number
  /** The cluster cookie (peers prove it; clients too unless clientCookie is set). */
  cookie: string
  /** WebSocket URLs of peers to mesh with; dialed in the background until they answer. */
  peers?: string[]
  /** @default 'relay' */
  name?: string
  /** The cookie handed to web pages: clients may prove it instead of the cluster cookie. */
  clientCookie?: string
  /** Asked before a client's claim is accepted. */
  authorize?: (nodeId: string, name: string) => boolean
  /** Origin allowlist for WebSocket upgrades (browsers send Origin; Node peers do not). */
  origins?: string[]
  /**
   * Origins whose pages may fetch /flurry.js (and its source map) across origins: the
   * `Access-Control-Allow-Origin` answer; `'*'` allows any.
   * @default the `origins` list (none when that is unset)
   */
  cors?: string[]
  /**
   * The WebSocket URL other relays dial, when it is not the bound address (a
   * wildcard host such as 0.0.0.0, a proxy or TLS terminator in front).
   * @default ws://<bound address>:<port>/flurry
   */
  publicUrl?: string
  /** @default 10000 */
  maxNamesPerClient?: number
  /** A client's claims past this many UTF-8 bytes of names are refused (QUOTA). @default 10 MiB */
  maxNameBytesPerClient?: number
  /** Forward exit signals that clients send (any page could stop any actor). @default false */
  allowClientExits?: boolean
  /** @default 1000 */
  maxClockOffsetMs?: number
  /** How often the relay pings its peers and clients. @default 1000 */
  heartbeatIntervalMs?: number
  /** Silence after which a session is closed and its node reported down. @default 5000 */
  heartbeatTimeoutMs?: number
  /** One call per event worth a person's attention. @default quiet */
  logger?: Logger
  /** More HTTP routes, tried before the built-in ones (the demo and bundle plug in here). */
  routes?: RelayRoute[]
  /** Any other createNode option (tests shorten timeouts this way). */
  node?: Partial<NodeInit>
  /**
   * Folder served over HTTP: /flurry.js and the demo app. null serves none.
   * @default the relay package's built dist/public
   */
  publicDir?: string | null
  /**
   * Development only: the cookie handed to pages at GET /config.json, so the demo
   * can connect. Never set it in production (set clientCookie/authorize/origins).
   */
  devCookie?: string
}

/** Handles a request and returns true, or returns false to let the next route try. */
export type RelayRoute = (req: IncomingMessage, res: ServerResponse, relay: Relay) => boolean | Promise<boolean>

/** A running relay: see startRelay. */
export interface Relay {
  /** The relay's own node: it can host actors and names. */
  readonly node: FlurryNode
  /** 'http://host:port' */
  readonly url: string
  /** 'ws://host:port/flurry' */
  readonly wsUrl: string
  /** Goodbye to every session, then stop listening. Idempotent. */
  close(): Promise<void>
}

/**
 * Starts a relay: a peer listening for WebSocket sessions at `/flurry` on its own HTTP
 * server, dialing `peers` in the background, and answering /healthz, /metrics, /status
 * and the static files on the same port.
 * @returns once it listens. Rejects with FlurryError `BAD_ARGUMENT` for a missing
 * cookie, an invalid option, or a port it cannot bind (the system error as `cause`).
 */
export async function startRelay(init: RelayInit): Promise<Relay> {
  if (init === null || typeof init !== 'object' || typeof init.cookie !== 'string' || init.cookie === '') {
    throw new FlurryError('BAD_ARGUMENT', 'startRelay needs a cookie')
  }
  const host = init.host ?? '127.0.0.1'
  const port = init.port ?? 8080
  const node = await createNode({
    // Native ed25519, and one write per remote per I/O turn: what a relay with many
    // clients needs (a connect storm, a fan-out to every client).
    ed25519: nodeEd25519,
    flushLater: setImmediate,
    ...init.node,
    name: init.name ?? init.node?.name ?? 'relay',
    cookie: init.cookie,
    ...(init.clientCookie !== undefined ? { clientCookie: init.clientCookie } : {}),
    ...(init.authorize !== undefined ? { authorize: init.authorize } : {}),
    ...(init.maxNamesPerClient !== undefined ? { maxNamesPerClient: init.maxNamesPerClient } : {}),
    ...(init.maxNameBytesPerClient !== undefined ? { maxNameBytesPerClient: init.maxNameBytesPerClient } : {}),
    ...(init.allowClientExits !== undefined ? { allowClientExits: init.allowClientExits } : {}),
    ...(init.maxClockOffsetMs !== undefined ? { maxClockOffsetMs: init.maxClockOffsetMs } : {}),
    ...(init.heartbeatIntervalMs !== undefined ? { heartbeatIntervalMs: init.heartbeatIntervalMs } : {}),
    ...(init.heartbeatTimeoutMs !== undefined ? { heartbeatTimeoutMs: init.heartbeatTimeoutMs } : {}),
    ...(init.logger !== undefined ? { logger: init.logger } : {}),
  })
  const publicDir = init.publicDir === undefined ? DEFAULT_PUBLIC : init.publicDir
  const files = publicDir !== null && existsSync(publicDir) ? new StaticFiles(publicDir) : null
  const metrics = relayMetrics(node)
  const routes = [...(init.routes ?? []), builtins(files, init.devCookie, init.cors ?? init.origins ?? [], metrics)]
  let relay!: Relay
  const server: Server = createServer((req, res) => {
    void handle(req, res, routes, relay).catch((err: unknown) => {
      init.logger?.('error', `http ${req.method} ${req.url} failed: ${String(err)}`)
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' })
      res.end('internal error\n')
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      metrics.close()
      reject(new FlurryError('BAD_ARGUMENT', `cannot listen on ${host}:${port}: ${err.code ?? err.message}`, { cause: err }))
    })
    server.listen(port, host, () => resolve())
  })
  const address = server.address() as AddressInfo
  const hostForUrl = address.family === 'IPv6' ? `[${address.address}]` : address.address
  const url = `http://${hostForUrl}:${address.port}`
  let listener: Awaited<ReturnType<FlurryNode['listen']>>
  try {
    listener = await node.listen(
      listenWebSocket({
        server,
        path: '/flurry',
        // Nothing else on this server takes upgrades: answer the rest with 404.
        otherPaths: 'refuse',
        ...(init.origins ? { origins: init.origins } : {}),
        ...(init.publicUrl !== undefined ? { publicUrl: init.publicUrl } : {}),
      }),
    )
  } catch (err) {
    metrics.close()
    server.close()
    await node.close()
    throw err
  }
  for (const peer of init.peers ?? []) node.addPeer(peer)
  let closing: Promise<void> | null = null
  relay = {
    node,
    url,
    wsUrl: listener.url,
    close() {
      closing ??= (async () => {
        metrics.close()
        await node.close()
        await listener.close()
        server.closeAllConnections()
        await new Promise<void>((resolve) => server.close(() => resolve()))
      })()
      return closing
    },
  }
  return relay
}

async function handle(req: IncomingMessage, res: ServerResponse, routes: RelayRoute[], relay: Relay): Promise<void> {
  for (const route of routes) if (await route(req, res, relay)) return
  res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n')
}

/** /healthz, /metrics, /status(.json), /config.json (dev), and the static files (demo at /). */
function builtins(files: StaticFiles | null, devCookie: string | undefined, cors: string[], metrics: RelayMetrics): RelayRoute {
  return (req, res, relay) => {
    const path = (req.url ?? '/').split('?')[0] as string
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end()
      return true
    }
    if (path === '/healthz') return json(res, health(relay))
    if (path === '/metrics') return metrics.render().then((text) => {
      res.writeHead(200, { 'content-type': metrics.contentType, 'cache-control': 'no-store' })
      res.end(req.method === 'HEAD' ? undefined : text)
      return true
    })
    if (path === '/status.json') return json(res, status(relay))
    if (path === '/config.json') return json(res, devCookie === undefined ? {} : { cookie: devCookie, dev: true })
    if (path === '/status' || (path === '/' && (files === null || !files.has('/index.html')))) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' })
      res.end(statusPage())
      return true
    }
    if (path === '/flurry.js' || path === '/flurry.js.map' || path === '/flurry.d.ts') allowOrigin(req, res, cors)
    if (files !== null) return files.serve(req, res, path === '/' ? '/index.html' : path)
    return false
  }
}

/** CORS for the bundle: a page of an allowed origin may import it. */
function allowOrigin(req: IncomingMessage, res: ServerResponse, cors: string[]): void {
  if (cors.includes('*')) {
    res.setHeader('access-control-allow-origin', '*')
    return
  }
  res.setHeader('vary', 'Origin')
  const origin = req.headers.origin
  if (origin !== undefined && cors.includes(origin)) res.setHeader('access-control-allow-origin', origin)
}

function json(res: ServerResponse, body: unknown): true {
  res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' })
  res.end(JSON.stringify(body))
  return true
}

/** GET /healthz: the relay's id, how many nodes it reaches and names it sees. */
export function health(relay: Relay): { id: string; nodes: number; names: number; unreachable: string[] } {
  const node = relay.node
  return {
    id: node.id,
    nodes: node.nodes().length,
    names: node.global.names().length,
    unreachable: node.peers().filter((p) => !p.reachable).map((p) => p.url),
  }
}

/** GET /status.json: what the status page shows (nodes, unreachable peers, names). */
export function status(relay: Relay): unknown {
  const node = relay.node
  return {
    id: node.id,
    url: relay.url,
    nodes: node.nodes().sort(),
    unreachable: node.peers().filter((p) => !p.reachable).map(({ url, id }) => ({ url, id })),
    names: node.global.names().map((name) => {
      const pid = node.global.whereis(name)
      return { name, pid: pid?.toString() ?? null, node: pid?.node ?? null }
    }),
  }
}
