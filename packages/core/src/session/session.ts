/**
 * One session per link hop: the versioned handshake with cookie and identity proofs,
 * then heartbeats, goodbye, size limits, batching of outgoing frames and dispatch of
 * incoming ones. Nothing but HELLO / PROOF / REFUSE is processed before the handshake.
 */
import type { Clock, TimerHandle, RandomSource } from '../base/index.js'
import { Deadline, FlurryError, knownCode, type FlurryErrorCode } from '../base/index.js'
import type { Link } from '../link/index.js'
import {
  FrameBatch,
  encodeShared,
  readFrames,
  F,
  MAX_DEPTH,
  ROLE_CLIENT,
  ROLE_PEER,
  errorFrame,
  frameType,
  goodbyeFrame,
  helloFrame,
  pingFrame,
  pongFrame,
  proofFrame,
  readCodeMessage,
  readGoodbye,
  readHello,
  readPing,
  readPong,
  readProof,
  refuseFrame,
  type Hello,
} from '../wire/index.js'
import { Silence } from './silence.js'
import { idMatchesKey, verifySignature, type Ed25519, type Identity } from './identity.js'
import { cookieMac, equalBytes, identityChallenge } from './proof.js'

export type Role = 'peer' | 'client'

/** Why a session ended, as nodedown reports it. */
export type CloseReason =
  | 'closed'
  | 'goodbye'
  | 'timeout'
  | 'bad-frame'
  | 'slow-consumer'
  | 'auth-failed'
  | 'version-mismatch'
  | 'handshake-timeout'
  | 'refused'
  | 'local'

export interface SessionInit {
  link: Link
  /** We dialed: we prove first. The side that accepted proves only after checking our proof. */
  initiator: boolean
  identity: Identity
  role: Role
  listenUrl: string | null
  /** The cluster cookie: what peers prove, and what clients prove unless told otherwise. */
  cookie: string
  /** A peer also accepts clients that prove this one (a cookie handed to web pages). */
  clientCookie?: string | undefined
  versions: readonly [number, number]
  clock: Clock
  /** The node's hybrid clock, in ms, for the clock fields of frames. */
  clockMs: () => number
  random: RandomSource
  heartbeatIntervalMs: number
  heartbeatTimeoutMs: number
  handshakeTimeoutMs: number
  maxFrameBytes: number
  maxBufferedBytes: number
  /** Told each link message's bytes and frame count, both ways (the node's stats). */
  traffic?: { received(bytes: number, frames: number): void; sent(bytes: number, frames: number): void }
  /** Checks the remote's identity proof. @default @noble/curves */
  ed25519?: Ed25519
  /**
   * When queued frames leave: by default at the end of the task (a microtask); a relay
   * passes setImmediate so that a whole I/O turn's frames to one remote leave as one write.
   */
  later?: (fn: () => void) => void
}

export interface SessionHandlers {
  /** Handshake done: both sides proved themselves. */
  onopen(session: Session): void
  /** Handshake failed (AUTH_FAILED, VERSION_MISMATCH, TIMEOUT, CLOSED...). */
  onfail(session: Session, err: FlurryError): void
  /** A frame after the handshake that the session does not handle itself. */
  onframe(session: Session, type: number, frame: unknown[], raw: Uint8Array): void
  /** An open session ended. `detail` is the remote's goodbye text or a description. */
  onclose(session: Session, reason: CloseReason, detail: string): void
  /** The remote's clock, from HELLO and heartbeats. */
  onclock?(session: Session, ms: number): void
  /** A non-fatal problem worth a log line (an ERROR frame from the remote, a handler bug). */
  onerror?(session: Session, err: FlurryError | Error): void
}

let sessionIds = 0
const EXTRA_MESSAGE_BYTES = 64
/**
 * Before the handshake a remote is anonymous: a frame may hold at most this many bytes
 * and values nest at most PRE_AUTH_DEPTH deep (HELLO, PROOF and REFUSE are flat), so
 * hostile bytes cost almost nothing before they are refused.
 */
export const PRE_AUTH_BYTES = 4096
export const PRE_AUTH_DEPTH = 2
/** A paced send tops the link up to this many unsent bytes, checking again every few ms. */
const PACE_LOW_WATER = 1024 * 1024
const PACE_POLL_MS = 5
const EMPTY = new Uint8Array(0)
/**
 * Frames queued together leave as one link message of at most this many bytes (a
 * bigger frame goes alone). It is a protocol constant, not the node's
 * maxFrameBytes: nodes with different limits must accept each other's batches.
 */
