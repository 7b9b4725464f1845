/**
 * A simulated network for the core's own tests: simulated time, in-memory links and
 * buses whose deliveries a seeded scheduler interleaves (FIFO per direction), and
 * partitions, half-open links, crashes and event-loop stalls. Everything is replayable
 * from the seed.
 * Real transports are tested for real elsewhere; this is for interleavings no real
 * network would show on demand.
 */
import type { Clock, TimerHandle } from '../base/index.js'
import { FlurryError } from '../base/index.js'
import type { Bus, BusLocks, BusSpec, Dialer, Link, ListenerSpec } from '../link/index.js'
import { memoryPair, type MemoryLane, type MemoryScheduler } from '../link/index.js'

/** Park-Miller-ish PRNG in [0, 1), from a seed. */
export function prng(seed: number): () => number {
  let s = seed % 2147483647
  if (s <= 0) s += 2147483646
  return () => {
    s = (s * 48271) % 2147483647
    return (s - 1) / 2147483646
  }
}

export interface Timer {
  at: number
  seq: number
  fn: () => void
  owner: SimClockView | null
  cancelled: boolean
}

/**
 * Simulated time: timers run only when the simulation advances to them. A stalled
 * owner's timers that come due wait until its stall ends (see SimNet.stall).
 */
export class SimClock {
  #now: number
  #seq = 0
  #timers: Timer[] = []
  /** Stalled owner -> when its stall ends. */
  #stalls = new Map<string, number>()
  #deferred = new Map<string, Timer[]>()

  constructor(start = 1_700_000_000_000) {
    this.#now = start
  }

  now(): number {
    return this.#now
  }

