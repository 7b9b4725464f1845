/** dialWebSocket for browsers, over the global WebSocket. No Node imports here. */
import type { Dialer } from '@flurry/core'
import { createDialer } from './dialer.js'
import type { DialWebSocketInit } from './dialer.js'
import { WebSocketLink } from './socket-link.js'

/**
 * A Dialer of WebSocket links. Each `dial()` is one attempt at the next URL of the
 * list, so a caller that dials again fails over. `headers` and `maxMessageBytes` are
 * Node-only and ignored here.
 */
export function dialWebSocket(url: string | string[], init: DialWebSocketInit = {}): Dialer {
  return createDialer(url, init, (target, opened, failed) => {
    const socket = new globalThis.WebSocket(target)
    socket.binaryType = 'arraybuffer'
    socket.onerror = () => {} // browsers say nothing about why; the close code follows
    socket.onclose = (ev) => failed(`connection failed (close code ${ev.code})`)
    socket.onopen = () => {
      socket.onopen = socket.onclose = null
      opened()
    }
    return {
      link: () => linkOf(socket),
      abort() {
        socket.onopen = socket.onclose = socket.onerror = null
        socket.close()
      },
    }
  })
}

function linkOf(socket: WebSocket): WebSocketLink {
  const link = new WebSocketLink({
    get bufferedAmount() {
      return socket.bufferedAmount
    },
    // The DOM types want ArrayBuffer-backed views; the wire never makes shared ones.
    send: (data) => socket.send(data as Uint8Array<ArrayBuffer>),
    close: (code, reason) => socket.close(code, reason),
  })
  socket.onmessage = (ev: MessageEvent) => {
    const data: unknown = ev.data
    if (data instanceof ArrayBuffer) link.received(new Uint8Array(data))
    else link.receivedText()
  }
  socket.onerror = () => link.errored('error')
  socket.onclose = (ev) => link.ended(ev.code, ev.reason)
  return link
}
