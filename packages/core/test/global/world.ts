/**
 * A simulated cluster for the convergence tests: peers, clients on homes, bus
 * neighbours, driven by SimNet, with the oracle that says what every table must be.
 */
import { createNode, type FlurryNode } from '../../src/index.js'
import type { Registry } from '../../src/global/registry.js'
import { seededRandom } from '../../src/base/random.js'
import { SimNet, type SimClockView } from '../../src/testing/sim.js'
import type { Pid } from '../../src/wire/pid.js'
import { stateOf } from '../../src/node/conn.js'

export interface SlotSpec {
  kind: 'peer' | 'client'
  /** Clients: indices of the peers they may use as home, in order. */
  homes: number[]
  /** Bus group, or null. */
  bus: number | null
  /** Clock offset, ms. */
  offset: number
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

interface ActorRec {
  pid: Pid
  log: unknown[]
  alive: boolean
}

interface RegRec {
  slot: number
  incarnation: number
  pid: Pid
  name: string
  /** The test itself took the name away (unregister, exit): no notice owed. */
  withdrawn: boolean
}

interface Slot extends SlotSpec {
  name: string
  node: FlurryNode | null
  clock: SimClockView | null
  incarnation: number
  actors: ActorRec[]
}

export const NAMES = ['room:a', 'room:b', 'svc:x', 'svc:y', 'lock', 'z']
export const HEARTBEAT = { heartbeatIntervalMs: 100, heartbeatTimeoutMs: 500 }

export class World {
  readonly net: SimNet
  readonly slots: Slot[]
  readonly regs: RegRec[] = []
  readonly seed: number
  readonly withLocks: boolean
  readonly errors: string[] = []

