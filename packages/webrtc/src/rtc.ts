/** The Node platform: node-datachannel's RTCPeerConnection. */
import { RTCIceCandidate, RTCPeerConnection, RTCSessionDescription } from 'node-datachannel/polyfill'
import type { WebRtcInit } from './init.js'
import type { Platform } from './transport.js'

/**
 * The polyfill's RTCPeerConnection, with offers and answers as plain `{ type, sdp }`
 * objects: simple-peer rewrites `sdp` on them, which the polyfill's
 * RTCSessionDescription does not allow.
 */
class PlainDescriptionPeerConnection extends RTCPeerConnection {
  override async createOffer(): Promise<RTCSessionDescriptionInit> {
    const offer = await super.createOffer()
    return { type: offer.type, sdp: offer.sdp }
  }

  override async createAnswer(): Promise<RTCSessionDescriptionInit> {
    const answer = await super.createAnswer()
    return { type: answer.type, sdp: answer.sdp }
  }
}

export const platform: Platform = {
  wrtc: { RTCPeerConnection: PlainDescriptionPeerConnection, RTCSessionDescription, RTCIceCandidate },
  config: (init: WebRtcInit) => ({
    iceServers: (init.iceServers ?? []).map((server) => ({ ...server })),
    ...(init.bindAddress !== undefined ? { bindAddress: init.bindAddress } : {}),
  }),
}
