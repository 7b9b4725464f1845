/**
 * A simulated cluster for the convergence tests: peers, clients on homes, bus
 * neighbours, driven by SimNet, and the oracle that says what every table must be.
 *
 * The oracle never reads a registry to decide who should win. It records, on the
 * test's side, every claim that `register` accepted (owner, incarnation, the stamp
 * the registry gave it then, and each re-stamp when the owner joins a home), every
 * withdrawal the test caused (unregister, actor exit, crash), and every notice an
 * actor received. From that record alone it says who holds each name, and which
 * notices were owed (see `verify`).
 */
import { createNode, type FlurryNode } from '../../src/index.js'
import type { Registry } from '../../src/global/registry.js'
import { seededRandom } from '../../src/base/random.js'
import { SimNet, type SimClockView } from '../../src/testing/sim.js'
import type { Pid } from '../../src/wire/pid.js'
import { stateOf } from '../../src/node/conn.js'
import { COUNTER_SPAN } from '../../src/node/hlc.js'

export interface SlotSpec {
  kind: 'peer' | 'client'
  /** Clients: indices of the peers they may use as home, in order. */
  homes: number[]
  /** Bus group, or null. */
  bus: number | null
  /** Clock offset, ms. */
  offset: number
  /** Peers: maxNamesPerClient (a small quota makes homes refuse claims). */
  quota?: number
}

export type Op =
  | { t: 'reg'; node: number; name: number; fresh: boolean }
  | { t: 'unreg'; node: number; name: number }
  | { t: 'exit'; node: number }
  | { t: 'cut'; a: number; b: number }
  | { t: 'oneway'; a: number; b: number }
  | { t: 'heal'; a: number; b: number }
  | { t: 'crash'; node: number }
  | { t: 'restart'; node: number }
  | { t: 'drop'; node: number }
  | { t: 'run'; ms: number }
  /** Several nodes register one name in the same tick: a conflict to resolve. */
  | { t: 'race'; nodes: number[]; name: number }
  /** The node's event loop runs nothing for `ms` (then its backlog runs). */
  | { t: 'stall'; node: number; ms: number }
  /** A compromised client claims a name with a stamp ten minutes old. */
  | { t: 'forge'; node: number; name: number }

interface Notice {
  /** Order among everything the oracle records. */
  ev: number
  msg: unknown
}

interface ActorRec {
  pid: Pid
  log: Notice[]
  alive: boolean
}

interface Stamp {
  ev: number
  at: number
  /** Made by the test, not by the owner's clock: never a rightful win. */
  forged: boolean
}

/** One claim `register` accepted, as the test saw it made. */
interface ClaimRec {
  slot: number
  incarnation: number
  owner: string
  pid: Pid
  name: string
  acceptedEv: number
  /** The stamp it was made with, then each re-stamp. */
  stamps: Stamp[]
  forged: boolean
  /** The test took it away (unregister, exit): no notice owed. */
  withdrawnEv: number | null
  /** Notices its actor received for it. */
  notices: Notice[]
}

interface Slot extends SlotSpec {
  name: string
  node: FlurryNode | null
  clock: SimClockView | null
  incarnation: number
  actors: ActorRec[]
  /** When the node's last stall ended or ends (simulated ms). */
  stallEnd: number | null
  stallStart: number | null
}

type NoticeMsg = { flurry: string; name: string; winner?: Pid; code?: string }

function isNotice(m: unknown): m is NoticeMsg {
  if (typeof m !== 'object' || m === null) return false
  const f = (m as { flurry?: unknown }).flurry
  return (f === 'name_conflict' || f === 'name_refused') && typeof (m as { name?: unknown }).name === 'string'
}

/** (at, owner) order: `a` wins over `b`. */
function wins(a: { at: number; owner: string }, b: { at: number; owner: string }): boolean {
  return a.at < b.at || (a.at === b.at && a.owner < b.owner)
}

const FORGED_AGE_MS = 600_000

export const NAMES = ['room:a', 'room:b', 'svc:x', 'svc:y', 'lock', 'z']
export const HEARTBEAT = { heartbeatIntervalMs: 100, heartbeatTimeoutMs: 500 }

