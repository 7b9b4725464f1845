/**
 * Flurry WebSocket links for browsers: `dialWebSocket` over the page's WebSocket.
 * The listener is Node-only and absent from this build.
 *
 * @example
 * import { createNode } from '@flurry/core'
 * import { dialWebSocket } from '@flurry/ws'
 * const node = await createNode({ name: 'tab', cookie: 'secret' })
 * await node.connect(dialWebSocket(`ws://${location.host}/flurry`))
 */
export { dialWebSocket } from './dial.browser.js'
export type { DialWebSocketInit } from './dialer.js'
