/**
 * The platform-neutral half of `webrtc()`: one DirectAttempt per `open`, built on
 * simple-peer. simple-peer does the offer/answer and ICE; once its data channel is
 * open the Link takes the channel over and simple-peer's stream layer is no longer on
 * the path of a message. A platform file supplies the RTCPeerConnection.
 */
import SimplePeer from 'simple-peer'
import { FlurryError } from '@flurry/core'
import type { DirectAttempt, DirectTransport, Link } from '@flurry/core'
import { DataChannelLink, describe } from './channel-link.js'
import type { RawChannel } from './channel-link.js'
import { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_MAX_MESSAGE_BYTES } from './init.js'
import type { WebRtcInit } from './init.js'

/** What a platform gives: the WebRTC classes (or none: the page's globals) and its RTCPeerConnection config. */
export interface Platform {
  wrtc?: object
  config(init: WebRtcInit): object
}

/**
 * simple-peer waits this long for the last ICE candidate before it gives up waiting;
 * its default of 5 s keeps a destroyed peer (and so the Node process) alive that long.
 */
const ICE_COMPLETE_TIMEOUT_MS = 100

export function createTransport(init: WebRtcInit, platform: Platform): DirectTransport {
  const timeoutMs = positive('connectTimeoutMs', init.connectTimeoutMs, DEFAULT_CONNECT_TIMEOUT_MS)
  const maxMessageBytes = positive('maxMessageBytes', init.maxMessageBytes, DEFAULT_MAX_MESSAGE_BYTES)
  if (init.iceServers !== undefined && !Array.isArray(init.iceServers)) {
    throw new FlurryError('BAD_ARGUMENT', 'webrtc: iceServers must be an array')
  }
  return {
    kind: 'webrtc',
    open: (options) => new Attempt(options, { init, platform, timeoutMs, maxMessageBytes }),
  }
}

interface Settings {
  init: WebRtcInit
  platform: Platform
  timeoutMs: number
  maxMessageBytes: number
}

/** What simple-peer sets once connected and its types leave out (stable since simple-peer 6). */
interface PeerInternals {
  _channel: unknown
  remoteAddress?: string
  remotePort?: number
}

/** The signaling types each side accepts: the initiator offers, the other answers. */
const ACCEPTED = {
  initiator: new Set(['answer', 'candidate']),
  responder: new Set(['offer', 'candidate']),
}

class Attempt implements DirectAttempt {
  readonly link: Promise<Link>
  #peer: SimplePeer.Instance | null = null
  #accepted: Set<string>
  #settled = false
  #resolve!: (link: Link) => void
  #reject!: (err: FlurryError) => void
  #timer: ReturnType<typeof setTimeout> | undefined
  #signal: AbortSignal | undefined
  #send: (data: unknown) => void = () => {}
  /** The offerer's candidates until the answer came. */
  #held: unknown[] | null = null
  #onabort = (): void => this.#fail(new FlurryError('ABORTED', 'direct link attempt aborted'))