export const BATCH_BYTES = 64 * 1024

type State = 'handshake' | 'open' | 'closed'

export class Session {
  readonly seq = ++sessionIds
  readonly init: SessionInit
  readonly link: Link
  state: State = 'handshake'
  /** Known once HELLO arrived. */
  remoteId = ''
  remoteRole: Role = 'peer'
  remoteUrl: string | null = null
  remoteKey: Uint8Array | null = null
  version = 0
  /** Whatever the layer above wants to keep with the session. */
  data: unknown = undefined

  #h: SessionHandlers
  #nonce: Uint8Array
  #remoteNonce: Uint8Array | null = null
  #sentProof = false
  #verified = false
  #batch: FrameBatch
  #flushScheduled = false
  #flushedSinceTick = false
  #silence = new Silence()
  #unechoed = new Silence()
  #lastTick: number
  #timer: TimerHandle | undefined
  #handshakeDeadline: Deadline | null = null
  #goodbye: string | null = null
  readonly #drivesPings: boolean
  /** Our newest PING clock, and the newest of our clocks the remote has provably seen. */
  #pingClock = 0
  #ackedMs = 0
  #helloClock = 0
  /** Frames waiting behind a paced send, and the next one to go. */
  #backlog: Uint8Array[] | null = null
  #backlogAt = 0
  #pumpTimer: TimerHandle | undefined
  /** Per-frame limits: small until the handshake is done (a message may straddle it). */
  readonly #limits = { maxFrameBytes: PRE_AUTH_BYTES, maxDepth: PRE_AUTH_DEPTH }

  constructor(init: SessionInit, handlers: SessionHandlers) {
    this.init = init
    this.link = init.link
    this.#h = handlers
    this.#nonce = init.random(16)
    this.#batch = new FrameBatch(init.maxFrameBytes)
    this.#lastTick = init.clock.now()
    // The peer side of a session drives the pings; a client only answers them, from
    // its message handler, because hidden tabs throttle timers but not messages.
    this.#drivesPings = init.role === 'peer'
    this.link.onmessage = (data) => this.#onMessage(data)
    this.link.onclose = (reason) => this.#onLinkClose(reason)
    this.#helloClock = init.clockMs()
    this.send(
      helloFrame({
        vMin: init.versions[0],
        vMax: init.versions[1],
        id: init.identity.id,
        key: init.identity.publicKey,
        role: init.role === 'peer' ? ROLE_PEER : ROLE_CLIENT,
        url: init.listenUrl,
        nonce: this.#nonce,
        clock: this.#helloClock,
      }),
    )
    this.#handshakeDeadline = new Deadline(init.clock, init.handshakeTimeoutMs, () => this.#handshakeTimeout())
  }

  get isOpen(): boolean {
    return this.state === 'open'
  }

  /**
   * The newest of our clocks (ms) the remote had seen before the frame being handled:
   * our HELLO's once it proved, then each PING it echoed. A frame arrives after every
   * frame the remote sent before it, so whatever it stamped after seeing that clock is
   * newer. Event-loop lag on either side cannot make an honest stamp older than this.
   */
  get ackedMs(): number {
    return this.#ackedMs
  }

