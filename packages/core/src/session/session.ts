/**
 * One session per link hop: the versioned handshake with cookie and identity proofs,
 * then heartbeats, goodbye, size limits, batching of outgoing frames and dispatch of
 * incoming ones. Nothing but HELLO / PROOF / REFUSE is processed before the handshake.
 */
import type { Clock, TimerHandle, RandomSource } from '../base/index.js'
import { FlurryError, type FlurryErrorCode } from '../base/index.js'
import type { Link } from '../link/index.js'
import {
  FrameBatch,
  encodeShared,
  readFrames,
  F,
  ROLE_CLIENT,
  ROLE_PEER,
  frameType,
  goodbyeFrame,
  helloFrame,
  num,
  proofFrame,
  readCodeMessage,
  readHello,
  readProof,
  refuseFrame,
  type Hello,
} from '../wire/index.js'
import { idMatchesKey, verifySignature, type Identity } from './identity.js'
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
  #gotFrame = false
  #lastSeen: number
  #timer: TimerHandle | undefined
  #goodbye: string | null = null
  readonly #drivesPings: boolean

  constructor(init: SessionInit, handlers: SessionHandlers) {
    this.init = init
    this.link = init.link
    this.#h = handlers
    this.#nonce = init.random(16)
    this.#batch = new FrameBatch(init.maxFrameBytes)
    this.#lastSeen = init.clock.now()
    // The peer side of a session drives the pings; a client only answers them, from
    // its message handler, because hidden tabs throttle timers but not messages.
    this.#drivesPings = init.role === 'peer'
    this.link.onmessage = (data) => this.#onMessage(data)
    this.link.onclose = (reason) => this.#onLinkClose(reason)
    this.send(
      helloFrame({
        vMin: init.versions[0],
        vMax: init.versions[1],
        id: init.identity.id,
        key: init.identity.publicKey,
        role: init.role === 'peer' ? ROLE_PEER : ROLE_CLIENT,
        url: init.listenUrl,
        nonce: this.#nonce,
        clock: init.clockMs(),
      }),
    )
    this.#timer = init.clock.setTimeout(() => this.#handshakeTimeout(), init.handshakeTimeoutMs, true)
  }

  get isOpen(): boolean {
    return this.state === 'open'
  }

  /** Queues a frame; frames queued in one task leave as one link message. */
  send(frame: unknown[]): void {
    if (this.state === 'closed') return
    this.sendEncoded(encodeShared(frame))
  }

  /** Queues a frame that is already encoded (forwarded as it came). */
  sendEncoded(bytes: Uint8Array): void {
    if (this.state === 'closed') return
    const max = this.init.maxFrameBytes
    if (bytes.length > max) {
      throw new FlurryError('FRAME_TOO_LARGE', `frame of ${bytes.length} bytes is over the limit of ${max}`)
    }
    if (this.#batch.frameCount > 0 && this.#batch.byteLength + 4 + bytes.length > BATCH_BYTES) this.flush()
    this.#batch.appendEncoded(bytes)
    if (!this.#flushScheduled) {
      this.#flushScheduled = true
      queueMicrotask(() => this.flush())
    }
  }

  /** Sends what is queued now. */
  flush(): void {
    this.#flushScheduled = false
    if (this.#batch.frameCount === 0 || this.state === 'closed') return
    const frames = this.#batch.frameCount
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
    this.#timer = undefined
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
    this.#gotFrame = true
    const max = this.init.maxFrameBytes
    if (data.length > Math.max(max, BATCH_BYTES) + EXTRA_MESSAGE_BYTES) {
      this.#badFrame(new FlurryError('FRAME_TOO_LARGE', `incoming message of ${data.length} bytes is over the limit of ${max}`))
      return
    }
    let frames = 0
    try {
      readFrames(data, max, (frame, raw) => {
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
      case F.PING:
        this.#h.onclock?.(this, num(frame[1], 'ping clock'))
        if (!this.#drivesPings) this.send([F.PONG, this.init.clockMs()])
        return
      case F.PONG:
        this.#h.onclock?.(this, num(frame[1], 'pong clock'))
        return
      case F.GOODBYE:
        this.#goodbye = typeof frame[1] === 'string' ? frame[1] : 'goodbye'
        this.#end('goodbye', this.#goodbye)
        this.link.close('goodbye')
        return
      case F.ERROR: {
        const { code, message } = readCodeMessage(frame)
        this.#h.onerror?.(this, new FlurryError(code as FlurryErrorCode, `${this.remoteId} refused: ${message}`))
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
    // A peer answering a client waits for the client's proof, so that it proves back
    // with the cookie the client used (the cluster cookie or the client cookie).
    if (!(this.init.role === 'peer' && this.remoteRole === 'client')) this.#sendProof(this.init.cookie)
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
    if (!verifySignature(sig, identityChallenge(this.#nonce, this.#remoteNonce), this.remoteKey as Uint8Array)) {
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
    if (this.#timer !== undefined) this.init.clock.clearTimeout(this.#timer)
    this.#lastSeen = this.init.clock.now()
    this.#gotFrame = false
    this.#timer = this.init.clock.setTimeout(() => this.#tick(), this.init.heartbeatIntervalMs, true)
    this.#h.onopen(this)
  }

  #tick(): void {
    this.#timer = undefined
    if (this.state !== 'open') return
    const now = this.init.clock.now()
    if (this.#gotFrame) {
      this.#gotFrame = false
      this.#lastSeen = now
    } else if (now - this.#lastSeen >= this.init.heartbeatTimeoutMs) {
      this.close('timeout', `no frame for ${now - this.#lastSeen} ms`)
      return
    }
    if (this.#drivesPings) this.send([F.PING, this.init.clockMs()])
    this.#timer = this.init.clock.setTimeout(() => this.#tick(), this.init.heartbeatIntervalMs, true)
  }

  /** Reports whether the remote refused something, without closing (ERROR frame). */
  sendError(code: FlurryErrorCode, message: string): void {
    this.send([F.ERROR, code, message])
  }

  toString(): string {
    return `session#${this.seq}(${this.remoteId || '?'})`
  }
}

