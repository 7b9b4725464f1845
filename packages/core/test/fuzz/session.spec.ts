/**
 * Fuzz target 3: the Session state machine (src/session/session.ts) over a memory
 * link, before the handshake (garbage to a fresh session) and after it (a real
 * handshake by the fuzzer's RawPeer, then random and mutated frames). No handler may
 * throw into the link, every failure carries a documented code, a session never
 * opens without a valid proof, and it ends at most once.
 *
 * Replay: FLURRY_SEED=<seed printed> [FLURRY_FUZZ_INPUTS=<n>] npx vitest run packages/core/test/fuzz/session.spec.ts
 */
import { afterAll, describe, expect, it } from 'vitest'
import { FlurryError } from '../../src/base/error.js'
import { seededRandom } from '../../src/base/random.js'
import { memoryPair } from '../../src/link/memory.js'
import { createIdentity, type Identity } from '../../src/session/identity.js'
import { Session, type CloseReason, type SessionInit } from '../../src/session/session.js'
import { SimClock } from '../../src/testing/sim.js'
import { F } from '../../src/wire/frames.js'
import { WAYS, framed, randomBomb } from './bombs.js'
import { emptyContext, linkMessage, message, type Context } from './inputs.js'
import { DOCUMENTED, Findings, announce, expectNoFindings, watchProcess } from './oracle.js'
import { QueueScheduler, RawPeer } from './raw-peer.js'
import { Rng, fuzzTimeoutMs, inputOr, replay, runSeed, shareOf } from './rng.js'

const CLOSE_REASONS: readonly CloseReason[] = ['closed', 'goodbye', 'timeout', 'bad-frame', 'slow-consumer', 'auth-failed', 'version-mismatch', 'handshake-timeout', 'refused', 'local']
/** What a failed handshake may report (ERRORS.md §2: the handshake reasons' codes). */
const HANDSHAKE_CODES = ['BAD_FRAME', 'FRAME_TOO_LARGE', 'AUTH_FAILED', 'VERSION_MISMATCH', 'PROTOCOL', 'NOT_AUTHORIZED', 'CLOSED', 'TIMEOUT']
const HANDSHAKE_TYPES = [F.HELLO, F.HELLO, F.PROOF, F.PROOF, F.REFUSE, F.PING, F.GOODBYE, F.ERROR, F.DELTA, 0, 99]

const COOKIE = 'fuzz-cookie'
const CLIENT_COOKIE = 'fuzz-client-cookie'
const identities: Identity[] = ['target', 'fuzzer', 'other'].map((name, i) => createIdentity(name, seededRandom(1000 + i)))
const [targetId, fuzzerId] = identities as [Identity, Identity]

interface Watched {
  session: Session
  peer: RawPeer
  opened: number
  ended: number
  frames: number
  why: string
}

/** A target session and the fuzzer's RawPeer, joined by a memory pair on `sched`. */
function pair(findings: Findings, sched: QueueScheduler, clock: SimClock, rng: Rng, completeHandshake: boolean): Watched {
  const [mine, theirs] = memoryPair({ scheduler: sched, label: 'fuzz' })
  const targetRole = rng.chance(0.75) ? 'peer' : 'client'
  const fuzzerRole = targetRole === 'client' ? 'peer' : rng.chance(0.7) ? 'client' : 'peer'
  const withClientCookie = targetRole === 'peer' && rng.chance(0.5)
  const init: SessionInit = {
    link: theirs,
    initiator: false,
    identity: targetId,
    role: targetRole,
    listenUrl: targetRole === 'peer' ? 'memory://target' : null,
    cookie: COOKIE,
    clientCookie: withClientCookie ? CLIENT_COOKIE : undefined,
    versions: [1, 1],
    clock: clock.view(),
    clockMs: () => clock.now(),
    random: seededRandom(rng.int(2 ** 31)),
    heartbeatIntervalMs: 1000,
    heartbeatTimeoutMs: 5000,
    handshakeTimeoutMs: 10_000,
    maxFrameBytes: rng.chance(0.8) ? 1 << 20 : rng.pick([256, 1024, 70_000]),
    maxBufferedBytes: 1 << 20,
  }
  const w: Watched = { session: null as unknown as Session, peer: null as unknown as RawPeer, opened: 0, ended: 0, frames: 0, why: '' }
  const ended = (what: string): void => {
    w.ended++
    w.why = what
    if (w.ended > 1) findings.add(`session ended twice (${what})`)
  }
  w.session = new Session(init, {
    onopen: () => {
      w.opened++
      if (!completeHandshake) findings.add('a session opened without a valid proof')
    },
    onfail: (_s, err) => {
      ended(`onfail ${err.code}: ${err.message}`)
      findings.check(err, HANDSHAKE_CODES, 'onfail')
    },
    onframe: (s, type, frame) => {
      w.frames++
      if (!s.isOpen) findings.add(`onframe of type ${type} on a session that is ${s.state}`)
      if (!Array.isArray(frame) || frame[0] !== type) findings.add(`onframe type ${type} does not match the frame`)
    },
    onclose: (_s, reason, detail) => {
      ended('onclose')
      if (!CLOSE_REASONS.includes(reason)) findings.add(`undocumented close reason ${reason}`)
      if (typeof detail !== 'string') findings.add('close detail is not a string')
    },
    onclock: (_s, ms) => {
      if (typeof ms !== 'number' || !Number.isFinite(ms)) findings.add(`onclock with ${String(ms)}`)
    },
    onerror: (_s, err) => {
      // A remote's ERROR frame is reported with the code it carried: it must be one we document.
      if (!(err instanceof FlurryError)) findings.add('onerror with a non-FlurryError', err, String(err))
      else findings.check(err, [...DOCUMENTED], 'onerror')
    },
  })
  // A client may prove either cookie to a peer that has a client cookie; a peer only the cluster's.
  const cookie = fuzzerRole === 'client' && withClientCookie && rng.chance(0.5) ? CLIENT_COOKIE : COOKIE
  w.peer = new RawPeer({
    link: mine,
    identity: fuzzerId,
    role: fuzzerRole,
    cookie: completeHandshake ? cookie : 'wrong',
    seed: rng.int(2 ** 31),
    // Before the handshake, a real (wrong-cookie) proof now and then: crypto is slow.
    prove: completeHandshake || rng.chance(0.1),
    onframe: (f) => {
      if (f === null) return findings.add('the target sent bytes that do not parse')
      if (f[0] === F.REFUSE) findings.wireCode(f[1], 'REFUSE')
      if (f[0] === F.ERROR) findings.wireCode(f[1], 'ERROR')
    },
  })
  return w
}

