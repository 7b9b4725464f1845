/**
 * What a node has done since it started, for operators (the relay's /metrics): bytes
 * and frames through its sessions, refusals by error code, sessions dropped as slow
 * consumers, failed handshakes. Counters only grow; gauges (nodes, sessions, names)
 * are read from the node when asked.
 */

/** Counters a session adds its traffic to. */
export interface TrafficCounter {
  /** One link message received: its bytes and the frames in it. */
  received(bytes: number, frames: number): void
  /** One link message sent. */
  sent(bytes: number, frames: number): void
}

export class NodeCounters implements TrafficCounter {
  bytesIn = 0
  bytesOut = 0
  framesIn = 0
  framesOut = 0
  /** Errors reported by the node ('error' events), by FlurryError code. */
  readonly refusals = new Map<string, number>()
  slowConsumerDrops = 0
  handshakeFailures = 0

  received(bytes: number, frames: number): void {
    this.bytesIn += bytes
    this.framesIn += frames
  }

  sent(bytes: number, frames: number): void {
    this.bytesOut += bytes
    this.framesOut += frames
  }

  refused(code: string): void {
    this.refusals.set(code, (this.refusals.get(code) ?? 0) + 1)
  }
}

/** node.stats(): a snapshot, safe to keep. */
export interface NodeStats {
  /** Nodes this one reaches now (as node.nodes()). */
  nodes: number
  /** Own clients with an open session (a peer's clients; 0 on a client). */
  clients: number
  /** Mesh peers with an open session. */
  peers: number
  /** Global names this node sees. */
  names: number
  /** Sessions open or in their handshake. */
  sessions: number
  bytesIn: number
  bytesOut: number
  framesIn: number
  framesOut: number
  /** Errors reported by the 'error' event, by code: NOT_AUTHORIZED, QUOTA, AUTH_FAILED, … */
  refusals: Record<string, number>
  /** Sessions closed because the remote read too slowly (reason 'slow-consumer'). */
  slowConsumerDrops: number
  /** Handshakes that failed, dialled or accepted (wrong cookie, versions, timeout). */
  handshakeFailures: number
}

/** The parts of a node a snapshot reads (NodeCore has them). */
interface Counted {
  readonly counters: NodeCounters
  readonly conns: ReadonlyMap<string, { readonly isOpen: boolean; readonly data: unknown }>
  readonly handshaking: ReadonlySet<unknown>
  nodes(): string[]
}

export function statsOf(node: Counted, names: number): NodeStats {
  const c = node.counters
  let clients = 0
  let peers = 0
  for (const s of node.conns.values()) {
    if (!s.isOpen) continue
    const kind = (s.data as { kind?: string } | undefined)?.kind
    if (kind === 'client') clients++
    else if (kind === 'mesh') peers++
  }
  return {
    nodes: node.nodes().length,
    clients,
    peers,
    names,
    sessions: node.conns.size + node.handshaking.size,
    bytesIn: c.bytesIn,
    bytesOut: c.bytesOut,
    framesIn: c.framesIn,
    framesOut: c.framesOut,
    refusals: Object.fromEntries(c.refusals),
    slowConsumerDrops: c.slowConsumerDrops,
    handshakeFailures: c.handshakeFailures,
  }
}
