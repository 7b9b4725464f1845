/** The part of simple-peer (CommonJS, untyped) that transport.ts uses. */
declare module 'simple-peer' {
  import type { EventEmitter } from 'node:events'

  interface SimplePeerOptions {
    initiator?: boolean
    trickle?: boolean
    config?: object
    channelConfig?: object
    wrtc?: object
    iceCompleteTimeout?: number
    allowHalfTrickle?: boolean
  }

  class SimplePeer extends EventEmitter {
    constructor(options?: SimplePeerOptions)
    signal(data: object): void
    destroy(err?: Error): void
    readonly destroyed: boolean
    remoteAddress?: string
    remotePort?: number
    /** The data channel, once connected (not in simple-peer's public API, stable since v6). */
    _channel: unknown
  }
  export default SimplePeer
}
