/**
 * Replication of per-owner slices: own deltas out, deltas in by the seq rules
 * (duplicate dropped, next applied, a gap repaired by asking the hop it came from for
 * the whole slice, one request per owner outstanding), GLOBAL_SYNC on every new
 * session, a home's checks of its clients, and the forwarding rules:
 * - a home passes its clients' changes to all its peers and its other clients;
 * - a peer passes every change it accepts to its clients;
 * - peers never re-flood to peers; clients forward nothing.
 * A home's stream to a client mirrors the home's counted set: a slice when it starts
 * counting an owner, UNCOUNT when it stops.
 */
import type { TimerHandle } from '../base/index.js'
import { FlurryError } from '../base/index.js'
import { Session } from '../session/index.js'
import {
  encodeValue,
  DEL_REFUSED,
  OP_CLIENT_DEL,
  OP_PUT,
  SYNC_PUSH,
  SYNC_REPAIR,
  SYNC_SESSION,
  deltaFrame,
  forEachOp,
  readDelta,
  readRefuseName,
  readSliceReq,
  readSync,
  readUncount,
  refuseNameFrame,
  sliceReqFrame,
  syncFrame,
  uncountFrame,
  utf8Length,
  type Delta,
  type SliceChunk,
} from '../wire/index.js'
import { stateOf, type Conn } from './conn.js'
import { COUNTER_SPAN } from './hlc.js'
import type { NodeCore } from './node.js'
import type { ClaimCheck, WholeSlice } from './slice-store.js'

/** What a refused claim means for its owner, handed up to the global layer. */
export type RefusedHandler = (name: string, code: string, at: number) => void

export class Replication {
  #node: NodeCore
  /** owner -> the conn asked for its whole slice. */
  #outstanding = new Map<string, Conn>()
  #flushScheduled = false
  /** Own changes made now (clients joining or leaving) wait for the node's coalesced flush. */
  #coalescing = false
  onRefused: RefusedHandler = () => {}

  #sweepTimer: TimerHandle | undefined

  constructor(node: NodeCore) {
    this.#node = node
    this.#scheduleSweep()
  }

