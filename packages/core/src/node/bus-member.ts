/**
 * This node as a member of a bus (same-origin tabs on a BroadcastChannel): one
 * membership where every member is a direct neighbour of every other.
 * - Joining: take our Web Lock (where there are locks), broadcast a signed HELLO
 *   (id, key, cookie proof over a fresh nonce); every member answers with its own.
 * - Frames are addressed to one member or to all and posted once; nobody forwards.
 * - Liveness: a granted Web Lock means that member died (even a crashed renderer);
 *   without locks, heartbeats with a timeout that tolerates throttled hidden tabs.
 * - Registry state travels here only among members without a working home: their
 *   own slices, a table local to the bus until a home is back. Otherwise the bus
 *   carries actor traffic and liveness only.
 */
import type { TimerHandle } from '../base/index.js'
import { FlurryError } from '../base/index.js'
import type { Bus, BusSpec } from '../link/index.js'
import {
  FrameBatch,
  encodeShared,
  encodeValue,
  readFrames,
  F,
  SYNC_REPAIR,
  busEnvFrame,
  busHelloFrame,
  busStatusFrame,
  frameType,
  goodbyeFrame,
  pingFrame,
  readBusEnv,
  readBusHello,
  readDelta,
  readSliceReq,
  readSync,
  sliceReqFrame,
  syncFrame,
  type BusHello,
  type SliceChunk,
} from '../wire/index.js'
import { idMatchesKey, verifySignature, cookieMac, equalBytes, identityChallenge } from '../session/index.js'
import type { Conn } from './conn.js'
import type { NodeCore } from './node.js'

const NO_NONCE = new Uint8Array(16)
const JOIN_SETTLE_MS = 50
const JOIN_MAX_MS = 1000

/** A neighbour on the bus: a Conn whose frames are posted addressed to it. */
export class Neighbour implements Conn {
  readonly remoteId: string
  homed: boolean
  lastSeen: number
  isOpen = true
  stopWatch: (() => void) | null = null
  /** Parts of a slice in progress (a homeless neighbour's SYNC). */
  syncParts: SliceChunk[] | null = null
  #member: BusMember
  #batch: FrameBatch | null = null
  readonly #envelope: Uint8Array

  constructor(member: BusMember, id: string, homed: boolean, now: number) {
    this.#member = member
    this.#envelope = member.envelopeTo(id)
    this.remoteId = id
    this.homed = homed
    this.lastSeen = now
  }

  send(frame: unknown[]): void {
    this.sendEncoded(encodeShared(frame))
  }

  sendEncoded(bytes: Uint8Array): void {
    if (!this.isOpen) return
    if (this.#batch === null) {
      this.#batch = this.#member.newBatch(this.#envelope)
      queueMicrotask(() => this.flush())
    }
    this.#batch.appendEncoded(bytes)
  }

  flush(): void {
    const b = this.#batch
    this.#batch = null
    if (b !== null && this.isOpen) this.#member.post(b.take())
  }
}

export class BusMember {
  readonly name: string
  #node: NodeCore
  #spec: BusSpec
  #bus: Bus | null = null
  #release: (() => void) | null = null
  #neighbours = new Map<string, Neighbour>()
  #timer: TimerHandle | undefined
  #stopped = false
  #homed = false
  #joinAnswered: ((id: string) => void) | null = null
  #lockPrefix: string
  #toAll: Uint8Array
  /** Unknown members we said HELLO to, and when. */
  #introduced = new Map<string, number>()

  constructor(node: NodeCore, spec: BusSpec) {
    this.#node = node
    this.#spec = spec
    this.name = spec.name
    this.#lockPrefix = `flurry-bus:${spec.name}:`
    this.#toAll = this.envelopeTo('')
  }

  /** Peers and clients with a working home keep registry state off the bus. */
  get homed(): boolean {
    const node = this.#node
    return node.role === 'peer' || node.home.working
  }

