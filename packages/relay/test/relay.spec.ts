/**
 * The relay in one process: its HTTP routes (healthz, status, the bundle with ETag and
 * no-cache, the dev cookie, static files without path escapes), its client policy
 * (clientCookie, origins) and the CLI's argument parsing.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { createNode, type FlurryNode } from '@flurry/core'
import { dialWebSocket } from '@flurry/ws'
import { parseArgs, startRelay, type Relay } from '../src/index.js'

const relays: Relay[] = []
const nodes: FlurryNode[] = []
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => n.close()))
  await Promise.all(relays.splice(0).map((r) => r.close()))
})

async function relay(init: Partial<Parameters<typeof startRelay>[0]> = {}): Promise<Relay> {
  const r = await startRelay({ host: '127.0.0.1', port: 0, cookie: 'cluster', ...init })
  relays.push(r)
  return r
}

async function node(cookie: string, name = 'c'): Promise<FlurryNode> {
  const n = await createNode({ name, cookie })
  nodes.push(n)
  return n
}

describe('relay HTTP', () => {
  it('GET /healthz is { id, nodes, names, unreachable } and follows the cluster', async () => {
    const r = await relay()
    const get = async () => (await fetch(`${r.url}/healthz`)).json()
    expect(await get()).toEqual({ id: r.node.id, nodes: 0, names: 0, unreachable: [] })
    const c = await node('cluster')
    await c.connect(dialWebSocket(r.wsUrl))
    const pid = c.spawn(async (ctx) => {
      await ctx.receive()
    })
    c.global.register('svc:x', pid)
    await expect.poll(get, { timeout: 5000 }).toEqual({ id: r.node.id, nodes: 1, names: 1, unreachable: [] })
  })

  it('serves /flurry.js with an ETag and Cache-Control: no-cache, and 304 when unchanged', async () => {
    const r = await relay()
    const res = await fetch(`${r.url}/flurry.js`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/javascript/)
    expect(res.headers.get('cache-control')).toBe('no-cache')
    const etag = res.headers.get('etag')
    expect(etag).toMatch(/^".+"$/)
    const body = await res.text()
    expect(body).toContain('createNode')
    const again = await fetch(`${r.url}/flurry.js`, { headers: { 'if-none-match': etag as string } })
    expect(again.status).toBe(304)
  })

  it('serves the demo at /, the status page at /status, and 404 for escapes', async () => {
    const r = await relay()
    const home = await fetch(`${r.url}/`)
    expect(home.status).toBe(200)
    expect(await home.text()).toMatch(/<html/i)
    expect(await (await fetch(`${r.url}/status`)).text()).toContain('Flurry relay')
    const status = await (await fetch(`${r.url}/status.json`)).json()
    expect(status).toMatchObject({ id: r.node.id, nodes: [], names: [] })
    for (const path of ['/..%2f..%2fpackage.json', '/%2e%2e/%2e%2e/package.json', '/nothing-here']) {
      expect((await fetch(`${r.url}${path}`)).status, path).toBe(404)
    }
    expect((await fetch(`${r.url}/healthz`, { method: 'POST' })).status).toBe(405)
  })

  it('hands the cookie to pages at /config.json only in development (devCookie)', async () => {
    const prod = await relay()
    expect(await (await fetch(`${prod.url}/config.json`)).json()).toEqual({})
    const dev = await relay({ devCookie: 'cluster' })
    expect(await (await fetch(`${dev.url}/config.json`)).json()).toEqual({ cookie: 'cluster', dev: true })
  })

  it('with publicDir null, / is the status page and there is no bundle', async () => {
    const r = await relay({ publicDir: null })
    expect(await (await fetch(`${r.url}/`)).text()).toContain('Flurry relay')
    expect((await fetch(`${r.url}/flurry.js`)).status).toBe(404)
  })
})

describe('relay mesh', () => {
  it('a --peer URL spelled differently from the peer\'s own is not reported unreachable once meshed', async () => {
    const a = await relay({ name: 'a' })
    const port = new URL(a.url).port
    const b = await relay({ name: 'b', peers: [`ws://localhost:${port}/flurry`] })
    await expect.poll(() => b.node.nodes(), { timeout: 5000 }).toEqual([a.node.id])
    expect((await (await fetch(`${b.url}/healthz`)).json()).unreachable).toEqual([])
  })

  it('advertises publicUrl to its peers', async () => {
    const a = await relay({ name: 'a', publicUrl: 'ws://relay-a.internal:1234/flurry' })
    expect(a.wsUrl).toBe('ws://relay-a.internal:1234/flurry')
  })
})

describe('relay /metrics', () => {
  /** The value of a sample line `name{labels} value` in the exposition text. */
  function sample(text: string, series: string): number | undefined {
    const line = text.split('\n').find((l) => l.startsWith(`${series} `))
    return line === undefined ? undefined : Number(line.slice(series.length + 1))
  }

  it('exposes node.stats() and the event-loop lag in the Prometheus text format', async () => {
    const r = await relay()
    const c = await node('cluster')
    await c.connect(dialWebSocket(r.wsUrl))
    c.global.register('svc:m', c.spawn(async (ctx) => void (await ctx.receive())))
    await expect.poll(() => r.node.global.names().length, { timeout: 5000 }).toBe(1)
    const wrong = await node('not-the-cookie', 'w')
    await expect(wrong.connect(dialWebSocket(r.wsUrl))).rejects.toMatchObject({ code: 'AUTH_FAILED' })

    const res = await fetch(`${r.url}/metrics`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
    const text = await res.text()
    expect(text).toContain('# TYPE flurry_received_bytes_total counter')
    expect(sample(text, 'flurry_nodes')).toBe(1)
    expect(sample(text, 'flurry_clients')).toBe(1)
    expect(sample(text, 'flurry_peers')).toBe(0)
    expect(sample(text, 'flurry_names')).toBe(1)
    expect(sample(text, 'flurry_sessions')).toBe(1)
    expect(sample(text, 'flurry_refusals_total{code="AUTH_FAILED"}')).toBe(1)
    expect(sample(text, 'flurry_handshake_failures_total')).toBe(1)
    expect(sample(text, 'flurry_slow_consumer_drops_total')).toBe(0)
    for (const dir of ['received', 'sent']) {
      expect(sample(text, `flurry_${dir}_bytes_total`)).toBeGreaterThan(100)
      expect(sample(text, `flurry_${dir}_frames_total`)).toBeGreaterThan(2)
    }
    expect(sample(text, 'flurry_event_loop_lag_seconds{quantile="0.99"}')).toBeGreaterThan(0)

    const stats = r.node.stats()
    expect(stats.bytesIn).toBeGreaterThanOrEqual(sample(text, 'flurry_received_bytes_total') as number)
    expect(stats).toMatchObject({ nodes: 1, clients: 1, peers: 0, names: 1, refusals: { AUTH_FAILED: 1 } })
    expect(c.stats()).toMatchObject({ nodes: 1, clients: 0, peers: 0, sessions: 1 })
    expect(c.stats().bytesOut).toBeGreaterThan(0)
  })
})