  /** The remote has now provably seen our clock `ms` (it answered a frame that carried it). */
  noteAcked(ms: number): void {
    if (ms > this.#ackedMs) this.#ackedMs = ms
  }

  /** Queues a frame; frames queued in one task leave as one link message. */
  send(frame: unknown[]): void {
    if (this.state === 'closed') return
    this.sendEncoded(encodeShared(frame))
  }

  /** Queues a frame that is already encoded (forwarded as it came). */
  sendEncoded(bytes: Uint8Array): void {
    if (this.state === 'closed') return
    if (this.#backlog !== null) {
      // Behind a paced send: wait in line (a copy: the bytes may be a shared buffer).
      this.#backlog.push(bytes.slice())
      return
    }
    const max = this.init.maxFrameBytes
    if (bytes.length > max) {
      throw new FlurryError('FRAME_TOO_LARGE', `frame of ${bytes.length} bytes is over the limit of ${max}`)
    }
    if (this.#batch.frameCount > 0 && this.#batch.byteLength + 4 + bytes.length > BATCH_BYTES) this.flush()
    this.#batch.appendEncoded(bytes)
    if (!this.#flushScheduled) {
      this.#flushScheduled = true
      ;(this.init.later ?? queueMicrotask)(() => this.flush())
    }
  }

  /**
   * Sends frames (encoded, owned by the session from now on) as fast as the link
   * drains them rather than all at once: a first sync of 30 MB must not pass
   * maxBufferedBytes and be taken for a slow consumer. Frames sent later wait behind.
   */
  sendPaced(frames: Uint8Array[]): void {
    if (this.state === 'closed') return
    const max = this.init.maxFrameBytes
    for (const f of frames) {
      if (f.length > max) throw new FlurryError('FRAME_TOO_LARGE', `frame of ${f.length} bytes is over the limit of ${max}`)
    }
    if (this.#backlog === null) {
      this.#backlog = frames.slice()
      this.#backlogAt = 0
      this.#pump()
    } else for (const f of frames) this.#backlog.push(f)
  }

  #pump(): void {
    this.#pumpTimer = undefined
    const backlog = this.#backlog
    if (backlog === null || this.state === 'closed') return
    while (this.#backlogAt < backlog.length && this.link.bufferedAmount < PACE_LOW_WATER) {
      const f = backlog[this.#backlogAt] as Uint8Array
      backlog[this.#backlogAt++] = EMPTY
      if (this.#batch.frameCount > 0 && this.#batch.byteLength + 4 + f.length > BATCH_BYTES) this.flush()
      this.#batch.appendEncoded(f)
      if (this.#batch.byteLength >= BATCH_BYTES) this.flush()
    }
    this.flush()
    if (this.#backlogAt < backlog.length) {
      this.#pumpTimer = this.init.clock.setTimeout(() => this.#pump(), PACE_POLL_MS, true)
      return
    }
    this.#backlog = null
  }

  /** Sends what is queued now. */
  flush(): void {
    this.#flushScheduled = false
    if (this.#batch.frameCount === 0 || this.state === 'closed') return
    const frames = this.#batch.frameCount
    this.#flushedSinceTick = true
    const message = this.#batch.take()
    this.link.send(message)
    this.init.traffic?.sent(message.length, frames)
    if (this.link.bufferedAmount > this.init.maxBufferedBytes) {
      this.close('slow-consumer', `more than ${this.init.maxBufferedBytes} bytes unsent`, false)
    }
  }

  /**
   * Ends the session. With `goodbye`, the remote is told why first (its nodedown
   * reason is 'goodbye'). Fires onclose (or onfail during the handshake) once.
   */
  close(reason: CloseReason, detail = reason as string, goodbye = true): void {
    if (this.state === 'closed') return
    if (goodbye) {
      // Goodbye goes now, ahead of whatever a paced send still holds.
      this.#backlog = null
      this.send(goodbyeFrame(detail))
      this.flush()
    }
    this.#end(reason, detail)
    this.link.close(detail)
  }

  #end(reason: CloseReason, detail: string, failure?: FlurryError): void {
    const was = this.state
    if (was === 'closed') return
    this.state = 'closed'
    if (this.#timer !== undefined) this.init.clock.clearTimeout(this.#timer)
    this.#timer = undefined
    this.#handshakeDeadline?.cancel()
    if (this.#pumpTimer !== undefined) this.init.clock.clearTimeout(this.#pumpTimer)
    this.#pumpTimer = undefined
    this.#backlog = null
    if (was === 'handshake') {
      this.#h.onfail(this, failure ?? new FlurryError('CLOSED', `session closed during handshake: ${detail}`))
    } else {
      this.#h.onclose(this, reason, detail)
    }
  }

  #fail(code: FlurryErrorCode, message: string, tellRemote: boolean): void {
    if (this.state === 'closed') return
    if (tellRemote) {
      this.send(refuseFrame(code, message))
      this.flush()
    }
    const reason: CloseReason =
      code === 'AUTH_FAILED' ? 'auth-failed' : code === 'VERSION_MISMATCH' ? 'version-mismatch' : 'refused'
    this.#end(reason, message, new FlurryError(code, message))
    this.link.close(`${code}: ${message}`)
  }

  #handshakeTimeout(): void {
    this.#handshakeDeadline = null
    if (this.state !== 'handshake') return
    this.#end('handshake-timeout', 'handshake timed out', new FlurryError('TIMEOUT', `handshake with ${this.remoteId || 'remote'} timed out`))
    this.link.close('handshake timed out')
  }

  #onLinkClose(reason: string): void {
    if (this.state === 'closed') return
    if (this.#goodbye !== null) this.#end('goodbye', this.#goodbye)
    else this.#end('closed', reason)
  }

  #onMessage(data: Uint8Array): void {
    if (this.state === 'closed') return
    this.#silence.heard()
    const max = this.init.maxFrameBytes
    if (data.length > Math.max(max, BATCH_BYTES) + EXTRA_MESSAGE_BYTES) {
      this.#badFrame(new FlurryError('FRAME_TOO_LARGE', `incoming message of ${data.length} bytes is over the limit of ${max}`))
      return
    }
    let frames = 0
    try {
      readFrames(data, this.#limits, (frame, raw) => {
        frames++
        if (this.state !== 'closed') this.#onFrame(frame as unknown[], raw)
      })
    } catch (err) {
      if (err instanceof FlurryError && (err.code === 'BAD_FRAME' || err.code === 'FRAME_TOO_LARGE')) this.#badFrame(err)
      else this.#h.onerror?.(this, err as Error)
    }
    this.init.traffic?.received(data.length, frames)
  }

  #badFrame(err: FlurryError): void {
    // During the handshake the failure itself is the report (onfail): one line, not two.
    if (this.state === 'handshake') {
      this.#fail(err.code, err.message, true)
      return
    }
    this.#h.onerror?.(this, err)
    this.close('bad-frame', `bad frame: ${err.message}`)
  }

  #onFrame(frame: unknown[], raw: Uint8Array): void {
    const type = frameType(frame)
    if (this.state === 'handshake') {
      if (type === F.HELLO) this.#onHello(readHello(frame))
      else if (type === F.PROOF) this.#onProof(frame)
      else if (type === F.REFUSE) this.#onRefuse(frame)
      else throw new FlurryError('BAD_FRAME', `frame type ${type} before the handshake finished`)
      return
    }
    switch (type) {
      case F.PING: {
        const clock = readPing(frame)
        this.#h.onclock?.(this, clock)
        if (!this.#drivesPings) this.send(pongFrame(this.init.clockMs(), clock))
        return
      }
      case F.PONG: {
        const { clock, echo } = readPong(frame)
        // Only a clock we sent counts: a remote cannot claim to have seen our future.
        if (echo !== null) {
          this.noteAcked(Math.min(echo, this.#pingClock))
          this.#unechoed.heard()
        }
        this.#h.onclock?.(this, clock)
        return
      }
      case F.GOODBYE:
        this.#goodbye = readGoodbye(frame)
        this.#end('goodbye', this.#goodbye)
        this.link.close('goodbye')
        return
      case F.ERROR: {
        const { code, message } = readCodeMessage(frame)
        this.#h.onerror?.(this, new FlurryError(knownCode(code), `${this.remoteId} refused: ${message}`))
        return
      }
      case F.REFUSE:
      case F.HELLO:
      case F.PROOF:
        throw new FlurryError('BAD_FRAME', `handshake frame ${type} after the handshake`)
      default:
        try {
          this.#h.onframe(this, type, frame, raw)
        } catch (err) {
          if (err instanceof FlurryError && err.code === 'BAD_FRAME') throw err
          this.#h.onerror?.(this, err as Error)
        }
    }
  }

  #onHello(h: Hello): void {
    if (this.#remoteNonce !== null) throw new FlurryError('BAD_FRAME', 'second HELLO')
    const [vMin, vMax] = this.init.versions
    const top = Math.min(vMax, h.vMax)
    if (top < Math.max(vMin, h.vMin)) {
      this.#fail('VERSION_MISMATCH', `protocol versions ${h.vMin}..${h.vMax} and ${vMin}..${vMax} do not overlap`, true)
      return
    }
    if (!idMatchesKey(h.id, h.key)) {
      this.#fail('AUTH_FAILED', `node id ${h.id} does not match its key`, true)
      return
    }
    if (h.id === this.init.identity.id) {
      this.#fail('PROTOCOL', 'a node cannot connect to itself', true)
      return
    }
    this.version = top
    this.remoteId = h.id
    this.remoteKey = h.key
    this.remoteRole = h.role === ROLE_PEER ? 'peer' : 'client'
    this.remoteUrl = this.remoteRole === 'peer' ? h.url : null
    this.#remoteNonce = h.nonce
    this.#h.onclock?.(this, h.clock)
    if (this.init.role === 'client' && this.remoteRole === 'client') {
      this.#fail('PROTOCOL', 'two clients cannot hold a session: one side must listen', true)
      return
    }
    // The dialer proves first. The side that accepted the socket proves only once the
    // dialer's proof checked out, and with the cookie that proof used: an anonymous
    // dialer never gets a MAC keyed by the cluster cookie to guess at offline.
    if (this.init.initiator) this.#sendProof(this.init.cookie)
  }

  #sendProof(cookie: string): void {
    const theirs = this.#remoteNonce as Uint8Array
    const id = this.init.identity
    this.send(proofFrame(cookieMac(cookie, theirs, this.#nonce, id.id), id.sign(identityChallenge(theirs, this.#nonce))))
    this.#sentProof = true
    this.#maybeOpen()
  }

  #onProof(frame: unknown[]): void {
    if (this.#remoteNonce === null || this.#verified) throw new FlurryError('BAD_FRAME', 'unexpected PROOF')
    const { mac, sig } = readProof(frame)
    if (!verifySignature(sig, identityChallenge(this.#nonce, this.#remoteNonce), this.remoteKey as Uint8Array, this.init.ed25519)) {
      this.#fail('AUTH_FAILED', `${this.remoteId} did not prove its identity key`, true)
      return
    }
    const candidates =
      this.init.role === 'peer' && this.remoteRole === 'client' && this.init.clientCookie !== undefined
        ? [this.init.clientCookie, this.init.cookie]
        : [this.init.cookie]
    const matched = candidates.find((c) => equalBytes(mac, cookieMac(c, this.#nonce, this.#remoteNonce as Uint8Array, this.remoteId)))
    if (matched === undefined) {
      this.#fail('AUTH_FAILED', `${this.remoteId} proved a different cookie`, true)
      return
    }
    this.#verified = true
    // It proved after seeing our HELLO: it has seen our clock.
    this.noteAcked(this.#helloClock)
    if (!this.#sentProof) this.#sendProof(matched)
    else this.#maybeOpen()
  }

  #onRefuse(frame: unknown[]): void {
    const { code, message } = readCodeMessage(frame)
    const known: FlurryErrorCode[] = ['AUTH_FAILED', 'VERSION_MISMATCH', 'NOT_AUTHORIZED', 'PROTOCOL', 'BAD_FRAME', 'FRAME_TOO_LARGE']
    const c = (known as string[]).includes(code) ? (code as FlurryErrorCode) : 'PROTOCOL'
    this.#fail(c, `refused by remote: ${message}`, false)
  }

  #maybeOpen(): void {
    if (!this.#verified || !this.#sentProof || this.state !== 'handshake') return
    this.state = 'open'
    this.#limits.maxFrameBytes = this.init.maxFrameBytes
    this.#limits.maxDepth = MAX_DEPTH
    this.#handshakeDeadline?.cancel()
    this.#handshakeDeadline = null
    this.#lastTick = this.init.clock.now()
    // Its proof just came: the remote is alive now. (The side that accepted opens half
    // a round trip before the dialer, whose first frames follow its own open.)
    this.#silence.heard()
    this.#timer = this.init.clock.setTimeout(() => this.#tick(), this.init.heartbeatIntervalMs, true)
    this.#h.onopen(this)
  }

  #tick(): void {
    this.#timer = undefined
    if (this.state !== 'open') return
    const now = this.init.clock.now()
    const interval = this.init.heartbeatIntervalMs
    // A tick that comes much later than asked means this loop was stalled: frames that
    // arrived meanwhile are still unread, so count at most one and a half intervals.
    const awake = Math.min(now - this.#lastTick, interval * 1.5)
    this.#lastTick = now
    const silent = this.#silence.tick(awake)
    if (silent >= this.init.heartbeatTimeoutMs) {
      this.close('timeout', `no frame for ${Math.round(silent)} ms`)
      return
    }
    // A client must echo our PINGs, not only send frames: the echo bounds how old a
    // stamp it may make (the clock rule), so one that stops echoing is dropped too.
    if (this.#drivesPings && this.remoteRole === 'client') {
      const unechoed = this.#unechoed.tick(awake)
      if (unechoed >= this.init.heartbeatTimeoutMs) {
        this.close('timeout', `no PING echoed for ${Math.round(unechoed)} ms`)
        return
      }
    }
    // Nothing left this session since the last tick: it needs no buffer until it does.
    if (!this.#flushedSinceTick) this.#batch.release()
    this.#flushedSinceTick = false
    if (this.#drivesPings) {
      this.#pingClock = this.init.clockMs()
      this.send(pingFrame(this.#pingClock))
    }
    this.#timer = this.init.clock.setTimeout(() => this.#tick(), interval, true)
  }

  /** Reports whether the remote refused something, without closing (ERROR frame). */
  sendError(code: FlurryErrorCode, message: string): void {
    this.send(errorFrame(code, message))
  }

  toString(): string {
    return `session#${this.seq}(${this.remoteId || '?'})`
  }
}