  async start(): Promise<void> {
    const node = this.#node
    const bus = await this.#spec.open()
    this.#bus = bus
    bus.onmessage = (data) => this.#onMessage(data)
    if (bus.locks !== null) {
      const held = await bus.locks.hold(this.#lockPrefix + node.id)
      this.#release = () => held.release()
    }
    this.#homed = this.homed
    const answered = new Set<string>()
    let last = node.opts.clock.now()
    this.#joinAnswered = (id) => {
      answered.add(id)
      last = node.opts.clock.now()
    }
    const nonce = node.opts.random(16)
    this.#post('', [this.#hello(nonce, null)])
    // Resolve once the members present have answered: with locks we know who they
    // are; without, once answers stop coming for a moment.
    const expected = bus.locks !== null ? await this.#members(bus) : null
    const start = node.opts.clock.now()
    await new Promise<void>((resolve) => {
      const check = () => {
        const now = node.opts.clock.now()
        const done =
          this.#stopped ||
          now - start >= JOIN_MAX_MS ||
          (expected !== null ? [...expected].every((id) => answered.has(id)) : now - last >= JOIN_SETTLE_MS)
        if (done) resolve()
        else node.opts.clock.setTimeout(check, 10, true)
      }
      node.opts.clock.setTimeout(check, expected !== null && expected.size === 0 ? 0 : 10, true)
    })
    this.#joinAnswered = null
    if (bus.locks === null) this.#timer = node.opts.clock.setTimeout(() => this.#tick(), node.opts.busHeartbeatMs, true)
  }

