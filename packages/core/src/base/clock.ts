/**
 * Time, injected: every timer and every reading of the time in the framework goes
 * through a Clock, so tests can run heartbeats and timeouts on simulated time.
 */
export interface Clock {
  /** Milliseconds, like Date.now() (wall time: registry stamps are compared across nodes). */
  now(): number
  /** `unref`: the timer alone does not keep a Node process alive. */
  setTimeout(fn: () => void, ms: number, unref?: boolean): TimerHandle
  clearTimeout(handle: TimerHandle): void
}
export type TimerHandle = unknown

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms, unref) {
    const t = globalThis.setTimeout(fn, ms) as unknown as { unref?: () => void }
    if (unref === true && typeof t === 'object' && t !== null && typeof t.unref === 'function') t.unref()
    return t
  },
  clearTimeout(handle) {
    globalThis.clearTimeout(handle as ReturnType<typeof globalThis.setTimeout>)
  },
}

/** A clock whose reading is another clock's plus a fixed offset (timers unchanged). */
export function offsetClock(base: Clock, offsetMs: number): Clock {
  return {
    now: () => base.now() + offsetMs,
    setTimeout: (fn, ms, unref) => base.setTimeout(fn, ms, unref),
    clearTimeout: (h) => base.clearTimeout(h),
  }
}
