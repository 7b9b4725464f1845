/**
 * The flurry-relay command line, parsed into startRelay options. Every option is a
 * flag and an environment variable (FLURRY_ and the flag's name in capitals; lists
 * comma-separated); flags win.
 */
import { parseArgs as parse } from 'node:util'
import type { RelayInit } from './relay.js'

export const USAGE = `Usage: flurry-relay --cookie SECRET [options]

Starts a Flurry relay: a peer that meshes with other peers, is home to browser and
Node clients, and serves /healthz, /metrics and a status page on the same port.
Every option can also be set in the environment (shown on the right); flags win.

Options:
  --host HOST                  address to listen on (default 127.0.0.1)        FLURRY_HOST
  --port PORT                  port to listen on; 0 picks a free one            FLURRY_PORT
                               (default 8080)
  --cookie SECRET              the cluster cookie (required)                    FLURRY_COOKIE
  --peer URL                   a peer to mesh with, e.g.                        FLURRY_PEERS
                               ws://127.0.0.1:8081/flurry (repeatable;          (comma-separated)
                               configured peers are redialled while down)
  --name NAME                  node name, the first part of the node id         FLURRY_NAME
                               (default relay)
  --client-cookie SECRET       a separate cookie for clients (web pages)        FLURRY_CLIENT_COOKIE
  --origin ORIGIN              allow WebSocket upgrades from this Origin only   FLURRY_ORIGINS
                               (repeatable)                                     (comma-separated)
  --cors ORIGIN                allow this origin to fetch /flurry.js; * for     FLURRY_CORS
                               any (repeatable; default: the --origin list)     (comma-separated)
  --public-url URL             the WebSocket URL other relays dial, when not    FLURRY_PUBLIC_URL
                               the bound address (e.g. with --host 0.0.0.0:
                               ws://relay-1.internal:8080/flurry)
  --public-dir DIR             the folder served over HTTP (/flurry.js, the     FLURRY_PUBLIC_DIR
                               demo); none serves no files (default: the
                               package's built dist/public)
  --max-names-per-client N     refuse a client's claims past N names            FLURRY_MAX_NAMES_PER_CLIENT
                               (default 10000)
  --max-name-bytes-per-client N
                               refuse a client's claims past N UTF-8 bytes of   FLURRY_MAX_NAME_BYTES_PER_CLIENT
                               names (default 10485760)
  --allow-client-exits BOOL    forward exit signals that clients send (default  FLURRY_ALLOW_CLIENT_EXITS
                               false: any page could stop any actor)
  --max-clock-offset-ms MS     refuse a client claim stamped older than the     FLURRY_MAX_CLOCK_OFFSET_MS
                               newest relay clock it had seen, less this
                               (default 1000)
  --heartbeat-interval-ms MS   ping interval (default 1000)                     FLURRY_HEARTBEAT_INTERVAL_MS
  --heartbeat-timeout-ms MS    silence that means a node is down (default 5000) FLURRY_HEARTBEAT_TIMEOUT_MS
  --log-level LEVEL            error, warn or info (default info)               FLURRY_LOG_LEVEL
  --log-format FORMAT          text or json: one JSON object per line           FLURRY_LOG_FORMAT
                               (default text)
  -h, --help                   print this and exit
  --version                    print the version and exit

Exit codes: 0 stopped by SIGINT/SIGTERM; 1 the relay could not start (port in use);
2 a bad flag or value.
`

export type LogFormat = 'text' | 'json'
export type CliLogLevel = 'error' | 'warn' | 'info'

export interface RelayCliOptions {
  init: RelayInit
  logLevel: CliLogLevel
  logFormat: LogFormat
}

export type RelayArgs =
  | { help: true }
  | { version: true; help: false }
  | ({ help: false } & RelayCliOptions)
  | { help: false; error: string }

type Kind = 'string' | 'list' | 'port' | 'positive'

/** The options with a value: flag name, kind, environment variable. */
const OPTIONS: ReadonlyArray<readonly [flag: string, kind: Kind, env: string]> = [
  ['host', 'string', 'FLURRY_HOST'],
  ['port', 'port', 'FLURRY_PORT'],
  ['cookie', 'string', 'FLURRY_COOKIE'],
  ['peer', 'list', 'FLURRY_PEERS'],
  ['name', 'string', 'FLURRY_NAME'],
  ['client-cookie', 'string', 'FLURRY_CLIENT_COOKIE'],
  ['origin', 'list', 'FLURRY_ORIGINS'],
  ['cors', 'list', 'FLURRY_CORS'],
  ['public-url', 'string', 'FLURRY_PUBLIC_URL'],
  ['public-dir', 'string', 'FLURRY_PUBLIC_DIR'],
  ['max-names-per-client', 'positive', 'FLURRY_MAX_NAMES_PER_CLIENT'],
  ['max-name-bytes-per-client', 'positive', 'FLURRY_MAX_NAME_BYTES_PER_CLIENT'],
  ['allow-client-exits', 'string', 'FLURRY_ALLOW_CLIENT_EXITS'],
  ['max-clock-offset-ms', 'positive', 'FLURRY_MAX_CLOCK_OFFSET_MS'],
  ['heartbeat-interval-ms', 'positive', 'FLURRY_HEARTBEAT_INTERVAL_MS'],
  ['heartbeat-timeout-ms', 'positive', 'FLURRY_HEARTBEAT_TIMEOUT_MS'],
  ['log-level', 'string', 'FLURRY_LOG_LEVEL'],
  ['log-format', 'string', 'FLURRY_LOG_FORMAT'],
]