  /** Hidden slices are a cache: forgotten after sliceTtlMs, so departed nodes cost nothing. */
  #scheduleSweep(): void {
    const o = this.#node.opts
    this.#sweepTimer = o.clock.setTimeout(() => this.#sweep(), Math.max(1000, o.sliceTtlMs / 2), true)
  }

  #sweep(): void {
    const node = this.#node
    if (node.closing) return
    const now = node.opts.clock.now()
    const ttl = node.opts.sliceTtlMs
    for (const owner of [...node.store.owners()]) {
      const since = node.store.hiddenSince(owner)
      if (since !== undefined && now - since >= ttl && !node.store.isCounted(owner)) node.store.drop(owner)
    }
    node.router.sweep(now, ttl)
    this.#scheduleSweep()
  }

  stop(): void {
    if (this.#sweepTimer !== undefined) this.#node.opts.clock.clearTimeout(this.#sweepTimer)
    this.#sweepTimer = undefined
  }

  // ---- own changes -----------------------------------------------------------

  scheduleOwnFlush(): void {
    if (this.#coalescing) {
      this.#node.scheduleRecompute()
      return
    }
    if (this.#flushScheduled) return
    this.#flushScheduled = true
    queueMicrotask(() => this.flushOwn())
  }

  /** Sends the own changes made so far, as one delta, to whoever follows this node. */
  flushOwn(): void {
    this.#flushScheduled = false
    const node = this.#node
    // Many changes in one task (100k registrations) leave as several deltas, each
    // well under the frame limit.
    const budget = Math.max(1024, Math.floor(node.opts.maxFrameBytes / 4))
    for (let d = node.store.takeOwnDelta(node.hlc.nowMs(), budget); d !== null; d = node.store.takeOwnDelta(node.hlc.nowMs(), budget)) {
      const bytes = encodeValue(deltaFrame(d.owner, d.prevSeq, d.seq, d.clock, d.ops))
      if (node.role === 'peer') {
        for (const s of node.conns.values()) if (stateOf(s).streaming && s.isOpen) s.sendEncoded(bytes)
      } else if (node.home.working) {
        node.home.session?.sendEncoded(bytes)
      }
      if (node.bus !== null && node.role === 'client' && !node.home.working) node.bus.broadcastRegistry(bytes)
    }
  }

  // ---- syncs ------------------------------------------------------------------

  /**
   * Right after the peer list on every new session: a peer sends a peer its clients'
   * slices then its own; a home sends a client everything it counts. (A client sends
   * its own slice only once it merged its home's sync: see #homeSynced.)
   */
  sendSessionSync(s: Session): void {
    const node = this.#node
    const st = stateOf(s)
    this.flushOwn()
    if (st.kind === 'mesh') {
      const owners: string[] = []
      for (const c of node.store.clientsOf(node.id) ?? []) {
        const cs = node.conns.get(c)
        if (cs !== undefined && stateOf(cs).ready) owners.push(c)
      }
      owners.push(node.id)
      this.sendSync(s, SYNC_SESSION, owners)
      st.streaming = true
    } else if (st.kind === 'client') {
      const owners = [...node.members.counted].filter((o) => o !== s.remoteId)
      owners.push(node.id)
      st.syncClock = this.sendSync(s, SYNC_SESSION, owners)
      st.streaming = true
    }
  }

  /** Sends whole slices as SYNC frames of bounded size (`more` on all but the last). */
  sendSync(conn: Conn, purpose: number, owners: Iterable<string>): number {
    const { frames, clock } = this.#syncFrames(purpose, owners)
    sendAll(conn, frames)
    return clock
  }

  /** The SYNC frames for `owners`, encoded (each a copy): sent as they are to one conn or many. */
  #syncFrames(purpose: number, owners: Iterable<string>): { frames: Uint8Array[]; clock: number } {
    const node = this.#node
    const budget = Math.max(1024, Math.floor(node.opts.maxFrameBytes / 4))
    const chunks: unknown[][] = []
    for (const o of owners) {
      if (o === node.id) this.flushOwn()
      node.store.chunksOf(o, budget, chunks)
    }
    const clock = node.hlc.nowMs()
    if (chunks.length === 0) return { frames: [encodeValue(syncFrame(purpose, false, clock, []))], clock }
    const frames: Uint8Array[] = []
    let frame: unknown[][] = []
    let bytes = 0
    for (let i = 0; i < chunks.length; i++) {
      const c = chunks[i] as unknown[]
      const size = estimateChunk(c)
      if (frame.length > 0 && bytes + size > budget) {
        frames.push(encodeValue(syncFrame(purpose, true, clock, frame)))
        frame = []
        bytes = 0
      }
      frame.push(c)
      bytes += size
    }
    frames.push(encodeValue(syncFrame(purpose, false, clock, frame)))
    return { frames, clock }
  }

  /**
   * How many bytes of one SYNC in parts a session may send before it is complete: a
   * client's own slice is bounded by its name quota; peers and homes by maxSyncBytes.
   */
  #syncBudget(s: Session): number {
    const o = this.#node.opts
    return stateOf(s).kind === 'client' ? o.maxNameBytesPerClient + 32 * o.maxNamesPerClient + 64 * 1024 : o.maxSyncBytes
  }

  onSync(s: Session, frame: unknown[], raw: Uint8Array): void {
    const st = stateOf(s)
    st.syncBytes += raw.length
    if (st.syncBytes > this.#syncBudget(s)) {
      throw new FlurryError('BAD_FRAME', `sync parts of more than ${this.#syncBudget(s)} bytes`)
    }
    const part = readSync(frame)
    if (st.syncParts === null) {
      st.syncParts = []
      st.syncPurpose = part.purpose
    }
    for (const c of part.chunks) st.syncParts.push(c)
    if (part.more) return
    st.syncBytes = 0
    const slices = joinChunks(st.syncParts)
    const purpose = st.syncPurpose
    st.syncParts = null
    switch (st.kind) {
      case 'mesh':
        this.#meshSync(s, purpose, slices)
        return
      case 'client':
        this.#clientSync(s, slices)
        return
      case 'home':
        this.#homeSync(s, purpose, slices, part.clock)
        return
    }
  }

  #meshSync(s: Session, purpose: number, slices: WholeSlice[]): void {
    const node = this.#node
    const st = stateOf(s)
    const changed: string[] = []
    for (const slice of slices) {
      if (node.store.mergeSlice(slice).merged) changed.push(slice.owner)
      if (this.#outstanding.get(slice.owner) === s) this.#outstanding.delete(slice.owner)
    }
    const first = purpose === SYNC_SESSION && !st.ready
    if (first) st.ready = true
    const before = new Set(node.members.counted)
    node.members.recompute()
    // Newly counted owners went to our clients in full already; pass on the others.
    const pass = changed.filter((o) => before.has(o) && node.members.counted.has(o))
    if (pass.length > 0) this.#toClients(pass, null)
    if (first) node.mesh.onReady(s)
  }

  /** A client's own slice: on joining (session), or answering our repair request. */
  #clientSync(s: Session, slices: WholeSlice[]): void {
    const node = this.#node
    const st = stateOf(s)
    const c = s.remoteId
    for (const slice of slices) {
      if (slice.owner !== c) {
        node.refuse(s, 'NOT_AUTHORIZED', `a client may only send its own slice (sent ${slice.owner})`)
        return
      }
    }
    const slice = slices[0]
    const wasCounted = node.members.counted.has(c)
    if (this.#outstanding.get(c) === s) this.#outstanding.delete(c)
    // Its first slice comes after it merged our session sync: it has seen that clock.
    if (!st.ready) s.noteAcked(st.syncClock)
    if (slice !== undefined) {
      const { refused } = node.store.mergeSlice(slice, this.#checkFor(c, s, slice))
      if (refused !== null) this.#refuse(s, slice.seq, refused, slice.names, 3)
    }
    // Peers get the slice before the clients-list change that makes them count it.
    for (const p of node.conns.values()) {
      if (stateOf(p).kind === 'mesh' && stateOf(p).streaming && p.isOpen) this.sendSync(p, SYNC_PUSH, [c])
    }
    if (!st.ready) {
      st.ready = true
      // Joins in a storm: one clients-list change and one fan-out for all of them.
      this.#coalescing = true
      try {
        node.store.addClient(c)
      } finally {
        this.#coalescing = false
      }
      node.scheduleRecompute()
    }
    // An owner newly counted went to our clients whole with the recompute; one that
    // was counted already (listed by another peer too) needs its new slice pushed.
    if (wasCounted) this.#toClients([c], c)
  }

  /** The home's sync: merge it, re-stamp our claims above it, then send our slice. */
  #homeSync(s: Session, purpose: number, slices: WholeSlice[], clock: number): void {
    const node = this.#node
    const store = node.store
    let max = 0
    for (const slice of slices) {
      store.mergeSlice(slice)
      if (this.#outstanding.get(slice.owner) === s) this.#outstanding.delete(slice.owner)
      const m = store.maxStampOf(slice.owner)
      if (m > max) max = m
    }
    if (purpose === SYNC_REPAIR) return
    if (purpose === SYNC_PUSH) {
      for (const slice of slices) if (slice.owner !== node.id) node.home.counted.add(slice.owner)
      node.members.recompute()
      return
    }
    // Session sync: our clock has now seen every claim the home knows.
    node.hlc.adopt(clock)
    node.hlc.observe(max)
    store.restampOwn(() => node.hlc.stamp())
    this.sendSync(s, SYNC_SESSION, [node.id])
    node.home.synced(s, slices.map((x) => x.owner))
  }

  // ---- deltas -----------------------------------------------------------------

  onDelta(s: Session, frame: unknown[], raw: Uint8Array): void {
    const node = this.#node
    const st = stateOf(s)
    const d = readDelta(frame)
    if (st.kind === 'client') {
      if (d.owner !== s.remoteId) {
        node.refuse(s, 'NOT_AUTHORIZED', `a client may only change its own slice (sent a delta of ${d.owner})`)
        return
      }
      if (!st.ready) return
      const r = node.store.applyDelta(d, this.#checkFor(d.owner, s))
      if (r.status === 'gap') {
        this.#ask(s, d.owner)
        return
      }
      if (r.status !== 'applied') return
      if (r.refused !== null) this.#refuse(s, d.seq, r.refused, d.ops, 0)
      const bytes = r.acceptedOps === null ? raw : encodeValue(deltaFrame(d.owner, d.prevSeq, d.seq, d.clock, r.acceptedOps))
      // A client that just joined is not counted yet: our other clients get its whole
      // slice, this change included, when the join round tells them (no write each now).
      const toClients = node.members.counted.has(d.owner)
      for (const p of node.conns.values()) {
        const ps = stateOf(p)
        if (p !== s && ps.streaming && p.isOpen && (toClients || ps.kind === 'mesh')) p.sendEncoded(bytes)
      }
      return
    }
    const r = node.store.applyDelta(d)
    if (r.status === 'gap') {
      this.#ask(s, d.owner)
      return
    }
    if (r.status !== 'applied') return
    if (st.kind === 'mesh') {
      if (r.clientsChanged) {
        noteClientReasons(node, d)
        node.members.recompute()
      }
      if (node.members.counted.has(d.owner)) {
        for (const c of node.conns.values()) {
          if (stateOf(c).kind === 'client' && stateOf(c).streaming && c.isOpen && c.remoteId !== d.owner) c.sendEncoded(raw)
        }
      }
    }
  }

  /** Asks `conn` for the whole slice of `owner`: one request per owner outstanding. */
  #ask(conn: Conn, owner: string): void {
    if (this.#outstanding.has(owner)) return
    this.#outstanding.set(owner, conn)
    conn.send(sliceReqFrame(owner))
  }

  onSliceReq(s: Session, frame: unknown[]): void {
    const node = this.#node
    const owner = readSliceReq(frame)
    const st = stateOf(s)
    if (st.kind === 'home') {
      // Our home asks for our slice.
      if (owner === node.id) this.sendSync(s, SYNC_REPAIR, [node.id])
      return
    }
    if (st.kind === 'client' && owner !== node.id && !node.members.counted.has(owner)) {
      s.send(uncountFrame([[owner, 'noconnection']]))
      return
    }
    if (node.store.has(owner)) this.sendSync(s, SYNC_REPAIR, [owner])
    else s.send(syncFrame(SYNC_REPAIR, false, node.hlc.nowMs(), [[owner, 0, 1, null, []]]))
  }

  onUncount(s: Session, frame: unknown[]): void {
    const node = this.#node
    if (stateOf(s).kind !== 'home') return
    let changed = false
    for (const { owner, reason } of readUncount(frame)) {
      this.#outstanding.delete(owner)
      if (node.home.counted.delete(owner)) {
        node.members.noteReason(owner, reason)
        changed = true
      }
    }
    if (changed) node.members.recompute()
  }

  onRefuseName(s: Session, frame: unknown[]): void {
    if (stateOf(s).kind !== 'home') return
    const { name, code, at } = readRefuseName(frame)
    this.onRefused(name, code, at)
  }

  // ---- a home's side ------------------------------------------------------------

  /**
   * The checks a home makes of claims new to it from client `c`. The quota counts the
   * names `c` holds once the claim is in, not before the change: a delta changes the
   * held slice op by op (a DEL before a PUT frees a place, a PUT of a name held
   * already takes none); a whole slice (`whole`) replaces the held one, so its claims
   * kept unchanged count, then each claim accepted.
   */
  #checkFor(c: string, s: Session, whole: WholeSlice | null = null): ClaimCheck {
    const node = this.#node
    const o = node.opts
    const slice = (): { names: ReadonlyMap<string, { pidId: number; at: number }>; nameBytes: number } | undefined =>
      (node.store as { slice?(owner: string): { names: ReadonlyMap<string, { pidId: number; at: number }>; nameBytes: number } | undefined }).slice?.(c)
    let kept = 0
    let keptBytes = 0
    if (whole !== null) {
      const held = slice()?.names
      for (let i = 0; i < whole.names.length; i += 3) {
        const h = held?.get(whole.names[i] as string)
        if (h !== undefined && h.pidId === whole.names[i + 1] && h.at === whole.names[i + 2]) {
          kept++
          keptBytes += utf8Length(whole.names[i] as string)
        }
      }
    }
    return (_owner, name, at) => {
      // Older than the newest of our clocks it had seen before sending this, less the
      // allowed offset: a forged old stamp. Lag on either side cannot make an honest
      // claim that old (docs/REGISTRY.md, the forgery window).
      if (at < (s.ackedMs - o.maxClockOffsetMs) * COUNTER_SPAN) return 'CLOCK_SKEW'
      const size = utf8Length(name)
      let after: number
      let afterBytes: number
      if (whole !== null) {
        after = kept + 1
        afterBytes = keptBytes + size
      } else {
        const held = slice()
        const had = held?.names.has(name) === true
        after = (held?.names.size ?? 0) + (had ? 0 : 1)
        afterBytes = (held?.nameBytes ?? 0) + (had ? 0 : size)
      }
      if (after > o.maxNamesPerClient || afterBytes > o.maxNameBytesPerClient) return 'QUOTA'
      if (o.authorize !== undefined) {
        let ok = false
        try {
          ok = o.authorize(c, name) === true
        } catch (err) {
          node.log('error', `authorize threw for ${c} ${name}: ${String(err)}`)
        }
        if (!ok) return 'NOT_AUTHORIZED'
      }
      if (whole !== null) {
        kept++
        keptBytes += size
      }
      return null
    }
  }

  /**
   * Tells a client which claims of its change `seq` were refused, one REFUSE_NAME
   * each, and logs one line for all of them. `list` is the change's names (stride 3)
   * or ops (stride 0), where the refused claims' stamps are found.
   */
  #refuse(s: Session, seq: number, refused: Array<[string, string]>, list: unknown[], stride: 0 | 3): void {
    const stamps = new Map<string, number>()
    if (stride === 3) for (let i = 0; i < list.length; i += 3) stamps.set(list[i] as string, list[i + 2] as number)
    else forEachOp(list, (op, i) => void (op === OP_PUT && stamps.set(list[i + 1] as string, list[i + 3] as number)))
    const codes = new Map<string, number>()
    for (const [name, code] of refused) {
      s.send(refuseNameFrame(seq, name, code, stamps.get(name) ?? 0))
      codes.set(code, (codes.get(code) ?? 0) + 1)
    }
    const node = this.#node
    const first = refused[0] as [string, string]
    const what = refused.length === 1 ? `claim ${JSON.stringify(first[0])}` : `${refused.length} claims`
    const summary = refused.length === 1 ? first[1] : [...codes].map(([code, n]) => `${n} ${code}`).join(', ')
    node.remoteLog.warn(s.remoteId, `refused ${what} of ${s.remoteId}: ${summary}`, { code: first[1] })
    for (const [code] of codes) {
      node.events.emit('error', new FlurryError(code as 'QUOTA', `${codes.get(code)} claims of ${s.remoteId} refused: ${code}`), s.remoteId)
    }
  }

  /** Own clients follow our counted set: slices in, UNCOUNT out. */
  onCountedChange(added: string[], removed: string[], reasons: ReadonlyMap<string, string>): void {
    const node = this.#node
    // A closing node's goodbye says it all: no UNCOUNT with reason 'shutdown' first.
    if (node.role !== 'peer' || node.closing) return
    // Encoded once for every client: a client ignores its own slice and its own UNCOUNT.
    const uncount = removed.length === 0 ? null : encodeValue(uncountFrame(removed.map((o) => [o, reasons.get(o) ?? 'noconnection'])))
    const push = added.length === 0 ? null : this.#syncFrames(SYNC_PUSH, added).frames
    for (const cs of node.conns.values()) {
      const st = stateOf(cs)
      if (st.kind !== 'client' || !st.streaming || !cs.isOpen) continue
      if (uncount !== null) cs.sendEncoded(uncount)
      if (push !== null) sendAll(cs, push)
    }
    // A counted client whose slice we never got: ask the peer listing it.
    for (const o of added) {
      if (node.store.seqOf(o) !== 0) continue
      const via = node.members.clientHome.get(o)
      const conn = via === undefined || via === node.id ? undefined : node.conns.get(via)
      if (conn !== undefined) this.#ask(conn, o)
    }
  }

  /** Pushes slices to own clients (except `skip`). */
  #toClients(owners: string[], skip: string | null): void {
    const node = this.#node
    for (const cs of node.conns.values()) {
      const st = stateOf(cs)
      if (st.kind !== 'client' || !st.streaming || !cs.isOpen || cs.remoteId === skip) continue
      const list = owners.filter((o) => o !== cs.remoteId)
      if (list.length > 0) this.sendSync(cs, SYNC_PUSH, list)
    }
  }

  /** A client's session ended for good: one clients-list change hides all its names. */
  onClientGone(c: string, reason: string): void {
    const node = this.#node
    // Departures in a storm leave as one clients-list change (the node's coalesced
    // flush). Closing: peers learn of our clients from our goodbye ('home-down').
    this.#coalescing = !node.closing
    try {
      node.store.removeClient(c, reason)
    } finally {
      this.#coalescing = false
    }
  }

  onConnClosed(conn: Conn): void {
    for (const [owner, c] of this.#outstanding) if (c === conn) this.#outstanding.delete(owner)
  }

  /** Refusals of own claims (the withdrawal is the global layer's). */
  static readonly DEL_REFUSED = DEL_REFUSED
}

