/**
 * msgpack with one reused Encoder and Decoder, Pid as extension type 0, and the
 * framing of a link message: one or more frames, each a big-endian uint32 length
 * followed by one msgpack value. Batching frames into one link message is what makes
 * small messages cheap; the length prefix lets a hop forward a frame's bytes as they
 * came, without encoding them again.
 */
import { Decoder, Encoder, ExtensionCodec } from '@msgpack/msgpack'
import { FlurryError } from '../base/index.js'
import { Pid, decodePidPayload } from './pid.js'
import { MAX_DEPTH, checkStructure } from './structure.js'

export const PID_EXT_TYPE = 0
/** Map and Set travel as extensions too (msgpack alone would turn them into `{}`). */
export const MAP_EXT_TYPE = 1
export const SET_EXT_TYPE = 2
/** Default largest frame (and link message) in bytes. */
export const DEFAULT_MAX_FRAME_BYTES = 1024 * 1024

const extensionCodec = new ExtensionCodec()
extensionCodec.register({
  type: PID_EXT_TYPE,
  encode: (value: unknown) => (value instanceof Pid ? Pid.wireOf(value) : null),
  decode: (data: Uint8Array) => {
    const pid = decodePidPayload(data)
    if (pid === null) throw new FlurryError('BAD_FRAME', 'malformed pid in frame')
    return pid
  },
})

// A Map is an array of [key, value] pairs, a Set an array of values, each encoded
// with its own encoder (the shared one is busy with the enclosing frame).
extensionCodec.register({
  type: MAP_EXT_TYPE,
  encode: (value: unknown) => (value instanceof Map ? nestedEncode([...value]) : null),
  decode: (data: Uint8Array) => {
    const pairs = nestedDecode(data)
    if (!Array.isArray(pairs) || !pairs.every((p) => Array.isArray(p) && p.length === 2)) {
      throw new FlurryError('BAD_FRAME', 'malformed Map in frame')
    }
    return new Map(pairs as Array<[unknown, unknown]>)
  },
})
extensionCodec.register({
  type: SET_EXT_TYPE,
  encode: (value: unknown) => (value instanceof Set ? nestedEncode([...value]) : null),
  decode: (data: Uint8Array) => {
    const items = nestedDecode(data)
    if (!Array.isArray(items)) throw new FlurryError('BAD_FRAME', 'malformed Set in frame')
    return new Set(items)
  },
})

let nestedEncoder: Encoder | null = null
/** A Map or Set went into the value being encoded: its depth is checked on the result. */
let usedNested = false
function nestedEncode(items: unknown[]): Uint8Array {
  usedNested = true
  return (nestedEncoder ??= new Encoder({ extensionCodec, maxDepth: MAX_DEPTH + 1 })).encode(items)
}
function nestedDecode(data: Uint8Array): unknown {
  return new Decoder({ extensionCodec, maxStrLength: data.length, maxBinLength: data.length, maxArrayLength: data.length, maxMapLength: data.length, maxExtLength: data.length }).decode(data)
}

// msgpack counts the outermost value as depth 1; we count what encloses a value.
const encoder = new Encoder({ extensionCodec, initialBufferSize: 64 * 1024, ignoreUndefined: false, maxDepth: MAX_DEPTH + 1 })
const decoders = new Map<number, Decoder>()

function decoderFor(limit: number): Decoder {
  let d = decoders.get(limit)
  if (d === undefined) {
    d = new Decoder({
      extensionCodec,
      maxStrLength: limit,
      maxBinLength: limit,
      maxArrayLength: limit,
      maxMapLength: limit,
      maxExtLength: limit,
    })
    decoders.set(limit, d)
  }
  return d
}

/**
 * Encodes into the shared encoder's buffer: the result is valid only until the next
 * encode, so callers copy it (FrameBatch does) or use it at once.
 */
export function encodeShared(value: unknown): Uint8Array {
  let bytes: Uint8Array
  usedNested = false
  try {
    bytes = encoder.encodeSharedRef(value)
  } catch (err) {
    throw new FlurryError('BAD_ARGUMENT', `cannot encode value: ${(err as Error).message}`, { cause: err })
  }
  // A Map or Set payload was encoded on its own: check the depth of the whole.
  if (usedNested) {
    try {
      checkStructure(bytes)
    } catch (err) {
      throw new FlurryError('BAD_ARGUMENT', `cannot encode value: ${(err as Error).message}`, { cause: err })
    }
  }
  return bytes
}

/** Encodes to a fresh copy. */
export function encodeValue(value: unknown): Uint8Array {
  return encodeShared(value).slice()
}

/**
 * Decodes one msgpack value nested at most `maxDepth` deep; anything wrong becomes
 * FlurryError BAD_FRAME.
 */
export function decodeValue(bytes: Uint8Array, maxBytes = DEFAULT_MAX_FRAME_BYTES, maxDepth = MAX_DEPTH): unknown {
  return decodeWith(decoderFor(maxBytes), bytes, maxDepth)
}

function decodeWith(decoder: Decoder, bytes: Uint8Array, maxDepth: number): unknown {
  checkStructure(bytes, maxDepth)
  try {
    return decoder.decode(bytes)
  } catch (err) {
    if (err instanceof FlurryError) throw err
    throw new FlurryError('BAD_FRAME', `malformed frame: ${(err as Error).message}`, { cause: err })
  }
}

