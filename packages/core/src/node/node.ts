/**
 * The node layer's core: roles, sessions and their frames. A node with a listener is
 * a peer (full mesh with other peers, home of clients); a node without one is a
 * client with one home. Membership, replication, routing, the mesh, the home and the
 * bus each live in their own file and share this object.
 */
import { Emitter, FlurryError, type TimerHandle } from '../base/index.js'
import type { BusSpec, Dialer, Link, Listener, ListenerSpec } from '../link/index.js'
import { Session, type CloseReason } from '../session/index.js'
import type { Identity } from '../session/index.js'
import { F, ROLE_PEER, errorFrame } from '../wire/index.js'
import { BusMember } from './bus-member.js'
import { SessionState, stateOf, type Conn } from './conn.js'
import { HybridClock } from './hlc.js'
import { Home } from './home.js'
import { Membership } from './membership.js'
import { Mesh } from './mesh.js'
import { watchPageLifecycle } from './page-lifecycle.js'
import type { NodeOptions } from './options.js'
import { RemoteLog, escapeLogText } from './remote-log.js'
import { Replication } from './replication.js'
import { Router } from './router.js'
import type { SliceStore } from './slice-store.js'
import { NodeCounters } from './stats.js'

/**
 * How long a home gathers clients joining or leaving before it tells everyone: 5 ms,
 * and 1 ms more per 50 clients up to 50 ms, since each round costs one write to every
 * client (a storm of a thousand joins takes tens of rounds, not a thousand).
 */
export const COALESCE_MS = 5
const COALESCE_MAX_MS = 50

export function coalesceMs(clients: number): number {
  return Math.min(COALESCE_MAX_MS, COALESCE_MS + Math.floor(clients / 50))
}

export type NodeEvents = {
  nodeup: (nodeId: string) => void
  nodedown: (nodeId: string, reason: string) => void
  homeup: (peerId: string) => void
  homedown: (peerId: string, reason: string) => void
  /** Something a remote did was refused, or a session failed: worth a log line. */
  error: (err: FlurryError, remoteId: string | null) => void
}

/** Actor traffic for this node: `frame[argAt]` is the first argument of `op`. */
export type ActorFrameHandler = (from: string, op: number, frame: unknown[], argAt: number) => void

export class NodeCore {
  readonly opts: NodeOptions
  readonly identity: Identity
  readonly id: string
  readonly hlc: HybridClock
  readonly store: SliceStore
  readonly events = new Emitter<NodeEvents>()
  /** Lines about what remotes did: escaped, `warn` at most, rate-limited per remote. */
  readonly remoteLog: RemoteLog
  /** Traffic, refusals and failures since the start (node.stats()). */
  readonly counters = new NodeCounters()
  role: 'peer' | 'client' = 'client'
  listenUrl: string | null = null
  readonly listeners: Array<{ spec: ListenerSpec; listener: Listener }> = []
  /** The current session per remote node: mesh peers, own clients, the home. */
  readonly conns = new Map<string, Session>()
  /** Sessions still in their handshake. */
  readonly handshaking = new Set<Session>()
  readonly mesh: Mesh
  readonly home: Home
  readonly repl: Replication
  readonly members: Membership
  readonly router: Router
  bus: BusMember | null = null
  closing = false
  /** Hidden or frozen page: goodbye said, waiting for resume(). */
  suspended = false
  #busSpec: BusSpec | null = null
  #unwatchPage: () => void
  onActorFrame: ActorFrameHandler = () => {}
  #closed: Promise<void> | null = null
  #dialerSources: Array<{ dialerFor?(url: string): Dialer | null }> = []
  #recomputeTimer: TimerHandle | undefined

  constructor(opts: NodeOptions, identity: Identity, store: SliceStore) {
    this.opts = opts
    this.identity = identity
    this.id = identity.id
    this.hlc = new HybridClock(opts.clock)
    this.store = store
    this.events.onError = (err) => this.log('error', `event handler threw: ${String(err)}`)
    this.remoteLog = new RemoteLog((level, message, fields) => this.log(level, message, fields), opts.clock)
    this.events.on('error', (err) => this.counters.refused(err.code))
    this.members = new Membership(this)
    this.repl = new Replication(this)
    this.router = new Router(this)
    this.mesh = new Mesh(this)
    this.home = new Home(this)
    store.onOwnChange = () => this.repl.scheduleOwnFlush()
    this.#unwatchPage = watchPageLifecycle(this)
  }

