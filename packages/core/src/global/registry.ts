/**
 * The global registry as a plain data structure: no I/O, no timers.
 *
 * Per owner node a slice `{ seq, names, clients }`; only the owner changes its own
 * slice and every change bumps seq. Slices of counted owners are visible: for each
 * name, among the counted claims, the winner is the smallest `(at, owner)`. Every node
 * computes the same winner from the same slices, so tables converge without locks.
 *
 * Layout, for speed and memory: a claim sits in its owner's `names` map and, while
 * counted, in a chain per name sorted by `(at, owner)` whose head, kept in `table`, is
 * the winner. `whereis` is one map lookup.
 */
import {
  Pid,
  DEL_CONFLICT,
  DEL_EXIT,
  DEL_REFUSED,
  DEL_UNREGISTER,
  OP_CLIENT_ADD,
  OP_CLIENT_DEL,
  OP_DEL,
  OP_PUT,
  ROLE_CLIENT,
  ROLE_PEER,
  utf8Length,
  type Delta,
} from '../wire/index.js'
import type { ApplyResult, ClaimCheck, SliceStore, WholeSlice } from '../node/index.js'

export type UnregisterReason = 'unregister' | 'exit' | 'nodedown' | 'conflict' | 'refused'

/** What the registry reports; the service turns it into user events and notices. */
export interface RegistryEvents {
  register(name: string, pid: Pid): void
  unregister(name: string, pid: Pid, reason: UnregisterReason): void
  /** A claim of this node was beaten by an older one: withdraw it and tell the actor. */
  conflict(name: string, winner: Pid, loser: Pid): void
}

export class Claim {
  readonly name: string
  readonly slice: Slice
  readonly pidId: number
  at: number
  /** Next claim of the same name in the chain of counted claims. */
  next: Claim | null = null
  /** The Pid, once made (see `pid`). A plain field: whereis reads it on its hot path. */
  pidOrNull: Pid | null = null

  constructor(name: string, slice: Slice, pidId: number, at: number) {
    this.name = name
    this.slice = slice
    this.pidId = pidId
    this.at = at
  }

  get owner(): string {
    return this.slice.owner
  }

  /** Made on first use: most claims are never looked up on most nodes. */
  get pid(): Pid {
    return (this.pidOrNull ??= new Pid(this.slice.owner, this.pidId))
  }
}

export class Slice {
  readonly owner: string
  seq = 0
  role: number
  /** A peer's clients list; null for a client. */
  clients: Set<string> | null
  names = new Map<string, Claim>()
  /** UTF-8 bytes of the names claimed (a home's byte quota). */
  nameBytes = 0
  counted = false
  hiddenAt: number | undefined = undefined

  constructor(owner: string, role: number) {
    this.owner = owner
    this.role = role
    this.clients = role === ROLE_PEER ? new Set() : null
  }
}

/** `a` wins over `b`. */
function before(a: Claim, b: Claim): boolean {
  return a.at < b.at || (a.at === b.at && a.slice.owner < b.slice.owner)
}

const DEL_REASONS: UnregisterReason[] = []
DEL_REASONS[DEL_UNREGISTER] = 'unregister'
DEL_REASONS[DEL_EXIT] = 'exit'
DEL_REASONS[DEL_CONFLICT] = 'conflict'
DEL_REASONS[DEL_REFUSED] = 'refused'

const NO_EVENTS: RegistryEvents = { register() {}, unregister() {}, conflict() {} }

export class Registry implements SliceStore {
  readonly selfId: string
  readonly self: Slice
  readonly events: RegistryEvents
  onOwnChange: (() => void) | null = null
  #slices = new Map<string, Slice>()
  /** name -> winning claim (head of the chain of counted claims). */
  #table = new Map<string, Claim>()
  /** Own claims by pid id: a name, or several. */
  #byPid = new Map<number, string | Set<string>>()
  /**
   * No one listens to register/unregister: skip building their arguments (a Pid per
   * name) on the hot paths. The service keeps it up to date.
   */
  quiet = false
  #ownOps: unknown[] = []
  #beaten = new Set<Claim>()
  #now: () => number

  constructor(selfId: string, init: { events?: RegistryEvents; role?: number; now?: () => number } = {}) {
    this.selfId = selfId
    this.events = init.events ?? NO_EVENTS
    this.#now = init.now ?? (() => Date.now())
    this.self = new Slice(selfId, init.role ?? ROLE_CLIENT)
    this.self.counted = true
    this.#slices.set(selfId, this.self)
  }