  async #members(bus: Bus): Promise<Set<string>> {
    const names = await (bus.locks as NonNullable<Bus['locks']>).held(this.#lockPrefix)
    const out = new Set<string>()
    for (const n of names) {
      const id = n.slice(this.#lockPrefix.length)
      if (id !== this.#node.id) out.add(id)
    }
    return out
  }

  stop(): void {
    if (this.#stopped) return
    this.#post('', [goodbyeFrame('goodbye')])
    this.#stopped = true
    if (this.#timer !== undefined) this.#node.opts.clock.clearTimeout(this.#timer)
    for (const n of this.#neighbours.values()) {
      n.isOpen = false
      n.stopWatch?.()
    }
    this.#neighbours.clear()
    this.#release?.()
    this.#bus?.close()
  }

  // ---- what the node layer asks --------------------------------------------

  neighbour(id: string): Neighbour | null {
    return this.#neighbours.get(id) ?? null
  }

  readyNeighbours(): Iterable<string> {
    return this.#neighbours.keys()
  }

  /** Counted by a node without a working home: its homeless neighbours. */
  *homelessNeighbours(): Iterable<string> {
    for (const n of this.#neighbours.values()) if (!n.homed) yield n.remoteId
  }

  /** An own delta, for the homeless members (we are homeless too). */
  broadcastRegistry(bytes: Uint8Array): void {
    if (this.#stopped) return
    const batch = this.newBatch(this.#toAll)
    batch.appendEncoded(bytes)
    this.post(batch.take())
  }

  /** Our home came or went: say so, and share our slice while homeless. */
  homeChanged(): void {
    if (this.#stopped || this.#bus === null) return
    const homed = this.homed
    if (homed === this.#homed) return
    this.#homed = homed
    this.#post('', [busStatusFrame(homed)])
    if (!homed) this.#sendOwnSlice(null)
  }

  // ---- posting ------------------------------------------------------------------

  /**
   * A batch that starts with an envelope encoded beforehand: making a batch must not
   * use the shared encoder, whose buffer may hold the frame about to be appended.
   */
  newBatch(envelope: Uint8Array): FrameBatch {
    const b = new FrameBatch(this.#node.opts.maxFrameBytes)
    b.appendEncoded(envelope)
    return b
  }

  envelopeTo(id: string): Uint8Array {
    return encodeValue(busEnvFrame(this.#node.id, id))
  }

  post(data: Uint8Array): void {
    if (!this.#stopped) this.#bus?.post(data)
  }

  #post(to: '', frames: unknown[][]): void {
    const b = this.newBatch(this.#toAll)
    for (const f of frames) b.append(f)
    this.post(b.take())
  }

  #hello(nonce: Uint8Array, replyTo: Uint8Array | null): unknown[] {
    const node = this.#node
    const id = node.identity
    const r = replyTo ?? NO_NONCE
    return busHelloFrame({
      id: id.id,
      key: id.publicKey,
      nonce,
      replyTo,
      homed: this.homed,
      mac: cookieMac(node.opts.cookie, r, nonce, id.id),
      sig: id.sign(identityChallenge(r, nonce)),
      clock: node.hlc.nowMs(),
    })
  }

  /** Our own slice, to one neighbour or (null) to every member. */
  #sendOwnSlice(to: Neighbour | null): void {
    const node = this.#node
    node.repl.flushOwn()
    const chunks: unknown[][] = []
    node.store.chunksOf(node.id, Math.floor(node.opts.maxFrameBytes / 4), chunks)
    const frames = chunks.map((c, i) => syncFrame(SYNC_REPAIR, i < chunks.length - 1, node.hlc.nowMs(), [c]))
    if (to === null) this.#post('', frames)
    else for (const f of frames) to.send(f)
  }

  // ---- receiving ------------------------------------------------------------------

  #onMessage(data: Uint8Array): void {
    if (this.#stopped) return
    const node = this.#node
    let from: Neighbour | null = null
    let fromId = ''
    let first = true
    try {
      readFrames(data, node.opts.maxFrameBytes, (frame) => {
        const f = frame as unknown[]
        const type = frameType(f)
        if (first) {
          first = false
          if (type !== F.BUS_ENV) throw new FlurryError('BAD_FRAME', 'bus post without envelope')
          const env = readBusEnv(f)
          fromId = env.from
          const to = env.to
          if (fromId === node.id || (to !== '' && to !== node.id)) throw STOP
          from = this.#neighbours.get(fromId) ?? null
          if (from !== null) from.lastSeen = node.opts.clock.now()
          return
        }
        if (type === F.BUS_HELLO) {
          from = this.#onHello(readBusHello(f), fromId)
          return
        }
        if (from === null) {
          this.#reintroduce(fromId)
          throw STOP
        }
        this.#onFrame(from, type, f)
      })
    } catch (err) {
      if (err === STOP) return
      node.log('warn', `bad bus post${fromId ? ` from ${fromId}` : ''}: ${(err as Error).message}`)
    }
  }

  /**
   * A member we do not know (we dropped it after busTimeoutMs of silence: a partition,
   * a frozen tab) still posts: say HELLO to it as a joiner would, so it answers and
   * the bus is whole again. At most once per busHeartbeatMs per member.
   */
  #reintroduce(id: string): void {
    const node = this.#node
    const now = node.opts.clock.now()
    const last = this.#introduced.get(id)
    if (last !== undefined && now - last < node.opts.busHeartbeatMs) return
    if (this.#introduced.size > 1000) this.#introduced.clear()
    this.#introduced.set(id, now)
    const b = this.newBatch(this.envelopeTo(id))
    b.append(this.#hello(node.opts.random(16), null))
    this.post(b.take())
  }

  #onHello(h: BusHello, envFrom: string): Neighbour | null {
    const node = this.#node
    if (h.id !== envFrom || !idMatchesKey(h.id, h.key)) return null
    const r = h.replyTo ?? NO_NONCE
    if (!equalBytes(h.mac, cookieMac(node.opts.cookie, r, h.nonce, h.id))) {
      node.log('warn', `bus member ${h.id} proved a different cookie`)
      return null
    }
    if (!verifySignature(h.sig, identityChallenge(r, h.nonce), h.key)) return null
    node.hlc.observeMs(h.clock)
    let n = this.#neighbours.get(h.id)
    const isNew = n === undefined
    if (n === undefined) {
      n = new Neighbour(this, h.id, h.homed, node.opts.clock.now())
      this.#neighbours.set(h.id, n)
      const locks = this.#bus?.locks
      if (locks) {
        const nb = n
        n.stopWatch = locks.watch(this.#lockPrefix + h.id, () => {
          if (this.#neighbours.get(h.id) === nb) this.#down(nb, 'closed')
        })
      }
    } else {
      n.homed = h.homed
    }
    if (h.replyTo === null) {
      // A join: answer it with our own HELLO, and our slice if we are both homeless.
      n.send(this.#hello(node.opts.random(16), h.nonce))
    } else {
      this.#joinAnswered?.(h.id)
    }
    if (!this.homed && !h.homed && (isNew || h.replyTo === null)) this.#sendOwnSlice(n)
    if (isNew) node.members.recompute()
    return n
  }

  #onFrame(n: Neighbour, type: number, f: unknown[]): void {
    const node = this.#node
    switch (type) {
      case F.DIRECT:
        node.router.onDirect(n, f)
        return
      case F.PING:
        return
      case F.GOODBYE:
        this.#down(n, 'goodbye')
        return
      case F.BUS_STATUS: {
        const homed = f[1] === true
        if (n.homed === homed) return
        n.homed = homed
        if (!homed && !this.homed) this.#sendOwnSlice(n)
        node.members.recompute()
        // A neighbour found a home: ours is likely back too. Try now rather than at the
        // end of our backoff, so the bus-local table does not split for long.
        if (homed && !this.homed) node.home.reconnectNow()
        return
      }
      case F.DELTA:
      case F.SYNC:
      case F.SLICE_REQ:
        if (!this.homed && !n.homed) this.#registryFrame(n, type, f)
        return
      default:
        return
    }
  }

  /** The bus-local table: each homeless member speaks for its own slice only. */
  #registryFrame(n: Neighbour, type: number, f: unknown[]): void {
    const node = this.#node
    const store = node.store
    if (type === F.SLICE_REQ) {
      if (readSliceReq(f) === node.id) this.#sendOwnSlice(n)
      return
    }
    if (type === F.DELTA) {
      const d = readDelta(f)
      if (d.owner !== n.remoteId) return
      const r = store.applyDelta(d)
      if (r.status === 'gap') n.send(sliceReqFrame(n.remoteId))
      return
    }
    const sync = readSync(f)
    for (const c of sync.chunks) {
      if (c.owner !== n.remoteId) return
    }
    // A slice split in parts (one frame per chunk) applies once complete.
    const parts = n.syncParts ?? []
    for (const c of sync.chunks) parts.push(c)
    if (sync.more) {
      n.syncParts = parts
      return
    }
    n.syncParts = null
    const first = parts[0]
    if (first === undefined) return
    const names: unknown[] = []
    for (const c of parts) for (const x of c.names) names.push(x)
    store.mergeSlice({ owner: first.owner, seq: first.seq, role: first.role, clients: first.clients, names })
  }

  #down(n: Neighbour, reason: string): void {
    const node = this.#node
    if (this.#neighbours.get(n.remoteId) !== n) return
    this.#neighbours.delete(n.remoteId)
    n.isOpen = false
    n.stopWatch?.()
    node.router.onConnClosed(n)
    node.members.noteReason(n.remoteId, reason)
    node.members.recompute()
  }

  #tick(): void {
    this.#timer = undefined
    if (this.#stopped) return
    const node = this.#node
    const now = node.opts.clock.now()
    this.#post('', [pingFrame(node.hlc.nowMs())])
    for (const n of [...this.#neighbours.values()]) {
      if (now - n.lastSeen >= node.opts.busTimeoutMs) this.#down(n, 'timeout')
    }
    this.#timer = node.opts.clock.setTimeout(() => this.#tick(), node.opts.busHeartbeatMs, true)
  }
}

const STOP = new Error('not for us')
