/**
 * Counted owners (positive liveness, no tombstones) and reachability.
 * - A peer counts itself, every peer it has a ready session with, and every client
 *   listed by a peer it counts (itself included).
 * - A client with a working home counts exactly what its home tells it.
 * - A node without a working home counts itself and its homeless bus neighbours.
 * nodes() is the counted set plus ready direct neighbours; nodeup/nodedown fire on
 * its changes, once per node coming and going.
 */
import { stateOf } from './conn.js'
import type { NodeCore } from './node.js'

export class Membership {
  #node: NodeCore
  /** Counted owners other than this node. */
  readonly counted = new Set<string>()
  /** Every other node this one reaches, directly or through its home. */
  readonly reachable = new Set<string>()
  /** Peer side: a client id -> a counted peer listing it (routing). */
  readonly clientHome = new Map<string, string>()
  #reasons = new Map<string, string>()
  #recomputing = false
  #again = false

  constructor(node: NodeCore) {
    this.#node = node
  }

  /** Why `id` is about to go, for its nodedown (first reason noted wins). */
  noteReason(id: string, reason: string): void {
    if (!this.#reasons.has(id)) this.#reasons.set(id, reason)
  }

  notePeerDown(peer: string, reason: string): void {
    this.noteReason(peer, reason)
    const clients = this.#node.store.clientsOf(peer)
    if (clients !== undefined) for (const c of clients) this.noteReason(c, 'home-down')
  }

  noteHomeDown(home: string, reason: string): void {
    this.noteReason(home, reason)
    for (const o of this.counted) this.noteReason(o, 'home-down')
  }

  recompute(): void {
    // Registry events run user code that may change membership again: finish first.
    if (this.#recomputing) {
      this.#again = true
      return
    }
    this.#recomputing = true
    try {
      do {
        this.#again = false
        this.#recomputeOnce()
      } while (this.#again)
    } finally {
      this.#recomputing = false
    }
  }

  #recomputeOnce(): void {
    const node = this.#node
    const store = node.store
    const self = node.id
    const desired = new Set<string>()
    this.clientHome.clear()
    if (node.role === 'peer') {
      const peers: string[] = [self]
      for (const [id, s] of node.conns) {
        const st = stateOf(s)
        if (st.kind === 'mesh' && st.ready) {
          desired.add(id)
          peers.push(id)
        }
      }
      for (const p of peers) {
        const clients = store.clientsOf(p)
        if (clients === undefined) continue
        for (const c of clients) {
          if (c === self) continue
          desired.add(c)
          // Own clients route directly; otherwise the first counted peer listing it.
          if (p === self || !this.clientHome.has(c)) this.clientHome.set(c, p)
        }
      }
    } else if (node.home.working) {
      for (const o of node.home.counted) if (o !== self) desired.add(o)
    } else if (node.bus !== null) {
      for (const id of node.bus.homelessNeighbours()) desired.add(id)
    }

    const added: string[] = []
    const removed: string[] = []
    for (const o of desired) if (!this.counted.has(o)) added.push(o)
    for (const o of this.counted) if (!desired.has(o)) removed.push(o)
    for (const o of removed) this.counted.delete(o)
    for (const o of added) this.counted.add(o)
    for (const o of added) store.setCounted(o, true)
    for (const o of removed) store.setCounted(o, false)
    if (added.length > 0 || removed.length > 0) node.repl.onCountedChange(added, removed, this.#reasons)

    const reach = new Set<string>(this.counted)
    for (const [id, s] of node.conns) if (stateOf(s).ready) reach.add(id)
    if (node.bus !== null) for (const id of node.bus.readyNeighbours()) reach.add(id)
    reach.delete(self)
    const up: string[] = []
    const down: Array<[string, string]> = []
    for (const id of reach) if (!this.reachable.has(id)) up.push(id)
    for (const id of this.reachable) if (!reach.has(id)) down.push([id, this.#reasons.get(id) ?? 'noconnection'])
    for (const id of up) this.reachable.add(id)
    for (const [id] of down) this.reachable.delete(id)
    this.#reasons.clear()
    for (const [id, reason] of down) {
      node.router.onNodeDown(id)
      node.events.emit('nodedown', id, reason)
    }
    for (const id of up) node.events.emit('nodeup', id)
  }
}