class BadInput extends Error {}

/** A number: a port may be 0 (a free port); the others must be positive. */
function num(v: string, kind: 'port' | 'positive', source: string): number {
  const n = v.trim() === '' ? NaN : Number(v)
  const ok = Number.isFinite(n) && (kind === 'port' ? Number.isInteger(n) && n >= 0 && n < 65536 : n > 0)
  if (!ok) {
    const want = kind === 'port' ? 'a port number from 0 to 65535' : 'a positive number'
    throw new BadInput(`${source} needs ${want} (got ${JSON.stringify(v)})`)
  }
  return n
}

function oneOf<T extends string>(v: string, allowed: readonly T[], source: string): T {
  if ((allowed as readonly string[]).includes(v)) return v as T
  throw new BadInput(`${source} is one of ${allowed.join(', ')} (got ${JSON.stringify(v)})`)
}

/**
 * `--port -1` reads as a value, not as a flag: node:util's parser would call it
 * ambiguous, and the user then sees no word about ports.
 */
function joinNegativeValues(argv: string[]): string[] {
  const out: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string
    const next = argv[i + 1]
    if (a.startsWith('--') && !a.includes('=') && next !== undefined && /^-\d/.test(next)) {
      out.push(`${a}=${next}`)
      i++
    } else out.push(a)
  }
  return out
}

/**
 * The flurry-relay command line and environment as startRelay options, or `error`
 * (one line) for bad input. Flags win over FLURRY_* variables.
 */
export function parseArgs(argv: string[], env: Record<string, string | undefined> = {}): RelayArgs {
  try {
    const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }> = {
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean' },
    }
    for (const [flag, kind] of OPTIONS) options[flag] = kind === 'list' ? { type: 'string', multiple: true } : { type: 'string' }
    let values: Record<string, string | string[] | boolean | undefined>
    try {
      values = parse({ args: joinNegativeValues(argv), strict: true, allowPositionals: false, options }).values as typeof values
    } catch (err) {
      throw new BadInput((err as Error).message.split('\n')[0])
    }
    if (values.help === true) return { help: true }
    if (values.version === true) return { help: false, version: true }

    // Flags first, then the environment; empty environment variables count as unset.
    const raw = new Map<string, { value: string | string[]; source: string }>()
    for (const [flag, kind, name] of OPTIONS) {
      const v = values[flag]
      if (v !== undefined) raw.set(flag, { value: v as string | string[], source: `--${flag}` })
      else if (env[name] !== undefined && env[name] !== '') {
        const e = env[name] as string
        const value = kind === 'list' ? e.split(',').map((s) => s.trim()).filter((s) => s !== '') : e
        raw.set(flag, { value, source: name })
      }
    }
    const str = (flag: string) => raw.get(flag)?.value as string | undefined
    const list = (flag: string) => raw.get(flag)?.value as string[] | undefined
    const number = (flag: string, kind: 'port' | 'positive') => {
      const r = raw.get(flag)
      return r === undefined ? undefined : num(r.value as string, kind, r.source)
    }

    const cookie = str('cookie')
    if (cookie === undefined || cookie === '') return { help: false, error: 'a cookie is required: --cookie SECRET or FLURRY_COOKIE' }
    const init: RelayInit = { cookie, host: str('host') ?? '127.0.0.1', port: number('port', 'port') ?? 8080 }
    const peers = list('peer')
    if (peers !== undefined) init.peers = peers
    const name = str('name')
    if (name !== undefined) init.name = name
    const clientCookie = str('client-cookie')
    if (clientCookie !== undefined) init.clientCookie = clientCookie
    const origins = list('origin')
    if (origins !== undefined) init.origins = origins
    const cors = list('cors')
    if (cors !== undefined) init.cors = cors
    const publicUrl = str('public-url')
    if (publicUrl !== undefined) init.publicUrl = publicUrl
    const publicDir = str('public-dir')
    if (publicDir !== undefined) init.publicDir = publicDir === 'none' ? null : publicDir
    const maxNames = number('max-names-per-client', 'positive')
    if (maxNames !== undefined) init.maxNamesPerClient = maxNames
    const maxBytes = number('max-name-bytes-per-client', 'positive')
    if (maxBytes !== undefined) init.maxNameBytesPerClient = maxBytes
    const exits = raw.get('allow-client-exits')
    if (exits !== undefined) init.allowClientExits = oneOf(exits.value as string, ['true', 'false'] as const, exits.source) === 'true'
    const offset = number('max-clock-offset-ms', 'positive')
    if (offset !== undefined) init.maxClockOffsetMs = offset
    const hbi = number('heartbeat-interval-ms', 'positive')
    if (hbi !== undefined) init.heartbeatIntervalMs = hbi
    const hbt = number('heartbeat-timeout-ms', 'positive')
    if (hbt !== undefined) init.heartbeatTimeoutMs = hbt
    const level = raw.get('log-level')
    const format = raw.get('log-format')
    return {
      help: false,
      init,
      logLevel: level === undefined ? 'info' : oneOf(level.value as string, ['error', 'warn', 'info'] as const, level.source),
      logFormat: format === undefined ? 'text' : oneOf(format.value as string, ['text', 'json'] as const, format.source),
    }
  } catch (err) {
    if (err instanceof BadInput) return { help: false, error: err.message }
    throw err
  }
}
