/**
 * Randomized properties of the pure registry, with fast-check.
 *
 * On failure fast-check prints the counterexample with its `seed` and `path`; replay
 * it with FLURRY_SEED=<seed> FLURRY_PATH=<path> npx vitest run <this file>.
 *
 * Slices are drawn from a per-owner history of versions with increasing seqs, so that
 * equal seqs always mean equal contents (the invariant the protocol keeps).
 */
import { COUNTER_SPAN } from '../../src/node/hlc.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Registry } from '../../src/global/registry.js'
import type { WholeSlice } from '../../src/node/slice-store.js'
import {
  DEL_CONFLICT,
  DEL_EXIT,
  DEL_UNREGISTER,
  OP_CLIENT_ADD,
  OP_CLIENT_DEL,
  OP_DEL,
  OP_PUT,
  ROLE_CLIENT,
  ROLE_PEER,
  type Delta,
} from '../../src/wire/frames.js'

const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {}
const replaySeed = Number(env.FLURRY_SEED)
const params = {
  numRuns: Number(env.FLURRY_RUNS) > 0 ? Number(env.FLURRY_RUNS) : 200,
  ...(Number.isInteger(replaySeed) && env.FLURRY_SEED !== undefined ? { seed: replaySeed } : {}),
  ...(env.FLURRY_PATH !== undefined ? { path: env.FLURRY_PATH } : {}),
}

const SELF = 'm@self'
/** Other owners; 'a@' sorts before SELF and 'z@' after, so ties go both ways. */
const OWNERS = ['a@0001', 'b@0002', 'n@0003', 'z@0004'] as const
const NAMES = ['v', 'w', 'x', 'y', 'z'] as const
const CLIENT_IDS = ['c1@0', 'c2@0', 'c3@0'] as const
const st = (ms: number, counter = 0): number => ms * COUNTER_SPAN + counter

// ---- generated histories ----------------------------------------------------------

interface Version {
  seq: number
  /** name -> [pidId, at] */
  names: Map<string, [number, number]>
  clients: string[]
}
interface History {
  owner: string
  role: number
  versions: Version[]
}

const claimArb = fc.record({
  name: fc.constantFrom(...NAMES),
  pid: fc.integer({ min: 1, max: 3 }),
  // Few distinct stamps: equal stamps (ties broken by owner) are common.
  ms: fc.integer({ min: 1, max: 6 }),
  counter: fc.integer({ min: 0, max: 1 }),
})
const versionArb = fc.record({
  step: fc.integer({ min: 1, max: 3 }),
  claims: fc.uniqueArray(claimArb, { selector: (c) => c.name, maxLength: NAMES.length }),
  clients: fc.subarray([...CLIENT_IDS]),
})
const historyArb = (owner: string): fc.Arbitrary<History> =>
  fc.record({ role: fc.constantFrom(ROLE_CLIENT, ROLE_PEER), versions: fc.array(versionArb, { minLength: 1, maxLength: 5 }) }).map(({ role, versions }) => {
    let seq = 0
    return {
      owner,
      role,
      versions: versions.map((v) => {
        seq += v.step
        return {
          seq,
          names: new Map(v.claims.map((c) => [c.name, [c.pid, st(c.ms, c.counter)] as [number, number]])),
          clients: role === ROLE_PEER ? [...v.clients].sort() : [],
        }
      }),
    }
  })
const historiesArb: fc.Arbitrary<History[]> = fc.tuple(...OWNERS.map((o) => historyArb(o)))

function wholeOf(h: History, v: Version): WholeSlice {
  const names: unknown[] = []
  for (const [name, [pidId, at]] of v.names) names.push(name, pidId, at)
  return { owner: h.owner, seq: v.seq, role: h.role, clients: h.role === ROLE_PEER ? [...v.clients] : null, names }
}