export class World {
  readonly net: SimNet
  readonly slots: Slot[]
  readonly claims: ClaimRec[] = []
  readonly seed: number
  readonly withLocks: boolean
  readonly heartbeat: typeof HEARTBEAT
  readonly errors: string[] = []
  /** Honest claims refused CLOCK_SKEW (a busy machine taken for a liar). */
  readonly honestRefusals: string[] = []
  /** Sessions a node timed out itself the moment its own stall ended (it heard nothing only because it ran nothing). */
  readonly stallTimeouts: string[] = []
  /** When a cut, crash or drop last changed who hears whom. */
  #disturbedAt = Number.NEGATIVE_INFINITY
  #ev = 0

  constructor(seed: number, specs: SlotSpec[], withLocks: boolean, heartbeatTimeoutMs = HEARTBEAT.heartbeatTimeoutMs) {
    this.seed = seed
    this.withLocks = withLocks
    this.heartbeat = { ...HEARTBEAT, heartbeatTimeoutMs }
    this.net = new SimNet(seed)
    this.slots = specs.map((s, i) => ({
      ...s,
      name: `${s.kind === 'peer' ? 'p' : 'c'}${i}`,
      node: null,
      clock: null,
      incarnation: 0,
      actors: [],
      stallEnd: null,
      stallStart: null,
    }))
  }

  get names(): string[] {
    return this.slots.map((s) => s.name)
  }

  async start(): Promise<void> {
    for (let i = 0; i < this.slots.length; i++) await this.#boot(i)
  }

  async #boot(i: number): Promise<void> {
    const slot = this.slots[i] as Slot
    slot.incarnation++
    slot.actors = []
    const clock = this.net.clock.view(slot.offset, slot.name)
    slot.clock = clock
    const node = await createNode({
      name: slot.name,
      cookie: 'sim',
      clock,
      random: seededRandom(this.seed * 131 + i * 17 + slot.incarnation),
      ...this.heartbeat,
      handshakeTimeoutMs: 1000,
      reconnect: { minDelayMs: 50, maxDelayMs: 400 },
      busTimeoutMs: 1500,
      busHeartbeatMs: 300,
      ...(slot.quota !== undefined ? { maxNamesPerClient: slot.quota } : {}),
      logger: (level, message) => {
        if (level === 'error') this.errors.push(`${slot.name}: ${message}`)
      },
    })
    slot.node = node
    // Joining a home re-stamps the client's claims (DESIGN.md "Joining a home").
    const incarnation = slot.incarnation
    node.on('homeup', () => this.#restamped(i, incarnation))
    // Only its own sessions: a client's home, a peer's mesh peers. (A nodedown 'timeout'
    // that its home's UNCOUNT reports, read from the backlog, is someone else's verdict.)
    const timedOut = (other: string, reason: string) => {
      // A cut, crash or drop near the stall may have silenced the other for real.
      // So may the other's own stall (a stalled node is silent, and for long enough, dead).
      const since = slot.stallStart === null ? 0 : slot.stallStart - this.heartbeat.heartbeatTimeoutMs
      const peer = this.slots.find((x) => x.node?.id === other)
      const otherStalled = peer !== undefined && peer !== slot && peer.stallEnd !== null && peer.stallEnd >= since
      const quiet = slot.stallStart === null || (this.#disturbedAt < since && !otherStalled)
      if (reason === 'timeout' && quiet && slot.stallEnd === this.net.clock.now()) this.stallTimeouts.push(`${slot.name} timed out ${other} as its stall ended`)
    }
    node.on('homedown', timedOut)
    if (slot.kind === 'peer') {
      node.on('nodedown', (other, reason) => {
        if (this.slots.some((s) => s.kind === 'peer' && s.node?.id === other)) timedOut(other, reason)
      })
    }
    if (slot.kind === 'peer') {
      await node.listen(this.net.listen(slot.name))
      // Each peer seeds with the first other peer; the mesh does the rest.
      const seed = this.slots.find((s, j) => j !== i && s.kind === 'peer' && s.node !== null)
      if (seed !== undefined) void node.connect(this.net.dialer(slot.name, [`memory://${seed.name}`])).catch(() => {})
    } else {
      if (slot.bus !== null) void node.join(this.net.bus(`g${slot.bus}`, slot.name, this.withLocks)).catch(() => {})
      this.#connectClient(i)
    }
  }

  #connectClient(i: number): void {
    const slot = this.slots[i] as Slot
    const node = slot.node
    if (node === null || slot.homes.length === 0) return
    const urls = slot.homes.map((h) => `memory://${(this.slots[h] as Slot).name}`)
    void node.connect(this.net.dialer(slot.name, urls)).catch(() => {})
  }

