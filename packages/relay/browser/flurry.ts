/**
 * The browser bundle served at /flurry.js: everything a page needs to be a Flurry
 * node. Built by esbuild for platform 'browser' (the `browser` export condition picks
 * the WebSocket dialer without Node's listener).
 */
export { createNode, broadcastChannel, Pid, FlurryError, isFlurryError } from '@flurry/core'
export { dialWebSocket } from '@flurry/ws'
export const PROTOCOL = 'flurry/1'
export { webrtc } from '@flurry/webrtc'
