/**
 * createNode options, their defaults, and the resolved form the layers read.
 */
import { systemClock, type Clock, FlurryError, cryptoRandom, type RandomSource } from '../base/index.js'
import { DEFAULT_MAX_FRAME_BYTES, PROTOCOL_VERSION_MAX, PROTOCOL_VERSION_MIN } from '../wire/index.js'
import { nobleEd25519, type Ed25519 } from '../session/index.js'

/** How much a log line matters: 'error' is a bug (ours or in a hook), 'warn' a refusal or failure. */
export type LogLevel = 'info' | 'warn' | 'error'
/** Libraries stay quiet unless given a logger: one call per event worth a person's attention. */
export type Logger = (level: LogLevel, message: string, fields?: Record<string, unknown>) => void

/** The options of createNode: only `cookie` is required. */
export interface NodeInit {
  /** Human label, the first part of node.id. @default 'node' */
  name?: string
  /** The shared cluster secret. Required. */
  cookie: string
  /** How often a peer pings the sessions it drives. @default 1000 */
  heartbeatIntervalMs?: number
  /** Silence after which a session is closed and its node reported down ('timeout'); at least heartbeatIntervalMs. @default 5000 */
  heartbeatTimeoutMs?: number
  /** What happens to an actor whose name an older claim took. @default 'notify' */
  onNameConflict?: 'notify' | 'exit'
  /** A peer also accepts clients proving this cookie (the one handed to web pages). */
  clientCookie?: string
  /**
   * A home refuses a new claim of a client stamped older than the newest of the
   * home's clocks that client had seen before sending it (the home's HELLO and sync, the
   * PINGs it echoed) minus this. Lag on either side never makes an honest claim older.
   * @default 1000
   */
  maxClockOffsetMs?: number
  /** A home refuses a client's claims past this many names. @default 10000 */
  maxNamesPerClient?: number
  /**
   * A home refuses a client's claims past this many UTF-8 bytes of names in all
   * (9,000 names of 1 KB fit). @default 10 MiB
   */
  maxNameBytesPerClient?: number
  /**
   * A home forwards exit signals (`node.exit` of a remote pid) that its clients send.
   * Off by default: any page holding the client cookie could stop any actor. Bus
   * neighbours of one browser profile trust each other regardless. @default false
   */
  allowClientExits?: boolean
  /**
   * Bytes of one SYNC in parts (more: true) a peer or home may send before it is
   * complete; a client's is held to its name quota instead. @default 256 MiB
   */
  maxSyncBytes?: number
  /** A home asks this before accepting a client's claim. */
  authorize?: (nodeId: string, name: string) => boolean
  /** Largest frame in or out. @default 1 MiB */
  maxFrameBytes?: number
  /** A session with more unsent bytes is closed as a slow consumer. @default 16 MiB */
  maxBufferedBytes?: number
  /** A session whose handshake (and a connect's first registry sync) takes longer fails with TIMEOUT. @default 10000 */
  handshakeTimeoutMs?: number
  /** Backoff of a client's reconnects and a peer's redials. @default { minDelayMs: 100, maxDelayMs: 5000 } */
  reconnect?: { minDelayMs?: number; maxDelayMs?: number }
  /** Hidden slices (owners no longer counted) are forgotten after this. @default 60000 */
  sliceTtlMs?: number
  /** Bus liveness where Web Locks are missing: a member silent this long is down. @default 75000 */
  busTimeoutMs?: number
  /** How often a bus member says it is alive when there are no Web Locks. @default busTimeoutMs / 5 */
  busHeartbeatMs?: number
  /** Time, injected (tests). @default the system clock */
  clock?: Clock
  /** Randomness for keys and nonces, injected (tests). @default crypto.getRandomValues */
  random?: RandomSource
  /** Where the node's log lines go. @default none: the library is quiet */
  logger?: Logger
  /** Protocol versions spoken, for tests of version checks. @default this build's range */
  protocolVersions?: readonly [number, number]
  /**
   * Ed25519 for this node's identity and its handshakes. A Node server may pass a
   * native one (`@flurry/relay` does). @default @noble/curves
   */
  ed25519?: Ed25519
  /**
   * When queued frames leave. By default at the end of each task; a server fanning
   * out to many sessions may pass `setImmediate` so a whole I/O turn's frames to one
   * remote leave as one write. @default queueMicrotask
   */
  flushLater?: (fn: () => void) => void
}