/**
 * The frames of one outgoing link message, appended one by one and taken as a whole.
 * Reused per session so that steady traffic allocates only the final copy.
 */
/** A batch starts this big and is cut back once it passes BATCH_LIMIT. */
const INITIAL_BYTES = 4096
const BATCH_LIMIT = 128 * 1024

export class FrameBatch {
  #buf = new Uint8Array(INITIAL_BYTES)
  #view = new DataView(this.#buf.buffer)
  #pos = 0
  #count = 0
  readonly maxFrameBytes: number

  constructor(maxFrameBytes = DEFAULT_MAX_FRAME_BYTES) {
    this.maxFrameBytes = maxFrameBytes
  }

  get byteLength(): number {
    return this.#pos
  }

  get frameCount(): number {
    return this.#count
  }

  /** Encodes and appends a frame; throws FRAME_TOO_LARGE (appending nothing) past the limit. */
  append(frame: unknown): number {
    const bytes = encodeShared(frame)
    this.appendEncoded(bytes)
    return bytes.length
  }

  /** Appends a frame that is already encoded (forwarding as received). */
  appendEncoded(bytes: Uint8Array): void {
    if (bytes.length > this.maxFrameBytes) {
      throw new FlurryError(
        'FRAME_TOO_LARGE',
        `frame of ${bytes.length} bytes is over the limit of ${this.maxFrameBytes}`,
      )
    }
    this.#reserve(4 + bytes.length)
    this.#view.setUint32(this.#pos, bytes.length)
    this.#buf.set(bytes, this.#pos + 4)
    this.#pos += 4 + bytes.length
    this.#count++
  }

  /** The link message so far (a copy) and an empty batch. */
  take(): Uint8Array {
    const out = this.#buf.slice(0, this.#pos)
    this.#pos = 0
    this.#count = 0
    // A burst (a first sync) grew it: a relay with thousands of sessions must not keep
    // a burst's buffer in each. Steady traffic stays at or under one batch.
    if (this.#buf.length > BATCH_LIMIT) this.#setBuffer(INITIAL_BYTES)
    return out
  }

  /** Gives the buffer back while nothing is queued (an idle session holds next to nothing). */
  release(): void {
    if (this.#pos === 0 && this.#buf.length > 0) this.#setBuffer(0)
  }

  #setBuffer(size: number): void {
    this.#buf = new Uint8Array(size)
    this.#view = new DataView(this.#buf.buffer)
  }

  #reserve(n: number): void {
    const need = this.#pos + n
    if (need <= this.#buf.length) return
    let size = Math.max(INITIAL_BYTES, this.#buf.length * 2)
    while (size < need) size *= 2
    const next = new Uint8Array(size)
    next.set(this.#buf.subarray(0, this.#pos))
    this.#buf = next
    this.#view = new DataView(next.buffer)
  }
}

/** Encodes one frame as a whole link message (length prefix included). */
export function encodeMessage(frame: unknown): Uint8Array {
  const bytes = encodeShared(frame)
  const out = new Uint8Array(4 + bytes.length)
  new DataView(out.buffer).setUint32(0, bytes.length)
  out.set(bytes, 4)
  return out
}

/** Limits read before each frame: a session tightens them until its handshake is done. */
export interface FrameLimits {
  maxFrameBytes: number
  maxDepth: number
}

/**
 * Calls `onFrame` for each frame of a link message, in order, with the decoded value
 * and the frame's own bytes. `limits` (a byte limit, or limits read again before each
 * frame, as the handshake may end in the middle of a message) bound every frame.
 * Throws FlurryError BAD_FRAME or FRAME_TOO_LARGE, and only those.
 */
export function readFrames(
  message: Uint8Array,
  limits: number | FrameLimits,
  onFrame: (frame: unknown, raw: Uint8Array) => void,
  maxDepth = MAX_DEPTH,
): void {
  const fixed = typeof limits === 'number'
  let maxFrameBytes = fixed ? limits : limits.maxFrameBytes
  let decoder = decoderFor(maxFrameBytes)
  const view = new DataView(message.buffer, message.byteOffset, message.byteLength)
  let pos = 0
  const end = message.byteLength
  if (end === 0) throw new FlurryError('BAD_FRAME', 'empty link message')
  while (pos < end) {
    if (!fixed && limits.maxFrameBytes !== maxFrameBytes) {
      maxFrameBytes = limits.maxFrameBytes
      decoder = decoderFor(maxFrameBytes)
    }
    if (end - pos < 4) throw new FlurryError('BAD_FRAME', 'truncated frame header')
    const len = view.getUint32(pos)
    if (len > maxFrameBytes) {
      throw new FlurryError('FRAME_TOO_LARGE', `incoming frame of ${len} bytes is over the limit of ${maxFrameBytes}`)
    }
    if (len === 0 || end - pos - 4 < len) throw new FlurryError('BAD_FRAME', 'truncated frame')
    const raw = message.subarray(pos + 4, pos + 4 + len)
    pos += 4 + len
    onFrame(decodeWith(decoder, raw, fixed ? maxDepth : limits.maxDepth), raw)
  }
}