  add(fn: () => void, ms: number, owner: SimClockView | null): Timer {
    const t: Timer = { at: this.#now + Math.max(0, ms), seq: ++this.#seq, fn, owner, cancelled: false }
    // Sorted by (at, seq); timers are few, so insertion by scan is fine.
    let i = this.#timers.length
    while (i > 0) {
      const p = this.#timers[i - 1] as Timer
      if (p.at < t.at || (p.at === t.at && p.seq < t.seq)) break
      i--
    }
    this.#timers.splice(i, 0, t)
    return t
  }

  nextAt(): number | undefined {
    while (this.#timers.length > 0 && (this.#timers[0] as Timer).cancelled) this.#timers.shift()
    return this.#timers[0]?.at
  }

  /** Advances to the next timer and runs it; false when none is due by `limit`. */
  runNext(limit: number): boolean {
    const at = this.nextAt()
    if (at === undefined || at > limit) return false
    const t = this.#timers.shift() as Timer
    this.#now = Math.max(this.#now, t.at)
    const stalled = t.owner?.owner ?? null
    if (stalled !== null && this.#stalls.has(stalled)) {
      let list = this.#deferred.get(stalled)
      if (list === undefined) this.#deferred.set(stalled, (list = []))
      list.push(t)
      return true
    }
    this.#fire(t)
    return true
  }

  #fire(t: Timer): void {
    if (!t.cancelled && (t.owner === null || t.owner.alive)) t.fn()
  }

  isStalled(owner: string): boolean {
    return this.#stalls.size > 0 && this.#stalls.has(owner)
  }

  /** Until when `owner` is stalled, or undefined. */
  stalledUntil(owner: string): number | undefined {
    return this.#stalls.get(owner)
  }

  /** `owner` runs no timer until `until` (extends a stall under way). */
  stall(owner: string, until: number): void {
    this.#stalls.set(owner, Math.max(until, this.#stalls.get(owner) ?? 0))
  }

  /**
   * Ends `owner`'s stall and hands back the timers that came due meanwhile, in due
   * order, for the caller to run (SimNet runs them before the stalled I/O).
   */
  unstall(owner: string): Array<() => void> {
    this.#stalls.delete(owner)
    const list = this.#deferred.get(owner) ?? []
    this.#deferred.delete(owner)
    return list.map((t) => () => this.#fire(t))
  }

  advanceTo(t: number): void {
    if (t > this.#now) this.#now = t
  }

  /**
   * A node's view: its own offset on the reading, and timers that die with it. With
   * `owner` (its network name) the node can be stalled.
   */
  view(offsetMs = 0, owner: string | null = null): SimClockView {
    return new SimClockView(this, offsetMs, owner)
  }
}

export class SimClockView implements Clock {
  alive = true
  /** The network name of the node reading this clock, if it can be stalled. */
  readonly owner: string | null
  #base: SimClock
  #offset: number

  constructor(base: SimClock, offset: number, owner: string | null = null) {
    this.#base = base
    this.#offset = offset
    this.owner = owner
  }

  now(): number {
    return this.#base.now() + this.#offset
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    return this.#base.add(fn, ms, this)
  }

  clearTimeout(handle: TimerHandle): void {
    if (handle !== undefined && handle !== null) (handle as Timer).cancelled = true
  }

  /** A crash: no timer of this node runs again. */
  kill(): void {
    this.alive = false
  }
}

interface Queued {
  /** Arrival order across all lanes (a stalled node reads its backlog in it). */
  seq: number
  run: () => void
}

interface LaneState {
  lane: MemoryLane
  queue: Queued[]
  /** Between which endpoints the lane carries frames (`from` -> `to`). */
  from: string
  to: string
  pair: string
}

/**
 * The seeded scheduler: random lane first, FIFO within a lane. A cut direction holds
 * its frames (a partitioned TCP connection delivers them late or never: the session
 * times out first); a killed lane drops them (a crashed end).
 */
export class SimScheduler implements MemoryScheduler {
  #lanes = new Map<number, LaneState>()
  #ends = new Map<string, { from: string; to: string }>()
  #cut = new Set<string>()
  #dead = new Set<string>()
  #rng: () => number
  #stalled: (owner: string) => boolean
  #seq = 0

  /** `stalled(owner)`: frames to that owner wait (its event loop runs nothing). */
  constructor(rng: () => number, stalled: (owner: string) => boolean = () => false) {
    this.#rng = rng
    this.#stalled = stalled
  }

  /** The next lane made with `label` carries frames from -> to. */
  labelEnds(label: string, from: string, to: string): void {
    this.#ends.set(label, { from, to })
  }

  cutDirection(from: string, to: string, cut: boolean): void {
    const k = `${from}>${to}`
    if (cut) this.#cut.add(k)
    else this.#cut.delete(k)
  }

  /** The lanes of pair `label` drop everything, for good (a crashed end). */
  kill(label: string): void {
    this.#dead.add(label)
    for (const l of this.#lanes.values()) if (l.pair === label) l.queue.length = 0
  }

  isCut(from: string, to: string): boolean {
    return this.#cut.has(`${from}>${to}`)
  }

  enqueue(lane: MemoryLane, task: () => void): void {
    let st = this.#lanes.get(lane.id)
    if (st === undefined) {
      const ends = this.#ends.get(lane.label) ?? { from: '?', to: '?' }
      // Local close notices (control lanes) belong to no pair: nothing kills them.
      const pair = lane.label.endsWith(':control') ? '' : lane.label.slice(0, lane.label.indexOf(':'))
      st = { lane, queue: [], from: ends.from, to: ends.to, pair }
      this.#lanes.set(lane.id, st)
    }
    if (this.#dead.has(st.pair)) return
    st.queue.push({ seq: ++this.#seq, run: task })
  }

  #reachable(l: LaneState): boolean {
    return l.queue.length > 0 && (this.#cut.size === 0 || !this.#cut.has(`${l.from}>${l.to}`))
  }

  #deliverable(l: LaneState): boolean {
    return this.#reachable(l) && !this.#stalled(l.to)
  }

  /**
   * What waits for `to` on lanes that are not cut, taken off them in arrival order:
   * the I/O a stalled node reads once its loop runs again.
   */
  takeBacklog(to: string): Array<() => void> {
    const all: Queued[] = []
    for (const l of this.#lanes.values()) {
      if (l.to !== to || !this.#reachable(l)) continue
      for (const q of l.queue) all.push(q)
      l.queue.length = 0
    }
    return all.sort((a, b) => a.seq - b.seq).map((q) => q.run)
  }

  /** Frames that can be delivered now (held ones do not count). */
  get pending(): number {
    let n = 0
    for (const l of this.#lanes.values()) if (this.#deliverable(l)) n += l.queue.length
    return n
  }

  /** Runs the head of a random deliverable lane; false if there is none. */
  step(): boolean {
    const ready: LaneState[] = []
    for (const l of this.#lanes.values()) if (this.#deliverable(l)) ready.push(l)
    if (ready.length === 0) return false
    const l = ready[Math.floor(this.#rng() * ready.length)] as LaneState
    const task = l.queue.shift() as Queued
    if (l.queue.length === 0 && this.#lanes.size > 256 && this.#dead.has(l.pair)) this.#lanes.delete(l.lane.id)
    task.run()
    return true
  }
}

const setImmediateFn = (globalThis as unknown as { setImmediate?: (fn: () => void) => void }).setImmediate
/** One turn of the event loop: every pending microtask runs first. */
const macrotask = (): Promise<void> =>
  new Promise((resolve) => (setImmediateFn !== undefined ? setImmediateFn(resolve) : globalThis.setTimeout(resolve, 0)))

interface PairRecord {
  label: string
  from: string
  to: string
  a: Link
  b: Link
}

/**
 * The network: listeners by owner name, dialers that respect partitions, buses,
 * and the run loop that interleaves deliveries and timers.
 */
export class SimNet {
  readonly clock: SimClock
  readonly scheduler: SimScheduler
  readonly rng: () => number
  /** Chance that a timer runs before a pending delivery (delays messages)... */
  delayBias = 0.1
  /** ...when that timer is due within this many ms: latency stays bounded. */
  maxDelayMs = 40
  #listeners = new Map<string, { owner: string; accept: (l: Link) => void }>()
  #pairs: PairRecord[] = []
  #labels = 0
  #buses = new Map<string, SimBusGroup>()
  /** Stalls whose end came: their backlog runs before the simulation goes on. */
  #resumes: string[] = []
  #apps = new Map<string, MemoryLane>()

  constructor(seed: number) {
    this.rng = prng(seed)
    this.clock = new SimClock()
    this.scheduler = new SimScheduler(this.rng, (owner) => this.clock.isStalled(owner))
  }

  /**
   * `owner`'s event loop is blocked for `ms` (a long synchronous task, a frozen tab):
   * none of its timers run and nothing reaches it, while time goes on and the others
   * keep sending. Then the backlog runs as in a real process after a stall: the timers
   * that came due, in due order, then the queued I/O in arrival order, each followed
   * by its microtasks. Only nodes whose clock view was made with `owner` stall.
   */
  stall(owner: string, ms: number): void {
    const until = this.clock.now() + Math.max(0, ms)
    this.clock.stall(owner, until)
    this.clock.add(() => {
      if (this.clock.stalledUntil(owner) === until) this.#resumes.push(owner)
    }, until - this.clock.now(), null)
  }

  isStalled(owner: string): boolean {
    return this.clock.isStalled(owner)
  }

  /**
   * Work that reaches `owner` from outside the simulated network (a user's click, a
   * message from elsewhere), delivered like a frame: in turn, or, while `owner` is
   * stalled, in its backlog after the I/O that arrived before it.
   */
  inject(owner: string, task: () => void): void {
    const label = `app-${owner}`
    if (!this.#apps.has(owner)) {
      this.#apps.set(owner, { id: -1_000_000 - this.#apps.size, label })
      this.scheduler.labelEnds(label, '', owner)
    }
    this.scheduler.enqueue(this.#apps.get(owner) as MemoryLane, task)
  }

  async #resume(owner: string): Promise<void> {
    for (const fire of this.clock.unstall(owner)) {
      fire()
      await macrotask()
    }
    for (const deliver of this.scheduler.takeBacklog(owner)) {
      deliver()
      await macrotask()
    }
  }

  listen(owner: string): ListenerSpec {
    const url = `memory://${owner}`
    return {
      kind: 'memory',
      listen: async (accept) => {
        this.#listeners.set(url, { owner, accept })
        return {
          url,
          close: async () => {
            if (this.#listeners.get(url)?.accept === accept) this.#listeners.delete(url)
          },
        }
      },
      dialerFor: (u) => (u.startsWith('memory://') ? this.dialer(owner, [u]) : null),
    }
  }

  dialer(owner: string, urls: string[]): Dialer {
    let next = 0
    return {
      kind: 'memory',
      target: urls.join(', '),
      dial: async () => {
        await Promise.resolve()
        const url = urls[next++ % urls.length] as string
        const l = this.#listeners.get(url)
        if (l === undefined || this.scheduler.isCut(owner, l.owner) || this.scheduler.isCut(l.owner, owner)) {
          throw new FlurryError('CONNECT_FAILED', `cannot reach ${url} from ${owner}`)
        }
        const label = `pair${++this.#labels}`
        this.scheduler.labelEnds(`${label}:accept`, owner, l.owner)
        this.scheduler.labelEnds(`${label}:a->b`, owner, l.owner)
        this.scheduler.labelEnds(`${label}:b->a`, l.owner, owner)
        this.scheduler.labelEnds(`${label}:a->b:control`, owner, owner)
        this.scheduler.labelEnds(`${label}:b->a:control`, l.owner, l.owner)
        const [a, b] = memoryPair({ scheduler: this.scheduler, label })
        this.#pairs.push({ label, from: owner, to: l.owner, a, b })
        if (this.#pairs.length > 512) this.#pairs.splice(0, this.#pairs.length - 512)
        // A stalled listener accepts once its loop runs again, before the frames sent to it.
        if (this.clock.isStalled(l.owner)) this.scheduler.enqueue({ id: -this.#labels, label: `${label}:accept` }, () => l.accept(b))
        else l.accept(b)
        return a
      },
      dialerFor: (u) => (u.startsWith('memory://') ? this.dialer(owner, [u]) : null),
    }
  }

  /** Frames between x and y are dropped (both ways) and dials fail; no close is seen. */
  cut(x: string, y: string): void {
    this.scheduler.cutDirection(x, y, true)
    this.scheduler.cutDirection(y, x, true)
  }

  /** Only x -> y is dropped: a half-open link. */
  cutOneWay(x: string, y: string): void {
    this.scheduler.cutDirection(x, y, true)
  }

  heal(x: string, y: string): void {
    this.scheduler.cutDirection(x, y, false)
    this.scheduler.cutDirection(y, x, false)
  }

  /**
   * `owner` closes its side of every link to `other` while `other` hears nothing (its
   * session stays until its heartbeat timeout): a client moving homes before the old
   * home noticed.
   */
  dropLinks(owner: string, other: string): void {
    for (const p of this.#pairs) {
      if (!((p.from === owner && p.to === other) || (p.from === other && p.to === owner))) continue
      this.scheduler.kill(p.label)
      ;(p.from === owner ? p.a : p.b).close('dropped')
    }
  }

  /** A crash: everything to and from `owner` is dropped; its listener is gone. */
  crash(owner: string, everyone: string[]): void {
    for (const o of everyone) {
      if (o === owner) continue
      this.scheduler.cutDirection(owner, o, true)
      this.scheduler.cutDirection(o, owner, true)
    }
    this.#listeners.delete(`memory://${owner}`)
    if (this.clock.isStalled(owner)) this.clock.unstall(owner)
    // Its links never carry anything again, whatever heals later.
    for (const p of this.#pairs) if (p.from === owner || p.to === owner) this.scheduler.kill(p.label)
    for (const g of this.#buses.values()) g.crash(owner)
  }

  /** A restarted node (same name) reachable again. */
  revive(owner: string, everyone: string[]): void {
    for (const o of everyone) {
      if (o === owner) continue
      this.scheduler.cutDirection(owner, o, false)
      this.scheduler.cutDirection(o, owner, false)
    }
  }

  bus(name: string, owner: string, withLocks: boolean): BusSpec {
    let g = this.#buses.get(name)
    if (g === undefined) {
      g = new SimBusGroup(name, this.scheduler, withLocks)
      this.#buses.set(name, g)
    }
    const group = g
    return { kind: 'sim-bus', name, open: async () => group.open(owner) }
  }

  /**
   * Runs the simulation for `ms` of simulated time, or until `until()` holds.
   * Returns whether `until` held. Microtasks and promise continuations run between
   * steps; the step budget bounds every run.
   */
  async run(ms: number, until?: () => boolean, maxSteps = 2_000_000): Promise<boolean> {
    const end = this.clock.now() + ms
    for (let steps = 0; steps < maxSteps; steps++) {
      // Let promise continuations run now and then; deliveries in between batch up.
      if (steps % 16 === 0 || this.scheduler.pending === 0) {
        await macrotask()
        if (until?.() === true) return true
      }
      const next = this.clock.nextAt()
      const timerDue = next !== undefined && next <= end
      const soon = timerDue && (next as number) <= this.clock.now() + this.maxDelayMs
      if (this.scheduler.pending > 0 && !(soon && this.rng() < this.delayBias)) {
        this.scheduler.step()
        continue
      }
      if (!timerDue) {
        if (this.scheduler.pending > 0) continue
        this.clock.advanceTo(end)
        await macrotask()
        return until?.() === true
      }
      this.clock.runNext(end)
      while (this.#resumes.length > 0) await this.#resume(this.#resumes.shift() as string)
    }
    throw new Error(`simulation did not finish within ${maxSteps} steps`)
  }
}

/** A BroadcastChannel stand-in on the sim scheduler, with optional Web Locks. */
class SimBusGroup {
  readonly name: string
  #sched: SimScheduler
  #members = new Map<string, { bus: Bus; owner: string; closed: boolean }>()
  #withLocks: boolean
  #locks = new Map<string, string>()
  #watchers = new Map<string, Set<() => void>>()
  #ids = 0

  constructor(name: string, sched: SimScheduler, withLocks: boolean) {
    this.name = name
    this.#sched = sched
    this.#withLocks = withLocks
  }

  open(owner: string): Bus {
    const key = `${owner}#${++this.#ids}`
    const group = this
    const member = { owner, closed: false, bus: null as unknown as Bus }
    const locks: BusLocks | null = this.#withLocks
      ? {
          hold: async (name) => {
            if (this.#locks.has(name)) throw new Error(`sim lock ${name} is held`)
            this.#locks.set(name, key)
            return { release: () => this.#release(name, key) }
          },
          watch: (name, ondead) => {
            let set = this.#watchers.get(name)
            if (set === undefined) this.#watchers.set(name, (set = new Set()))
            const fn = () => ondead()
            set.add(fn)
            if (!this.#locks.has(name)) queueMicrotask(fn)
            return () => set.delete(fn)
          },
          held: async (prefix) => [...this.#locks.keys()].filter((n) => n.startsWith(prefix)),
        }
      : null
    member.bus = {
      name: this.name,
      locks,
      onmessage: null,
      post(data) {
        if (member.closed) return
        for (const [k, m] of group.#members) {
          if (k === key || m.closed) continue
          const lane = group.#laneFor(key, k, owner, m.owner)
          group.#sched.enqueue(lane, () => {
            if (!m.closed) m.bus.onmessage?.(data)
          })
        }
      },
      close() {
        member.closed = true
        group.#members.delete(key)
        for (const [name, holder] of [...group.#locks]) if (holder === key) group.#release(name, key)
      },
    }
    this.#members.set(key, member)
    return member.bus
  }

  #lanes = new Map<string, MemoryLane>()
  #laneIds = 1_000_000

  #laneFor(fromKey: string, toKey: string, from: string, to: string): MemoryLane {
    const k = `${fromKey}>${toKey}`
    let lane = this.#lanes.get(k)
    if (lane === undefined) {
      lane = { id: ++this.#laneIds, label: `bus:${this.name}:${k}` }
      this.#sched.labelEnds(lane.label, from, to)
      this.#lanes.set(k, lane)
    }
    return lane
  }

  #release(name: string, key: string): void {
    if (this.#locks.get(name) !== key) return
    this.#locks.delete(name)
    const set = this.#watchers.get(name)
    if (set !== undefined) {
      this.#watchers.delete(name)
      for (const fn of set) queueMicrotask(fn)
    }
  }

  /** A crashed tab: gone from the bus, its locks released (the browser does that). */
  crash(owner: string): void {
    for (const [key, m] of [...this.#members]) {
      if (m.owner !== owner) continue
      m.closed = true
      this.#members.delete(key)
      for (const [name, holder] of [...this.#locks]) if (holder === key) this.#release(name, key)
    }
  }
}
