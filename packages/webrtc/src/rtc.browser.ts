/** The browser platform: the page's own RTCPeerConnection (simple-peer finds it). No Node imports here. */
import type { WebRtcInit } from './init.js'
import type { Platform } from './transport.js'

export const platform: Platform = {
  config: (init: WebRtcInit) => ({ iceServers: (init.iceServers ?? []).map((server) => ({ ...server })) }),
}
