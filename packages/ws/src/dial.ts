/** dialWebSocket for Node, over `ws`. */
import type { Dialer } from '@flurry/core'
import { WebSocket } from 'ws'
import { createDialer, describe } from './dialer.js'
import type { DialWebSocketInit } from './dialer.js'
import { DEFAULT_MAX_MESSAGE_BYTES, linkOf } from './node-socket.js'

/**
 * A Dialer of WebSocket links. Each `dial()` is one attempt at the next URL of the
 * list, so a caller that dials again fails over.
 */
export function dialWebSocket(url: string | string[], init: DialWebSocketInit = {}): Dialer {
  return createDialer(url, init, (target, opened, failed) => {
    const socket = new WebSocket(target, {
      perMessageDeflate: false,
      maxPayload: init.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
      ...(init.headers !== undefined ? { headers: init.headers } : {}),
    })
    let cause: string | undefined
    const onerror = (err: Error): void => {
      cause ??= describe(err)
    }
    const onclose = (code: number): void => failed(cause ?? `closed before open (code ${code})`)
    socket.on('error', onerror)
    socket.once('close', onclose)
    socket.once('open', () => {
      socket.off('error', onerror)
      socket.off('close', onclose)
      opened()
    })
    return {
      link: () => linkOf(socket),
      abort() {
        socket.removeAllListeners()
        socket.on('error', () => {}) // a late error of a dropped attempt must not crash
        socket.terminate()
      },
    }
  })
}