describe('relay CORS for /flurry.js', () => {
  it('answers allowed origins (default: the origins list), not others', async () => {
    const r = await relay({ origins: ['https://app.example'] })
    const ok = await fetch(`${r.url}/flurry.js`, { headers: { origin: 'https://app.example' } })
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://app.example')
    const other = await fetch(`${r.url}/flurry.js`, { headers: { origin: 'https://evil.example' } })
    expect(other.status).toBe(200)
    expect(other.headers.get('access-control-allow-origin')).toBeNull()
    const any = await relay({ cors: ['*'] })
    const star = await fetch(`${any.url}/flurry.js`, { headers: { origin: 'https://anyone.example' } })
    expect(star.headers.get('access-control-allow-origin')).toBe('*')
  })
})

describe('relay client policy', () => {
  it('clients may prove the clientCookie; peers may not', async () => {
    const r = await relay({ clientCookie: 'for-pages' })
    const client = await node('for-pages')
    expect(await client.connect(dialWebSocket(r.wsUrl))).toBe(r.node.id)
    const peer = await node('for-pages', 'p')
    await peer.listen((await import('@flurry/ws')).listenWebSocket({ port: 0 }))
    await expect(peer.connect(dialWebSocket(r.wsUrl))).rejects.toMatchObject({ code: 'AUTH_FAILED' })
    const wrong = await node('guess')
    await expect(wrong.connect(dialWebSocket(r.wsUrl))).rejects.toMatchObject({ code: 'AUTH_FAILED' })
  })

  it('refuses WebSocket upgrades from origins not on the list', async () => {
    const r = await relay({ origins: ['https://app.example'] })
    const bad = await node('cluster', 'bad')
    await expect(bad.connect(dialWebSocket(r.wsUrl, { headers: { origin: 'https://evil.example' } }))).rejects.toMatchObject({
      code: 'CONNECT_FAILED',
    })
    const good = await node('cluster', 'good')
    expect(await good.connect(dialWebSocket(r.wsUrl, { headers: { origin: 'https://app.example' } }))).toBe(r.node.id)
  })
})

