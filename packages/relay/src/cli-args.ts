/** The flurry-relay command line, parsed into startRelay options. */
import { parseArgs as parse } from 'node:util'
import type { RelayInit } from './relay.js'

export const USAGE = `Usage: flurry-relay --cookie SECRET [options]

Starts a Flurry relay: a peer that meshes with other peers, is home to browser and
Node clients, and serves /healthz and a status page on the same port.

Options:
  --host HOST                  address to listen on (default 127.0.0.1)
  --port PORT                  port to listen on; 0 picks a free one (default 8080)
  --cookie SECRET              the cluster cookie (or set FLURRY_COOKIE)
  --peer URL                   a peer to mesh with, e.g. ws://127.0.0.1:8081/flurry (repeatable)
  --name NAME                  node name, the first part of the node id (default relay)
  --client-cookie SECRET       a separate cookie for clients (the one web pages get)
  --origin ORIGIN              allow WebSocket upgrades from this Origin only (repeatable)
  --public-url URL             the WebSocket URL other relays dial, when not the bound address
                               (e.g. with --host 0.0.0.0: ws://relay-1.internal:8080/flurry)
  --max-names-per-client N     refuse a client's claims past N names (default 10000)
  --max-clock-offset-ms MS     refuse client claims stamped older than this (default 1000)
  --heartbeat-interval-ms MS   ping interval (default 1000)
  --heartbeat-timeout-ms MS    silence that means a node is down (default 5000)
  --help                       print this and exit
`

export type RelayArgs = { help: true } | { help: false; init: RelayInit } | { help: false; error: string }

/** A number flag: a port may be 0 (a free port); the others must be positive. */
function num(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined
  const n = Number(v)
  const ok = Number.isFinite(n) && (flag === '--port' ? Number.isInteger(n) && n >= 0 && n < 65536 : n > 0)
  if (!ok) throw new Error(`${flag} needs ${flag === '--port' ? 'a port number' : 'a positive number'} (got ${JSON.stringify(v)})`)
  return n
}

export function parseArgs(argv: string[], env: Record<string, string | undefined> = {}): RelayArgs {
  try {
    const { values } = parse({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        host: { type: 'string' },
        port: { type: 'string' },
        cookie: { type: 'string' },
        peer: { type: 'string', multiple: true },
        name: { type: 'string' },
        'client-cookie': { type: 'string' },
        origin: { type: 'string', multiple: true },
        'public-url': { type: 'string' },
        'max-names-per-client': { type: 'string' },
        'max-clock-offset-ms': { type: 'string' },
        'heartbeat-interval-ms': { type: 'string' },
        'heartbeat-timeout-ms': { type: 'string' },
        help: { type: 'boolean' },
      },
    })
    if (values.help === true) return { help: true }
    const cookie = values.cookie ?? env.FLURRY_COOKIE
    if (cookie === undefined || cookie === '') return { help: false, error: 'a cookie is required: --cookie SECRET or FLURRY_COOKIE' }
    const init: RelayInit = { cookie, host: values.host ?? '127.0.0.1', port: num(values.port, '--port') ?? 8080 }
    if (values.peer) init.peers = values.peer
    if (values.name !== undefined) init.name = values.name
    if (values['client-cookie'] !== undefined) init.clientCookie = values['client-cookie']
    if (values.origin) init.origins = values.origin
    if (values['public-url'] !== undefined) init.publicUrl = values['public-url']
    const maxNames = num(values['max-names-per-client'], '--max-names-per-client')
    if (maxNames !== undefined) init.maxNamesPerClient = maxNames
    const offset = num(values['max-clock-offset-ms'], '--max-clock-offset-ms')
    if (offset !== undefined) init.maxClockOffsetMs = offset
    const hbi = num(values['heartbeat-interval-ms'], '--heartbeat-interval-ms')
    if (hbi !== undefined) init.heartbeatIntervalMs = hbi
    const hbt = num(values['heartbeat-timeout-ms'], '--heartbeat-timeout-ms')
    if (hbt !== undefined) init.heartbeatTimeoutMs = hbt
    return { help: false, init }
  } catch (err) {
    return { help: false, error: (err as Error).message }
  }
}