  /** A client that starts listening becomes a peer: its slice gets a clients list. */
  setSelfRole(role: number): void {
    this.self.role = role
    if (role === ROLE_PEER && this.self.clients === null) this.self.clients = new Set()
  }

  // ---- queries -------------------------------------------------------------

  whereis(name: string): Pid | undefined {
    const claim = this.#table.get(name)
    return claim === undefined ? undefined : (claim.pidOrNull ?? claim.pid)
  }

  winner(name: string): Claim | undefined {
    return this.#table.get(name)
  }

  names(): string[] {
    return [...this.#table.keys()].sort()
  }

  get size(): number {
    return this.#table.size
  }

  /** The winning claims, in no particular order. */
  visible(): IterableIterator<Claim> {
    return this.#table.values()
  }

  ownClaim(name: string): Claim | undefined {
    return this.self.names.get(name)
  }

  slice(owner: string): Slice | undefined {
    return this.#slices.get(owner)
  }

  // ---- own slice -----------------------------------------------------------

  /** False if the name is visible already; else the claim enters the own slice. */
  register(name: string, pidId: number, at: number): boolean {
    if (this.#table.has(name)) return false
    const claim = new Claim(name, this.self, pidId, at)
    this.self.names.set(name, claim)
    this.self.nameBytes += utf8Length(name)
    const had = this.#byPid.get(pidId)
    if (had === undefined) this.#byPid.set(pidId, name)
    else if (typeof had === 'string') this.#byPid.set(pidId, new Set([had, name]))
    else had.add(name)
    this.#table.set(name, claim)
    if (!this.quiet) this.events.register(name, claim.pid)
    this.#own(OP_PUT, name, pidId, at)
    return true
  }

  /** Removes this node's claim on `name`; false if it has none. */
  unregister(name: string, reason: number = DEL_UNREGISTER): boolean {
    const claim = this.self.names.get(name)
    if (claim === undefined) return false
    this.self.names.delete(name)
    this.self.nameBytes -= utf8Length(name)
    this.#beaten.delete(claim)
    this.#forgetPid(claim.pidId, name)
    this.#change(name, () => this.#unlink(claim), DEL_REASONS[reason] ?? 'unregister')
    this.#own(OP_DEL, name, reason)
    return true
  }

  /** Unregisters every name of a local actor that ended. */
  cleanupProcess(pidId: number): string[] {
    const had = this.#byPid.get(pidId)
    if (had === undefined) return []
    this.#byPid.delete(pidId)
    const names = typeof had === 'string' ? [had] : [...had]
    for (const name of names) this.unregister(name, DEL_EXIT)
    return names
  }

  /** Names this node claims for an actor. */
  namesOf(pidId: number): string[] {
    const had = this.#byPid.get(pidId)
    return had === undefined ? [] : typeof had === 'string' ? [had] : [...had]
  }

  addClient(id: string): void {
    const clients = this.self.clients
    if (clients === null || clients.has(id)) return
    clients.add(id)
    this.#own(OP_CLIENT_ADD, id)
  }

  removeClient(id: string, reason: string): void {
    const clients = this.self.clients
    if (clients === null || !clients.delete(id)) return
    this.#own(OP_CLIENT_DEL, id, reason)
  }

  takeOwnDelta(clockMs: number, maxBytes = Infinity): Delta | null {
    const all = this.#ownOps
    if (all.length === 0) return null
    let ops = all
    if (maxBytes !== Infinity) {
      // Cut at an op boundary once the estimated encoding passes maxBytes (at least one op).
      let bytes = 0
      let i = 0
      while (i < all.length) {
        const op = all[i]
        const width = op === OP_PUT ? 4 : op === OP_CLIENT_ADD ? 2 : 3
        const text = all[i + 1] as string
        const size = text.length * 3 + 24 + (op === OP_CLIENT_DEL ? (all[i + 2] as string).length * 3 : 0)
        if (i > 0 && bytes + size > maxBytes) break
        bytes += size
        i += width
      }
      if (i < all.length) {
        ops = all.slice(0, i)
        this.#ownOps = all.slice(i)
      } else this.#ownOps = []
    } else this.#ownOps = []
    const prevSeq = this.self.seq
    this.self.seq++
    return { owner: this.selfId, prevSeq, seq: this.self.seq, clock: clockMs, ops }
  }

  restampOwn(stamp: () => number): void {
    for (const claim of [...this.self.names.values()]) {
      this.#change(claim.name, () => {
        this.#unlink(claim)
        claim.at = stamp()
        this.#link(claim)
      }, 'conflict')
    }
    // The whole slice goes out next: pending ops are part of it.
    this.#ownOps = []
    this.self.seq++
  }

