/**
 * Routing of actor traffic by node id, and one channel per remote node with
 * end-to-end sequence numbers so that messages between two actors arrive in the
 * order sent, at most once:
 * - the next hop is a direct connection to the node if there is one (a session, a
 *   bus neighbour), else (peer) the peer listing it as a client, else (client) home;
 * - when the route changes, a FENCE goes down the old route with the last seq sent
 *   on it; the receiver holds frames that came early on the new route until the
 *   fence arrives, the old route dies, or a deadline passes;
 * - on one route (FIFO) a gap means frames were lost, never late: deliver at once.
 * A home checks the sender of everything its clients route and forwards frames as
 * they came, without decoding them again.
 */
import type { TimerHandle } from '../base/index.js'
import { encodeShared, A_EXIT, A_FENCE, F, nodeId, uint } from '../wire/index.js'
import { Session } from '../session/index.js'
import { stateOf, type Conn } from './conn.js'
import type { NodeCore } from './node.js'

interface Out {
  seq: number
  route: Conn | null
  /** When the node went down (channels of departed nodes are forgotten later). */
  downSince: number | undefined
}

interface Held {
  seq: number
  conn: Conn
  frame: unknown[]
  argAt: number
  op: number
}

interface In {
  expected: number
  route: Conn | null
  /**
   * Nothing received yet: a first frame past seq 1 means earlier ones are on another
   * route (a bus may overtake the home), so it waits like any early frame.
   */
  fresh: boolean
  held: Held[] | null
  timer: TimerHandle | undefined
  downSince: number | undefined
}


export class Router {
  #node: NodeCore
  #out = new Map<string, Out>()
  #in = new Map<string, In>()

  constructor(node: NodeCore) {
    this.#node = node
  }

  /** The connection the next frame to `to` goes through, or null (unreachable). */
  nextHop(to: string): Conn | null {
    const node = this.#node
    const s = node.conns.get(to)
    if (s !== undefined && s.isOpen && stateOf(s).ready) return s
    const b = node.bus?.neighbour(to)
    if (b !== undefined && b !== null) return b
    if (node.role === 'peer') {
      const via = node.members.clientHome.get(to)
      if (via === undefined) return null
      const p = node.conns.get(via)
      return p !== undefined && p.isOpen ? p : null
    }
    if (!node.members.counted.has(to)) return null
    const h = node.home.session
    return h !== null && h.isOpen && stateOf(h).ready ? h : null
  }

  /**
   * Sends actor op `op` with its arguments to node `to`. Returns false when `to` is
   * unreachable (the frame is dropped, as Erlang drops sends to a down node). Throws
   * FRAME_TOO_LARGE, with nothing sent, for a frame over the limit.
   */
  send(to: string, op: number, a?: unknown, b?: unknown, c?: unknown): boolean {
    const hop = this.nextHop(to)
    if (hop === null) return false
    let out = this.#out.get(to)
    if (out === undefined) {
      out = { seq: 0, route: null, downSince: undefined }
      this.#out.set(to, out)
    }
    out.downSince = undefined
    if (out.route !== hop) {
      const old = out.route
      out.route = hop
      if (old !== null && old.isOpen && out.seq > 0) this.#emit(old, to, out.seq, A_FENCE, 0, undefined, undefined, undefined)
    }
    const n = op === A_FENCE ? 0 : c !== undefined ? 3 : b !== undefined ? 2 : a !== undefined ? 1 : 0
    this.#emit(hop, to, out.seq + 1, op, n, a, b, c)
    out.seq++
    return true
  }

