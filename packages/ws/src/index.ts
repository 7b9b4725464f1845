/**
 * Flurry WebSocket links: `listenWebSocket` opens an endpoint (Node, over `ws`) and
 * `dialWebSocket` dials one or fails over through a list (Node and browsers; bundlers
 * pick the browser build through the `browser` export condition).
 *
 * @example
 * import { createNode } from '@flurry/core'
 * import { listenWebSocket, dialWebSocket } from '@flurry/ws'
 * const a = await createNode({ name: 'a', cookie: 'secret' })
 * const server = await a.listen(listenWebSocket({ host: '127.0.0.1', port: 0 }))
 * const b = await createNode({ name: 'b', cookie: 'secret' })
 * await b.connect(dialWebSocket(server.url))
 */
export { dialWebSocket } from './dial.js'
export { listenWebSocket } from './listen.js'
export type { DialWebSocketInit } from './dialer.js'
export type { ListenWebSocketInit } from './listen.js'
