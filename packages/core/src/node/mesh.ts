/**
 * Peers form a full mesh, like Erlang distribution: on session up each side sends its
 * peer list and each dials the peers it does not know; simultaneous dials end in one
 * session per pair (the one the smaller id dialed); lost peers are redialed with
 * backoff, forever, at their listen URL. A learned peer that said goodbye (its node
 * closed) is forgotten; configured ones (addPeer, connect) are redialed still.
 */
import type { TimerHandle } from '../base/index.js'
import { Deferred, FlurryError } from '../base/index.js'
import type { Dialer } from '../link/index.js'
import type { Session } from '../session/index.js'
import { peersFrame, readPeers } from '../wire/index.js'
import { stateOf } from './conn.js'
import type { NodeCore } from './node.js'

/** How many departed peer ids a node remembers. */
const MAX_DEPARTED = 1024

interface PeerEntry {
  url: string
  dialer: Dialer | null
  id: string | null
  /** The URL the peer advertises, when it differs from the one we were given. */
  alias: string | null
  attempt: number
  timer: TimerHandle | undefined
  dialing: boolean
  /** Given by the user (addPeer, connect), not learned from a peer list. */
  configured: boolean
}

/** A peer as node.peers() reports it. */
export interface PeerInfo {
  /** The URL it is dialed at. */
  url: string
  /** Its node id, once reached (or named in another peer's list); else null. */
  id: string | null
  /** An open session to it now. */
  reachable: boolean
  /** Given to addPeer/connect (redialed even after it said goodbye), not learned. */
  configured: boolean
}

export class Mesh {
  #node: NodeCore
  #byUrl = new Map<string, PeerEntry>()
  #waiters = new Map<string, Deferred<void>[]>()
  #graceTimers = new Map<string, TimerHandle>()
  /**
   * Ids of peers that closed on purpose: a peer list sent before the goodbye reached
   * its sender may still name one, and must not teach it back. Ids are per
   * incarnation (a restart has a new one), so this never hides a live peer.
   */
  #departed = new Set<string>()
  #stopped = false

  constructor(node: NodeCore) {
    this.#node = node
  }

  /** The user's connect(): one dial, errors reported; redials later are automatic. */
  async connect(dialer: Dialer): Promise<string> {
    const node = this.#node
    const link = await dialer.dial()
    const s = node.openSession(link, true)
    const id = await stateOf(s).opened.promise
    const entry = this.#entry(s.remoteUrl ?? dialer.target)
    entry.dialer = dialer
    entry.id = id
    entry.configured = true
    if (dialer.target !== entry.url) {
      const given = this.#entry(dialer.target)
      given.alias = entry.url
      given.configured = true
    }
    await this.#waitReady(id)
    return id
  }

  /**
   * A peer to keep meshed with, dialed now and redialed with backoff until it
   * answers (and after every loss): for peers listed in configuration, which may
   * start after us.
   */
  addPeer(dialer: Dialer): void {
    const e = this.#entry(dialer.target)
    e.dialer = dialer
    e.configured = true
    if (!e.dialing && e.timer === undefined) void this.#dial(e)
  }