  /** Own claims beaten since the last call (the service withdraws them). */
  takeBeaten(): Claim[] {
    if (this.#beaten.size === 0) return []
    const out = [...this.#beaten]
    this.#beaten.clear()
    return out.filter((c) => this.self.names.get(c.name) === c)
  }

  #own(...op: unknown[]): void {
    const first = this.#ownOps.length === 0
    for (const x of op) this.#ownOps.push(x)
    if (first) this.onOwnChange?.()
  }

  #forgetPid(pidId: number, name: string): void {
    const had = this.#byPid.get(pidId)
    if (had === undefined) return
    if (typeof had === 'string') {
      if (had === name) this.#byPid.delete(pidId)
      return
    }
    had.delete(name)
    if (had.size === 0) this.#byPid.delete(pidId)
  }

  // ---- slices of others (the SliceStore side) -----------------------------

  seqOf(owner: string): number {
    return this.#slices.get(owner)?.seq ?? 0
  }

  has(owner: string): boolean {
    return this.#slices.has(owner)
  }

  roleOf(owner: string): number | undefined {
    return this.#slices.get(owner)?.role
  }

  clientsOf(owner: string): ReadonlySet<string> | undefined {
    return this.#slices.get(owner)?.clients ?? undefined
  }

  owners(): IterableIterator<string> {
    return this.#slices.keys()
  }

  isCounted(owner: string): boolean {
    return this.#slices.get(owner)?.counted === true
  }

  /** How many names an owner claims (a home's quota check). */
  sizeOf(owner: string): number {
    return this.#slices.get(owner)?.names.size ?? 0
  }

  /** The UTF-8 bytes of the names an owner claims (a home's byte quota). */
  bytesOf(owner: string): number {
    return this.#slices.get(owner)?.nameBytes ?? 0
  }

  hiddenSince(owner: string): number | undefined {
    return this.#slices.get(owner)?.hiddenAt
  }

