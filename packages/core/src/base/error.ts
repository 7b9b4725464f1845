/**
 * The one error type users see. `code` is stable and listed in docs/ERRORS.md;
 * `message` is for people.
 */
export type FlurryErrorCode =
  | 'AUTH_FAILED'
  | 'VERSION_MISMATCH'
  | 'NAME_NOT_FOUND'
  | 'NOT_LOCAL'
  | 'NO_PROCESS'
  | 'NODE_DOWN'
  | 'TIMEOUT'
  | 'FRAME_TOO_LARGE'
  | 'BAD_FRAME'
  | 'CLOCK_SKEW'
  | 'QUOTA'
  | 'NOT_AUTHORIZED'
  | 'CONNECT_FAILED'
  | 'CLOSED'
  | 'ABORTED'
  | 'BAD_ARGUMENT'
  | 'SLOW_CONSUMER'
  | 'PROTOCOL'

const CODES: ReadonlySet<string> = new Set<FlurryErrorCode>([
  'AUTH_FAILED', 'VERSION_MISMATCH', 'NAME_NOT_FOUND', 'NOT_LOCAL', 'NO_PROCESS', 'NODE_DOWN', 'TIMEOUT',
  'FRAME_TOO_LARGE', 'BAD_FRAME', 'CLOCK_SKEW', 'QUOTA', 'NOT_AUTHORIZED', 'CONNECT_FAILED', 'CLOSED',
  'ABORTED', 'BAD_ARGUMENT', 'SLOW_CONSUMER', 'PROTOCOL',
])

/** A code a remote sent, as one of ours: anything we do not list is PROTOCOL. */
export function knownCode(code: string): FlurryErrorCode {
  return CODES.has(code) ? (code as FlurryErrorCode) : 'PROTOCOL'
}

export class FlurryError extends Error {
  readonly code: FlurryErrorCode
  constructor(code: FlurryErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'FlurryError'
    this.code = code
  }
}

/** True for a FlurryError with this code (works across bundle copies too). */
export function isFlurryError(err: unknown, code?: FlurryErrorCode): err is FlurryError {
  return (
    typeof err === 'object' &&
    err !== null &&
    (err as { name?: unknown }).name === 'FlurryError' &&
    (code === undefined || (err as { code?: unknown }).code === code)
  )
}