  #emit(hop: Conn, to: string, seq: number, op: number, n: number, a: unknown, b: unknown, c: unknown): void {
    // Fresh literal arrays per arity: cheaper than resizing a reused one (V8's
    // `length` writes are slow and leave holey arrays the encoder walks slower).
    let frame: unknown[]
    if (hop.remoteId === to) {
      frame =
        n === 0 ? [F.DIRECT, seq, op] : n === 1 ? [F.DIRECT, seq, op, a] : n === 2 ? [F.DIRECT, seq, op, a, b] : [F.DIRECT, seq, op, a, b, c]
    } else {
      const from = this.#node.id
      frame =
        n === 0
          ? [F.ROUTED, to, from, seq, op]
          : n === 1
            ? [F.ROUTED, to, from, seq, op, a]
            : n === 2
              ? [F.ROUTED, to, from, seq, op, a, b]
              : [F.ROUTED, to, from, seq, op, a, b, c]
    }
    hop.sendEncoded(encodeShared(frame))
  }


  onDirect(conn: Conn, frame: unknown[]): void {
    const op = uint(frame[2], 'op')
    if (op === A_EXIT && kindOf(conn) === 'client' && !this.#exitAllowed(conn)) return
    this.#receive(conn, conn.remoteId, uint(frame[1], 'seq'), op, frame, 3)
  }

  /**
   * Exit signals from a client (any page holding the client cookie) are refused unless
   * allowClientExits: dropped, with ERROR NOT_AUTHORIZED to the sender.
   */
  #exitAllowed(conn: Conn): boolean {
    const node = this.#node
    if (node.opts.allowClientExits) return true
    node.refuse(conn, 'NOT_AUTHORIZED', 'exit signals from clients are not allowed here (allowClientExits)')
    return false
  }

  onRouted(conn: Conn, frame: unknown[], raw: Uint8Array): void {
    const node = this.#node
    const to = nodeId(frame[1], 'routed to')
    const from = nodeId(frame[2], 'routed from')
    const seq = uint(frame[3], 'seq')
    const op = uint(frame[4], 'op')
    const kind = kindOf(conn)
    if (kind === 'client') {
      if (from !== conn.remoteId) {
        node.refuse(conn, 'NOT_AUTHORIZED', `a client may only send as itself (claimed to be ${from})`)
        return
      }
      if (op === A_EXIT && !this.#exitAllowed(conn)) return
    }
    if (to === node.id) {
      this.#receive(conn, from, seq, op, frame, 5)
      return
    }
    if (node.role !== 'peer') return
    const hop = this.nextHop(to)
    if (hop === null || hop === conn) return
    // Peers never forward peer to peer: the full mesh reaches everyone in one hop.
    if (kind === 'mesh' && kindOf(hop) === 'mesh') return
    hop.sendEncoded(raw)
  }

  #receive(conn: Conn, from: string, seq: number, op: number, frame: unknown[], argAt: number): void {
    let ch = this.#in.get(from)
    if (ch === undefined) {
      ch = { expected: 1, route: null, fresh: true, held: null, timer: undefined, downSince: undefined }
      this.#in.set(from, ch)
    }
    ch.downSince = undefined
    // Seq 1 only ever starts a channel: the sender forgot its old one (we were gone
    // long enough for it to drop it), so this one starts afresh.
    if (seq === 1 && op !== A_FENCE && ch.expected > 1) {
      if (ch.timer !== undefined) this.#node.opts.clock.clearTimeout(ch.timer)
      ch.timer = undefined
      ch.held = null
      ch.expected = 1
      ch.route = conn
    }
    if (op === A_FENCE) {
      if (ch.route === conn || ch.route === null) {
        if (seq + 1 > ch.expected) ch.expected = seq + 1
        this.#release(from, ch)
      }
      return
    }
    if (seq < ch.expected) return
    if ((ch.route === null && !ch.fresh) || ch.route === conn || seq === ch.expected) {
      ch.fresh = false
      ch.route = conn
      ch.expected = seq + 1
      this.#deliver(from, op, frame, argAt)
      if (ch.held !== null) this.#drain(from, ch)
      return
    }
    // Early on a new route: wait for the old one (fence, death, or deadline).
    const h: Held = { seq, conn, frame, argAt, op }
    if (ch.held === null) ch.held = [h]
    else ch.held.push(h)
    if (ch.timer === undefined) {
      const node = this.#node
      ch.timer = node.opts.clock.setTimeout(() => {
        const c = this.#in.get(from)
        if (c !== undefined) {
          c.timer = undefined
          this.#release(from, c)
        }
      }, node.opts.heartbeatTimeoutMs, true)
    }
  }

  /** The old route is done: deliver what waited, in seq order. */
  #release(from: string, ch: In): void {
    ch.route = null
    ch.fresh = false
    if (ch.timer !== undefined) this.#node.opts.clock.clearTimeout(ch.timer)
    ch.timer = undefined
    const held = ch.held
    ch.held = null
    if (held === null) return
    held.sort((x, y) => x.seq - y.seq)
    for (const h of held) {
      if (h.seq < ch.expected) continue
      ch.expected = h.seq + 1
      ch.route = h.conn
      this.#deliver(from, h.op, h.frame, h.argAt)
    }
  }

  /** After an in-order delivery, frames held from the new route may follow on. */
  #drain(from: string, ch: In): void {
    const held = ch.held as Held[]
    held.sort((x, y) => x.seq - y.seq)
    while (held.length > 0 && (held[0] as Held).seq <= ch.expected) {
      const h = held.shift() as Held
      if (h.seq < ch.expected) continue
      ch.expected = h.seq + 1
      ch.route = h.conn
      this.#deliver(from, h.op, h.frame, h.argAt)
    }
    if (held.length === 0) {
      ch.held = null
      if (ch.timer !== undefined) this.#node.opts.clock.clearTimeout(ch.timer)
      ch.timer = undefined
    }
  }

  #deliver(from: string, op: number, frame: unknown[], argAt: number): void {
    try {
      this.#node.onActorFrame(from, op, frame, argAt)
    } catch (err) {
      // A remote's malformed op (PROTOCOL.md §6: logged and dropped): warn at most.
      this.#node.remoteLog.warn(from, `actor frame from ${from} failed: ${String(err)}`)
    }
  }

  onConnClosed(conn: Conn): void {
    for (const [from, ch] of this.#in) if (ch.route === conn) this.#release(from, ch)
    for (const out of this.#out.values()) if (out.route === conn) out.route = null
  }

  onNodeDown(id: string): void {
    const now = this.#node.opts.clock.now()
    const ch = this.#in.get(id)
    if (ch !== undefined) {
      this.#release(id, ch)
      ch.downSince = now
    }
    const out = this.#out.get(id)
    if (out !== undefined) {
      out.route = null
      out.downSince = now
    }
  }

  /** Forgets the channels of nodes down for `ttlMs` (a node that returns starts at seq 1). */
  sweep(now: number, ttlMs: number): void {
    for (const [id, ch] of this.#in) if (ch.downSince !== undefined && now - ch.downSince >= ttlMs && ch.held === null) this.#in.delete(id)
    for (const [id, out] of this.#out) if (out.downSince !== undefined && now - out.downSince >= ttlMs) this.#out.delete(id)
  }

  stop(): void {
    for (const ch of this.#in.values()) if (ch.timer !== undefined) this.#node.opts.clock.clearTimeout(ch.timer)
    this.#in.clear()
    this.#out.clear()
  }
}

function kindOf(conn: Conn): string {
  return conn instanceof Session ? stateOf(conn).kind : 'bus'
}