function noteClientReasons(node: NodeCore, d: Delta): void {
  const ops = d.ops
  forEachOp(ops, (op, i) => {
    if (op === OP_CLIENT_DEL) node.members.noteReason(ops[i + 1] as string, ops[i + 2] as string)
  })
}

/** Encoded frames waiting behind big syncs: a large one is paced by the link's buffer. */
const PACE_BYTES = 256 * 1024

function sendAll(conn: Conn, frames: Uint8Array[]): void {
  let total = 0
  for (const f of frames) total += f.length
  if (total > PACE_BYTES && conn instanceof Session) conn.sendPaced(frames)
  else for (const f of frames) conn.sendEncoded(f)
}

/** Chunks of one slice are consecutive: join them into whole slices. */
function joinChunks(chunks: SliceChunk[]): WholeSlice[] {
  const out: WholeSlice[] = []
  let cur: WholeSlice | null = null
  for (const c of chunks) {
    if (cur !== null && cur.owner === c.owner && cur.seq === c.seq) {
      for (const x of c.names) cur.names.push(x)
      continue
    }
    cur = { owner: c.owner, seq: c.seq, role: c.role, clients: c.clients, names: c.names.slice() }
    out.push(cur)
  }
  return out
}

function estimateChunk(c: unknown[]): number {
  const names = c[4] as unknown[]
  let n = 64
  for (let i = 0; i < names.length; i += 3) n += (names[i] as string).length * 3 + 16
  const clients = c[3] as string[] | null
  if (clients !== null) for (const id of clients) n += id.length + 2
  return n
}