  log(level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>): void {
    this.opts.log(level, escapeLogText(message, 2000), fields)
  }

  // ---- the public operations ------------------------------------------------

  async listen(spec: ListenerSpec): Promise<Listener> {
    this.#checkOpen()
    if (this.home.dialer !== null) {
      throw new FlurryError('BAD_ARGUMENT', 'listen before connect: this node already has a home as a client')
    }
    const listener = await spec.listen((link) => this.#accept(link))
    this.listeners.push({ spec, listener })
    this.#dialerSources.push(spec)
    if (this.role !== 'peer') {
      this.role = 'peer'
      this.listenUrl = listener.url
      ;(this.store as { setSelfRole?(r: number): void }).setSelfRole?.(ROLE_PEER)
    }
    return {
      url: listener.url,
      close: async () => {
        const i = this.listeners.findIndex((l) => l.listener === listener)
        if (i >= 0) this.listeners.splice(i, 1)
        await listener.close()
      },
    }
  }

  /** Peers: one more mesh peer. Clients: the home (reconnected with backoff later). */
  async connect(dialer: Dialer): Promise<string> {
    this.#checkOpen()
    if (dialer === null || typeof dialer !== 'object' || typeof dialer.dial !== 'function') {
      throw new FlurryError('BAD_ARGUMENT', 'connect takes a dialer, like dialWebSocket(url)')
    }
    this.#dialerSources.push(dialer)
    return this.role === 'peer' ? this.mesh.connect(dialer) : this.home.connect(dialer)
  }

  /** A peer to mesh with that may not be up yet: dialed in the background, forever. */
  addPeer(dialer: Dialer): void {
    this.#checkOpen()
    if (this.role !== 'peer') throw new FlurryError('BAD_ARGUMENT', 'addPeer is for peers: listen first')
    this.#dialerSources.push(dialer)
    this.mesh.addPeer(dialer)
  }

  async join(spec: BusSpec): Promise<void> {
    this.#checkOpen()
    if (this.bus !== null) throw new FlurryError('BAD_ARGUMENT', `already on bus ${this.bus.name}`)
    this.#busSpec = spec
    const member = new BusMember(this, spec)
    this.bus = member
    try {
      await member.start()
    } catch (err) {
      this.bus = null
      this.#busSpec = null
      throw err
    }
  }

  /**
   * The page is hidden (pagehide) or frozen: goodbye to the home and the bus, so
   * the others see this node go at once and the page stays eligible for the
   * back/forward cache. Actors and names stay; resume() rejoins.
   */
  suspend(): void {
    if (this.closing || this.suspended) return
    this.suspended = true
    this.repl.flushOwn()
    this.home.suspend()
    if (this.bus !== null) {
      this.bus.stop()
      this.bus = null
      this.members.recompute()
    }
  }

  /** Back from the back/forward cache or from frozen: rejoin the home and the bus. */
  resume(): void {
    if (this.closing || !this.suspended) return
    this.suspended = false
    this.home.resume()
    const spec = this.#busSpec
    if (spec !== null && this.bus === null) {
      const member = new BusMember(this, spec)
      this.bus = member
      member.start().catch((err: unknown) => {
        if (this.bus === member) this.bus = null
        this.log('warn', `could not rejoin bus ${spec.name}: ${String(err)}`)
      })
    }
  }

  nodes(): string[] {
    return [...this.members.reachable]
  }

  isReachable(nodeId: string): boolean {
    return nodeId === this.id || this.members.reachable.has(nodeId)
  }

  close(): Promise<void> {
    if (this.#closed !== null) return this.#closed
    this.closing = true
    this.#unwatchPage()
    this.#closed = (async () => {
      this.repl.flushOwn()
      this.mesh.stop()
      this.home.stop()
      for (const s of [...this.handshaking]) s.close('local', 'node closing', false)
      for (const s of [...this.conns.values()]) s.close('local', 'goodbye')
      if (this.bus !== null) this.bus.stop()
      await Promise.allSettled(this.listeners.map((l) => l.listener.close()))
      this.listeners.length = 0
      this.router.stop()
      this.repl.stop()
      if (this.#recomputeTimer !== undefined) this.opts.clock.clearTimeout(this.#recomputeTimer)
      this.#recomputeTimer = undefined
    })()
    return this.#closed
  }

  /** A dialer for a learned peer URL, from the transports this node already uses. */
  dialerFor(url: string): Dialer | null {
    for (const src of this.#dialerSources) {
      const d = src.dialerFor?.(url)
      if (d) return d
    }
    return null
  }

  // ---- sessions -------------------------------------------------------------

  #checkOpen(): void {
    if (this.closing) throw new FlurryError('CLOSED', 'node is closed')
  }

