/** `webrtc()` for Node: data channels over node-datachannel. */
import type { DirectTransport } from '@flurry/core'
import type { WebRtcInit } from './init.js'
import { platform } from './rtc.js'
import { createTransport } from './transport.js'

/**
 * A DirectTransport over WebRTC data channels, for `createNode({ direct })`.
 * Throws BAD_ARGUMENT on a bad option.
 */
export function webrtc(init: WebRtcInit = {}): DirectTransport {
  return createTransport(init, platform)
}
