/**
 * One actor: a pid, a mailbox handled one message at a time, and its context. An
 * error in one actor ends that actor only, never the loop that runs the others.
 */
import type { Clock, TimerHandle } from '../base/index.js'
import { FlurryError } from '../base/index.js'
import type { Pid } from '../wire/index.js'

/** A call waiting in a mailbox: the message plus where the reply goes. */
export class CallEnvelope {
  constructor(
    readonly msg: unknown,
    /** Local caller: settles its promise directly. */
    readonly local: ((value: unknown) => void) | null,
    /** Remote caller: its node and call ref. */
    readonly node: string,
    readonly ref: number,
  ) {}
}

export interface ReceiveOptions {
  /** Reject with FlurryError TIMEOUT when nothing arrives in time. */
  timeoutMs?: number
  signal?: AbortSignal
}

export interface ActorContext<N = unknown> {
  readonly self: Pid
  readonly node: N
  /** The next message; waits forever unless `timeoutMs`. */
  receive<T = any>(options?: ReceiveOptions): Promise<T>
  /** Answers the call being handled (the message the last receive returned). */
  reply(value: unknown): void
  send(to: Pid | string, msg: unknown): void
}

/** How an actor ended, as monitors see it. */
export type ExitReason = unknown

export class Actor {
  readonly pid: Pid
  alive = true
  exitReason: ExitReason = undefined
  /** Local monitors: ref -> callback. */
  monitors: Map<number, (reason: ExitReason) => void> | null = null
  /** Remote watchers (monitors and calls in progress): `${node}\0${ref}`. */
  watchers: Map<string, { node: string; ref: number }> | null = null
  #box: unknown[] = []
  #head = 0
  #waiting: ((v: unknown) => void) | null = null
  #failWaiting: ((e: unknown) => void) | null = null
  #timer: TimerHandle | undefined
  #clock: Clock
  /** The call being handled, for ctx.reply. */
  current: CallEnvelope | null = null
  onReply: (env: CallEnvelope, value: unknown) => void = () => {}

  constructor(pid: Pid, clock: Clock) {
    this.pid = pid
    this.#clock = clock
  }

  /** Puts a message (or a CallEnvelope) in the mailbox. */
  deliver(msg: unknown): void {
    if (!this.alive) return
    const w = this.#waiting
    if (w !== null) {
      this.#settle()
      w(this.#take(msg))
      return
    }
    this.#box.push(msg)
  }

  get queued(): number {
    return this.#box.length - this.#head
  }

  receive(options?: ReceiveOptions): Promise<unknown> {
    if (!this.alive) return Promise.reject(new FlurryError('NO_PROCESS', `actor ${this.pid} has exited`))
    if (this.#waiting !== null) {
      return Promise.reject(new FlurryError('BAD_ARGUMENT', 'receive() called again before the last one returned'))
    }
    if (this.#head < this.#box.length) {
      const msg = this.#box[this.#head]
      this.#box[this.#head++] = undefined
      if (this.#head > 1024 && this.#head * 2 > this.#box.length) {
        this.#box = this.#box.slice(this.#head)
        this.#head = 0
      } else if (this.#head === this.#box.length) {
        this.#box.length = 0
        this.#head = 0
      }
      return Promise.resolve(this.#take(msg))
    }
    this.current = null
    return new Promise((resolve, reject) => {
      this.#waiting = resolve
      this.#failWaiting = reject
      const ms = options?.timeoutMs
      if (ms !== undefined) {
        this.#timer = this.#clock.setTimeout(() => {
          this.#settle()
          reject(new FlurryError('TIMEOUT', `receive timed out after ${ms} ms`))
        }, ms)
      }
      const signal = options?.signal
      if (signal !== undefined) {
        const abort = () => {
          if (this.#waiting !== resolve) return
          this.#settle()
          reject(new FlurryError('ABORTED', 'receive aborted'))
        }
        if (signal.aborted) abort()
        else signal.addEventListener('abort', abort, { once: true })
      }
    })
  }

  #take(msg: unknown): unknown {
    if (msg instanceof CallEnvelope) {
      this.current = msg
      return msg.msg
    }
    this.current = null
    return msg
  }

  #settle(): void {
    this.#waiting = null
    this.#failWaiting = null
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer)
    this.#timer = undefined
  }

  reply(value: unknown): void {
    const env = this.current
    if (env === null) throw new FlurryError('BAD_ARGUMENT', 'reply() outside the handling of a call')
    this.current = null
    this.onReply(env, value)
  }

  /** Marks the actor dead; a pending receive rejects so its code can unwind. */
  end(reason: ExitReason): CallEnvelope[] {
    this.alive = false
    this.exitReason = reason
    const fail = this.#failWaiting
    this.#settle()
    if (fail !== null) fail(new FlurryError('NO_PROCESS', `actor ${this.pid} exited: ${describeReason(reason)}`))
    // Calls still queued: their callers learn the actor is gone.
    const calls: CallEnvelope[] = []
    for (let i = this.#head; i < this.#box.length; i++) {
      const m = this.#box[i]
      if (m instanceof CallEnvelope) calls.push(m)
    }
    if (this.current !== null) calls.push(this.current)
    this.#box = []
    this.#head = 0
    return calls
  }
}

export function describeReason(reason: unknown): string {
  if (reason instanceof Error) return reason.message
  if (typeof reason === 'string') return reason
  try {
    return JSON.stringify(reason)
  } catch {
    return String(reason)
  }
}