/** The delta that takes a slice from `from` (undefined: the empty slice at seq 0) to `to`. */
function deltaOf(h: History, from: Version | undefined, to: Version, delReason: number): Delta {
  const ops: unknown[] = []
  const before = from?.names ?? new Map<string, [number, number]>()
  for (const name of before.keys()) if (!to.names.has(name)) ops.push(OP_DEL, name, delReason)
  for (const [name, [pidId, at]] of to.names) {
    const was = before.get(name)
    if (was === undefined || was[0] !== pidId || was[1] !== at) ops.push(OP_PUT, name, pidId, at)
  }
  const hadClients = new Set(from?.clients ?? [])
  for (const c of to.clients) if (!hadClients.has(c)) ops.push(OP_CLIENT_ADD, c)
  for (const c of hadClients) if (!to.clients.includes(c)) ops.push(OP_CLIENT_DEL, c, 'closed')
  return { owner: h.owner, prevSeq: from?.seq ?? 0, seq: to.seq, clock: 0, ops }
}

/** Picks of (owner, version) as whole slices. */
function picksArb(): fc.Arbitrary<Array<[number, number]>> {
  return fc.array(fc.tuple(fc.nat({ max: OWNERS.length - 1 }), fc.nat({ max: 9 })), { maxLength: 12 })
}
function slicesOf(histories: History[], picks: Array<[number, number]>): WholeSlice[] {
  return picks.map(([o, v]) => {
    const h = histories[o] as History
    return wholeOf(h, h.versions[v % h.versions.length] as Version)
  })
}

// ---- observed state ---------------------------------------------------------------

interface Checked {
  reg: Registry
  /** The table as rebuilt from events alone. */
  mirror: Map<string, string>
  problems: string[]
}

function checkedRegistry(counted: readonly string[] = []): Checked {
  const mirror = new Map<string, string>()
  const problems: string[] = []
  const box: { reg?: Registry } = {}
  const reg = new Registry(SELF, {
    events: {
      register(name, pid) {
        if (mirror.has(name)) problems.push(`register ${name} ${pid} while ${mirror.get(name)} holds it`)
        mirror.set(name, pid.toString())
      },
      unregister(name, pid, reason) {
        if (mirror.get(name) !== pid.toString()) problems.push(`unregister ${name} ${pid} (${reason}) but mirror has ${mirror.get(name)}`)
        mirror.delete(name)
      },
      conflict(name, winner, loser) {
        const r = box.reg as Registry
        if (loser.node !== SELF) problems.push(`conflict for a loser of another node: ${loser}`)
        if (r.winner(name)?.pid.equals(winner) !== true) problems.push(`conflict ${name}: ${winner} is not the winner`)
        if (r.ownClaim(name) === undefined) problems.push(`conflict ${name} without an own claim`)
      },
    },
  })
  box.reg = reg
  for (const o of counted) reg.setCounted(o, true)
  return { reg, mirror, problems }
}

type Row = [name: string, owner: string, pidId: number, at: number]

function table(reg: Registry): Row[] {
  return reg.names().map((n) => {
    const w = reg.winner(n)
    if (w === undefined) throw new Error(`names() lists ${n} without a winner`)
    return [n, w.owner, w.pidId, w.at]
  })
}

/** The visible table computed by brute force from the held slices. */
function bruteForce(reg: Registry): Row[] {
  const best = new Map<string, Row>()
  for (const s of reg.snapshot()) {
    if (!reg.isCounted(s.owner)) continue
    for (let i = 0; i < s.names.length; i += 3) {
      const row: Row = [s.names[i] as string, s.owner, s.names[i + 1] as number, s.names[i + 2] as number]
      const cur = best.get(row[0])
      if (cur === undefined || row[3] < cur[3] || (row[3] === cur[3] && row[1] < cur[1])) best.set(row[0], row)
    }
  }
  return [...best.values()].sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0))
}

/**
 * Snapshot with slices sorted by owner and claims sorted by name. `loose` leaves out
 * the role and treats a missing clients list as empty: a slice first made by a delta
 * infers its role from client ops, one made by a whole slice is told it.
 */