describe('flurry-relay arguments', () => {
  it('parses flags, repeats and FLURRY_COOKIE', () => {
    const a = parseArgs(['--port', '0', '--peer', 'ws://127.0.0.1:1/flurry', '--peer', 'ws://127.0.0.1:2/flurry', '--origin', 'https://a'], {
      FLURRY_COOKIE: 'env-secret',
    })
    expect(a).toEqual({
      help: false,
      init: {
        cookie: 'env-secret',
        host: '127.0.0.1',
        port: 0,
        peers: ['ws://127.0.0.1:1/flurry', 'ws://127.0.0.1:2/flurry'],
        origins: ['https://a'],
      },
      logLevel: 'info',
      logFormat: 'text',
    })
    expect(parseArgs(['--help'])).toEqual({ help: true })
    expect(parseArgs(['-h'])).toEqual({ help: true })
    expect(parseArgs(['--version'])).toEqual({ help: false, version: true })
    expect(parseArgs([])).toMatchObject({ help: false, error: expect.stringContaining('cookie') })
    expect(parseArgs(['--cookie', 's', '--port', 'abc'])).toMatchObject({ error: expect.stringContaining('--port') })
    expect(parseArgs(['--cookie', 's', '--bogus'])).toMatchObject({ error: expect.stringContaining('bogus') })
    expect(parseArgs(['--cookie', 's', '--max-names-per-client', '0'])).toMatchObject({ error: expect.stringContaining('positive') })
    expect(parseArgs(['--cookie', 's', '--public-url', 'ws://r1.internal:8080/flurry'])).toMatchObject({
      init: { publicUrl: 'ws://r1.internal:8080/flurry' },
    })
  })

  it('reads every option from the environment; flags win', () => {
    const env = {
      FLURRY_COOKIE: 'c',
      FLURRY_HOST: '0.0.0.0',
      FLURRY_PORT: '9000',
      FLURRY_PEERS: 'ws://a:1/flurry, ws://b:2/flurry',
      FLURRY_NAME: 'edge',
      FLURRY_CLIENT_COOKIE: 'pages',
      FLURRY_ORIGINS: 'https://x,https://y',
      FLURRY_CORS: '*',
      FLURRY_PUBLIC_URL: 'ws://edge:9000/flurry',
      FLURRY_PUBLIC_DIR: 'none',
      FLURRY_MAX_NAMES_PER_CLIENT: '5',
      FLURRY_MAX_CLOCK_OFFSET_MS: '200',
      FLURRY_HEARTBEAT_INTERVAL_MS: '500',
      FLURRY_HEARTBEAT_TIMEOUT_MS: '3000',
      FLURRY_LOG_LEVEL: 'warn',
      FLURRY_LOG_FORMAT: 'json',
    }
    expect(parseArgs([], env)).toEqual({
      help: false,
      init: {
        cookie: 'c',
        host: '0.0.0.0',
        port: 9000,
        peers: ['ws://a:1/flurry', 'ws://b:2/flurry'],
        name: 'edge',
        clientCookie: 'pages',
        origins: ['https://x', 'https://y'],
        cors: ['*'],
        publicUrl: 'ws://edge:9000/flurry',
        publicDir: null,
        maxNamesPerClient: 5,
        maxClockOffsetMs: 200,
        heartbeatIntervalMs: 500,
        heartbeatTimeoutMs: 3000,
      },
      logLevel: 'warn',
      logFormat: 'json',
    })
    expect(parseArgs(['--port', '9001', '--peer', 'ws://c:3/flurry', '--log-level', 'error', '--public-dir', '/srv/www'], env)).toMatchObject({
      init: { port: 9001, peers: ['ws://c:3/flurry'], publicDir: '/srv/www' },
      logLevel: 'error',
    })
  })

  it('says what is wrong with a value, in one line', () => {
    expect(parseArgs(['--cookie', 's', '--port', '-1'])).toEqual({ help: false, error: '--port needs a port number from 0 to 65535 (got "-1")' })
    expect(parseArgs(['--cookie', 's'], { FLURRY_PORT: '70000' })).toEqual({
      help: false,
      error: 'FLURRY_PORT needs a port number from 0 to 65535 (got "70000")',
    })
    expect(parseArgs(['--cookie', 's', '--log-format', 'xml'])).toMatchObject({ error: expect.stringContaining('text, json') })
    expect(parseArgs(['--cookie', 's', '--log-level', 'debug'])).toMatchObject({ error: expect.stringContaining('--log-level') })
    const bogus = parseArgs(['--cookie', 's', '--bogus'])
    expect('error' in bogus && !bogus.error.includes('\n')).toBe(true)
  })
})
