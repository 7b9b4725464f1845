/**
 * The transport contracts. A transport knows nothing of actors or names: it moves
 * byte messages, point to point (Link) or to every member of a same-origin group
 * (Bus). Every transport runs the shared suites in `@flurry/core/testing`.
 */

/** Where a link comes from, for the accepting side's policy checks. */
export interface LinkRemote {
  /** HTTP Origin of a WebSocket upgrade, when there is one. */
  origin?: string
  address?: string
}

/**
 * A point-to-point, ordered, reliable message pipe (WebSocket, data channel,
 * in-memory). The owner sets `onmessage`/`onclose` synchronously when it gets the
 * link; implementations deliver events only from later tasks.
 */
export interface Link {
  readonly kind: string
  /** Bytes accepted by send() and not yet handed to the network. */
  readonly bufferedAmount: number
  readonly remote?: LinkRemote
  /** Sends one message. After close it does nothing. */
  send(data: Uint8Array): void
  /** Closes; idempotent. `onclose` fires once on each side, here with `reason`. */
  close(reason?: string): void
  onmessage: ((data: Uint8Array) => void) | null
  onclose: ((reason: string) => void) | null
}

/** What `node.connect()` takes: each dial() is one attempt at opening a link. */
export interface Dialer {
  readonly kind: string
  /** What it dials, for messages and logs (a URL, or URLs joined by ', '). */
  readonly target: string
  /**
   * Opens a link. A dialer with several targets moves to the next target on each
   * call (failover). Rejects with FlurryError CONNECT_FAILED (or ABORTED).
   */
  dial(options?: { signal?: AbortSignal }): Promise<Link>
  /** A dialer of the same transport for another URL (peers learned from peer lists). */
  dialerFor?(url: string): Dialer | null
}

/** What `node.listen()` takes. */
export interface ListenerSpec {
  readonly kind: string
  listen(accept: (link: Link) => void): Promise<Listener>
  /** A dialer of the same transport, for the peer URLs a peer learns. */
  dialerFor?(url: string): Dialer | null
}

export interface Listener {
  /** The URL other nodes dial (with the real port when 0 was asked for). */
  readonly url: string
  close(): Promise<void>
}

/** Web Locks, where the platform has them: liveness of bus members. */
export interface BusLocks {
  /** Takes the named lock (waiting if needed) and holds it until release(). */
  hold(name: string): Promise<{ release(): void }>
  /**
   * Calls `ondead` once, when the lock is granted to us: its holder released it or
   * died. Returns a function that stops watching.
   */
  watch(name: string, ondead: () => void): () => void
  /** Names of the locks currently held that start with `prefix`. */
  held(prefix: string): Promise<string[]>
}

/**
 * A broadcast group of same-origin nodes (BroadcastChannel). A post reaches every
 * other member, never the poster; members never forward.
 */
export interface Bus {
  readonly name: string
  post(data: Uint8Array): void
  onmessage: ((data: Uint8Array) => void) | null
  close(): void
  /** null where Web Locks are missing (Node, insecure contexts): heartbeats instead. */
  readonly locks: BusLocks | null
}

/** What `node.join()` takes. */
export interface BusSpec {
  readonly kind: string
  readonly name: string
  open(): Promise<Bus>
}
