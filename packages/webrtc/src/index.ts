/**
 * Flurry direct links: WebRTC data channels between two nodes, signaled over the
 * route they already have. In Node over node-datachannel; bundlers pick the browser
 * build (the page's RTCPeerConnection) through the `browser` export condition.
 *
 * WebRTC shows each side the other's IP addresses (its ICE candidates). STUN and
 * TURN servers are set with `iceServers`.
 *
 * @example
 * import { createNode } from '@flurry/core'
 * import { webrtc } from '@flurry/webrtc'
 * const node = await createNode({ name: 'a', cookie: 'secret', direct: webrtc({ iceServers: [{ urls: 'stun:stun.example.org' }] }) })
 */
export { webrtc } from './webrtc.js'
export type { WebRtcInit, IceServer } from './init.js'