function normalSnapshot(reg: Registry, loose = false): unknown[] {
  return reg
    .snapshot()
    .map((s) => {
      const triples: Array<[string, number, number]> = []
      for (let i = 0; i < s.names.length; i += 3) triples.push([s.names[i] as string, s.names[i + 1] as number, s.names[i + 2] as number])
      triples.sort((x, y) => (x[0] < y[0] ? -1 : 1))
      const counted = reg.isCounted(s.owner)
      if (loose) return { owner: s.owner, seq: s.seq, clients: s.clients ?? [], names: triples, counted }
      return { ...s, names: triples, counted }
    })
    .sort((x, y) => (x.owner < y.owner ? -1 : 1))
}

function stateOf(c: Checked, loose = false): { snapshot: unknown[]; table: Row[] } {
  expect(c.problems).toEqual([])
  const t = table(c.reg)
  expect(new Map(t.map(([n, o, p]) => [n, `<${o}.${p}>`]))).toEqual(c.mirror)
  return { snapshot: normalSnapshot(c.reg, loose), table: t }
}

// ---- mergeSnapshot laws -------------------------------------------------------------

describe('registry properties: mergeSnapshot', () => {
  const countedArb = fc.subarray([...OWNERS])

  it('is idempotent', () => {
    fc.assert(
      fc.property(historiesArb, countedArb, picksArb(), (histories, counted, picks) => {
        const a = slicesOf(histories, picks)
        const once = checkedRegistry(counted)
        once.reg.mergeSnapshot(a)
        const twice = checkedRegistry(counted)
        twice.reg.mergeSnapshot(a)
        twice.reg.mergeSnapshot(a)
        // Merging a registry's own snapshot back changes nothing either.
        const again = checkedRegistry(counted)
        again.reg.mergeSnapshot(a)
        again.reg.mergeSnapshot(again.reg.snapshot())
        const s1 = stateOf(once)
        expect(stateOf(twice)).toEqual(s1)
        expect(stateOf(again)).toEqual(s1)
      }),
      params,
    )
  })

  it('is commutative (any order of slices, any split into snapshots)', () => {
    fc.assert(
      fc.property(historiesArb, countedArb, picksArb(), picksArb(), fc.func(fc.integer()), (histories, counted, pa, pb, order) => {
        const a = slicesOf(histories, pa)
        const b = slicesOf(histories, pb)
        const ab = checkedRegistry(counted)
        ab.reg.mergeSnapshot(a)
        ab.reg.mergeSnapshot(b)
        const ba = checkedRegistry(counted)
        ba.reg.mergeSnapshot(b)
        ba.reg.mergeSnapshot(a)
        // A random permutation of all slices, merged one by one.
        const shuffled = [...a, ...b]
          .map((s, i) => [order(s.owner, s.seq, i), i, s] as const)
          .sort((x, y) => x[0] - y[0] || x[1] - y[1])
          .map((x) => x[2])
        const perm = checkedRegistry(counted)
        for (const s of shuffled) perm.reg.mergeSnapshot([s])
        const s1 = stateOf(ab)
        expect(stateOf(ba)).toEqual(s1)
        expect(stateOf(perm)).toEqual(s1)
      }),
      params,
    )
  })

  it('is associative: (A ⊔ B) ⊔ C equals A ⊔ snapshot(B ⊔ C)', () => {
    fc.assert(
      fc.property(historiesArb, countedArb, picksArb(), picksArb(), picksArb(), (histories, counted, pa, pb, pc) => {
        const a = slicesOf(histories, pa)
        const b = slicesOf(histories, pb)
        const c = slicesOf(histories, pc)
        const left = checkedRegistry(counted)
        left.reg.mergeSnapshot(a)
        left.reg.mergeSnapshot(b)
        left.reg.mergeSnapshot(c)
        const bc = checkedRegistry(counted)
        bc.reg.mergeSnapshot(b)
        bc.reg.mergeSnapshot(c)
        const right = checkedRegistry(counted)
        right.reg.mergeSnapshot(a)
        right.reg.mergeSnapshot(bc.reg.snapshot())
        // And (A ⊔ B) taken as a snapshot, then C.
        const abSnap = checkedRegistry(counted)
        abSnap.reg.mergeSnapshot(a)
        abSnap.reg.mergeSnapshot(b)
        const left2 = checkedRegistry(counted)
        left2.reg.mergeSnapshot(abSnap.reg.snapshot())
        left2.reg.mergeSnapshot(c)
        const s1 = stateOf(left)
        expect(stateOf(right)).toEqual(s1)
        expect(stateOf(left2)).toEqual(s1)
        // The result holds, per owner, the highest version picked.
        for (const h of histories) {
          const seqs = [...a, ...b, ...c].filter((s) => s.owner === h.owner).map((s) => s.seq)
          expect(left.reg.seqOf(h.owner)).toBe(seqs.length === 0 ? 0 : Math.max(...seqs))
        }
      }),
      params,
    )
  })
})

