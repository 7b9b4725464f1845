/**
 * What the bench process and its worker processes say to each other over the IPC
 * channel of child_process.fork, and the clock they time with.
 *
 * Timestamps are `hr()`: process.hrtime, which on Linux is CLOCK_MONOTONIC, one clock
 * for every process of the host. A time taken in one worker and a time taken in
 * another are therefore directly comparable; the harness checks this at start-up
 * (every worker's reading must fall between the two readings of an IPC round trip
 * around it) and otherwise corrects each worker by an offset estimated from the
 * fastest of several round trips (see harness.ts).
 */

/** Milliseconds of the host's monotonic clock, with sub-microsecond resolution. */
export function hr(): number {
  return Number(process.hrtime.bigint()) / 1e6
}

/** A pid as plain data (IPC carries JSON). */
export interface PidRef {
  node: string
  id: number
}

/** Parent → worker. */
export interface Request {
  rid: number
  cmd: string
  args: Record<string, unknown>
}

/** Worker → parent: the answer to one request. */
export interface Reply {
  rid: number
  ok: boolean
  value?: unknown
  error?: string
}

/** Worker → parent, unasked: `{ ev, ...fields }`. */
export interface WorkerEvent {
  ev: string
  [field: string]: unknown
}

/** What a counting consumer saw: how many, and when the first and the last came (hr ms). */
export interface Counted {
  count: number
  first: number
  last: number
}

/** A bounded send loop: how many left, between which times (hr ms). */
export interface Blasted {
  sent: number
  t0: number
  t1: number
}

/** A ping-pong run: round trips done in `ms`. */
export interface Bounced {
  trips: number
  ms: number
  error?: string
}

/** A count of names crossing a threshold: when (hr ms, null if it did not in time) and the count then. */
export interface Crossed {
  t: number | null
  count: number
}