  setCounted(owner: string, counted: boolean): void {
    if (owner === this.selfId) return
    let slice = this.#slices.get(owner)
    if (slice === undefined) {
      if (!counted) return
      slice = new Slice(owner, ROLE_CLIENT)
      this.#slices.set(owner, slice)
    }
    if (slice.counted === counted) return
    slice.counted = counted
    slice.hiddenAt = counted ? undefined : this.#now()
    if (counted) {
      for (const claim of slice.names.values()) {
        // The common case, a name nobody else claims: no chain, no event arguments.
        if (this.quiet && !this.#table.has(claim.name)) {
          claim.next = null
          this.#table.set(claim.name, claim)
        } else this.#change(claim.name, () => this.#link(claim), 'conflict')
      }
    } else {
      for (const claim of slice.names.values()) {
        if (this.quiet && claim.next === null && this.#table.get(claim.name) === claim) this.#table.delete(claim.name)
        else this.#change(claim.name, () => this.#unlink(claim), 'nodedown')
      }
    }
  }

  drop(owner: string): void {
    const slice = this.#slices.get(owner)
    if (slice === undefined || slice.counted || owner === this.selfId) return
    this.#slices.delete(owner)
  }

  clearOthers(): void {
    for (const owner of [...this.#slices.keys()]) {
      if (owner === this.selfId) continue
      this.setCounted(owner, false)
      this.#slices.delete(owner)
    }
  }

  applyDelta(d: Delta, check?: ClaimCheck): ApplyResult {
    const result: ApplyResult = { status: 'duplicate', refused: null, acceptedOps: null, clientsChanged: false }
    if (d.owner === this.selfId) return result
    let slice = this.#slices.get(d.owner)
    const held = slice?.seq ?? 0
    if (d.seq <= held) return result
    if (d.prevSeq !== held) {
      result.status = 'gap'
      return result
    }
    if (slice === undefined) {
      slice = new Slice(d.owner, hasClientOps(d.ops) ? ROLE_PEER : ROLE_CLIENT)
      this.#slices.set(d.owner, slice)
    }
    const ops = d.ops
    let accepted: unknown[] | null = null
    let i = 0
    while (i < ops.length) {
      const op = ops[i]
      const start = i
      if (op === OP_PUT) {
        const name = ops[i + 1] as string
        const pidId = ops[i + 2] as number
        const at = ops[i + 3] as number
        i += 4
        const old = slice.names.get(name)
        if (old !== undefined && old.pidId === pidId && old.at === at) continue
        const code = check === undefined ? null : check(d.owner, name, at)
        if (code !== null) {
          ;(result.refused ??= []).push([name, code])
          accepted ??= ops.slice(0, start)
          continue
        }
        this.#put(slice, name, pidId, at, old)
      } else if (op === OP_DEL) {
        const name = ops[i + 1] as string
        const reason = ops[i + 2] as number
        i += 3
        this.#del(slice, name, DEL_REASONS[reason] ?? 'unregister')
      } else if (op === OP_CLIENT_ADD) {
        const id = ops[i + 1] as string
        i += 2
        slice.clients ??= new Set()
        slice.role = ROLE_PEER
        if (!slice.clients.has(id)) {
          slice.clients.add(id)
          result.clientsChanged = true
        }
      } else {
        const id = ops[i + 1] as string
        i += 3
        if (slice.clients?.delete(id) === true) result.clientsChanged = true
      }
      if (accepted !== null) for (let k = start; k < i; k++) accepted.push(ops[k])
    }
    slice.seq = d.seq
    result.status = 'applied'
    result.acceptedOps = accepted
    return result
  }

  mergeSlice(s: WholeSlice, check?: ClaimCheck): { merged: boolean; refused: Array<[string, string]> | null } {
    if (s.owner === this.selfId) return { merged: false, refused: null }
    let slice = this.#slices.get(s.owner)
    if (slice !== undefined && s.seq <= slice.seq) return { merged: false, refused: null }
    if (slice === undefined) {
      slice = new Slice(s.owner, s.role)
      this.#slices.set(s.owner, slice)
    }
    let refused: Array<[string, string]> | null = null
    const old = slice.names
    const next = new Map<string, Claim>()
    let nameBytes = 0
    const names = s.names
    for (let i = 0; i < names.length; i += 3) {
      const name = names[i] as string
      const pidId = names[i + 1] as number
      const at = names[i + 2] as number
      const prev = old.get(name)
      if (prev !== undefined && prev.pidId === pidId && prev.at === at) {
        next.set(name, prev)
        nameBytes += utf8Length(name)
        continue
      }
      const code = check === undefined ? null : check(s.owner, name, at)
      if (code !== null) {
        ;(refused ??= []).push([name, code])
        continue
      }
      next.set(name, new Claim(name, slice, pidId, at))
      nameBytes += utf8Length(name)
    }
    if (slice.counted) {
      for (const [name, claim] of old) {
        const replacement = next.get(name)
        if (replacement === claim) continue
        if (replacement === undefined) this.#change(name, () => this.#unlink(claim), 'unregister')
        else {
          this.#change(name, () => {
            this.#unlink(claim)
            this.#link(replacement)
          }, 'conflict')
        }
      }
      for (const [name, claim] of next) {
        if (old.has(name)) continue
        if (this.quiet && !this.#table.has(name)) this.#table.set(name, claim)
        else this.#change(name, () => this.#link(claim), 'conflict')
      }
    }
    slice.names = next
    slice.nameBytes = nameBytes
    slice.seq = s.seq
    slice.role = s.role
    if (s.role === ROLE_PEER) slice.clients = new Set(s.clients ?? [])
    else slice.clients = null
    return { merged: true, refused }
  }

  chunksOf(owner: string, budgetBytes: number, out: unknown[][]): void {
    const slice = this.#slices.get(owner)
    if (slice === undefined) return
    const clients = slice.clients === null ? null : [...slice.clients]
    let names: unknown[] = []
    let bytes = 64 + (clients === null ? 0 : clients.reduce((n, c) => n + c.length + 2, 0))
    for (const claim of slice.names.values()) {
      names.push(claim.name, claim.pidId, claim.at)
      bytes += claim.name.length * 3 + 16
      if (bytes >= budgetBytes) {
        out.push([owner, slice.seq, slice.role, clients, names])
        names = []
        bytes = 64
      }
    }
    if (names.length > 0 || out.length === 0 || out[out.length - 1]?.[0] !== owner) {
      out.push([owner, slice.seq, slice.role, clients, names])
    }
  }

  maxStampOf(owner: string): number {
    let max = 0
    const slice = this.#slices.get(owner)
    if (slice !== undefined) for (const c of slice.names.values()) if (c.at > max) max = c.at
    return max
  }

  // ---- whole-registry snapshots (tests, tools) ------------------------------

  /** Every held slice, whole. */
  snapshot(): WholeSlice[] {
    const out: WholeSlice[] = []
    for (const slice of this.#slices.values()) {
      const names: unknown[] = []
      for (const c of slice.names.values()) names.push(c.name, c.pidId, c.at)
      out.push({
        owner: slice.owner,
        seq: slice.seq,
        role: slice.role,
        clients: slice.clients === null ? null : [...slice.clients].sort(),
        names,
      })
    }
    return out
  }

  /** Merges slices by seq: idempotent, commutative and associative. */
  mergeSnapshot(slices: Iterable<WholeSlice>): void {
    for (const s of slices) this.mergeSlice(s)
  }

  // ---- the chains -----------------------------------------------------------

  #put(slice: Slice, name: string, pidId: number, at: number, old: Claim | undefined): void {
    const claim = new Claim(name, slice, pidId, at)
    slice.names.set(name, claim)
    if (old === undefined) slice.nameBytes += utf8Length(name)
    if (!slice.counted) return
    this.#change(name, () => {
      if (old !== undefined) this.#unlink(old)
      this.#link(claim)
    }, 'conflict')
  }

  #del(slice: Slice, name: string, reason: UnregisterReason): void {
    const claim = slice.names.get(name)
    if (claim === undefined) return
    slice.names.delete(name)
    slice.nameBytes -= utf8Length(name)
    if (slice.counted) this.#change(name, () => this.#unlink(claim), reason)
  }

  /**
   * Runs `fn` (chain edits) and reports what changed for `name`: the old winner
   * leaves (with `reason` if its claim left the chain, 'conflict' if it was beaten)
   * and the new one arrives. A claim replaced by one of the same pid changes nothing.
   */
  #change(name: string, fn: () => void, reason: UnregisterReason): void {
    const was = this.#table.get(name)
    fn()
    const now = this.#table.get(name)
    if (was !== now && !this.quiet) {
      const samePid = was !== undefined && now !== undefined && was.pidId === now.pidId && was.slice === now.slice
      if (!samePid) {
        if (was !== undefined) this.events.unregister(name, was.pid, this.#inChain(was) ? 'conflict' : reason)
        if (now !== undefined) this.events.register(name, now.pid)
      }
    }
    const own = this.self.names.get(name)
    if (own !== undefined && now !== undefined && now !== own && !this.#beaten.has(own)) {
      this.#beaten.add(own)
      this.events.conflict(name, now.pid, own.pid)
    }
  }

  #inChain(claim: Claim): boolean {
    for (let c: Claim | null = this.#table.get(claim.name) ?? null; c !== null; c = c.next) if (c === claim) return true
    return false
  }

  #link(claim: Claim): void {
    const head = this.#table.get(claim.name)
    if (head === undefined) {
      claim.next = null
      this.#table.set(claim.name, claim)
      return
    }
    if (before(claim, head)) {
      claim.next = head
      this.#table.set(claim.name, claim)
      return
    }
    let prev = head
    while (prev.next !== null && before(prev.next, claim)) prev = prev.next
    claim.next = prev.next
    prev.next = claim
  }

  #unlink(claim: Claim): void {
    const head = this.#table.get(claim.name)
    if (head === undefined) return
    if (head === claim) {
      if (claim.next === null) this.#table.delete(claim.name)
      else this.#table.set(claim.name, claim.next)
    } else {
      let prev = head
      while (prev.next !== null && prev.next !== claim) prev = prev.next
      if (prev.next === claim) prev.next = claim.next
    }
    claim.next = null
  }
}

function hasClientOps(ops: unknown[]): boolean {
  for (let i = 0; i < ops.length; ) {
    const op = ops[i]
    if (op === OP_CLIENT_ADD || op === OP_CLIENT_DEL) return true
    i += op === OP_PUT ? 4 : op === OP_DEL ? 3 : op === OP_CLIENT_ADD ? 2 : 3
  }
  return false
}