  #entry(url: string): PeerEntry {
    let e = this.#byUrl.get(url)
    if (e === undefined) {
      e = { url, dialer: null, id: null, alias: null, attempt: 0, timer: undefined, dialing: false, configured: false }
      this.#byUrl.set(url, e)
    }
    return e
  }

  #waitReady(id: string): Promise<void> {
    const node = this.#node
    const s = node.conns.get(id)
    if (s !== undefined && stateOf(s).ready) return Promise.resolve()
    const d = new Deferred<void>()
    let list = this.#waiters.get(id)
    if (list === undefined) this.#waiters.set(id, (list = []))
    list.push(d)
    const t = node.opts.clock.setTimeout(
      () => d.reject(new FlurryError('TIMEOUT', `no registry sync from ${id} in ${node.opts.handshakeTimeoutMs} ms`)),
      node.opts.handshakeTimeoutMs,
      true,
    )
    return d.promise.finally(() => node.opts.clock.clearTimeout(t))
  }

  /** The session the smaller id dialed is the one both sides keep. */
  #preferred(s: Session): boolean {
    const self = this.#node.id
    return stateOf(s).initiator ? self < s.remoteId : s.remoteId < self
  }

  /** A mesh session finished its handshake; false if it lost to another session. */
  onOpen(s: Session): boolean {
    const node = this.#node
    const id = s.remoteId
    const existing = node.conns.get(id)
    if (existing !== undefined && existing !== s) {
      const keepNew = !existing.isOpen || (this.#preferred(s) && !this.#preferred(existing))
      if (!keepNew) {
        stateOf(s).superseded = true
        s.close('local', 'duplicate')
        return false
      }
      const est = stateOf(existing)
      est.superseded = true
      stateOf(s).ready = est.ready
      if (existing.isOpen) existing.close('local', 'duplicate')
    }
    this.#departed.delete(id)
    const grace = this.#graceTimers.get(id)
    if (grace !== undefined) {
      node.opts.clock.clearTimeout(grace)
      this.#graceTimers.delete(id)
    }
    node.conns.set(id, s)
    if (s.remoteUrl !== null) {
      const e = this.#entry(s.remoteUrl)
      e.id = id
      e.attempt = 0
    }
    s.send(this.#peersFrame())
    return true
  }

  /** The peer's first sync is merged: it counts now. */
  onReady(s: Session): void {
    const list = this.#waiters.get(s.remoteId)
    if (list !== undefined) {
      this.#waiters.delete(s.remoteId)
      for (const d of list) d.resolve()
    }
    // Everyone else learns of the newcomer (and it of them, from our list).
    const frame = this.#peersFrame()
    for (const other of this.#node.conns.values()) {
      if (other !== s && stateOf(other).kind === 'mesh' && other.isOpen) other.send(frame)
    }
  }

  onClose(s: Session, reason: string, detail: string): void {
    const node = this.#node
    const id = s.remoteId
    // The remote kept our other session to it, still in its handshake here: wait for
    // that one rather than report a node that never went away.
    if (detail === 'duplicate' && !node.closing && [...node.handshaking].some((h) => h.remoteId === id)) {
      this.#graceTimers.set(
        id,
        node.opts.clock.setTimeout(() => {
          this.#graceTimers.delete(id)
          if (node.conns.get(id) === s) this.#down(s, reason, detail)
        }, node.opts.handshakeTimeoutMs, true),
      )
      return
    }
    this.#down(s, reason, detail)
  }

  #down(s: Session, reason: string, detail: string): void {
    const node = this.#node
    const id = s.remoteId
    node.conns.delete(id)
    node.members.notePeerDown(id, reason)
    node.members.recompute()
    if (s.remoteUrl === null) return
    if (reason === 'goodbye' && detail === 'goodbye' && this.#forget(id, s.remoteUrl)) return
    this.#schedule(this.#entry(s.remoteUrl))
  }

  /**
   * A peer closed its node (GOODBYE 'goodbye'): forget it unless it was configured,
   * so /healthz does not report a peer that left on purpose. True if forgotten.
   */
  #forget(id: string, url: string): boolean {
    const entries = [...this.#byUrl.values()].filter((e) => e.url === url || e.alias === url || e.id === id)
    if (entries.some((e) => e.configured)) return false
    this.#departed.add(id)
    // Bounded: the oldest go first (a Set iterates in insertion order).
    if (this.#departed.size > MAX_DEPARTED) this.#departed.delete(this.#departed.values().next().value as string)
    const clock = this.#node.opts.clock
    for (const e of entries) {
      if (e.timer !== undefined) clock.clearTimeout(e.timer)
      e.timer = undefined
      this.#byUrl.delete(e.url)
    }
    return true
  }

  onPeers(s: Session, frame: unknown[]): void {
    if (stateOf(s).kind !== 'mesh') return
    for (const [id, url] of readPeers(frame)) this.learn(id, url)
  }

  /** A peer heard of: dial it unless we have it. */
  learn(id: string, url: string): void {
    const node = this.#node
    if (this.#stopped || id === node.id || url === node.listenUrl || this.#departed.has(id)) return
    const e = this.#entry(url)
    e.id = id
    if (node.conns.get(id)?.isOpen === true) return
    if (!e.dialing && e.timer === undefined) void this.#dial(e)
  }

  #schedule(e: PeerEntry): void {
    const node = this.#node
    if (this.#stopped || node.closing || e.timer !== undefined || e.dialing) return
    const o = node.opts
    const base = Math.min(o.reconnectMaxMs, o.reconnectMinMs * 2 ** Math.min(e.attempt, 20))
    const jitter = 0.5 + ((o.random(1)[0] as number) / 255) * 0.5
    e.timer = o.clock.setTimeout(() => {
      e.timer = undefined
      void this.#dial(e)
    }, base * jitter, true)
  }

  async #dial(e: PeerEntry): Promise<void> {
    const node = this.#node
    if (this.#stopped || node.closing) return
    if (e.id !== null && node.conns.get(e.id)?.isOpen === true) {
      e.attempt = 0
      return
    }
    const dialer = e.dialer ?? node.dialerFor(e.url)
    if (dialer === null) {
      node.log('warn', `no transport can dial peer ${e.url}`)
      return
    }
    e.dialing = true
    try {
      const link = await dialer.dial()
      if (this.#stopped || node.closing) {
        link.close('node closing')
        return
      }
      const s = node.openSession(link, true)
      e.id = await stateOf(s).opened.promise
      if (s.remoteUrl !== null && s.remoteUrl !== e.url) e.alias = s.remoteUrl
      e.attempt = 0
    } catch (err) {
      e.attempt++
      if (e.attempt === 1 || e.attempt % 10 === 0) {
        node.log('warn', `cannot reach peer ${e.url}: ${(err as Error).message}`, { attempt: e.attempt })
      }
      e.dialing = false
      this.#schedule(e)
      return
    }
    e.dialing = false
  }

  #peersFrame(): unknown[] {
    const flat: string[] = []
    for (const [id, s] of this.#node.conns) {
      if (stateOf(s).kind === 'mesh' && s.isOpen && s.remoteUrl !== null) flat.push(id, s.remoteUrl)
    }
    return peersFrame(flat)
  }

  /** Every peer known by URL (configured or learned), and whether it is up now. */
  peers(): PeerInfo[] {
    const up = new Set<string>()
    for (const s of this.#node.conns.values()) if (s.isOpen && s.remoteUrl !== null) up.add(s.remoteUrl)
    return [...this.#byUrl.values()].map((e) => ({
      url: e.url,
      id: e.id,
      reachable:
        up.has(e.url) || (e.alias !== null && up.has(e.alias)) || (e.id !== null && this.#node.conns.get(e.id)?.isOpen === true),
      configured: e.configured,
    }))
  }

  /** Peers known by URL that have no session now (for /healthz). */
  unreachable(): Array<{ url: string; id: string | null }> {
    return this.peers()
      .filter((p) => !p.reachable)
      .map(({ url, id }) => ({ url, id }))
  }

  stop(): void {
    this.#stopped = true
    const clock = this.#node.opts.clock
    for (const e of this.#byUrl.values()) {
      if (e.timer !== undefined) clock.clearTimeout(e.timer)
      e.timer = undefined
    }
    for (const t of this.#graceTimers.values()) clock.clearTimeout(t)
    this.#graceTimers.clear()
    for (const list of this.#waiters.values()) for (const d of list) d.reject(new FlurryError('CLOSED', 'node closed'))
    this.#waiters.clear()
  }
}
