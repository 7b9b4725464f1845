/**
 * The browser bundle served at /flurry.js: everything a page needs to be a Flurry
 * node. Built by esbuild for platform 'browser' (the `browser` export condition picks
 * the WebSocket dialer without Node's listener, and WebRTC over the page's
 * RTCPeerConnection). Its types, served as /flurry.d.ts, are bundled from this file
 * by dts-bundle-generator: the type exports below cost the bundle nothing.
 */
// FlurryNode is a value too (a class, already in the bundle): its declaration says so.
export { createNode, FlurryNode, broadcastChannel, Pid, FlurryError, isFlurryError } from '@flurry/core'
export type {
  NodeInit,
  NodeEvents,
  NodeStats,
  PeerInfo,
  Logger,
  LogLevel,
  CallOptions,
  ActorFn,
  ActorContext,
  ReceiveOptions,
  ExitReason,
  GlobalRegistry,
  GlobalEvents,
  UnregisterReason,
  FlurryErrorCode,
  Link,
  LinkRemote,
  Dialer,
  Bus,
  BusSpec,
  BroadcastChannelInit,
  DirectTransport,
  DirectAttempt,
} from '@flurry/core'
export { dialWebSocket } from '@flurry/ws'
export type { DialWebSocketInit } from '@flurry/ws'
export { webrtc } from '@flurry/webrtc'
export type { WebRtcInit, IceServer } from '@flurry/webrtc'
export const PROTOCOL = 'flurry/1'