export interface NodeOptions {
  name: string
  cookie: string
  clientCookie: string | undefined
  heartbeatIntervalMs: number
  heartbeatTimeoutMs: number
  onNameConflict: 'notify' | 'exit'
  maxClockOffsetMs: number
  maxNamesPerClient: number
  maxNameBytesPerClient: number
  allowClientExits: boolean
  maxSyncBytes: number
  authorize: ((nodeId: string, name: string) => boolean) | undefined
  maxFrameBytes: number
  maxBufferedBytes: number
  handshakeTimeoutMs: number
  reconnectMinMs: number
  reconnectMaxMs: number
  sliceTtlMs: number
  busTimeoutMs: number
  busHeartbeatMs: number
  clock: Clock
  random: RandomSource
  log: Logger
  versions: readonly [number, number]
  ed25519: Ed25519
  flushLater: (fn: () => void) => void
}

function positive(name: string, v: number | undefined, dflt: number): number {
  if (v === undefined) return dflt
  if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) {
    throw new FlurryError('BAD_ARGUMENT', `${name} must be a positive number (got ${String(v)})`)
  }
  return v
}

export function resolveOptions(init: NodeInit): NodeOptions {
  if (init === null || typeof init !== 'object') throw new FlurryError('BAD_ARGUMENT', 'createNode needs an options object')
  if (typeof init.cookie !== 'string' || init.cookie.length === 0) {
    throw new FlurryError('BAD_ARGUMENT', 'createNode needs a cookie (the shared cluster secret)')
  }
  const heartbeatIntervalMs = positive('heartbeatIntervalMs', init.heartbeatIntervalMs, 1000)
  const heartbeatTimeoutMs = positive('heartbeatTimeoutMs', init.heartbeatTimeoutMs, 5000)
  if (heartbeatTimeoutMs < heartbeatIntervalMs) {
    throw new FlurryError('BAD_ARGUMENT', 'heartbeatTimeoutMs must be at least heartbeatIntervalMs')
  }
  if (init.onNameConflict !== undefined && init.onNameConflict !== 'notify' && init.onNameConflict !== 'exit') {
    throw new FlurryError('BAD_ARGUMENT', "onNameConflict is 'notify' or 'exit'")
  }
  const busTimeoutMs = positive('busTimeoutMs', init.busTimeoutMs, 75_000)
  return {
    name: init.name ?? 'node',
    cookie: init.cookie,
    clientCookie: init.clientCookie,
    heartbeatIntervalMs,
    heartbeatTimeoutMs,
    onNameConflict: init.onNameConflict ?? 'notify',
    maxClockOffsetMs: positive('maxClockOffsetMs', init.maxClockOffsetMs, 1000),
    maxNamesPerClient: positive('maxNamesPerClient', init.maxNamesPerClient, 10_000),
    maxNameBytesPerClient: positive('maxNameBytesPerClient', init.maxNameBytesPerClient, 10 * 1024 * 1024),
    allowClientExits: init.allowClientExits === true,
    maxSyncBytes: positive('maxSyncBytes', init.maxSyncBytes, 256 * 1024 * 1024),
    authorize: init.authorize,
    maxFrameBytes: positive('maxFrameBytes', init.maxFrameBytes, DEFAULT_MAX_FRAME_BYTES),
    maxBufferedBytes: positive('maxBufferedBytes', init.maxBufferedBytes, 16 * 1024 * 1024),
    handshakeTimeoutMs: positive('handshakeTimeoutMs', init.handshakeTimeoutMs, 10_000),
    reconnectMinMs: positive('reconnect.minDelayMs', init.reconnect?.minDelayMs, 100),
    reconnectMaxMs: positive('reconnect.maxDelayMs', init.reconnect?.maxDelayMs, 5000),
    sliceTtlMs: positive('sliceTtlMs', init.sliceTtlMs, 60_000),
    busTimeoutMs,
    busHeartbeatMs: positive('busHeartbeatMs', init.busHeartbeatMs, Math.max(1, Math.floor(busTimeoutMs / 5))),
    clock: init.clock ?? systemClock,
    random: init.random ?? cryptoRandom,
    log: init.logger ?? (() => {}),
    versions: init.protocolVersions ?? [PROTOCOL_VERSION_MIN, PROTOCOL_VERSION_MAX],
    ed25519: init.ed25519 ?? nobleEd25519,
    flushLater: init.flushLater ?? queueMicrotask,
  }
}