// ---- the visible table against brute force -------------------------------------------

type Action =
  | { t: 'merge'; owner: number; v: number }
  | { t: 'delta'; owner: number; v: number; from: number; reason: number }
  | { t: 'count'; owner: number; on: boolean }
  | { t: 'drop'; owner: number }
  | { t: 'register'; name: string; pid: number; ms: number }
  | { t: 'unregister'; name: string }
  | { t: 'exit'; pid: number }
  | { t: 'withdraw' }
  | { t: 'restamp'; ms: number }

const ownerIx = fc.nat({ max: OWNERS.length - 1 })
const actionArb: fc.Arbitrary<Action> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ t: fc.constant('merge' as const), owner: ownerIx, v: fc.nat({ max: 9 }) }) },
  {
    weight: 4,
    arbitrary: fc.record({
      t: fc.constant('delta' as const),
      owner: ownerIx,
      v: fc.nat({ max: 9 }),
      // Mostly consecutive versions; sometimes from further back (a gap).
      from: fc.oneof({ weight: 4, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.integer({ min: 2, max: 3 }) }),
      reason: fc.constantFrom(DEL_UNREGISTER, DEL_EXIT, DEL_CONFLICT),
    }),
  },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('count' as const), owner: ownerIx, on: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('drop' as const), owner: ownerIx }) },
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant('register' as const),
      name: fc.constantFrom(...NAMES),
      pid: fc.integer({ min: 1, max: 3 }),
      ms: fc.integer({ min: 1, max: 6 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('unregister' as const), name: fc.constantFrom(...NAMES) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('exit' as const), pid: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 2, arbitrary: fc.constant({ t: 'withdraw' as const }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('restamp' as const), ms: fc.integer({ min: 1, max: 7 }) }) },
)

function claimsOf(reg: Registry, owner: string): Map<string, [number, number]> {
  const out = new Map<string, [number, number]>()
  const s = reg.slice(owner)
  if (s !== undefined) for (const c of s.names.values()) out.set(c.name, [c.pidId, c.at])
  return out
}