  constructor(
    options: { initiator: boolean; send: (data: unknown) => void; signal?: AbortSignal },
    settings: Settings,
  ) {
    this.link = new Promise<Link>((resolve, reject) => {
      this.#resolve = resolve
      this.#reject = reject
    })
    // A caller that drops the attempt need not await it: no unhandled rejection.
    this.link.catch(() => {})
    this.#accepted = options.initiator ? ACCEPTED.initiator : ACCEPTED.responder
    this.#signal = options.signal
    if (options.signal?.aborted) {
      this.#onabort()
      return
    }
    options.signal?.addEventListener('abort', this.#onabort, { once: true })
    this.#timer = setTimeout(
      () => this.#fail(new FlurryError('TIMEOUT', `no direct link within ${settings.timeoutMs} ms`)),
      settings.timeoutMs,
    )
    let peer: SimplePeer.Instance
    try {
      peer = new SimplePeer({
        initiator: options.initiator,
        trickle: true,
        // Node's config holds node-datachannel's own keys (bindAddress), beyond the DOM type.
        config: settings.platform.config(settings.init) as RTCConfiguration,
        channelConfig: { ordered: true },
        ...(settings.platform.wrtc !== undefined ? { wrtc: settings.platform.wrtc as SimplePeer.Options['wrtc'] } : {}),
        iceCompleteTimeout: ICE_COMPLETE_TIMEOUT_MS,
      })
    } catch (cause) {
      this.#fail(new FlurryError('CONNECT_FAILED', `cannot start WebRTC: ${describe(cause)}`, { cause }))
      return
    }
    this.#peer = peer
    this.#send = (data: unknown) => {
      if (this.#settled) return
      try {
        options.send(data)
      } catch (cause) {
        this.#fail(new FlurryError('CONNECT_FAILED', `cannot send signaling data: ${describe(cause)}`, { cause }))
      }
    }
    // The offerer holds its candidates until it has the answer: a responder that had
    // them would start ICE and DTLS at once, and a DTLS hello that reaches the offerer
    // before the answer kills its connection now and then (seen with node-datachannel 0.33).
    this.#held = options.initiator ? [] : null
    peer.on('signal', (data: unknown) => {
      if (this.#held !== null && (data as { type?: unknown }).type === 'candidate') this.#held.push(data)
      else this.#send(withoutCandidates(data))
    })
    // Errors after the link opened reach it as a close; an 'error' without a listener would throw.
    peer.on('error', (err: unknown) => {
      this.#fail(new FlurryError('CONNECT_FAILED', `WebRTC failed: ${describe(err)}`, { cause: err }))
    })
    peer.on('close', () => this.#fail(new FlurryError('CONNECT_FAILED', 'WebRTC connection closed before it opened')))
    peer.once('connect', () => {
      if (this.#settled) return
      const { _channel, remoteAddress, remotePort } = peer as unknown as PeerInternals
      const channel = _channel as RawChannel
      const link = new DataChannelLink(channel, {
        maxMessageBytes: settings.maxMessageBytes,
        release: () => peer.destroy(),
      })
      if (remoteAddress !== undefined) {
        Object.assign(link, { remote: { address: `${remoteAddress}:${remotePort ?? 0}` } })
      }
      peer.on('close', () => link.lost('connection lost'))
      this.#finish()
      this.#resolve(link)
    })
  }

  receive(data: unknown): void {
    const peer = this.#peer
    if (this.#settled || peer === null) return
    const type = (data as { type?: unknown } | null)?.type
    if (typeof data !== 'object' || typeof type !== 'string' || !this.#accepted.has(type)) {
      this.#fail(new FlurryError('CONNECT_FAILED', 'bad signaling data from the remote'))
      return
    }
    try {
      peer.signal(data as SimplePeer.SignalData)
      const held = this.#held
      if (type === 'answer' && held !== null) {
        this.#held = null
        for (const candidate of held) this.#send(candidate)
      }
    } catch (cause) {
      this.#fail(new FlurryError('CONNECT_FAILED', `bad signaling data from the remote: ${describe(cause)}`, { cause }))
    }
  }

  close(): void {
    this.#fail(new FlurryError('ABORTED', 'direct link attempt closed'))
  }

  /** Stops the timer and the abort listener; true the first time. */
  #finish(): boolean {
    if (this.#settled) return false
    this.#settled = true
    clearTimeout(this.#timer)
    this.#signal?.removeEventListener('abort', this.#onabort)
    return true
  }

  #fail(err: FlurryError): void {
    if (!this.#finish()) return
    this.#peer?.destroy()
    this.#reject(err)
  }
}

/**
 * An offer or answer without the candidates it may already hold: they are trickled
 * one by one anyway, and libdatachannel fails ("remote candidate without ICE
 * transport") when an offer brings them.
 */
function withoutCandidates(data: unknown): unknown {
  const sdp = (data as { sdp?: unknown } | null)?.sdp
  if (typeof sdp !== 'string') return data
  return { ...(data as object), sdp: sdp.replace(/^a=(candidate:|end-of-candidates).*\r?\n/gm, '') }
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback
  if (!Number.isFinite(value) || value <= 0) throw new FlurryError('BAD_ARGUMENT', `webrtc: ${name} must be a positive number`)
  return value
}
