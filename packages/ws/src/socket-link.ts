/**
 * A Link over one open WebSocket, whatever implements it (`ws` in Node, the browser's
 * WebSocket). The platform files feed it the socket's events; it turns them into the
 * Link contract: binary only, one `onclose` per side, no event inside send/close.
 */
import type { Link, LinkRemote } from '@flurry/core'

/** What the link needs from a socket; both `ws` and the browser's WebSocket fit. */
export interface RawSocket {
  readonly bufferedAmount: number
  send(data: Uint8Array): void
  close(code?: number, reason?: string): void
}

/** Close code of an application close; the reason is the close reason. */
export const CLOSE_CODE = 4000
/** Room for a close reason: a control frame carries at most 123 bytes of it. */
const MAX_REASON_BYTES = 120
/** RFC 6455 "message too big". */
const CLOSE_TOO_BIG = 1009

// Node's setImmediate runs after pending I/O and promise jobs; setTimeout elsewhere.
const later: (fn: () => void) => void =
  typeof (globalThis as { setImmediate?: unknown }).setImmediate === 'function'
    ? (fn) => (globalThis as unknown as { setImmediate: (f: () => void) => void }).setImmediate(fn)
    : (fn) => globalThis.setTimeout(fn, 0)

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** `reason` cut to at most `max` bytes of UTF-8, never inside a character. */
export function truncateUtf8(reason: string, max = MAX_REASON_BYTES): string {
  const bytes = encoder.encode(reason)
  if (bytes.length <= max) return reason
  let end = max
  while (end > 0 && ((bytes[end] as number) & 0xc0) === 0x80) end--
  return decoder.decode(bytes.subarray(0, end))
}

export class WebSocketLink implements Link {
  readonly kind = 'ws'
  readonly remote: LinkRemote | undefined
  onmessage: ((data: Uint8Array) => void) | null = null
  onclose: ((reason: string) => void) | null = null
  #socket: RawSocket
  /** No more sends; the close is decided (by us or by the remote). */
  #closed = false
  /** No more deliveries: the owner closed, or onclose was fired. */
  #deaf = false
  #error: string | undefined
  /**
   * Events that arrive before the first later task are held: a dialer hands the link
   * over through a promise, and `ws` may emit a message before its owner's `await`
   * continues and sets the handlers.
   */
  #early: Array<() => void> | null = []

  constructor(socket: RawSocket, remote?: LinkRemote) {
    this.#socket = socket
    this.remote = remote
    later(() => {
      const early = this.#early
      this.#early = null
      if (early !== null) for (const run of early) run()
    })
  }

  get bufferedAmount(): number {
    return this.#socket.bufferedAmount
  }

  send(data: Uint8Array): void {
    if (this.#closed) return
    try {
      this.#socket.send(data)
    } catch {
      // The socket is closing under us: the close event follows, like after close().
    }
  }

  close(reason = 'closed'): void {
    if (this.#closed) return
    this.#closed = true
    this.#deaf = true
    try {
      this.#socket.close(CLOSE_CODE, truncateUtf8(reason))
    } catch {
      // Already closing: the remote learns it from the TCP close.
    }
    later(() => this.onclose?.(reason))
  }

  /** A binary message came in. */
  received(data: Uint8Array): void {
    if (this.#early !== null) this.#early.push(() => this.#deliver(data))
    else this.#deliver(data)
  }

  /** A text message came in: not our protocol. */
  receivedText(): void {
    if (this.#early !== null) this.#early.push(() => this.close('bad frame: text message'))
    else this.close('bad frame: text message')
  }

  /** The socket reported an error; its close event follows. */
  errored(description: string): void {
    this.#error ??= description
  }

  /** The socket closed: the remote closed it, or it failed. */
  ended(code: number, reason: string): void {
    if (this.#closed) return
    this.#closed = true
    const why =
      reason !== '' ? reason : (this.#error ?? (code === CLOSE_TOO_BIG ? 'message too big' : 'closed'))
    const fire = (): void =>
      later(() => {
        if (this.#deaf) return
        this.#deaf = true
        this.onclose?.(why)
      })
    if (this.#early !== null) this.#early.push(fire)
    else fire()
  }

  #deliver(data: Uint8Array): void {
    if (!this.#deaf) this.onmessage?.(data)
  }
}
