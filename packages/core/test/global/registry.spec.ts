/**
 * The pure registry (src/global/registry.ts): own slice, other owners' slices by the
 * seq rules, counted owners, the winner rule and the events it reports.
 */
import { COUNTER_SPAN } from '../../src/node/hlc.js'
import { describe, expect, it } from 'vitest'
import { Registry, type RegistryEvents } from '../../src/global/registry.js'
import type { ClaimCheck, WholeSlice } from '../../src/node/slice-store.js'
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
import { Pid } from '../../src/wire/pid.js'

// Owner ids sort as A < SELF < Z (the tie-break on equal stamps is by owner id).
const SELF = 'm@self'
const A = 'a@0001'
const P = 'p@0002'
const C = 'c@0003'
const Z = 'z@0004'

/** A stamp: ms * COUNTER_SPAN + counter. */
const st = (ms: number, counter = 0): number => ms * COUNTER_SPAN + counter

function delta(owner: string, prevSeq: number, seq: number, ops: unknown[]): Delta {
  return { owner, prevSeq, seq, clock: 0, ops }
}

function whole(owner: string, seq: number, names: unknown[], role = ROLE_CLIENT, clients: string[] | null = null): WholeSlice {
  return { owner, seq, role, clients: role === ROLE_PEER ? (clients ?? []) : null, names }
}

/** Events as readable lines, in order. */
function recorder(): { log: string[]; events: RegistryEvents; take(): string[] } {
  const log: string[] = []
  return {
    log,
    events: {
      register: (name, pid) => log.push(`register ${name} ${pid}`),
      unregister: (name, pid, reason) => log.push(`unregister ${name} ${pid} ${reason}`),
      conflict: (name, winner, loser) => log.push(`conflict ${name} ${winner} ${loser}`),
    },
    take() {
      return log.splice(0, log.length)
    },
  }
}

function setup(selfId = SELF, role = ROLE_CLIENT, now?: () => number) {
  const rec = recorder()
  const reg = new Registry(selfId, { events: rec.events, role, ...(now ? { now } : {}) })
  return { reg, rec }
}

const pid = (node: string, id: number): string => new Pid(node, id).toString()

/** Puts `names` (flat name, pidId, at) into a counted remote owner's slice at seq 1. */
function remote(reg: Registry, owner: string, names: unknown[], counted = true): void {
  if (counted) reg.setCounted(owner, true)
  const ops: unknown[] = []
  for (let i = 0; i < names.length; i += 3) ops.push(OP_PUT, names[i], names[i + 1], names[i + 2])
  const prev = reg.seqOf(owner)
  expect(reg.applyDelta(delta(owner, prev, prev + 1, ops)).status).toBe('applied')
}

