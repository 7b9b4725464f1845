/**
 * A client's one session with its home: the peer that speaks for it. The client
 * counts exactly what its home counts (the home's stream), reconnects with backoff
 * when the session drops (through the dialer's URL list), and on each join merges the
 * home's sync, re-stamps its own claims and only then sends its slice.
 */
import type { TimerHandle } from '../base/index.js'
import { FlurryError } from '../base/index.js'
import type { Dialer } from '../link/index.js'
import type { Session } from '../session/index.js'
import { stateOf } from './conn.js'
import type { NodeCore } from './node.js'

export class Home {
  #node: NodeCore
  dialer: Dialer | null = null
  session: Session | null = null
  /** The current (or last) home's id. */
  id: string | null = null
  /** The owners the home counts: what this client counts besides itself. */
  readonly counted = new Set<string>()
  #attempt = 0
  #timer: TimerHandle | undefined
  #connecting = false
  #stopped = false
  #suspended = false

  constructor(node: NodeCore) {
    this.#node = node
  }

  /** The session is up and its sync merged: registry state flows through it. */
  get working(): boolean {
    const s = this.session
    return s !== null && s.isOpen && stateOf(s).ready
  }

  async connect(dialer: Dialer): Promise<string> {
    if (this.dialer !== null) {
      throw new FlurryError('BAD_ARGUMENT', 'a client has one home: give dialWebSocket a list of URLs to fail over through')
    }
    this.dialer = dialer
    try {
      return await this.#attempt1()
    } catch (err) {
      this.dialer = null
      throw err
    }
  }

  async #attempt1(): Promise<string> {
    const node = this.#node
    const dialer = this.dialer as Dialer
    this.#connecting = true
    try {
      const link = await dialer.dial()
      if (this.#stopped) {
        link.close('node closing')
        throw new FlurryError('CLOSED', 'node closed')
      }
      const s = node.openSession(link, true)
      const id = await stateOf(s).opened.promise
      // The home's first sync has a deadline too: a home that never sends it is no home.
      const clock = node.opts.clock
      const timer = clock.setTimeout(() => {
        if (!stateOf(s).ready) s.close('local', `no registry sync from ${id} in ${node.opts.handshakeTimeoutMs} ms`)
      }, node.opts.handshakeTimeoutMs, true)
      try {
        await stateOf(s).readyWait.promise
      } finally {
        clock.clearTimeout(timer)
      }
      return id
    } finally {
      this.#connecting = false
    }
  }

  onOpen(s: Session): void {
    const node = this.#node
    const old = this.session
    if (old !== null && old !== s && old.isOpen) {
      stateOf(old).superseded = true
      old.close('local', 'replaced')
    }
    this.session = s
    node.conns.set(s.remoteId, s)
    // The home sends its sync now; Replication calls synced() once it is merged.
  }

  /** The home's first sync is merged and our slice is on its way: we are home. */
  synced(s: Session, owners: Iterable<string>): void {
    const node = this.#node
    this.counted.clear()
    for (const o of owners) if (o !== node.id) this.counted.add(o)
    this.id = s.remoteId
    this.#attempt = 0
    stateOf(s).ready = true
    node.members.recompute()
    node.bus?.homeChanged()
    stateOf(s).readyWait.resolve()
    node.events.emit('homeup', s.remoteId)
  }

  onClose(s: Session, reason: string, detail: string): void {
    const node = this.#node
    const wasReady = stateOf(s).ready
    if (node.conns.get(s.remoteId) === s) node.conns.delete(s.remoteId)
    if (this.session === s) this.session = null
    this.counted.clear()
    node.members.noteHomeDown(s.remoteId, reason)
    node.members.recompute()
    if (wasReady && !node.closing && !this.#suspended) {
      node.log('warn', `home ${s.remoteId} lost (${reason}${detail && detail !== reason ? `: ${detail}` : ''}); reconnecting`)
    }
    if (wasReady) node.events.emit('homedown', s.remoteId, reason)
    node.bus?.homeChanged()
    this.#schedule()
  }

  /** Reconnect now (a page restored from the back/forward cache). */
  reconnectNow(): void {
    if (this.dialer === null || this.#stopped || this.#suspended || this.working || this.#connecting) return
    if (this.#timer !== undefined) this.#node.opts.clock.clearTimeout(this.#timer)
    this.#timer = undefined
    void this.#reconnect()
  }

  /**
   * The page is hidden or frozen: say goodbye (the home drops us and our names at
   * once) and stop reconnecting until resume().
   */
  suspend(): void {
    this.#suspended = true
    if (this.#timer !== undefined) this.#node.opts.clock.clearTimeout(this.#timer)
    this.#timer = undefined
    const s = this.session
    if (s !== null && s.isOpen) s.close('local', 'goodbye')
  }

  /** The page is back (bfcache restore, resume): rejoin the home. */
  resume(): void {
    if (!this.#suspended) return
    this.#suspended = false
    this.reconnectNow()
  }

  #schedule(): void {
    const node = this.#node
    if (this.dialer === null || this.#stopped || this.#suspended || node.closing || this.#timer !== undefined || this.#connecting) return
    const o = node.opts
    const base = Math.min(o.reconnectMaxMs, o.reconnectMinMs * 2 ** Math.min(this.#attempt, 20))
    const jitter = 0.5 + ((o.random(1)[0] as number) / 255) * 0.5
    this.#timer = o.clock.setTimeout(() => {
      this.#timer = undefined
      void this.#reconnect()
    }, base * jitter)
  }

  async #reconnect(): Promise<void> {
    if (this.#stopped || this.#suspended || this.#node.closing) return
    try {
      await this.#attempt1()
    } catch (err) {
      this.#attempt++
      if (this.#attempt === 1 || this.#attempt % 10 === 0) {
        this.#node.log('warn', `cannot reach home ${this.dialer?.target}: ${(err as Error).message}`, { attempt: this.#attempt })
      }
      this.#schedule()
    }
  }

  stop(): void {
    this.#stopped = true
    if (this.#timer !== undefined) this.#node.opts.clock.clearTimeout(this.#timer)
    this.#timer = undefined
  }
}
