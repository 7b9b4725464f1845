/**
 * A connection to one other node as the node layer sees it: a session (mesh peer,
 * own client, home) or a bus neighbour. Routing and replication send through Conns.
 */
import { Deferred } from '../base/index.js'
import type { Session } from '../session/index.js'
import type { SliceChunk } from '../wire/index.js'

export interface Conn {
  readonly remoteId: string
  readonly isOpen: boolean
  send(frame: unknown[]): void
  sendEncoded(bytes: Uint8Array): void
}

export type SessionKind = 'mesh' | 'client' | 'home'

/** What the node keeps with each session. */
export class SessionState {
  readonly kind: SessionKind
  /** We dialed it (mesh duplicate resolution keeps the one the smaller id dialed). */
  readonly initiator: boolean
  /** The remote's first sync arrived (mesh, home) or the client's slice (client). */
  ready = false
  /**
   * We sent our session sync: from then on the remote follows our stream (own
   * deltas, forwarded changes, slices and UNCOUNTs), whether or not it is ready.
   */
  streaming = false
  /** Parts of a SYNC in progress, and their bytes so far (bounded: a SYNC that never ends). */
  syncParts: SliceChunk[] | null = null
  syncPurpose = 0
  syncBytes = 0
  /** The clock of the session sync we sent (a client's first slice comes after it saw it). */
  syncClock = 0
  /** Superseded by another session to the same node: its close is no nodedown. */
  superseded = false
  /** Settles with the handshake: the remote id, or why it failed. */
  opened = new Deferred<string>()
  /** Settles when the session is ready (first sync merged), or fails before. */
  readyWait = new Deferred<void>()

  constructor(kind: SessionKind, initiator: boolean) {
    this.kind = kind
    this.initiator = initiator
  }
}

export function stateOf(s: Session): SessionState {
  return s.data as SessionState
}