describe('registry: own slice', () => {
  it('register makes the name visible and reports it', () => {
    const { reg, rec } = setup()
    expect(reg.register('room', 1, st(100))).toBe(true)
    const found = reg.whereis('room')
    expect(found).toBeInstanceOf(Pid)
    expect(found?.equals(new Pid(SELF, 1))).toBe(true)
    expect(reg.names()).toEqual(['room'])
    expect(reg.size).toBe(1)
    expect(reg.ownClaim('room')?.at).toBe(st(100))
    expect(reg.winner('room')?.owner).toBe(SELF)
    expect(rec.take()).toEqual([`register room ${pid(SELF, 1)}`])
  })

  it('a duplicate register is false, even for the same pid, and reports nothing', () => {
    const { reg, rec } = setup()
    expect(reg.register('room', 1, st(100))).toBe(true)
    rec.take()
    expect(reg.register('room', 1, st(100))).toBe(false)
    expect(reg.register('room', 1, st(50))).toBe(false)
    expect(reg.register('room', 2, st(101))).toBe(false)
    expect(reg.whereis('room')?.equals(new Pid(SELF, 1))).toBe(true)
    expect(rec.take()).toEqual([])
    // One pid may hold several names.
    expect(reg.register('hall', 1, st(102))).toBe(true)
    expect(reg.namesOf(1).sort()).toEqual(['hall', 'room'])
  })

  it('register is false for a name another counted owner holds', () => {
    const { reg, rec } = setup()
    remote(reg, P, ['room', 9, st(500)])
    rec.take()
    expect(reg.register('room', 1, st(1))).toBe(false)
    expect(reg.ownClaim('room')).toBeUndefined()
    expect(reg.whereis('room')?.equals(new Pid(P, 9))).toBe(true)
    expect(rec.take()).toEqual([])
  })

  it('whereis of an unknown name is undefined; names() is sorted', () => {
    const { reg } = setup()
    expect(reg.whereis('nope')).toBeUndefined()
    reg.register('b', 1, st(1))
    reg.register('c', 2, st(2))
    reg.register('a', 3, st(3))
    remote(reg, P, ['aa', 1, st(4), 'B', 2, st(5)])
    expect(reg.names()).toEqual(['B', 'a', 'aa', 'b', 'c'])
  })

  it('unregister removes only own claims, reporting reason unregister', () => {
    const { reg, rec } = setup()
    reg.register('mine', 1, st(1))
    remote(reg, P, ['theirs', 4, st(2)])
    rec.take()
    expect(reg.unregister('theirs')).toBe(false)
    expect(reg.whereis('theirs')?.equals(new Pid(P, 4))).toBe(true)
    expect(reg.unregister('missing')).toBe(false)
    expect(rec.take()).toEqual([])
    expect(reg.unregister('mine')).toBe(true)
    expect(rec.take()).toEqual([`unregister mine ${pid(SELF, 1)} unregister`])
    expect(reg.whereis('mine')).toBeUndefined()
    expect(reg.names()).toEqual(['theirs'])
    expect(reg.unregister('mine')).toBe(false)
    expect(reg.namesOf(1)).toEqual([])
    // The name is free again.
    expect(reg.register('mine', 2, st(3))).toBe(true)
  })

  it('own changes are batched into one delta per takeOwnDelta, and replicate', () => {
    const { reg } = setup()
    let notified = 0
    reg.onOwnChange = () => notified++
    expect(reg.takeOwnDelta(1)).toBeNull()
    reg.register('a', 1, st(10))
    reg.register('b', 2, st(11))
    reg.unregister('a')
    expect(notified).toBe(1)
    const d1 = reg.takeOwnDelta(12345)
    expect(d1).toEqual({
      owner: SELF,
      prevSeq: 0,
      seq: 1,
      clock: 12345,
      ops: [OP_PUT, 'a', 1, st(10), OP_PUT, 'b', 2, st(11), OP_DEL, 'a', DEL_UNREGISTER],
    })
    expect(reg.takeOwnDelta(1)).toBeNull()
    expect(reg.seqOf(SELF)).toBe(1)
    reg.register('c', 3, st(12))
    expect(notified).toBe(2)
    const d2 = reg.takeOwnDelta(2)
    expect(d2).toMatchObject({ prevSeq: 1, seq: 2, ops: [OP_PUT, 'c', 3, st(12)] })

    // Another node that counts SELF and applies the deltas sees the same table.
    const other = setup('o@0009')
    other.reg.setCounted(SELF, true)
    expect(other.reg.applyDelta(d1 as Delta).status).toBe('applied')
    expect(other.reg.applyDelta(d2 as Delta).status).toBe('applied')
    expect(other.reg.names()).toEqual(['b', 'c'])
    expect(other.reg.whereis('c')?.equals(new Pid(SELF, 3))).toBe(true)
    expect(other.reg.seqOf(SELF)).toBe(2)
    expect(other.rec.take()).toEqual([
      `register a ${pid(SELF, 1)}`,
      `register b ${pid(SELF, 2)}`,
      `unregister a ${pid(SELF, 1)} unregister`,
      `register c ${pid(SELF, 3)}`,
    ])
  })

  it('cleanupProcess unregisters every name of the pid with reason exit', () => {
    const { reg, rec } = setup()
    reg.register('x', 7, st(1))
    reg.register('y', 7, st(2))
    reg.register('z', 8, st(3))
    reg.takeOwnDelta(0)
    rec.take()
    expect(reg.cleanupProcess(7).sort()).toEqual(['x', 'y'])
    expect(rec.take().sort()).toEqual([`unregister x ${pid(SELF, 7)} exit`, `unregister y ${pid(SELF, 7)} exit`])
    expect(reg.names()).toEqual(['z'])
    expect(reg.namesOf(7)).toEqual([])
    expect(reg.namesOf(8)).toEqual(['z'])
    const d = reg.takeOwnDelta(0)
    expect(d?.ops).toHaveLength(6)
    expect(d?.ops.slice(0, 3)).toEqual([OP_DEL, expect.any(String), DEL_EXIT])
    expect(d?.ops.slice(3)).toEqual([OP_DEL, expect.any(String), DEL_EXIT])
    expect(reg.cleanupProcess(7)).toEqual([])
    expect(reg.cleanupProcess(99)).toEqual([])

    // On another node the exit reason travels with the delta.
    const other = setup('o@0009')
    other.reg.setCounted(SELF, true)
    other.reg.mergeSlice(whole(SELF, 1, ['x', 7, st(1), 'y', 7, st(2), 'z', 8, st(3)]))
    other.rec.take()
    expect(other.reg.applyDelta(d as Delta).status).toBe('applied')
    expect(other.rec.take().sort()).toEqual([`unregister x ${pid(SELF, 7)} exit`, `unregister y ${pid(SELF, 7)} exit`])
  })

  it("a peer's clients list changes travel as deltas and are reported as clientsChanged", () => {
    const home = setup(P, ROLE_PEER)
    home.reg.addClient(C)
    home.reg.addClient(C) // already listed: no op
    home.reg.addClient(Z)
    const d1 = home.reg.takeOwnDelta(0) as Delta
    expect(d1.ops).toEqual([OP_CLIENT_ADD, C, OP_CLIENT_ADD, Z])
    home.reg.removeClient(Z, 'closed')
    home.reg.removeClient(Z, 'closed') // not listed: no op
    const d2 = home.reg.takeOwnDelta(0) as Delta
    expect(d2.ops).toEqual([OP_CLIENT_DEL, Z, 'closed'])

    const { reg } = setup()
    reg.setCounted(P, true)
    const r1 = reg.applyDelta(d1)
    expect(r1).toMatchObject({ status: 'applied', clientsChanged: true, refused: null, acceptedOps: null })
    expect([...(reg.clientsOf(P) ?? [])].sort()).toEqual([C, Z])
    expect(reg.roleOf(P)).toBe(ROLE_PEER)
    expect(reg.applyDelta(d2)).toMatchObject({ status: 'applied', clientsChanged: true })
    expect([...(reg.clientsOf(P) ?? [])]).toEqual([C])
    // A delta that re-adds a listed client changes nothing.
    expect(reg.applyDelta(delta(P, 2, 3, [OP_CLIENT_ADD, C]))).toMatchObject({ status: 'applied', clientsChanged: false })
    // A client registry never lists clients.
    const client = setup('k@0005')
    client.reg.addClient(C)
    expect(client.reg.takeOwnDelta(0)).toBeNull()
  })
})

