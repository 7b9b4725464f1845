/**
 * The direct-link contract: how a node opens a Link straight to another node (a
 * WebRTC data channel), given a way to pass signaling data over the route it already
 * has (a home, a peer). The node carries the signaling; the transport knows nothing of
 * nodes, sessions or frames. `@flurry/webrtc` implements it.
 */
import type { Link } from './link.js'

/** What `createNode({ direct })` takes: opens data-channel links to other nodes, signaled over the existing route. */
export interface DirectTransport {
  /** 'webrtc'. */
  readonly kind: string
  /**
   * Starts one attempt. Exactly one side of a pair is the `initiator` (it makes the
   * offer). `send` carries signaling data to the remote, which hands it to its own
   * attempt's `receive`; the data are plain objects (strings, numbers, nested plain
   * objects) that msgpack or JSON carry as they are. Aborting `signal` rejects
   * `link` with ABORTED and frees everything.
   */
  open(init: { initiator: boolean; send: (data: unknown) => void; signal?: AbortSignal }): DirectAttempt
}

/** One attempt at a direct link, from `DirectTransport.open`. */
export interface DirectAttempt {
  /** Signaling data from the remote's `send`. Malformed data fail the attempt (CONNECT_FAILED); never throws. */
  receive(data: unknown): void
  /**
   * An open Link over the data channel, or a FlurryError: TIMEOUT (no channel within
   * the transport's connect timeout), CONNECT_FAILED, ABORTED (signal, or close()
   * before it opened). Once it resolves, the Link owns the connection: closing the
   * Link frees it.
   */
  readonly link: Promise<Link>
  /** Gives up before the link opened (rejecting `link` with ABORTED); after it opened, does nothing. */
  close(): void
}