  #accept(link: Link): void {
    if (this.closing) {
      link.close('node closing')
      return
    }
    this.openSession(link, false)
  }

  /**
   * Starts a session on a fresh link. The returned state's `opened` settles with the
   * handshake; `ready` once the first sync is merged.
   */
  openSession(link: Link, initiator: boolean): Session {
    const o = this.opts
    const session = new Session(
      {
        link,
        initiator,
        identity: this.identity,
        role: this.role,
        listenUrl: this.listenUrl,
        cookie: o.cookie,
        clientCookie: this.role === 'peer' ? o.clientCookie : undefined,
        versions: o.versions,
        clock: o.clock,
        clockMs: () => this.hlc.nowMs(),
        random: o.random,
        heartbeatIntervalMs: o.heartbeatIntervalMs,
        heartbeatTimeoutMs: o.heartbeatTimeoutMs,
        handshakeTimeoutMs: o.handshakeTimeoutMs,
        maxFrameBytes: o.maxFrameBytes,
        maxBufferedBytes: o.maxBufferedBytes,
        ed25519: o.ed25519,
        later: o.flushLater,
        traffic: this.counters,
      },
      {
        onopen: (s) => this.#onOpen(s),
        onfail: (s, err) => this.#onFail(s, err),
        onframe: (s, type, frame, raw) => this.#onFrame(s, type, frame, raw),
        onclose: (s, reason, detail) => this.#onClose(s, reason, detail),
        onclock: (s, ms) => this.#onClock(s, ms),
        onerror: (s, err) => this.#onError(s, err),
      },
    )
    const kind = this.role === 'client' ? 'home' : 'mesh'
    session.data = new SessionState(kind, initiator)
    this.handshaking.add(session)
    return session
  }

  #onOpen(s: Session): void {
    this.handshaking.delete(s)
    if (this.closing) {
      s.close('local', 'goodbye')
      return
    }
    const old = stateOf(s)
    if (this.role === 'peer' && s.remoteRole === 'client') {
      const st = new SessionState('client', old.initiator)
      st.opened = old.opened
      s.data = st
    }
    const st = stateOf(s)
    st.opened.resolve(s.remoteId)
    switch (st.kind) {
      case 'mesh':
        if (this.mesh.onOpen(s)) this.repl.sendSessionSync(s)
        return
      case 'client':
        this.#replaceSession(s)
        this.repl.sendSessionSync(s)
        return
      case 'home':
        this.home.onOpen(s)
        return
    }
  }

  /** A client reconnecting before its old session timed out: the new one takes over. */
  #replaceSession(s: Session): void {
    const old = this.conns.get(s.remoteId)
    this.conns.set(s.remoteId, s)
    if (old !== undefined && old !== s) {
      stateOf(old).superseded = true
      stateOf(s).ready = stateOf(old).ready
      old.close('local', 'replaced', false)
    }
  }

  #onFail(s: Session, err: FlurryError): void {
    this.handshaking.delete(s)
    if (!this.closing) this.counters.handshakeFailures++
    stateOf(s).opened.reject(err)
    stateOf(s).readyWait.reject(err)
    if (!stateOf(s).initiator) {
      this.remoteLog.warn(s.remoteId, `refused a session${s.remoteId ? ` from ${s.remoteId}` : ''}: ${err.message}`, { code: err.code })
      this.events.emit('error', err, s.remoteId || null)
    }
  }

  #onClose(s: Session, reason: CloseReason, detail: string): void {
    const st = stateOf(s)
    if (reason === 'slow-consumer') this.counters.slowConsumerDrops++
    st.readyWait.reject(new FlurryError('CLOSED', `session to ${s.remoteId} closed before its first sync: ${detail}`))
    this.router.onConnClosed(s)
    this.repl.onConnClosed(s)
    if (st.superseded || this.conns.get(s.remoteId) !== s) return
    const why = reason === 'local' ? (this.closing ? 'shutdown' : detail) : reason
    switch (st.kind) {
      case 'mesh':
        this.mesh.onClose(s, why, detail)
        return
      case 'client':
        this.conns.delete(s.remoteId)
        this.members.noteReason(s.remoteId, why)
        this.repl.onClientGone(s.remoteId, why)
        if (this.closing) this.members.recompute()
        else this.scheduleRecompute()
        return
      case 'home':
        this.home.onClose(s, why, detail)
        return
    }
  }

  #onClock(s: Session, ms: number): void {
    // Only trusted clocks move ours: peers, and a client's home (whose time it adopts).
    if (s.remoteRole !== 'peer') return
    this.hlc.observeMs(ms)
    if (this.role === 'client' && this.home.session === s) this.hlc.adopt(ms)
  }

  #onError(s: Session, err: FlurryError | Error): void {
    const fe = err instanceof FlurryError ? err : new FlurryError('PROTOCOL', `internal error handling a frame from ${s.remoteId}: ${err.message}`, { cause: err })
    // Whatever a remote makes happen is a warn at most: it must not page anyone.
    this.remoteLog.warn(s.remoteId, fe.message, { code: fe.code, remote: s.remoteId })
    this.events.emit('error', fe, s.remoteId || null)
  }

  /** Tells a remote what was refused and why, with a log line here. */
  refuse(conn: Conn, code: 'NOT_AUTHORIZED' | 'BAD_FRAME' | 'QUOTA' | 'CLOCK_SKEW', message: string): void {
    const err = new FlurryError(code, message)
    this.remoteLog.warn(conn.remoteId, `refused ${conn.remoteId}: ${message}`, { code })
    this.events.emit('error', err, conn.remoteId)
    conn.send(errorFrame(code, message))
  }

  /**
   * Clients joining and leaving in a storm: one membership recompute (and one
   * clients-list change, one fan-out to every other client) for all of them, a few
   * ms later, rather than one per client per receiver.
   */
  scheduleRecompute(): void {
    if (this.#recomputeTimer !== undefined || this.closing) return
    this.#recomputeTimer = this.opts.clock.setTimeout(() => {
      this.#recomputeTimer = undefined
      if (this.closing) return
      this.repl.flushOwn()
      this.members.recompute()
    }, coalesceMs(this.store.clientsOf(this.id)?.size ?? 0), true)
  }

  #onFrame(s: Session, type: number, frame: unknown[], raw: Uint8Array): void {
    switch (type) {
      case F.DIRECT:
        this.router.onDirect(s, frame)
        return
      case F.ROUTED:
        this.router.onRouted(s, frame, raw)
        return
      case F.DELTA:
        this.repl.onDelta(s, frame, raw)
        return
      case F.SYNC:
        this.repl.onSync(s, frame, raw)
        return
      case F.SLICE_REQ:
        this.repl.onSliceReq(s, frame)
        return
      case F.UNCOUNT:
        this.repl.onUncount(s, frame)
        return
      case F.REFUSE_NAME:
        this.repl.onRefuseName(s, frame)
        return
      case F.PEERS:
        this.mesh.onPeers(s, frame)
        return
      default:
        throw new FlurryError('BAD_FRAME', `unknown frame type ${type}`)
    }
  }
}