describe('registry: counted owners', () => {
  it("a client's departure: the home drops it from its clients list, then its slice is hidden (reason nodedown)", () => {
    let now = 1000
    const { reg, rec } = setup(SELF, ROLE_CLIENT, () => now)
    reg.setCounted(P, true)
    expect(reg.applyDelta(delta(P, 0, 1, [OP_CLIENT_ADD, C])).clientsChanged).toBe(true)
    remote(reg, C, ['c1', 1, st(1), 'c2', 2, st(2)])
    remote(reg, P, ['p1', 1, st(3)])
    rec.take()
    expect(reg.names()).toEqual(['c1', 'c2', 'p1'])

    const gone = reg.applyDelta(delta(P, reg.seqOf(P), reg.seqOf(P) + 1, [OP_CLIENT_DEL, C, 'closed']))
    expect(gone).toMatchObject({ status: 'applied', clientsChanged: true })
    expect(reg.clientsOf(P)?.has(C)).toBe(false)
    // The membership layer reacts to clientsChanged by uncounting the client.
    now = 2500
    reg.setCounted(C, false)
    expect(rec.take().sort()).toEqual([`unregister c1 ${pid(C, 1)} nodedown`, `unregister c2 ${pid(C, 2)} nodedown`])
    expect(reg.names()).toEqual(['p1'])
    expect(reg.whereis('c1')).toBeUndefined()
    expect(reg.isCounted(C)).toBe(false)
    expect(reg.hiddenSince(C)).toBe(2500)
    // Kept as a cache until dropped.
    expect(reg.has(C)).toBe(true)
    expect(reg.sizeOf(C)).toBe(2)
    reg.setCounted(C, false) // again: nothing
    expect(rec.take()).toEqual([])
    reg.drop(C)
    expect(reg.has(C)).toBe(false)
  })

  it('hiding an owner shows the next claim in line for its names', () => {
    const { reg, rec } = setup()
    remote(reg, A, ['x', 1, st(10)])
    remote(reg, Z, ['x', 2, st(20)])
    rec.take()
    expect(reg.whereis('x')?.equals(new Pid(A, 1))).toBe(true)
    reg.setCounted(A, false)
    expect(rec.take()).toEqual([`unregister x ${pid(A, 1)} nodedown`, `register x ${pid(Z, 2)}`])
    reg.setCounted(A, true)
    expect(rec.take()).toEqual([`unregister x ${pid(Z, 2)} conflict`, `register x ${pid(A, 1)}`])
    expect(reg.whereis('x')?.equals(new Pid(A, 1))).toBe(true)
  })

  it('uncounted owners are hidden and their names come back on setCounted(true)', () => {
    let now = 7
    const { reg, rec } = setup(SELF, ROLE_CLIENT, () => now)
    // A slice of an owner nobody counts yet: stored, not visible.
    expect(reg.applyDelta(delta(P, 0, 1, [OP_PUT, 'n1', 1, st(1), OP_PUT, 'n2', 2, st(2)])).status).toBe('applied')
    expect(reg.has(P)).toBe(true)
    expect(reg.isCounted(P)).toBe(false)
    expect(reg.names()).toEqual([])
    expect(reg.whereis('n1')).toBeUndefined()
    expect(rec.take()).toEqual([])
    // While hidden, a local register of the same name succeeds.
    expect(reg.register('n2', 5, st(9))).toBe(true)
    rec.take()

    reg.setCounted(P, true)
    expect(reg.hiddenSince(P)).toBeUndefined()
    expect(rec.take()).toEqual([
      `register n1 ${pid(P, 1)}`,
      `unregister n2 ${pid(SELF, 5)} conflict`,
      `register n2 ${pid(P, 2)}`,
      `conflict n2 ${pid(P, 2)} ${pid(SELF, 5)}`,
    ])
    expect(reg.names()).toEqual(['n1', 'n2'])

    now = 50
    reg.setCounted(P, false)
    expect(reg.hiddenSince(P)).toBe(50)
    expect(reg.whereis('n1')).toBeUndefined()
    // Our own (beaten, not yet withdrawn) claim is visible again once P is hidden.
    expect(reg.whereis('n2')?.equals(new Pid(SELF, 5))).toBe(true)
    expect(rec.take()).toEqual([
      `unregister n1 ${pid(P, 1)} nodedown`,
      `unregister n2 ${pid(P, 2)} nodedown`,
      `register n2 ${pid(SELF, 5)}`,
    ])
    // Deltas for a hidden slice still apply (kept current) without events.
    expect(reg.applyDelta(delta(P, 1, 2, [OP_DEL, 'n1', DEL_UNREGISTER, OP_PUT, 'n3', 3, st(3)])).status).toBe('applied')
    expect(rec.take()).toEqual([])
    reg.unregister('n2')
    rec.take()
    reg.setCounted(P, true)
    expect(rec.take().sort()).toEqual([`register n2 ${pid(P, 2)}`, `register n3 ${pid(P, 3)}`])
    expect(reg.names()).toEqual(['n2', 'n3'])
  })

  it('setCounted(self) is ignored, counting an unknown owner makes an empty slice, drop keeps counted ones', () => {
    const { reg, rec } = setup()
    reg.register('x', 1, st(1))
    rec.take()
    reg.setCounted(SELF, false)
    expect(reg.isCounted(SELF)).toBe(true)
    expect(reg.names()).toEqual(['x'])
    reg.setCounted(Z, false) // unknown and uncounted: nothing to keep
    expect(reg.has(Z)).toBe(false)
    reg.setCounted(Z, true)
    expect(reg.has(Z)).toBe(true)
    expect(reg.seqOf(Z)).toBe(0)
    reg.drop(Z)
    expect(reg.has(Z)).toBe(true)
    reg.drop(SELF)
    expect(reg.has(SELF)).toBe(true)
    expect(rec.take()).toEqual([])
  })
})

