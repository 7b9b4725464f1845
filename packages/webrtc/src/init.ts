/** What `webrtc()` takes, and the defaults. */
import { DEFAULT_MAX_FRAME_BYTES } from '@flurry/core'

/** A STUN or TURN server, as RTCPeerConnection takes it. */
export interface IceServer {
  /** 'stun:host:port', 'turn:host:port?transport=udp', 'turns:…', or several. */
  urls: string | string[]
  /** TURN only. */
  username?: string
  /** TURN only. */
  credential?: string
}

export interface WebRtcInit {
  /**
   * STUN servers (to learn public addresses behind NAT) and TURN servers (to relay
   * media when no direct path exists). With none, only host candidates are tried:
   * enough on one machine or one LAN.
   * @default []
   */
  iceServers?: IceServer[]
  /**
   * Give up an attempt whose channel has not opened by then (TIMEOUT).
   * @default 15000
   */
  connectTimeoutMs?: number
  /**
   * Largest incoming message; a bigger one closes the link with 'message too big'.
   * Messages above 64 KiB are split into 64 KiB data-channel messages and joined again.
   * @default DEFAULT_MAX_FRAME_BYTES + 64 KiB
   */
  maxMessageBytes?: number
  /**
   * Node only: the local address ICE binds to and offers as a host candidate, for
   * example '127.0.0.1' to keep a test on loopback. Browsers choose their own.
   * @default all interfaces
   */
  bindAddress?: string
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 15_000
export const DEFAULT_MAX_MESSAGE_BYTES = DEFAULT_MAX_FRAME_BYTES + 64 * 1024
/**
 * Largest data-channel message we send: every browser accepts 64 KiB (Chrome
 * announces 256 KiB, some stacks less). Bigger link messages are split.
 */
export const CHUNK_BYTES = 64 * 1024
