/**
 * A client that speaks the protocol by hand over a real WebSocket (built from
 * '@flurry/core/internals'), for tests of a relay against clients that lie or attack.
 */
import type { FlurryError } from '@flurry/core'
import {
  COUNTER_SPAN,
  DEFAULT_MAX_FRAME_BYTES,
  F,
  PROTOCOL_VERSION_MAX,
  PROTOCOL_VERSION_MIN,
  ROLE_CLIENT,
  SYNC_SESSION,
  Session,
  chunkOf,
  createIdentity,
  cryptoRandom,
  deltaFrame,
  syncFrame,
  systemClock,
  type CloseReason,
} from '@flurry/core/internals'
import { dialWebSocket } from '@flurry/ws'
import { waitFor } from './harness.js'

/** A client that speaks the protocol by hand, and records what the relay answers. */
export class Rogue {
  readonly identity
  readonly session: Session
  readonly frames: unknown[][] = []
  /** ERROR frames from the relay, and local problems. */
  readonly errors: FlurryError[] = []
  failure: FlurryError | null = null
  closed: { reason: CloseReason; detail: string } | null = null
  open = false
  seq = 0

  constructor(
    link: Parameters<typeof linkSession>[0],
    name: string,
    cookie: string,
    role: 'client' | 'peer',
    versions: readonly [number, number],
  ) {
    this.identity = createIdentity(name, cryptoRandom)
    this.session = linkSession(link, this.identity, cookie, role, versions, {
      onopen: () => {
        this.open = true
      },
      onfail: (_s, err) => {
        this.failure = err
      },
      onframe: (_s, _type, frame) => {
        this.frames.push(frame)
      },
      onclose: (_s, reason, detail) => {
        this.closed = { reason, detail }
      },
      onerror: (_s, err) => {
        this.errors.push(err as FlurryError)
      },
    })
  }

  get id(): string {
    return this.identity.id
  }

  static async connect(
    url: string,
    name: string,
    cookie = CLIENT_COOKIE,
    role: 'client' | 'peer' = 'client',
    versions: readonly [number, number] = [PROTOCOL_VERSION_MIN, PROTOCOL_VERSION_MAX],
  ): Promise<Rogue> {
    const link = await dialWebSocket(url).dial()
    return new Rogue(link, name, cookie, role, versions)
  }

  /** Handshake, the home's sync, then our own (empty) slice: the relay counts us then. */
  async join(): Promise<void> {
    await waitFor(() => this.open || this.failure !== null, `${this.id}: handshake`)
    if (this.failure !== null) throw this.failure
    await waitFor(() => this.frames.some((f) => f[0] === F.SYNC), `${this.id}: the home's sync`)
    this.seq = 1
    this.session.send(syncFrame(SYNC_SESSION, false, Date.now(), [chunkOf({ owner: this.id, seq: 1, role: ROLE_CLIENT, clients: null, names: [] })]))
  }

  /** A delta of our own slice: the next seq. */
  delta(ops: unknown[]): number {
    const prev = this.seq
    this.seq++
    this.session.send(deltaFrame(this.id, prev, this.seq, Date.now(), ops))
    return this.seq
  }

  hasError(code: string): boolean {
    return this.errors.some((e) => e.code === code)
  }

  refusals(): Array<{ seq: number; name: string; code: string }> {
    return this.frames
      .filter((f) => f[0] === F.REFUSE_NAME)
      .map((f) => ({ seq: f[1] as number, name: f[2] as string, code: f[3] as string }))
  }
}

function linkSession(
  link: Awaited<ReturnType<ReturnType<typeof dialWebSocket>['dial']>>,
  identity: ReturnType<typeof createIdentity>,
  cookie: string,
  role: 'client' | 'peer',
  versions: readonly [number, number],
  handlers: ConstructorParameters<typeof Session>[1],
): Session {
  // As packages/core/src/node/node.ts openSession builds it.
  return new Session(
    {
      link,
      initiator: true,
      identity,
      role,
      listenUrl: role === 'peer' ? 'ws://127.0.0.1:9/flurry' : null,
      cookie,
      versions,
      clock: systemClock,
      clockMs: () => Date.now(),
      random: cryptoRandom,
      heartbeatIntervalMs: 100,
      heartbeatTimeoutMs: 500,
      handshakeTimeoutMs: 5000,
      maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
      maxBufferedBytes: 16 * 1024 * 1024,
    },
    handlers,
  )
}

/** What the relay hands to web pages (clients may prove it instead of the cluster cookie). */
export const CLIENT_COOKIE = 'page-cookie'

/** The stamp of a claim made `ageMs` ago. */
export function stampAgo(ageMs: number): number {
  return (Date.now() - ageMs) * COUNTER_SPAN
}