describe('registry: conflicts', () => {
  it('an older remote claim beats the local one: unregister(conflict), register, conflict, takeBeaten', () => {
    const { reg, rec } = setup()
    reg.register('x', 1, st(200))
    reg.takeOwnDelta(0)
    rec.take()
    remote(reg, P, ['x', 5, st(100)])
    expect(rec.take()).toEqual([
      `unregister x ${pid(SELF, 1)} conflict`,
      `register x ${pid(P, 5)}`,
      `conflict x ${pid(P, 5)} ${pid(SELF, 1)}`,
    ])
    expect(reg.whereis('x')?.equals(new Pid(P, 5))).toBe(true)
    const beaten = reg.takeBeaten()
    expect(beaten).toHaveLength(1)
    expect(beaten[0]?.name).toBe('x')
    expect(beaten[0]?.owner).toBe(SELF)
    expect(beaten[0]?.pid.equals(new Pid(SELF, 1))).toBe(true)
    expect(reg.takeBeaten()).toEqual([])
    // The service withdraws it: no visible change, an OP_DEL with DEL_CONFLICT.
    expect(reg.unregister('x', DEL_CONFLICT)).toBe(true)
    expect(rec.take()).toEqual([])
    expect(reg.takeOwnDelta(0)?.ops).toEqual([OP_DEL, 'x', DEL_CONFLICT])
    expect(reg.whereis('x')?.equals(new Pid(P, 5))).toBe(true)
  })

  it('a newer remote claim loses to the local one and stays hidden until the local one goes', () => {
    const { reg, rec } = setup()
    reg.register('x', 1, st(100))
    rec.take()
    remote(reg, P, ['x', 5, st(200)])
    expect(rec.take()).toEqual([])
    expect(reg.whereis('x')?.equals(new Pid(SELF, 1))).toBe(true)
    expect(reg.takeBeaten()).toEqual([])
    reg.unregister('x')
    expect(rec.take()).toEqual([`unregister x ${pid(SELF, 1)} unregister`, `register x ${pid(P, 5)}`])
  })

  it('on equal stamps the smaller owner id wins, whatever the arrival order', () => {
    const at = st(300, 7)
    // Z first, then A.
    const r1 = setup()
    remote(r1.reg, Z, ['x', 2, at])
    remote(r1.reg, A, ['x', 1, at])
    expect(r1.rec.take()).toEqual([`register x ${pid(Z, 2)}`, `unregister x ${pid(Z, 2)} conflict`, `register x ${pid(A, 1)}`])
    expect(r1.reg.winner('x')?.owner).toBe(A)
    // A first, then Z.
    const r2 = setup()
    remote(r2.reg, A, ['x', 1, at])
    remote(r2.reg, Z, ['x', 2, at])
    expect(r2.rec.take()).toEqual([`register x ${pid(A, 1)}`])
    expect(r2.reg.winner('x')?.owner).toBe(A)
    // The counter part of the stamp counts before the owner id.
    const r3 = setup()
    remote(r3.reg, A, ['x', 1, st(300, 8)])
    remote(r3.reg, Z, ['x', 2, st(300, 7)])
    expect(r3.reg.winner('x')?.owner).toBe(Z)
  })

  it('a tie with a local claim: a smaller remote owner id beats it, a bigger one does not', () => {
    const at = st(400)
    const lose = setup()
    lose.reg.register('x', 1, at)
    lose.rec.take()
    remote(lose.reg, A, ['x', 9, at])
    expect(lose.rec.take()).toEqual([
      `unregister x ${pid(SELF, 1)} conflict`,
      `register x ${pid(A, 9)}`,
      `conflict x ${pid(A, 9)} ${pid(SELF, 1)}`,
    ])
    expect(lose.reg.takeBeaten().map((c) => c.name)).toEqual(['x'])

    const win = setup()
    win.reg.register('x', 1, at)
    win.rec.take()
    remote(win.reg, Z, ['x', 9, at])
    expect(win.rec.take()).toEqual([])
    expect(win.reg.takeBeaten()).toEqual([])
    expect(win.reg.whereis('x')?.equals(new Pid(SELF, 1))).toBe(true)
  })

  it('a claim replaced in its slice by an older one of another pid changes the winner with conflict events', () => {
    const { reg, rec } = setup()
    remote(reg, A, ['x', 1, st(50)])
    remote(reg, Z, ['x', 2, st(40)])
    expect(rec.take()).toEqual([`register x ${pid(A, 1)}`, `unregister x ${pid(A, 1)} conflict`, `register x ${pid(Z, 2)}`])
    // Z moves the name to another of its pids (same stamp order): one winner change.
    expect(reg.applyDelta(delta(Z, 1, 2, [OP_PUT, 'x', 3, st(41)])).status).toBe('applied')
    expect(rec.take()).toEqual([`unregister x ${pid(Z, 2)} conflict`, `register x ${pid(Z, 3)}`])
    // Same pid, new stamp: no visible change.
    expect(reg.applyDelta(delta(Z, 2, 3, [OP_PUT, 'x', 3, st(42)])).status).toBe('applied')
    expect(rec.take()).toEqual([])
    expect(reg.winner('x')?.at).toBe(st(42))
  })

  it('conflict is reported once per beaten claim until it is taken', () => {
    const { reg, rec } = setup()
    reg.register('x', 1, st(300))
    rec.take()
    remote(reg, Z, ['x', 2, st(200)])
    remote(reg, A, ['x', 3, st(100)])
    const lines = rec.take()
    expect(lines.filter((l) => l.startsWith('conflict'))).toEqual([`conflict x ${pid(Z, 2)} ${pid(SELF, 1)}`])
    expect(reg.whereis('x')?.equals(new Pid(A, 3))).toBe(true)
    expect(reg.takeBeaten().map((c) => c.name)).toEqual(['x'])
  })
})

