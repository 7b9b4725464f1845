/**
 * The hybrid logical clock that stamps registry claims. A stamp is one number,
 * `ms * 1024 + counter`, so stamps compare with `<` and a counter that passes 1023 in
 * one millisecond simply carries into the next. 1024 keeps stamps exact doubles until
 * the year 2248 (4096 would overflow in 2039). Every node computes the same winner
 * from the same stamps.
 */
import type { Clock } from '../base/index.js'

export const COUNTER_SPAN = 1024

export function stampMs(at: number): number {
  return Math.floor(at / COUNTER_SPAN)
}

export class HybridClock {
  #clock: Clock
  #last = 0
  #offset = 0

  constructor(clock: Clock) {
    this.#clock = clock
  }

  /** Physical time as this node reckons it: its clock plus the offset to its home. */
  physicalMs(): number {
    return Math.floor(this.#clock.now() + this.#offset)
  }

  /** The clock field of outgoing frames. */
  nowMs(): number {
    return Math.max(this.physicalMs(), stampMs(this.#last))
  }

  /** A new stamp, greater than every stamp made or observed before. */
  stamp(): number {
    const candidate = this.physicalMs() * COUNTER_SPAN
    this.#last = candidate > this.#last ? candidate : this.#last + 1
    return this.#last
  }

  observe(at: number): void {
    if (at > this.#last && Number.isFinite(at)) this.#last = at
  }

  observeMs(ms: number): void {
    this.observe(ms * COUNTER_SPAN)
  }

  /**
   * A client takes its home's time as physical time (offset = home's clock minus
   * ours), so that its stamps pass the home's clock check whatever its own clock says.
   */
  adopt(remoteMs: number): void {
    if (Number.isFinite(remoteMs)) this.#offset = remoteMs - this.#clock.now()
  }

  /** Back to this node's own clock (a client that lost its home keeps the offset). */
  get offset(): number {
    return this.#offset
  }
}
