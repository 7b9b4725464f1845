/**
 * Static files of the relay: the browser bundle and the demo app, from one folder.
 * /flurry.js goes out with an ETag and `Cache-Control: no-cache`, so a deploy never
 * leaves a stale bundle talking an old protocol: browsers revalidate every load.
 */
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, statSync } from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { extname, join, normalize, sep } from 'node:path'

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
}

interface Cached {
  body: Buffer
  etag: string
  mtimeMs: number
}

export class StaticFiles {
  readonly dir: string
  #cache = new Map<string, Cached>()

  constructor(dir: string) {
    this.dir = dir
  }

  has(path: string): boolean {
    const file = this.#resolve(path)
    return file !== null && existsSync(file) && statSync(file).isFile()
  }

  /** Serves `path` if it is a file of the folder; false otherwise. */
  serve(req: IncomingMessage, res: ServerResponse, path: string): boolean {
    const file = this.#resolve(path)
    if (file === null || !existsSync(file)) return false
    const st = statSync(file)
    if (!st.isFile()) return false
    let c = this.#cache.get(file)
    if (c === undefined || c.mtimeMs !== st.mtimeMs) {
      const body = readFileSync(file)
      c = { body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`, mtimeMs: st.mtimeMs }
      this.#cache.set(file, c)
    }
    const headers = {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'cache-control': 'no-cache',
      etag: c.etag,
      'x-content-type-options': 'nosniff',
    }
    if (req.headers['if-none-match'] === c.etag) {
      res.writeHead(304, headers).end()
      return true
    }
    res.writeHead(200, { ...headers, 'content-length': String(c.body.length) })
    res.end(req.method === 'HEAD' ? undefined : c.body)
    return true
  }

  /** The file for a URL path, never outside the folder. */
  #resolve(path: string): string | null {
    let decoded: string
    try {
      decoded = decodeURIComponent(path)
    } catch {
      return null
    }
    if (decoded.includes('\0')) return null
    const file = normalize(join(this.dir, decoded))
    if (file !== this.dir && !file.startsWith(this.dir.endsWith(sep) ? this.dir : this.dir + sep)) return null
    return file
  }
}