describe('registry: seq rules', () => {
  it('a duplicate delta is dropped', () => {
    const { reg, rec } = setup()
    reg.setCounted(P, true)
    const d = delta(P, 0, 1, [OP_PUT, 'x', 1, st(1)])
    expect(reg.applyDelta(d).status).toBe('applied')
    rec.take()
    expect(reg.applyDelta(d)).toEqual({ status: 'duplicate', refused: null, acceptedOps: null, clientsChanged: false })
    // Any delta at or below the held seq, whatever it carries.
    expect(reg.applyDelta(delta(P, 0, 1, [OP_DEL, 'x', DEL_UNREGISTER])).status).toBe('duplicate')
    expect(rec.take()).toEqual([])
    expect(reg.whereis('x')?.equals(new Pid(P, 1))).toBe(true)
    expect(reg.seqOf(P)).toBe(1)
    // Own deltas echoed back are ignored too.
    expect(reg.applyDelta(delta(SELF, 0, 1, [OP_PUT, 'y', 1, st(1)])).status).toBe('duplicate')
    expect(reg.whereis('y')).toBeUndefined()
  })

  it("a delta across a gap is not applied; a whole slice repairs it and later deltas apply", () => {
    const { reg, rec } = setup()
    reg.setCounted(P, true)
    expect(reg.applyDelta(delta(P, 0, 1, [OP_PUT, 'a', 1, st(1)])).status).toBe('applied')
    rec.take()
    // seq 2 (put b) was lost; seq 3 arrives.
    const d3 = delta(P, 2, 3, [OP_PUT, 'c', 3, st(3), OP_DEL, 'a', DEL_UNREGISTER])
    expect(reg.applyDelta(d3)).toEqual({ status: 'gap', refused: null, acceptedOps: null, clientsChanged: false })
    expect(reg.seqOf(P)).toBe(1)
    expect(reg.names()).toEqual(['a'])
    expect(rec.take()).toEqual([])
    // The repair: the whole slice at seq 2.
    expect(reg.mergeSlice(whole(P, 2, ['a', 1, st(1), 'b', 2, st(2)]))).toEqual({ merged: true, refused: null })
    expect(rec.take()).toEqual([`register b ${pid(P, 2)}`])
    expect(reg.seqOf(P)).toBe(2)
    expect(reg.applyDelta(d3).status).toBe('applied')
    expect(reg.names()).toEqual(['b', 'c'])
    expect(reg.applyDelta(delta(P, 3, 4, [OP_PUT, 'd', 4, st(4)])).status).toBe('applied')
    expect(reg.names()).toEqual(['b', 'c', 'd'])
    expect(reg.seqOf(P)).toBe(4)
  })

  it('a first delta that does not start at seq 0 is a gap and creates no slice', () => {
    const { reg } = setup()
    expect(reg.applyDelta(delta(Z, 4, 5, [OP_PUT, 'x', 1, st(1)])).status).toBe('gap')
    expect(reg.has(Z)).toBe(false)
  })

  it('a whole slice replaces the held one only when its seq is higher', () => {
    const { reg, rec } = setup()
    reg.setCounted(P, true)
    expect(reg.mergeSlice(whole(P, 5, ['x', 1, st(1), 'y', 2, st(2)])).merged).toBe(true)
    rec.take()
    expect(reg.mergeSlice(whole(P, 5, ['z', 3, st(3)])).merged).toBe(false)
    expect(reg.mergeSlice(whole(P, 4, ['z', 3, st(3)])).merged).toBe(false)
    expect(reg.names()).toEqual(['x', 'y'])
    expect(rec.take()).toEqual([])
    expect(reg.mergeSlice(whole(P, 6, ['y', 2, st(2), 'z', 3, st(3)])).merged).toBe(true)
    expect(rec.take().sort()).toEqual([`register z ${pid(P, 3)}`, `unregister x ${pid(P, 1)} unregister`])
    expect(reg.names()).toEqual(['y', 'z'])
    // Our own slice is never replaced from outside.
    expect(reg.mergeSlice(whole(SELF, 99, ['evil', 1, st(1)])).merged).toBe(false)
    expect(reg.whereis('evil')).toBeUndefined()
  })

  it('a stale snapshot arriving after an unregister never brings the name back (zombie entry)', () => {
    // The owner P registers x (seq 1) then unregisters it (seq 2).
    const owner = setup(P)
    owner.reg.register('x', 1, st(10))
    const d1 = owner.reg.takeOwnDelta(10) as Delta
    const staleSnapshot = owner.reg.snapshot()
    owner.reg.unregister('x')
    const d2 = owner.reg.takeOwnDelta(11) as Delta

    const { reg, rec } = setup()
    reg.setCounted(P, true)
    expect(reg.applyDelta(d1).status).toBe('applied')
    expect(reg.applyDelta(d2).status).toBe('applied')
    expect(rec.take()).toEqual([`register x ${pid(P, 1)}`, `unregister x ${pid(P, 1)} unregister`])
    // A sync taken before the unregister arrives late, over another path.
    reg.mergeSnapshot(staleSnapshot)
    expect(reg.whereis('x')).toBeUndefined()
    expect(reg.names()).toEqual([])
    expect(reg.seqOf(P)).toBe(2)
    expect(rec.take()).toEqual([])
    // And the stale delta alone is a duplicate.
    expect(reg.applyDelta(d1).status).toBe('duplicate')
    expect(reg.whereis('x')).toBeUndefined()

    // Same race with the newer state arriving as a whole slice first.
    const other = setup('o@0009')
    other.reg.setCounted(P, true)
    other.reg.mergeSnapshot(owner.reg.snapshot())
    other.reg.mergeSnapshot(staleSnapshot)
    expect(other.reg.applyDelta(d1).status).toBe('duplicate')
    expect(other.reg.whereis('x')).toBeUndefined()
    expect(other.rec.take()).toEqual([])
  })

  it('a ClaimCheck refusing a claim: refused list, acceptedOps without it, seq still advanced', () => {
    const { reg, rec } = setup(P, ROLE_PEER)
    reg.setCounted(C, true)
    expect(reg.applyDelta(delta(C, 0, 1, [OP_PUT, 'old', 1, st(1)])).status).toBe('applied')
    rec.take()
    const calls: string[] = []
    const check: ClaimCheck = (owner, name, at) => {
      calls.push(`${owner} ${name} ${at}`)
      return name.startsWith('bad') ? 'QUOTA' : null
    }
    const ops = [
      OP_PUT, 'ok1', 2, st(2),
      OP_PUT, 'bad1', 3, st(3),
      OP_DEL, 'old', DEL_UNREGISTER,
      OP_PUT, 'bad2', 4, st(4),
      OP_PUT, 'ok2', 5, st(5),
    ]
    const r = reg.applyDelta(delta(C, 1, 2, ops), check)
    expect(r.status).toBe('applied')
    expect(r.refused).toEqual([
      ['bad1', 'QUOTA'],
      ['bad2', 'QUOTA'],
    ])
    expect(r.acceptedOps).toEqual([OP_PUT, 'ok1', 2, st(2), OP_DEL, 'old', DEL_UNREGISTER, OP_PUT, 'ok2', 5, st(5)])
    expect(calls).toEqual([`${C} ok1 ${st(2)}`, `${C} bad1 ${st(3)}`, `${C} bad2 ${st(4)}`, `${C} ok2 ${st(5)}`])
    expect(reg.seqOf(C)).toBe(2)
    expect(reg.names()).toEqual(['ok1', 'ok2'])
    expect(reg.whereis('bad1')).toBeUndefined()
    expect(reg.slice(C)?.names.has('bad2')).toBe(false)
    expect(rec.take().sort()).toEqual([`register ok1 ${pid(C, 2)}`, `register ok2 ${pid(C, 5)}`, `unregister old ${pid(C, 1)} unregister`].sort())
    // The next delta applies on top (seqs stay in step with the client).
    expect(reg.applyDelta(delta(C, 2, 3, [OP_DEL, 'ok1', DEL_UNREGISTER]), check).status).toBe('applied')
    // Nothing refused: acceptedOps stays null (forward the delta as it came).
    const r2 = reg.applyDelta(delta(C, 3, 4, [OP_PUT, 'fine', 6, st(6)]), check)
    expect(r2).toMatchObject({ status: 'applied', refused: null, acceptedOps: null })
  })

  it('a ClaimCheck sees only claims new to the receiver', () => {
    const { reg } = setup(P, ROLE_PEER)
    reg.setCounted(C, true)
    const calls: string[] = []
    const check: ClaimCheck = (_owner, name) => {
      calls.push(name)
      return null
    }
    expect(reg.mergeSlice(whole(C, 1, ['a', 1, st(1), 'b', 2, st(2)]), check)).toEqual({ merged: true, refused: null })
    expect(calls).toEqual(['a', 'b'])
    calls.length = 0
    // The same claims again in a newer slice, plus one new one and a re-stamped one.
    expect(reg.mergeSlice(whole(C, 2, ['a', 1, st(1), 'b', 2, st(9), 'c', 3, st(3)]), check).merged).toBe(true)
    expect(calls).toEqual(['b', 'c'])
    calls.length = 0
    expect(reg.applyDelta(delta(C, 2, 3, [OP_PUT, 'a', 1, st(1), OP_PUT, 'd', 4, st(4)]), check).status).toBe('applied')
    expect(calls).toEqual(['d'])
  })

  it('mergeSlice with a ClaimCheck leaves refused claims out', () => {
    const { reg } = setup(P, ROLE_PEER)
    reg.setCounted(C, true)
    const check: ClaimCheck = (_owner, name) => (name === 'no' ? 'NOT_AUTHORIZED' : null)
    expect(reg.mergeSlice(whole(C, 3, ['yes', 1, st(1), 'no', 2, st(2)]), check)).toEqual({
      merged: true,
      refused: [['no', 'NOT_AUTHORIZED']],
    })
    expect(reg.names()).toEqual(['yes'])
    expect(reg.seqOf(C)).toBe(3)
  })
})