  #spawn(slot: Slot): ActorRec {
    const node = slot.node as FlurryNode
    const rec: ActorRec = { pid: null as unknown as Pid, log: [], alive: true }
    rec.pid = node.spawn(async (ctx) => {
      for (;;) {
        const msg = await ctx.receive()
        rec.log.push({ ev: ++this.#ev, msg })
      }
    })
    node.monitor(rec.pid, () => {
      rec.alive = false
    })
    slot.actors.push(rec)
    return rec
  }

  /** The node of slot `i` if it is up and its event loop is running (not stalled). */
  #running(i: number): Slot | null {
    const slot = this.slots[i] as Slot
    if (slot.node === null || this.net.isStalled(slot.name)) return null
    return slot
  }

  #actorFor(slot: Slot, fresh: boolean): ActorRec {
    const live = slot.actors.filter((a) => a.alive)
    return fresh || live.length === 0 ? this.#spawn(slot) : (live[0] as ActorRec)
  }

  #accepted(i: number, actor: ActorRec, name: string, forged: boolean): void {
    const slot = this.slots[i] as Slot
    const node = slot.node as FlurryNode
    const claim = (node.core.store as Registry).ownClaim(name)
    if (claim === undefined || claim.pidId !== actor.pid.id) throw new Error(`register of ${name} on ${slot.name} returned true but left no claim`)
    const ev = ++this.#ev
    this.claims.push({
      slot: i,
      incarnation: slot.incarnation,
      owner: node.id,
      pid: actor.pid,
      name,
      acceptedEv: ev,
      stamps: [{ ev, at: claim.at, forged }],
      forged,
      withdrawnEv: null,
      notices: [],
    })
  }

  /** The latest record of slot `i`'s claim on `name` by `pid`, still standing as far as the test knows. */
  #current(i: number, name: string, pid: Pid): ClaimRec | undefined {
    const slot = this.slots[i] as Slot
    for (let k = this.claims.length - 1; k >= 0; k--) {
      const c = this.claims[k] as ClaimRec
      if (c.slot === i && c.incarnation === slot.incarnation && c.name === name && c.pid.equals(pid)) {
        return c.withdrawnEv === null ? c : undefined
      }
    }
    return undefined
  }

  #restamped(i: number, incarnation: number): void {
    const slot = this.slots[i] as Slot
    if (slot.incarnation !== incarnation || slot.node === null) return
    const reg = slot.node.core.store as Registry
    const ev = ++this.#ev
    for (const claim of reg.self.names.values()) {
      const rec = this.#current(i, claim.name, claim.pid)
      if (rec === undefined) continue
      const last = rec.stamps[rec.stamps.length - 1] as Stamp
      if (last.at !== claim.at) rec.stamps.push({ ev, at: claim.at, forged: false })
    }
  }

  #withdrawn(i: number, name: string, pid: Pid): void {
    const rec = this.#current(i, name, pid)
    if (rec !== undefined) rec.withdrawnEv = ++this.#ev
  }

  async apply(op: Op): Promise<void> {
    const n = this.slots.length
    switch (op.t) {
      case 'reg':
      case 'forge':
      case 'unreg':
      case 'exit': {
        // What the node's own code does: on a stalled node it waits in the backlog.
        const i = op.node % n
        const slot = this.slots[i] as Slot
        if (slot.node === null) return
        const incarnation = slot.incarnation
        const act = () => {
          if (slot.node !== null && slot.incarnation === incarnation) this.#local(i, op)
        }
        if (this.net.isStalled(slot.name)) this.net.inject(slot.name, act)
        else act()
        return
      }
      case 'cut':
      case 'oneway':
      case 'heal': {
        if (op.t !== 'heal') this.#disturbedAt = this.net.clock.now()
        const a = (this.slots[op.a % n] as Slot).name
        const b = (this.slots[op.b % n] as Slot).name
        if (a === b) return
        if (op.t === 'cut') this.net.cut(a, b)
        else if (op.t === 'oneway') this.net.cutOneWay(a, b)
        else this.net.heal(a, b)
        return
      }
      case 'crash': {
        const slot = this.slots[op.node % n] as Slot
        if (slot.node === null) return
        this.#disturbedAt = this.net.clock.now()
        this.net.crash(slot.name, this.names)
        slot.clock?.kill()
        slot.node = null
        return
      }
      case 'restart': {
        const i = op.node % n
        const slot = this.slots[i] as Slot
        if (slot.node !== null) return
        this.net.revive(slot.name, this.names)
        await this.#boot(i)
        return
      }
      case 'drop': {
        const slot = this.#running(op.node % n)
        if (slot === null || slot.kind !== 'client') return
        const node = slot.node as FlurryNode
        const homeId = node.core.home.id
        const home = this.slots.find((s) => s.node?.id === homeId)
        if (home !== undefined && node.core.home.working) this.net.dropLinks(slot.name, home.name)
        this.#disturbedAt = this.net.clock.now()
        return
      }
      case 'stall': {
        const slot = this.slots[op.node % n] as Slot
        if (slot.node === null) return
        if (slot.stallEnd === null || slot.stallEnd < this.net.clock.now()) slot.stallStart = this.net.clock.now()
        this.net.stall(slot.name, op.ms)
        slot.stallEnd = this.net.clock.stalledUntil(slot.name) ?? null
        return
      }
      case 'run':
        await this.net.run(op.ms)
        return
      case 'race':
        for (const node of op.nodes) await this.apply({ t: 'reg', node, name: op.name, fresh: true })
        return
    }
  }

  #local(i: number, op: Extract<Op, { t: 'reg' | 'forge' | 'unreg' | 'exit' }>): void {
    const slot = this.slots[i] as Slot
    const node = slot.node as FlurryNode
    const reg = node.core.store as Registry
    switch (op.t) {
      case 'reg': {
        const actor = this.#actorFor(slot, op.fresh)
        const name = NAMES[op.name % NAMES.length] as string
        if (node.global.register(name, actor.pid)) this.#accepted(i, actor, name, false)
        return
      }
      case 'forge': {
        // Only against a home (a bus neighbour trusts its tabs): a client without a
        // bus whose home session is up. The home must refuse it; it may never win.
        if (slot.kind !== 'client' || slot.bus !== null || !node.core.home.working) return
        const actor = this.#actorFor(slot, true)
        const name = NAMES[op.name % NAMES.length] as string
        const old = (node.core.hlc.nowMs() - FORGED_AGE_MS) * COUNTER_SPAN
        if (reg.register(name, actor.pid.id, old)) this.#accepted(i, actor, name, true)
        return
      }
      case 'unreg': {
        const name = NAMES[op.name % NAMES.length] as string
        const pid = reg.ownClaim(name)?.pid
        if (node.global.unregister(name) && pid !== undefined) this.#withdrawn(i, name, pid)
        return
      }
      case 'exit': {
        const actor = slot.actors.find((a) => a.alive && reg.namesOf(a.pid.id).length > 0)
        if (actor === undefined) return
        for (const name of reg.namesOf(actor.pid.id)) this.#withdrawn(i, name, actor.pid)
        node.exit(actor.pid, 'test')
        return
      }
    }
  }

  /** Heals every partition, restarts crashed peers, and gets every client a home. */
  async healAll(): Promise<void> {
    const names = this.names
    for (const a of names) for (const b of names) if (a !== b) this.net.heal(a, b)
    for (let i = 0; i < this.slots.length; i++) {
      const s = this.slots[i] as Slot
      if (s.kind === 'peer' && s.node === null) await this.apply({ t: 'restart', node: i })
    }
    for (let i = 0; i < this.slots.length; i++) {
      const s = this.slots[i] as Slot
      if (s.kind === 'client' && s.node !== null && s.node.core.home.dialer === null) this.#connectClient(i)
    }
  }

  /** Every live client on a working home, every live peer meshed with every other, no stall. */
  settled(): boolean {
    const peers = this.slots.filter((s) => s.kind === 'peer' && s.node !== null)
    for (const s of this.slots) {
      const node = s.node
      if (node === null) continue
      if (this.net.isStalled(s.name)) return false
      if (s.kind === 'client') {
        if (s.homes.length > 0 && !node.core.home.working) return false
        continue
      }
      for (const p of peers) {
        if (p === s) continue
        const sess = node.core.conns.get((p.node as FlurryNode).id)
        if (sess === undefined || !sess.isOpen || !stateOf(sess).ready) return false
      }
    }
    return true
  }

  async settle(deadlineMs: number): Promise<boolean> {
    // A client whose first connect failed gets another (as its user would retry).
    let ok = false
    for (let round = 0; round < 10 && !ok; round++) {
      ok = await this.net.run(deadlineMs / 10, () => this.settled())
      if (!ok) {
        for (let i = 0; i < this.slots.length; i++) {
          const s = this.slots[i] as Slot
          if (s.kind === 'client' && s.node !== null && s.node.core.home.dialer === null) this.#connectClient(i)
        }
      }
    }
    return ok
  }

  /** Ends every stall now-ish: runs until no node is stalled (stalls are bounded). */
  async endStalls(): Promise<void> {
    for (let k = 0; k < 100 && this.slots.some((s) => s.node !== null && this.net.isStalled(s.name)); k++) await this.net.run(200)
  }

  #live(c: ClaimRec): boolean {
    const slot = this.slots[c.slot] as Slot
    return slot.node !== null && slot.incarnation === c.incarnation
  }

  /** The record's stamp of `c` current just before event `ev`. */
  #stampBefore(c: ClaimRec, ev: number): Stamp {
    let cur = c.stamps[0] as Stamp
    for (const s of c.stamps) if (s.ev < ev) cur = s
    return cur
  }

  /** Hands each notice an actor of a live node received to the claim it is about. */
  #attachNotices(problems: string[]): void {
    for (const c of this.claims) c.notices = []
    for (let i = 0; i < this.slots.length; i++) {
      const slot = this.slots[i] as Slot
      if (slot.node === null) continue
      for (const actor of slot.actors) {
        for (const notice of actor.log) {
          if (!isNotice(notice.msg)) continue
          let owner: ClaimRec | undefined
          for (const c of this.claims) {
            if (c.slot === i && c.incarnation === slot.incarnation && c.name === notice.msg.name && c.pid.equals(actor.pid) && c.acceptedEv < notice.ev) owner = c
          }
          if (owner === undefined) problems.push(`${actor.pid} told ${JSON.stringify(notice.msg)} about no claim it made`)
          else owner.notices.push(notice)
        }
      }
    }
  }

  /** Why the notice `n` to claim `c` is wrong, or null if it is owed. */
  #noticeWrong(c: ClaimRec, n: Notice): string | null {
    const msg = n.msg as NoticeMsg
    const mine = this.#stampBefore(c, n.ev)
    if (msg.flurry === 'name_refused') {
      if (msg.code === 'CLOCK_SKEW') {
        if (mine.forged) return null
        this.honestRefusals.push(`${c.pid} ${c.name} stamp ${mine.at}`)
        return null
      }
      if (msg.code === 'QUOTA') {
        const slot = this.slots[c.slot] as Slot
        const small = slot.homes.some((h) => (this.slots[h] as Slot).quota !== undefined)
        return small ? null : `refused QUOTA though no home of ${slot.name} has a small quota`
      }
      return `refused ${String(msg.code)}`
    }
    const winner = msg.winner
    if (winner === undefined || winner.equals(c.pid)) return `told it lost to ${String(winner)} (itself)`
    // The winner named must have made, before the notice, a claim on the name with an
    // honest stamp that beats this claim's stamp then.
    for (const y of this.claims) {
      if (y.name !== c.name || !y.pid.equals(winner) || y.acceptedEv > n.ev) continue
      for (const s of y.stamps) {
        if (s.ev < n.ev && !s.forged && wins({ at: s.at, owner: y.owner }, { at: mine.at, owner: c.owner })) return null
      }
    }
    return `told it lost to ${winner}, which never held ${c.name} with a stamp below ${mine.at}`
  }

  /**
   * Checks the record and returns what every live node's table must be: for each
   * name, the smallest (at, owner) among the claims still standing, where a claim
   * stands if its owner lives (same incarnation), the test did not withdraw it and no
   * notice ended it. Every notice must be owed (a refusal of a forged stamp, a quota,
   * or a loss to a claim that beat it by the record), no claim told twice, no claim
   * the test withdrew told at all, at most one claim standing per name, and no
   * forged stamp standing.
   */
  verify(): { table: Map<string, string>; problems: string[] } {
    const problems: string[] = []
    this.honestRefusals.length = 0
    this.#attachNotices(problems)
    const standing = new Map<string, ClaimRec[]>()
    for (const c of this.claims) {
      if (!this.#live(c)) continue
      for (const n of c.notices) {
        const wrong = this.#noticeWrong(c, n)
        if (wrong !== null) problems.push(`${c.pid} ${c.name}: ${wrong}`)
      }
      if (c.notices.length > 1) problems.push(`${c.pid} ${c.name}: told ${c.notices.length} times`)
      if (c.withdrawnEv !== null) {
        // A claim that was told is gone: the test could not have withdrawn it.
        if (c.notices.length > 0) problems.push(`${c.pid} ${c.name}: told, yet still held when the test withdrew it`)
        continue
      }
      if (c.notices.length > 0) continue
      let list = standing.get(c.name)
      if (list === undefined) standing.set(c.name, (list = []))
      list.push(c)
    }
    const table = new Map<string, string>()
    for (const [name, list] of standing) {
      const last = (c: ClaimRec) => ({ at: (c.stamps[c.stamps.length - 1] as Stamp).at, owner: c.owner })
      let best = list[0] as ClaimRec
      for (const c of list) if (wins(last(c), last(best))) best = c
      table.set(name, best.pid.toString())
      for (const c of list) {
        if (c !== best) problems.push(`${c.pid} ${name}: still holds it beside the winner ${best.pid}, never told`)
      }
      if ((best.stamps[best.stamps.length - 1] as Stamp).forged) problems.push(`${best.pid} ${name}: a forged stamp stands`)
    }
    return { table, problems }
  }

  tableOf(node: FlurryNode): Map<string, string> {
    return new Map(node.global.names().map((n) => [n, (node.global.whereis(n) as Pid).toString()]))
  }

  /** What a run went through (to see that runs are not trivial). */
  stats(): Record<string, number> {
    let notices = 0
    const refused: Record<string, number> = {}
    for (const s of this.slots) {
      for (const a of s.actors) {
        for (const m of a.log) {
          if (!isNotice(m.msg)) continue
          notices++
          if (m.msg.flurry === 'name_refused') refused[`refused ${m.msg.code}`] = (refused[`refused ${m.msg.code}`] ?? 0) + 1
        }
      }
    }
    return {
      ...refused,
      registrations: this.claims.filter((c) => !c.forged).length,
      forged: this.claims.filter((c) => c.forged).length,
      restamps: this.claims.reduce((k, c) => k + c.stamps.length - 1, 0),
      notices,
      names: this.verify().table.size,
    }
  }

  liveNodes(): FlurryNode[] {
    return this.slots.filter((s) => s.node !== null).map((s) => s.node as FlurryNode)
  }

  async close(): Promise<void> {
    for (const s of this.slots) {
      s.clock?.kill()
      s.node = null
    }
  }
}
