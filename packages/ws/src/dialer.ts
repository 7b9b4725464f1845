/**
 * The platform-neutral half of dialWebSocket: URL rotation, abort, connect timeout
 * and error wrapping. A platform file supplies `attempt`, which opens one socket.
 */
import { FlurryError } from '@flurry/core'
import type { Dialer, Link } from '@flurry/core'

export interface DialWebSocketInit {
  /**
   * Give up an attempt that has not opened by then.
   * @default 10000
   */
  connectTimeoutMs?: number
  /**
   * Extra HTTP headers of the upgrade request (for example `Origin`). Node only:
   * browsers set their own.
   */
  headers?: Record<string, string>
  /**
   * Largest incoming message; a bigger one closes the link with 'message too big'.
   * Node only: browsers have their own limit.
   * @default DEFAULT_MAX_FRAME_BYTES + 64 KiB
   */
  maxMessageBytes?: number
}

/** One connection attempt, as a platform runs it. */
export interface Attempt {
  /** Builds the link once `opened` was called. */
  link(): Link
  /** Gives up before open; no event of this socket reaches anyone afterwards. */
  abort(): void
}

/** Opens one socket and calls exactly one of `opened` or `failed`, from a later task. */
export type Attempter = (url: string, opened: () => void, failed: (cause: string) => void) => Attempt

export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000

export function createDialer(
  url: string | string[],
  init: DialWebSocketInit,
  attempter: Attempter,
): Dialer {
  const urls = Array.isArray(url) ? [...url] : [url]
  if (urls.length === 0) throw new FlurryError('BAD_ARGUMENT', 'dialWebSocket needs at least one URL')
  const timeoutMs = init.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS
  let next = 0
  const dialer = {
    kind: 'ws',
    target: urls.join(', '),
    /** The same transport and options for a peer URL learned later. */
    dialerFor: (other: string): Dialer | null =>
      /^wss?:\/\//i.test(other) ? createDialer(other, init, attempter) : null,
    dial(options?: { signal?: AbortSignal }): Promise<Link> {
      const signal = options?.signal
      if (signal?.aborted) return Promise.reject(new FlurryError('ABORTED', 'dial aborted'))
      const target = urls[next++ % urls.length] as string
      return new Promise<Link>((resolve, reject) => {
        let settled = false
        let attempt: Attempt | undefined
        const finish = (): boolean => {
          if (settled) return false
          settled = true
          globalThis.clearTimeout(timer)
          signal?.removeEventListener('abort', onabort)
          return true
        }
        const giveUp = (err: FlurryError): void => {
          if (!finish()) return
          attempt?.abort()
          reject(err)
        }
        const onabort = (): void => giveUp(new FlurryError('ABORTED', `dial of ${target} aborted`))
        const timer = globalThis.setTimeout(
          () => giveUp(new FlurryError('CONNECT_FAILED', `cannot connect to ${target}: no answer in ${timeoutMs} ms`)),
          timeoutMs,
        )
        signal?.addEventListener('abort', onabort, { once: true })
        try {
          attempt = attempter(
            target,
            () => {
              if (finish()) resolve((attempt as Attempt).link())
            },
            (cause) => {
              if (finish()) reject(new FlurryError('CONNECT_FAILED', `cannot connect to ${target}: ${cause}`))
            },
          )
        } catch (cause) {
          // A malformed URL throws at once.
          giveUp(new FlurryError('CONNECT_FAILED', `cannot connect to ${target}: ${describe(cause)}`, { cause }))
        }
      })
    },
  }
  return dialer
}

/** An error's message, for people. */
export function describe(err: unknown): string {
  const message = (err as { message?: unknown } | null)?.message
  return typeof message === 'string' && message !== '' ? message : String(err)
}
