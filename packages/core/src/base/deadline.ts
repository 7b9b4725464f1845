/**
 * A timeout that a busy event loop cannot turn into a false verdict. After a stall the
 * timers come due before the I/O that arrived during it is read (Node runs its timers
 * phase first), so a plain timeout would blame a remote whose answer is waiting in a
 * socket. A deadline that fires much later than asked gives that I/O one more short
 * turn before it calls `fn`.
 */
import type { Clock, TimerHandle } from './clock.js'

/** Lateness past which a timer is taken to have fired after a stall. */
const STALL_MS = 100
/** The extra turn a stalled deadline gives the I/O that queued up meanwhile. */
const GRACE_MS = 50

export class Deadline {
  #clock: Clock
  #timer: TimerHandle | undefined
  #dueAt = 0
  #fn: () => void

  constructor(clock: Clock, ms: number, fn: () => void) {
    this.#clock = clock
    this.#fn = fn
    this.#arm(ms)
  }

  #arm(ms: number): void {
    this.#dueAt = this.#clock.now() + ms
    this.#timer = this.#clock.setTimeout(() => this.#fire(), ms, true)
  }

  #fire(): void {
    this.#timer = undefined
    if (this.#clock.now() - this.#dueAt > STALL_MS) {
      this.#dueAt = Number.POSITIVE_INFINITY
      this.#timer = this.#clock.setTimeout(() => {
        this.#timer = undefined
        this.#fn()
      }, GRACE_MS, true)
      return
    }
    this.#fn()
  }

  cancel(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer)
    this.#timer = undefined
  }
}
