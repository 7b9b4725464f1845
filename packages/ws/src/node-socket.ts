/** Feeds a `ws` socket's events to a WebSocketLink (Node). */
import { DEFAULT_MAX_FRAME_BYTES } from '@flurry/core'
import type { LinkRemote } from '@flurry/core'
import type { RawData, WebSocket } from 'ws'
import { WebSocketLink } from './socket-link.js'

/** Room for a link message's framing around the largest frame. */
export const DEFAULT_MAX_MESSAGE_BYTES = DEFAULT_MAX_FRAME_BYTES + 64 * 1024

/** The link over an open `ws` socket. */
export function linkOf(socket: WebSocket, remote?: LinkRemote): WebSocketLink {
  const link = new WebSocketLink(socket, remote)
  socket.on('message', (data: RawData, isBinary: boolean) => {
    if (!isBinary) link.receivedText()
    else link.received(bytesOf(data))
  })
  socket.on('error', (err: Error) => link.errored(errorReason(err)))
  socket.on('close', (code: number, reason: Buffer) => link.ended(code, reason.toString()))
  return link
}

/** A plain Uint8Array over the same memory: a Buffer's view, not a copy. */
function bytesOf(data: RawData): Uint8Array {
  if (data instanceof ArrayBuffer) return new Uint8Array(data)
  const buf = Array.isArray(data) ? Buffer.concat(data) : data
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength)
}

/** A close reason for a socket error: 'message too big' or 'error: ECONNRESET'. */
export function errorReason(err: Error): string {
  const code = (err as { code?: unknown }).code
  if (code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') return 'message too big'
  return `error: ${typeof code === 'string' ? code : err.message}`
}