function run(histories: History[], actions: Action[]): void {
  const c = checkedRegistry()
  const reg = c.reg
  let counter = 0
  for (const a of actions) {
    switch (a.t) {
      case 'merge': {
        const h = histories[a.owner] as History
        const v = h.versions[a.v % h.versions.length] as Version
        const expected = !reg.has(h.owner) || v.seq > reg.seqOf(h.owner)
        expect(reg.mergeSlice(wholeOf(h, v)).merged).toBe(expected)
        if (expected) expect(claimsOf(reg, h.owner)).toEqual(v.names)
        break
      }
      case 'delta': {
        const h = histories[a.owner] as History
        const i = a.v % h.versions.length
        const to = h.versions[i] as Version
        const fromIx = i - a.from
        const from = fromIx < 0 ? undefined : h.versions[fromIx]
        const d = deltaOf(h, from, to, a.reason)
        const held = reg.seqOf(h.owner)
        const result = reg.applyDelta(d)
        const expected = d.seq <= held ? 'duplicate' : d.prevSeq !== held ? 'gap' : 'applied'
        expect(result.status).toBe(expected)
        // A delta applied on top of the version it was made from gives the next version.
        if (expected === 'applied') {
          expect(claimsOf(reg, h.owner)).toEqual(to.names)
          expect([...(reg.clientsOf(h.owner) ?? [])].sort()).toEqual(to.clients)
        }
        if (expected !== 'applied') expect(reg.seqOf(h.owner)).toBe(held)
        break
      }
      case 'count':
        reg.setCounted(OWNERS[a.owner] as string, a.on)
        expect(reg.isCounted(OWNERS[a.owner] as string)).toBe(a.on)
        break
      case 'drop':
        reg.drop(OWNERS[a.owner] as string)
        break
      case 'register': {
        const visible = reg.whereis(a.name) !== undefined
        expect(reg.register(a.name, a.pid, st(a.ms, 2))).toBe(!visible)
        break
      }
      case 'unregister': {
        const had = reg.ownClaim(a.name) !== undefined
        expect(reg.unregister(a.name)).toBe(had)
        expect(reg.ownClaim(a.name)).toBeUndefined()
        break
      }
      case 'exit':
        reg.cleanupProcess(a.pid)
        expect(reg.namesOf(a.pid)).toEqual([])
        break
      case 'withdraw':
        // What the global service does with beaten claims.
        for (const claim of reg.takeBeaten()) {
          const w = reg.winner(claim.name)
          if (w === undefined || w === claim) continue
          expect(reg.unregister(claim.name, DEL_CONFLICT)).toBe(true)
        }
        break
      case 'restamp':
        reg.restampOwn(() => st(a.ms, 3) + counter++)
        break
    }
    expect(c.problems).toEqual([])
    expect(table(reg)).toEqual(bruteForce(reg))
    for (const [name, owner, pidId] of table(reg)) {
      const p = reg.whereis(name)
      expect(p?.node).toBe(owner)
      expect(p?.id).toBe(pidId)
    }
    expect(new Map(table(reg).map(([n, o, p]) => [n, `<${o}.${p}>`]))).toEqual(c.mirror)
    expect(reg.size).toBe(reg.names().length)
  }
}

describe('registry properties: the visible table', () => {
  it('always equals the brute-force winners among counted slices, and the events replay it', () => {
    fc.assert(
      fc.property(historiesArb, fc.array(actionArb, { minLength: 1, maxLength: 40 }), (histories, actions) => {
        run(histories, actions)
      }),
      params,
    )
  })

  it('converges: any two delivery orders of the same slices give the same table', () => {
    fc.assert(
      fc.property(
        historiesArb,
        fc.subarray([...OWNERS]),
        fc.array(fc.tuple(ownerIx, fc.nat({ max: 9 })), { maxLength: 15 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        (histories, counted, picks, swaps) => {
          // Deliver each pick as a delta when it fits, else as a whole slice (repair).
          const deliver = (c: Checked, order: Array<[number, number]>): void => {
            for (const [o, v] of order) {
              const h = histories[o] as History
              const i = v % h.versions.length
              const to = h.versions[i] as Version
              const d = deltaOf(h, i === 0 ? undefined : h.versions[i - 1], to, DEL_UNREGISTER)
              if (c.reg.applyDelta(d).status === 'gap') c.reg.mergeSlice(wholeOf(h, to))
            }
          }
          const x = checkedRegistry(counted)
          deliver(x, picks)
          const shuffled = [...picks]
          for (let k = 0; k + 1 < swaps.length && shuffled.length > 1; k += 2) {
            const i = (swaps[k] as number) % shuffled.length
            const j = (swaps[k + 1] as number) % shuffled.length
            ;[shuffled[i], shuffled[j]] = [shuffled[j] as [number, number], shuffled[i] as [number, number]]
          }
          const y = checkedRegistry(counted)
          deliver(y, shuffled)
          // Same highest version per owner, so the same slices and the same table.
          expect(stateOf(y, true)).toEqual(stateOf(x, true))
          expect(table(x.reg)).toEqual(bruteForce(x.reg))
        },
      ),
      params,
    )
  })
})
