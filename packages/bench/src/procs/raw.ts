/**
 * The raw baseline of the multi-process benchmarks: `ws` + @msgpack/msgpack written
 * the way Flurry's own path is (core's wire/codec.ts and session/session.ts), minus
 * everything else Flurry does:
 * - one reused Encoder (`encodeSharedRef`) and one reused Decoder per process;
 * - frames length-prefixed (big-endian uint32) and batched per task into one ws
 *   message of at most BATCH_BYTES, flushed from a microtask, the batch buffer reused
 *   and its bytes copied out at flush (as FrameBatch.take does);
 * - the receiver decodes every frame of a message and hands it to one handler.
 * Consumers (`Box`) stand in for actors: a mailbox whose `receive()` returns a
 * promise per message, as `ctx.receive()` does.
 */
import { Decoder, Encoder } from '@msgpack/msgpack'
import type { RawData, WebSocket } from 'ws'

/** core's session BATCH_BYTES: one link message holds at most this many bytes of frames. */
export const BATCH_BYTES = 64 * 1024

const encoder = new Encoder({ initialBufferSize: 64 * 1024 })
const decoder = new Decoder()

export type FrameHandler = (frame: unknown[], raw: Uint8Array, conn: RawConn) => void

/** One ws socket with per-task batching of length-prefixed msgpack frames. */
export class RawConn {
  readonly socket: WebSocket
  /** A name the other side told us (or we gave it), for addressing. */
  tag: string
  onframe: FrameHandler = () => {}
  onclose: () => void = () => {}
  /** Sequence numbers of DIRECT frames, as Flurry's per-node channels keep them. */
  outSeq = 0
  inSeq = 0
  #buf = new Uint8Array(4096)
  #view = new DataView(this.#buf.buffer)
  #pos = 0
  #count = 0
  #scheduled = false
  #closed = false

  constructor(socket: WebSocket, tag = '') {
    this.socket = socket
    this.tag = tag
    socket.on('message', (data: RawData, isBinary: boolean) => {
      if (isBinary) this.#receive(bytesOf(data))
    })
    socket.on('error', () => {})
    socket.on('close', () => {
      this.#closed = true
      this.onclose()
    })
  }

  get bufferedAmount(): number {
    return this.socket.bufferedAmount
  }

  get closed(): boolean {
    return this.#closed
  }

  /** Encodes a frame with the shared encoder and queues it; the batch leaves at the end of the task. */
  send(frame: unknown): void {
    this.sendEncoded(encoder.encodeSharedRef(frame))
  }

  /** Queues a frame that is already encoded (forwarded as it came). */
  sendEncoded(bytes: Uint8Array): void {
    if (this.#closed) return
    if (this.#count > 0 && this.#pos + 4 + bytes.length > BATCH_BYTES) this.flush()
    const need = this.#pos + 4 + bytes.length
    if (need > this.#buf.length) {
      let size = this.#buf.length * 2
      while (size < need) size *= 2
      const next = new Uint8Array(size)
      next.set(this.#buf.subarray(0, this.#pos))
      this.#buf = next
      this.#view = new DataView(next.buffer)
    }
    this.#view.setUint32(this.#pos, bytes.length)
    this.#buf.set(bytes, this.#pos + 4)
    this.#pos += 4 + bytes.length
    this.#count++
    if (!this.#scheduled) {
      this.#scheduled = true
      queueMicrotask(() => this.flush())
    }
  }

  flush(): void {
    this.#scheduled = false
    if (this.#count === 0 || this.#closed) return
    const out = this.#buf.slice(0, this.#pos)
    this.#pos = 0
    this.#count = 0
    this.socket.send(out)
  }

  close(): void {
    this.socket.terminate()
  }

  #receive(message: Uint8Array): void {
    const view = new DataView(message.buffer, message.byteOffset, message.byteLength)
    const end = message.byteLength
    let pos = 0
    while (pos + 4 <= end) {
      const len = view.getUint32(pos)
      if (len === 0 || pos + 4 + len > end) return
      const raw = message.subarray(pos + 4, pos + 4 + len)
      pos += 4 + len
      this.onframe(decoder.decode(raw) as unknown[], raw, this)
    }
  }
}

function bytesOf(data: RawData): Uint8Array {
  if (data instanceof ArrayBuffer) return new Uint8Array(data)
  const buf = Array.isArray(data) ? Buffer.concat(data) : data
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength)
}

/**
 * An actor's mailbox, stripped down: `deliver` resolves a waiting `receive()` or
 * queues; `receive()` returns one promise per message.
 */
export class Box<T = unknown> {
  #queue: T[] = []
  #head = 0
  #waiting: ((v: T) => void) | null = null

  deliver(msg: T): void {
    const w = this.#waiting
    if (w !== null) {
      this.#waiting = null
      w(msg)
      return
    }
    this.#queue.push(msg)
  }

  receive(): Promise<T> {
    if (this.#head < this.#queue.length) {
      const msg = this.#queue[this.#head] as T
      this.#queue[this.#head++] = undefined as T
      if (this.#head === this.#queue.length) {
        this.#queue.length = 0
        this.#head = 0
      }
      return Promise.resolve(msg)
    }
    return new Promise((resolve) => {
      this.#waiting = resolve
    })
  }
}
