/**
 * A Link over one open RTCDataChannel (ordered, reliable), whatever implements it
 * (node-datachannel's polyfill in Node, the browser's own). Binary messages are link
 * messages; text messages are our control messages, so the hot path carries no header:
 * - 'c' + reason: the sender closes with this reason (data channels carry none);
 * - 'm' + length: a link message longer than CHUNK_BYTES follows in binary pieces
 *   of at most CHUNK_BYTES, joined here (browsers cap a data-channel message).
 */
import type { Link } from '@flurry/core'
import { CHUNK_BYTES } from './init.js'

/** What the link needs from a data channel; the DOM's and the polyfill's fit. */
export interface RawChannel {
  readonly bufferedAmount: number
  binaryType: string
  send(data: string | Uint8Array): void
  close(): void
  onmessage: ((event: { data: unknown }) => void) | null
  onclose: ((event: unknown) => void) | null
  onerror: ((event: unknown) => void) | null
}

/** Longest close reason we send: enough for people, small for the channel. */
const MAX_REASON_CHARS = 512
/** How long the remote may take to close the channel after our close before we free the connection anyway. */
const CLOSE_GRACE_MS = 5_000

// Node's setImmediate runs after pending I/O and promise jobs; setTimeout elsewhere.
const later: (fn: () => void) => void =
  typeof (globalThis as { setImmediate?: unknown }).setImmediate === 'function'
    ? (fn) => (globalThis as unknown as { setImmediate: (f: () => void) => void }).setImmediate(fn)
    : (fn) => globalThis.setTimeout(fn, 0)

export interface DataChannelLinkInit {
  maxMessageBytes: number
  /** Frees the channel and its peer connection; called once. */
  release: () => void
}

export class DataChannelLink implements Link {
  readonly kind = 'webrtc'
  onmessage: ((data: Uint8Array) => void) | null = null
  onclose: ((reason: string) => void) | null = null
  #channel: RawChannel
  #maxMessageBytes: number
  #release: (() => void) | null
  /** No more sends: the close is decided (by us or by the remote). */
  #closed = false
  /** No more deliveries: the owner closed, or onclose was fired. */
  #deaf = false
  #error: string | undefined
  /** A long message being joined, and how much of it came. */
  #joining: Uint8Array | null = null
  #joined = 0
  #graceTimer: ReturnType<typeof setTimeout> | undefined
  /**
   * Events that arrive before the first later task are held: the transport hands
   * the link over through a promise, and the owner sets its handlers after that.
   */
  #early: Array<() => void> | null = []

  constructor(channel: RawChannel, init: DataChannelLinkInit) {
    this.#channel = channel
    this.#maxMessageBytes = init.maxMessageBytes
    this.#release = init.release
    channel.binaryType = 'arraybuffer'
    channel.onmessage = (event) => this.#received(event.data)
    channel.onerror = (event) => {
      this.#error ??= describeChannelError(event)
    }
    channel.onclose = () => this.lost(this.#error ?? 'connection closed')
    later(() => {
      const early = this.#early
      this.#early = null
      if (early !== null) for (const run of early) run()
    })
  }

  get bufferedAmount(): number {
    try {
      return this.#channel.bufferedAmount
    } catch {
      return 0 // a freed native channel
    }
  }

  send(data: Uint8Array): void {
    if (this.#closed) return
    const channel = this.#channel
    try {
      if (data.byteLength <= CHUNK_BYTES) {
        channel.send(data)
        return
      }
      channel.send(`m${data.byteLength}`)
      for (let at = 0; at < data.byteLength; at += CHUNK_BYTES) channel.send(data.subarray(at, at + CHUNK_BYTES))
    } catch (err) {
      // A browser throws when its send buffer (16 MiB) is full; the channel is no use now.
      this.close(`send failed: ${describe(err)}`)
    }
  }

  close(reason = 'closed'): void {
    if (this.#closed) return
    this.#closed = true
    this.#deaf = true
    this.#joining = null
    try {
      // Queued behind every message sent before it: the remote reads them, then this,
      // and closes the channel. Closing it here could overtake the queued messages.
      this.#channel.send(`c${reason.slice(0, MAX_REASON_CHARS)}`)
      this.#graceTimer = setTimeout(() => this.#free(), CLOSE_GRACE_MS)
      ;(this.#graceTimer as { unref?: () => void }).unref?.()
    } catch {
      // Already closing under us: the remote learns it from the channel's close.
      this.#free()
    }
    later(() => this.onclose?.(reason))
  }

  /** The channel or its connection went away (closed, failed). */
  lost(reason: string): void {
    this.#free()
    if (this.#closed) return
    this.#closed = true
    this.#fire(reason)
  }

  #free(): void {
    clearTimeout(this.#graceTimer)
    const release = this.#release
    this.#release = null
    release?.()
  }

  /** Fires onclose once, from a later task, unless the owner closed first. */
  #fire(reason: string): void {
    const fire = (): void =>
      later(() => {
        if (this.#deaf) return
        this.#deaf = true
        this.onclose?.(reason)
      })
    if (this.#early !== null) this.#early.push(fire)
    else fire()
  }

  #received(data: unknown): void {
    if (this.#early !== null) this.#early.push(() => this.#handle(data))
    else this.#handle(data)
  }

  #handle(data: unknown): void {
    if (this.#deaf || this.#closed) return
    if (data instanceof ArrayBuffer) {
      this.#binary(new Uint8Array(data))
      return
    }
    if (typeof data !== 'string') {
      this.close('bad frame: neither bytes nor text')
      return
    }
    const kind = data.charAt(0)
    if (kind === 'c') {
      // The remote closed: it sends nothing more, and closes the channel itself.
      this.#closed = true
      this.#joining = null
      this.#fire(data.slice(1) || 'closed')
      this.#free()
      return
    }
    if (kind === 'm' && this.#joining === null) {
      const length = /^m[1-9][0-9]{0,15}$/.test(data) ? Number(data.slice(1)) : NaN
      if (!(length > CHUNK_BYTES)) this.close('bad frame: message length')
      else if (length > this.#maxMessageBytes) this.close('message too big')
      else {
        this.#joining = new Uint8Array(length)
        this.#joined = 0
      }
      return
    }
    this.close('bad frame: unknown control message')
  }

  #binary(bytes: Uint8Array): void {
    const joining = this.#joining
    if (joining === null) {
      this.onmessage?.(bytes)
      return
    }
    if (this.#joined + bytes.byteLength > joining.byteLength) {
      this.close('bad frame: longer than announced')
      return
    }
    joining.set(bytes, this.#joined)
    this.#joined += bytes.byteLength
    if (this.#joined === joining.byteLength) {
      this.#joining = null
      this.onmessage?.(joining)
    }
  }
}

/** An error's message, for people. */
export function describe(err: unknown): string {
  const message = (err as { message?: unknown } | null)?.message
  return typeof message === 'string' && message !== '' ? message : String(err)
}

function describeChannelError(event: unknown): string {
  const error = (event as { error?: unknown } | null)?.error
  return `channel error: ${describe(error ?? event)}`
}