/** Lets deliveries and the session's flush microtasks run until nothing is queued. */
async function settle(sched: QueueScheduler): Promise<void> {
  for (let round = 0; round < 50; round++) {
    sched.drain()
    await null
    await null
    if (sched.pending === 0) return
  }
}

describe('fuzz: session state machine', () => {
  const findings = new Findings('session')
  const stop = watchProcess(findings)
  afterAll(stop)
  const clock = new SimClock()
  const sched = new QueueScheduler()
  sched.onthrow = (err) => findings.add('a link delivery threw', err, String(err).slice(0, 300))

  it('before the handshake: garbage to a fresh session never opens it and fails it with a documented code', async () => {
    const inputs = shareOf(0.05)
    announce('session before the handshake', inputs)
    let failed = 0
    for (let i = 0; i < inputs; i++) {
      const rng = Rng.forInput(runSeed, i, 3)
      const w = pair(findings, sched, clock, rng, false)
      const ctx: Context = { ...emptyContext(), ids: [targetId.id, fuzzerId.id], self: fuzzerId.id, nowMs: () => clock.now() }
      // Sometimes the fuzzer's real HELLO and PROOF (with a wrong cookie or none) go first.
      if (rng.chance(0.5)) await settle(sched)
      const n = rng.range(1, 3)
      for (let k = 0; k < n; k++) {
        const bytes = inputOr(() =>
          rng.chance(0.05) ? message([framed(rng.int(WAYS), randomBomb(rng).value)]) : linkMessage(rng, ctx, undefined, HANDSHAKE_TYPES).bytes,
        )
        findings.current = { index: i, input: bytes }
        w.peer.send(bytes)
      }
      await settle(sched)
      if (w.ended === 0 && rng.chance(0.3)) {
        // No verdict yet: the handshake timer must end it, once, with TIMEOUT.
        for (let t = 0; t < 100 && clock.runNext(clock.now() + 20_000); t++);
        await settle(sched)
        // (A handler ends it: the compiler cannot see that the count moved.)
        if ((w.ended as number) !== 1) findings.add('a session stuck in its handshake outlived handshakeTimeoutMs')
      }
      if (w.ended > 0) failed++
      w.peer.close()
      w.session.close('local', 'input done', false)
      await settle(sched)
    }
    // Most garbage must end the handshake (a lone well-formed HELLO may leave it waiting).
    if (replay === null) expect(failed).toBeGreaterThan(inputs / 2)
    expectNoFindings(findings)
  }, fuzzTimeoutMs())

  it('after a real handshake: random and mutated frames never throw out of the session', async () => {
    const inputs = shareOf(0.08)
    announce('session after the handshake', inputs)
    let w: Watched | null = null
    let handshakes = 0
    let delivered = 0
    for (let i = 0; i < inputs; i++) {
      const rng = Rng.forInput(runSeed, i, 4)
      if (w === null || w.ended > 0 || w.peer.closed) {
        if (w !== null) {
          w.peer.close()
          await settle(sched)
        }
        w = pair(findings, sched, clock, rng, true)
        await settle(sched)
        handshakes++
        if (w.opened !== 1 || !w.peer.open) {
          findings.add(`a real handshake did not open`, undefined, `opened ${w.opened}, peer open ${w.peer.open}, ended ${w.ended}: ${w.why}`)
          w = null
          continue
        }
      }
      const ctx: Context = { ...emptyContext(), ids: [targetId.id, fuzzerId.id], self: fuzzerId.id, nowMs: () => clock.now() }
      const bytes = inputOr(() =>
        rng.chance(0.03)
          ? message([framed(rng.int(WAYS), randomBomb(rng).value)])
          : linkMessage(rng, ctx, { bytes: 0.5, frames: 10, mutant: 2, golden: 1 }).bytes,
      )
      findings.current = { index: i, input: bytes }
      const before = w.frames
      w.peer.send(bytes)
      await settle(sched)
      delivered += w.frames - before
      // Now and then time passes: heartbeats, and the timeout of a silent session.
      if (rng.chance(0.05)) {
        clock.advanceTo(clock.now() + rng.pick([1000, 6000]))
        for (let t = 0; t < 20 && clock.runNext(clock.now()); t++);
        await settle(sched)
      }
    }
    w?.peer.close()
    await settle(sched)
    console.log(`session after the handshake: ${handshakes} handshakes, ${delivered} frames delivered`)
    expect(handshakes).toBeGreaterThan(0)
    // Frames must get through to the layer above, not only fail the session.
    if (replay === null) expect(delivered).toBeGreaterThan(inputs / 10)
    expectNoFindings(findings)
  }, fuzzTimeoutMs())
})