  constructor(seed: number, specs: SlotSpec[], withLocks: boolean) {
    this.seed = seed
    this.withLocks = withLocks
    this.net = new SimNet(seed)
    this.slots = specs.map((s, i) => ({
      ...s,
      name: `${s.kind === 'peer' ? 'p' : 'c'}${i}`,
      node: null,
      clock: null,
      incarnation: 0,
      actors: [],
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
    const clock = this.net.clock.view(slot.offset)
    slot.clock = clock
    const node = await createNode({
      name: slot.name,
      cookie: 'sim',
      clock,
      random: seededRandom(this.seed * 131 + i * 17 + slot.incarnation),
      ...HEARTBEAT,
      handshakeTimeoutMs: 1000,
      reconnect: { minDelayMs: 50, maxDelayMs: 400 },
      busTimeoutMs: 1500,
      busHeartbeatMs: 300,
      logger: (level, message) => {
        if (level === 'error') this.errors.push(`${slot.name}: ${message}`)
      },
    })
    slot.node = node
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
      for (;;) rec.log.push(await ctx.receive())
    })
    node.monitor(rec.pid, () => {
      rec.alive = false
    })
    slot.actors.push(rec)
    return rec
  }

  async apply(op: Op): Promise<void> {
    const n = this.slots.length
    switch (op.t) {
      case 'reg': {
        const slot = this.slots[op.node % n] as Slot
        if (slot.node === null) return
        const live = slot.actors.filter((a) => a.alive)
        const actor = op.fresh || live.length === 0 ? this.#spawn(slot) : (live[0] as ActorRec)
        const name = NAMES[op.name % NAMES.length] as string
        if (slot.node.global.register(name, actor.pid)) {
          this.regs.push({ slot: op.node % n, incarnation: slot.incarnation, pid: actor.pid, name, withdrawn: false })
        }
        return
      }
      case 'unreg': {
        const slot = this.slots[op.node % n] as Slot
        if (slot.node === null) return
        const name = NAMES[op.name % NAMES.length] as string
        const claim = (slot.node.core.store as Registry).ownClaim(name)
        const pid = claim?.pid
        if (slot.node.global.unregister(name) && pid !== undefined) this.#withdrawn(slot, name, pid)
        return
      }
      case 'exit': {
        const slot = this.slots[op.node % n] as Slot
        if (slot.node === null) return
        const reg = slot.node.core.store as Registry
        const actor = slot.actors.find((a) => a.alive && reg.namesOf(a.pid.id).length > 0)
        if (actor === undefined) return
        for (const name of reg.namesOf(actor.pid.id)) this.#withdrawn(slot, name, actor.pid)
        slot.node.exit(actor.pid, 'test')
        return
      }
      case 'cut':
      case 'oneway':
      case 'heal': {
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
        const slot = this.slots[op.node % n] as Slot
        if (slot.node === null || slot.kind !== 'client') return
        const homeId = slot.node.core.home.id
        const home = this.slots.find((s) => s.node?.id === homeId)
        if (home !== undefined && slot.node.core.home.working) this.net.dropLinks(slot.name, home.name)
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

  #withdrawn(slot: Slot, name: string, pid: Pid): void {
    for (const r of this.regs) {
      if (r.name === name && r.pid.equals(pid) && r.incarnation === slot.incarnation && !r.withdrawn) r.withdrawn = true
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

  /** Every live client on a working home, every live peer meshed with every other. */
  settled(): boolean {
    const peers = this.slots.filter((s) => s.kind === 'peer' && s.node !== null)
    for (const s of this.slots) {
      const node = s.node
      if (node === null) continue
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

  /** The winners among the claims that live owners actually hold. */
  expected(filter: (slot: Slot) => boolean = () => true): Map<string, string> {
    const best = new Map<string, { at: number; owner: string; pid: string }>()
    for (const s of this.slots) {
      if (s.node === null || !filter(s)) continue
      const reg = s.node.core.store as Registry
      for (const claim of reg.self.names.values()) {
        const cur = best.get(claim.name)
        const owner = s.node.id
        if (cur === undefined || claim.at < cur.at || (claim.at === cur.at && owner < cur.owner)) {
          best.set(claim.name, { at: claim.at, owner, pid: claim.pid.toString() })
        }
      }
    }
    return new Map([...best].map(([k, v]) => [k, v.pid]))
  }

  tableOf(node: FlurryNode): Map<string, string> {
    return new Map(node.global.names().map((n) => [n, (node.global.whereis(n) as Pid).toString()]))
  }

  /** What a run went through (to see that runs are not trivial). */
  stats(): Record<string, number> {
    let notices = 0
    for (const s of this.slots) for (const a of s.actors) notices += a.log.length
    return { registrations: this.regs.length, notices, names: this.expected().size }
  }

  /** Registrations whose outcome is wrong: neither visible nor told exactly once. */
  badOutcomes(): string[] {
    const bad: string[] = []
    const groups = new Map<string, RegRec[]>()
    for (const r of this.regs) {
      const slot = this.slots[r.slot] as Slot
      if (slot.node === null || slot.incarnation !== r.incarnation || r.withdrawn) continue
      const k = `${r.pid}\0${r.name}`
      let g = groups.get(k)
      if (g === undefined) groups.set(k, (g = []))
      g.push(r)
    }
    for (const g of groups.values()) {
      const r = g[0] as RegRec
      const slot = this.slots[r.slot] as Slot
      const node = slot.node as FlurryNode
      const actor = slot.actors.find((a) => a.pid.equals(r.pid))
      if (actor === undefined || !actor.alive) continue
      const claim = (node.core.store as Registry).ownClaim(r.name)
      const held = claim !== undefined && claim.pidId === r.pid.id
      const notices = actor.log.filter(
        (m) => typeof m === 'object' && m !== null && (m as { name?: unknown }).name === r.name &&
          ((m as { flurry?: unknown }).flurry === 'name_conflict' || (m as { flurry?: unknown }).flurry === 'name_refused'),
      ).length
      const want = held ? g.length - 1 : g.length
      if (notices !== want) bad.push(`${r.pid} ${r.name}: ${g.length} registrations, held=${held}, ${notices} notices`)
      if (held && node.global.whereis(r.name)?.toString() !== r.pid.toString()) {
        bad.push(`${r.pid} holds ${r.name} but it is not visible on its own node`)
      }
    }
    return bad
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
