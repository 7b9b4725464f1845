// HTTP for the e2e pages: GET /e2e/<file> from support/page (the harness and a blank
// page). A relay route (startRelay's `routes` option) and a plain static server (no
// relay node at all) both use it.
import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { dirname, extname, join, normalize, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

const PAGE_DIR = join(dirname(fileURLToPath(import.meta.url)), 'page')
/** The relay's build output: /flurry.js (and the demo, once built). */
export const RELAY_PUBLIC = fileURLToPath(new URL('../../../packages/relay/dist/public', import.meta.url))

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json',
  '.json': 'application/json',
  '.css': 'text/css; charset=utf-8',
}

function sendFile(res, dir, urlPath) {
  let rel
  try {
    rel = decodeURIComponent(urlPath)
  } catch {
    return false
  }
  const file = normalize(join(dir, rel))
  if (!file.startsWith(dir + sep)) return false
  let body
  try {
    body = readFileSync(file)
  } catch {
    return false
  }
  res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-cache' })
  res.end(body)
  return true
}

/** A RelayRoute serving /e2e/*. */
export function e2eRoute() {
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    if (!path.startsWith('/e2e/')) return false
    return sendFile(res, PAGE_DIR, path.slice('/e2e/'.length))
  }
}

/**
 * A plain static HTTP server (no Flurry node): /e2e/* and the relay's built public
 * folder (/flurry.js). Resolves with { url, port, close() }.
 */
export async function startStaticServer({ host = '127.0.0.1', port = 0 } = {}) {
  const route = e2eRoute()
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    if (route(req, res)) return
    if (sendFile(res, RELAY_PUBLIC, path === '/' ? 'index.html' : path.slice(1))) return
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n')
  })
  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, resolve)
  })
  const addr = server.address()
  return {
    url: `http://${host}:${addr.port}`,
    port: addr.port,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