describe('registry: restamp and snapshots', () => {
  it('restampOwn keeps names visible without events when nothing beats them', () => {
    const { reg, rec } = setup()
    reg.register('a', 1, st(10))
    reg.register('b', 2, st(11))
    reg.takeOwnDelta(0)
    reg.register('c', 3, st(12)) // pending: part of the whole slice sent next
    remote(reg, Z, ['a', 9, st(500)]) // a newer claim that still loses after the restamp
    rec.take()
    const seqBefore = reg.seqOf(SELF)
    let next = st(100)
    reg.restampOwn(() => next++)
    expect(rec.take()).toEqual([])
    expect(reg.names()).toEqual(['a', 'b', 'c'])
    expect(reg.whereis('a')?.equals(new Pid(SELF, 1))).toBe(true)
    expect(reg.whereis('c')?.equals(new Pid(SELF, 3))).toBe(true)
    expect([reg.ownClaim('a')?.at, reg.ownClaim('b')?.at, reg.ownClaim('c')?.at].sort()).toEqual([st(100), st(100) + 1, st(100) + 2])
    expect(reg.seqOf(SELF)).toBe(seqBefore + 1)
    expect(reg.takeOwnDelta(0)).toBeNull()
    expect(reg.takeBeaten()).toEqual([])
    const self = reg.snapshot().find((s) => s.owner === SELF)
    expect(self?.seq).toBe(seqBefore + 1)
    expect(self?.names).toHaveLength(9)
  })

  it('restampOwn past an older remote claim makes the own claim lose', () => {
    const { reg, rec } = setup()
    reg.register('x', 1, st(100))
    remote(reg, P, ['x', 5, st(150)])
    rec.take()
    reg.restampOwn(() => st(200))
    expect(rec.take()).toEqual([
      `unregister x ${pid(SELF, 1)} conflict`,
      `register x ${pid(P, 5)}`,
      `conflict x ${pid(P, 5)} ${pid(SELF, 1)}`,
    ])
    expect(reg.takeBeaten().map((c) => c.name)).toEqual(['x'])
  })

  it('snapshot lists every held slice whole; mergeSnapshot elsewhere gives the same table', () => {
    const { reg } = setup(P, ROLE_PEER)
    reg.register('p1', 1, st(1))
    reg.addClient(C)
    reg.addClient(A)
    reg.takeOwnDelta(0)
    reg.setCounted(C, true)
    expect(reg.applyDelta(delta(C, 0, 1, [OP_PUT, 'c1', 7, st(2), OP_PUT, 'c2', 8, st(3)])).status).toBe('applied')
    expect(reg.applyDelta(delta(Z, 0, 1, [OP_PUT, 'hidden', 1, st(4)])).status).toBe('applied')
    const snap = reg.snapshot().sort((x, y) => (x.owner < y.owner ? -1 : 1))
    expect(snap).toEqual([
      { owner: C, seq: 1, role: ROLE_CLIENT, clients: null, names: ['c1', 7, st(2), 'c2', 8, st(3)] },
      { owner: P, seq: 1, role: ROLE_PEER, clients: [A, C], names: ['p1', 1, st(1)] },
      { owner: Z, seq: 1, role: ROLE_CLIENT, clients: null, names: ['hidden', 1, st(4)] },
    ])

    const other = setup('o@0009')
    other.reg.mergeSnapshot(snap)
    expect(other.reg.names()).toEqual([]) // nothing counted yet
    other.reg.setCounted(P, true)
    other.reg.setCounted(C, true)
    expect(other.reg.names()).toEqual(reg.names())
    expect(other.reg.names()).toEqual(['c1', 'c2', 'p1'])
    for (const n of reg.names()) expect(other.reg.whereis(n)?.equals(reg.whereis(n))).toBe(true)
    expect([...(other.reg.clientsOf(P) ?? [])].sort()).toEqual([A, C])
    // Merging it again changes nothing.
    const before = JSON.stringify(other.reg.snapshot())
    other.reg.mergeSnapshot(snap)
    expect(JSON.stringify(other.reg.snapshot())).toBe(before)
  })

  it('maxStampOf gives the greatest stamp of a slice', () => {
    const { reg } = setup()
    remote(reg, P, ['a', 1, st(5), 'b', 2, st(9, 3), 'c', 3, st(7)])
    expect(reg.maxStampOf(P)).toBe(st(9, 3))
    expect(reg.maxStampOf('nobody@0')).toBe(0)
  })
})
