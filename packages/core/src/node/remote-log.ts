/**
 * Log lines about what remote nodes did. Remote input is hostile: its text is escaped
 * (no forged lines, no terminal escapes), cut short, logged at `warn` at most, and
 * rate-limited per remote, so one raw frame of 12,000 bad claims writes a few lines.
 */
import type { Clock } from '../base/index.js'
import type { Logger } from './options.js'

/** Lines per remote per window before the rest are only counted. */
const BURST = 10
const WINDOW_MS = 10_000
const MAX_LINE = 500

/** `text` with control characters escaped and cut to `max` characters. */
export function escapeLogText(text: string, max = MAX_LINE): string {
  // eslint-disable-next-line no-control-regex
  let out = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
  if (out.length > max) out = `${out.slice(0, max)}… (${out.length - max} more characters)`
  return out
}

interface Budget {
  since: number
  lines: number
  dropped: number
}

export class RemoteLog {
  #log: Logger
  #clock: Clock
  #budgets = new Map<string, Budget>()

  constructor(log: Logger, clock: Clock) {
    this.#log = log
    this.#clock = clock
  }

  /** One line about something remote `id` did (`id` may be '' before the handshake). */
  warn(id: string, message: string, fields?: Record<string, unknown>): void {
    const now = this.#clock.now()
    let b = this.#budgets.get(id)
    if (b === undefined || now - b.since >= WINDOW_MS) {
      if (b !== undefined && b.dropped > 0) {
        this.#log('warn', `${b.dropped} more lines about ${id || 'anonymous remotes'} were not logged`, { remote: id })
      }
      b = { since: now, lines: 0, dropped: 0 }
      this.#budgets.set(id, b)
      if (this.#budgets.size > 10_000) this.#sweep(now)
    }
    if (b.lines >= BURST) {
      b.dropped++
      return
    }
    b.lines++
    this.#log('warn', escapeLogText(message), fields)
  }

  #sweep(now: number): void {
    for (const [id, b] of this.#budgets) if (now - b.since >= WINDOW_MS && b.dropped === 0) this.#budgets.delete(id)
  }
}
