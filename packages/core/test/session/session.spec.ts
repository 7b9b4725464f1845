/**
 * Sessions (src/session/session.ts) over memory links, two Session objects at a
 * time: the handshake and its proofs, refusals, limits, heartbeats on a manual clock,
 * goodbye, and batching of outgoing frames.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { Clock, TimerHandle } from '../../src/base/clock.js'
import { FlurryError } from '../../src/base/error.js'
import { seededRandom } from '../../src/base/random.js'
import type { Link } from '../../src/link/link.js'
import { memoryPair, type MemoryLane, type MemoryScheduler } from '../../src/link/memory.js'
import { createIdentity, type Identity } from '../../src/session/identity.js'
import { BATCH_BYTES, Session, type CloseReason, type SessionInit } from '../../src/session/session.js'
import { encodeMessage, encodeValue, readFrames } from '../../src/wire/codec.js'
import { F, ROLE_PEER, deltaFrame, helloFrame, proofFrame, readCodeMessage } from '../../src/wire/frames.js'

// ---- helpers -----------------------------------------------------------------------

/** A clock that moves only when told to; timers fire in time order inside advance(). */
class ManualClock implements Clock {
  #now: number
  #ids = 0
  #timers = new Map<number, { at: number; fn: () => void }>()

  constructor(start = 1_000_000) {
    this.#now = start
  }
  now(): number {
    return this.#now
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = ++this.#ids
    this.#timers.set(id, { at: this.#now + Math.max(0, ms), fn })
    return id
  }
  clearTimeout(handle: TimerHandle): void {
    this.#timers.delete(handle as number)
  }
  get pending(): number {
    return this.#timers.size
  }
  advance(ms: number): void {
    const end = this.#now + ms
    for (let guard = 0; guard < 100_000; guard++) {
      let next: [number, { at: number; fn: () => void }] | undefined
      for (const entry of this.#timers) if (entry[1].at <= end && (next === undefined || entry[1].at < next[1].at || (entry[1].at === next[1].at && entry[0] < next[0]))) next = entry
      if (next === undefined) break
      this.#timers.delete(next[0])
      this.#now = next[1].at
      next[1].fn()
    }
    this.#now = end
  }
}

/** Delivers each task in its own macrotask (FIFO), except on lanes that are cut. */
class CuttableScheduler implements MemoryScheduler {
  readonly cut = new Set<string>()
  enqueue(lane: MemoryLane, task: () => void): void {
    if (this.cut.has(lane.label)) return
    setImmediate(task)
  }
}

/** Polls `cond` until it holds, failing after a deadline. */
async function waitFor(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 1))
  }
}

/** One macrotask turn: lets already-queued memory deliveries run (used only to check nothing more happens). */
const turn = (): Promise<void> => new Promise((r) => setImmediate(r))

/** Wraps a link to record every incoming link message as its list of frames. */
function tap(inner: Link, inbox: unknown[][][]): Link {
  const outer: Link = {
    kind: inner.kind,
    get bufferedAmount() {
      return inner.bufferedAmount
    },
    send: (data) => inner.send(data),
    close: (reason) => inner.close(reason),
    onmessage: null,
    onclose: null,
  }
  inner.onmessage = (data) => {
    const frames: unknown[][] = []
    try {
      readFrames(data, 1 << 30, (f) => frames.push(f as unknown[]))
    } catch {
      frames.push(['unreadable'])
    }
    inbox.push(frames)
    outer.onmessage?.(data)
  }
  inner.onclose = (reason) => outer.onclose?.(reason)
  return outer
}

interface Side {
  session: Session
  identity: Identity
  /** The link the session holds (send on it to inject raw bytes toward the other side). */
  link: Link
  inbox: unknown[][][]
  opened: number
  fail: FlurryError | null
  fails: number
  close: { reason: CloseReason; detail: string } | null
  closes: number
  frames: Array<[number, unknown[]]>
  clocks: number[]
  errors: Array<FlurryError | Error>
}

interface SideInit extends Partial<Omit<SessionInit, 'link' | 'identity'>> {
  name: string
  seed: number
}

const defaults = {
  cookie: 'secret',
  versions: [1, 1] as const,
  heartbeatIntervalMs: 1000,
  heartbeatTimeoutMs: 5000,
  handshakeTimeoutMs: 10_000,
  maxFrameBytes: 64 * 1024,
  maxBufferedBytes: 1 << 20,
}

const live: Session[] = []
afterEach(() => {
  for (const s of live.splice(0)) s.close('local', 'test over', false)
})

function side(link: Link, init: SideInit, clock: Clock): Side {
  const inbox: unknown[][][] = []
  const tapped = tap(link, inbox)
  const identity = createIdentity(init.name, seededRandom(init.seed))
  const role = init.role ?? 'peer'
  const s = {
    identity,
    link: tapped,
    inbox,
    opened: 0,
    fail: null,
    fails: 0,
    close: null,
    closes: 0,
    frames: [],
    clocks: [],
    errors: [],
  } as unknown as Side
  const full: SessionInit = {
    ...defaults,
    initiator: false,
    clock,
    clockMs: () => clock.now(),
    random: seededRandom(init.seed + 1000),
    listenUrl: role === 'peer' ? `memory://${init.name}` : null,
    ...init,
    role,
    link: tapped,
    identity,
  }
  s.session = new Session(full, {
    onopen: () => void s.opened++,
    onfail: (_session, err) => {
      s.fails++
      s.fail = err
    },
    onframe: (_session, type, frame) => void s.frames.push([type, frame]),
    onclose: (_session, reason, detail) => {
      s.closes++
      s.close = { reason, detail }
    },
    onclock: (_session, ms) => void s.clocks.push(ms),
    onerror: (_session, err) => void s.errors.push(err),
  })
  live.push(s.session)
  return s
}

/** Two sessions on the two ends of a memory pair, `a` being the dialing side. */
function pair(a: SideInit, b: SideInit, opts: { clock?: Clock; scheduler?: MemoryScheduler; label?: string } = {}): { a: Side; b: Side; clock: Clock } {
  const clock = opts.clock ?? new ManualClock()
  const [la, lb] = memoryPair({ label: opts.label ?? 'test', ...(opts.scheduler ? { scheduler: opts.scheduler } : {}) })
  return { a: side(la, { initiator: true, ...a }, clock), b: side(lb, { initiator: false, ...b }, clock), clock }
}

async function opened(...sides: Side[]): Promise<void> {
  await waitFor(() => sides.every((s) => s.opened === 1 || s.fail !== null), 'handshake')
  for (const s of sides) {
    expect(s.fail, `${s.identity.id} failed`).toBeNull()
    expect(s.session.isOpen).toBe(true)
  }
}

async function failed(...sides: Side[]): Promise<void> {
  await waitFor(() => sides.every((s) => s.fail !== null || s.opened > 0), 'handshake failure')
  for (const s of sides) {
    expect(s.opened).toBe(0)
    expect(s.fail).toBeInstanceOf(FlurryError)
    expect(s.fails).toBe(1)
    expect(s.session.state).toBe('closed')
  }
}

const framesOf = (s: Side, type: number): unknown[][] => s.inbox.flat().filter((f) => f[0] === type)

// ---- the handshake ---------------------------------------------------------------------

describe('session: handshake', () => {
  it('two peers open with each other’s id, role, url, key and the common version', async () => {
    const { a, b } = pair({ name: 'alpha', seed: 1, versions: [1, 3] }, { name: 'beta', seed: 2, versions: [2, 5] })
    await opened(a, b)
    expect(a.session.remoteId).toBe(b.identity.id)
    expect(b.session.remoteId).toBe(a.identity.id)
    expect(a.session.remoteRole).toBe('peer')
    expect(b.session.remoteRole).toBe('peer')
    expect(a.session.remoteUrl).toBe('memory://beta')
    expect(b.session.remoteUrl).toBe('memory://alpha')
    expect([...(a.session.remoteKey ?? [])]).toEqual([...b.identity.publicKey])
    expect(a.session.version).toBe(3)
    expect(b.session.version).toBe(3)
    expect(a.identity.id).toMatch(/^alpha@[0-9a-f]{16}$/)
    // Each saw the other's clock in its HELLO.
    expect(a.clocks.length).toBeGreaterThan(0)
    expect(a.errors).toEqual([])
    expect(b.errors).toEqual([])
  })

  it('a client and a peer open with the right roles (the client has no url)', async () => {
    const { a: client, b: peer } = pair({ name: 'tab', seed: 3, role: 'client' }, { name: 'relay', seed: 4, role: 'peer' })
    await opened(client, peer)
    expect(client.session.remoteRole).toBe('peer')
    expect(client.session.remoteId).toBe(peer.identity.id)
    expect(client.session.remoteUrl).toBe('memory://relay')
    expect(peer.session.remoteRole).toBe('client')
    expect(peer.session.remoteId).toBe(client.identity.id)
    expect(peer.session.remoteUrl).toBeNull()
  })

  it('a wrong cookie fails both sides with AUTH_FAILED (peer to peer and client to peer)', async () => {
    const p = pair({ name: 'a', seed: 5, cookie: 'one' }, { name: 'b', seed: 6, cookie: 'two' })
    await failed(p.a, p.b)
    expect(p.a.fail?.code).toBe('AUTH_FAILED')
    expect(p.b.fail?.code).toBe('AUTH_FAILED')
    expect(p.a.close).toBeNull()

    const c = pair({ name: 'tab', seed: 7, role: 'client', cookie: 'guess' }, { name: 'relay', seed: 8, cookie: 'secret' })
    await failed(c.a, c.b)
    expect(c.a.fail?.code).toBe('AUTH_FAILED')
    expect(c.b.fail?.code).toBe('AUTH_FAILED')
  })

  it('the clientCookie admits clients but not a peer that proves it', async () => {
    const relay = { name: 'relay', seed: 9, cookie: 'cluster', clientCookie: 'pages' }
    const c1 = pair({ name: 'tab', seed: 10, role: 'client', cookie: 'pages' }, relay)
    await opened(c1.a, c1.b)
    expect(c1.b.session.remoteRole).toBe('client')
    // A client may also prove the cluster cookie.
    const c2 = pair({ name: 'worker', seed: 11, role: 'client', cookie: 'cluster' }, relay)
    await opened(c2.a, c2.b)
    // A peer claiming the client cookie is refused.
    const p = pair({ name: 'rogue', seed: 12, role: 'peer', cookie: 'pages' }, relay)
    await failed(p.a, p.b)
    expect(p.a.fail?.code).toBe('AUTH_FAILED')
    expect(p.b.fail?.code).toBe('AUTH_FAILED')
  })

  it('version ranges that do not overlap fail both sides with VERSION_MISMATCH', async () => {
    const { a, b } = pair({ name: 'old', seed: 13, versions: [1, 1] }, { name: 'new', seed: 14, versions: [2, 3] })
    await failed(a, b)
    expect(a.fail?.code).toBe('VERSION_MISMATCH')
    expect(b.fail?.code).toBe('VERSION_MISMATCH')
  })

  it('a frame other than HELLO/PROOF before the handshake closes it with BAD_FRAME', async () => {
    for (const early of [[F.PING, 0], deltaFrame('x@1', 0, 1, 0, []), [F.GOODBYE, 'hi'], proofFrame(new Uint8Array(32), new Uint8Array(64))]) {
      const [la, raw] = memoryPair({ label: 'raw' })
      const got: unknown[][] = []
      let rawClosed = false
      raw.onmessage = (data) => readFrames(data, 1 << 20, (f) => got.push(f as unknown[]))
      raw.onclose = () => {
        rawClosed = true
      }
      const a = side(la, { name: 'victim', seed: 15 }, new ManualClock())
      raw.send(encodeMessage(early))
      await waitFor(() => a.fail !== null && rawClosed, 'the session to refuse')
      expect(a.fail?.code).toBe('BAD_FRAME')
      expect(a.opened).toBe(0)
      const refuse = got.find((f) => f[0] === F.REFUSE)
      expect(refuse).toBeDefined()
      expect(readCodeMessage(refuse as unknown[]).code).toBe('BAD_FRAME')
      // Nothing but HELLO and REFUSE was sent: no proof to an unverified remote.
      expect(got.map((f) => f[0])).toEqual([F.HELLO, F.REFUSE])
    }
  })

  it('a HELLO whose id does not match its key is AUTH_FAILED', async () => {
    const [la, raw] = memoryPair({ label: 'forged' })
    raw.onmessage = () => {}
    const a = side(la, { name: 'victim', seed: 16 }, new ManualClock())
    const real = createIdentity('mallory', seededRandom(17))
    const other = createIdentity('alice', seededRandom(18))
    raw.send(
      encodeMessage(
        // Alice's id with Mallory's key.
        helloFrame({ vMin: 1, vMax: 1, id: other.id, key: real.publicKey, role: ROLE_PEER, url: null, nonce: new Uint8Array(16), clock: 0 }),
      ),
    )
    await waitFor(() => a.fail !== null, 'the session to refuse')
    expect(a.fail?.code).toBe('AUTH_FAILED')
  })

  it('a silent remote fails the handshake with TIMEOUT after handshakeTimeoutMs', async () => {
    const clock = new ManualClock()
    const [la, raw] = memoryPair({ label: 'silent' })
    raw.onmessage = () => {}
    const a = side(la, { name: 'waiting', seed: 19, handshakeTimeoutMs: 2000 }, clock)
    clock.advance(1999)
    expect(a.fail).toBeNull()
    clock.advance(1)
    expect(a.fail?.code).toBe('TIMEOUT')
    expect(a.session.state).toBe('closed')
    expect(clock.pending).toBe(0)
  })
})

// ---- after the handshake ---------------------------------------------------------------

describe('session: bad input after the handshake', () => {
  it('garbage bytes close only that session (bad-frame); the other side sees a goodbye', async () => {
    const sched = new CuttableScheduler()
    const ab = pair({ name: 'a', seed: 20 }, { name: 'b', seed: 21 }, { scheduler: sched, label: 'ab' })
    const cd = pair({ name: 'c', seed: 22 }, { name: 'd', seed: 23 }, { scheduler: sched, label: 'cd', clock: ab.clock })
    await opened(ab.a, ab.b, cd.a, cd.b)

    // b's link injects bytes that are no frame at all toward a.
    ab.b.link.send(Uint8Array.from([0, 0, 0, 3, 0xc1, 0xc1, 0xc1]))
    await waitFor(() => ab.a.close !== null && ab.b.close !== null, 'both ends to close')
    expect(ab.a.close?.reason).toBe('bad-frame')
    expect(ab.a.close?.detail).toMatch(/^bad frame: /)
    expect(ab.a.errors.some((e) => e instanceof FlurryError && e.code === 'BAD_FRAME')).toBe(true)
    expect(ab.b.close).toEqual({ reason: 'goodbye', detail: ab.a.close?.detail })
    expect(ab.a.closes).toBe(1)
    expect(ab.b.closes).toBe(1)
    // Sending on a closed session is a quiet no-op.
    expect(() => ab.a.session.send([F.UNCOUNT, 'x', 'y'])).not.toThrow()

    // The other session is untouched and still carries frames.
    expect(cd.a.session.isOpen && cd.b.session.isOpen).toBe(true)
    cd.a.session.send([F.UNCOUNT, 'x@1', 'test'])
    await waitFor(() => cd.b.frames.length === 1, 'a frame on the other session')
    expect(cd.b.frames[0]).toEqual([F.UNCOUNT, [F.UNCOUNT, 'x@1', 'test']])
    expect(cd.a.close).toBeNull()
  })

  it('an oversized message, a length prefix past the limit, or a non-frame value each close with bad-frame', async () => {
    const max = 4096
    const cases: Array<[string, Uint8Array, string]> = [
      ['message larger than any batch', new Uint8Array(BATCH_BYTES + 100), 'FRAME_TOO_LARGE'],
      ['length prefix past the limit', Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x90]), 'FRAME_TOO_LARGE'],
      ['a value that is not a frame array', encodeMessage('hello'), 'BAD_FRAME'],
      ['a frame with a negative type', encodeMessage([-4, 1]), 'BAD_FRAME'],
      ['a HELLO after the handshake', encodeMessage([F.HELLO, 1, 1, 'x', new Uint8Array(32), 0, null, new Uint8Array(16), 0]), 'BAD_FRAME'],
      ['truncated header', Uint8Array.from([0, 0]), 'BAD_FRAME'],
      ['a malformed PING', encodeMessage([F.PING, 'soon']), 'BAD_FRAME'],
    ]
    for (const [what, bytes, code] of cases) {
      const { a, b } = pair({ name: 'a', seed: 24, maxFrameBytes: max }, { name: 'b', seed: 25, maxFrameBytes: max })
      await opened(a, b)
      b.link.send(bytes)
      await waitFor(() => a.close !== null && b.close !== null, `both ends to close (${what})`)
      expect(a.close?.reason, what).toBe('bad-frame')
      expect(b.close?.reason, what).toBe('goodbye')
      expect(a.errors.map((e) => (e as FlurryError).code), what).toContain(code)
    }
  })

  it('a handler that throws something other than BAD_FRAME is reported, and the session stays open', async () => {
    const { a, b } = pair({ name: 'a', seed: 26 }, { name: 'b', seed: 27 })
    await opened(a, b)
    b.frames.push = () => {
      throw new Error('handler bug')
    }
    a.session.send([F.UNCOUNT, 'x', 'y'])
    await waitFor(() => b.errors.length > 0, 'the error report')
    expect(b.errors[0]?.message).toBe('handler bug')
    expect(b.session.isOpen).toBe(true)
  })
})

describe('session: heartbeats', () => {
  const hb = { heartbeatIntervalMs: 100, heartbeatTimeoutMs: 300 }

  it('the peer pings, the client answers with pongs and never pings', async () => {
    const clock = new ManualClock()
    const { a: client, b: peer } = pair({ name: 'tab', seed: 30, role: 'client', ...hb, clockMs: () => 777_000 }, { name: 'relay', seed: 31, ...hb }, { clock })
    await opened(client, peer)
    for (let i = 1; i <= 5; i++) {
      clock.advance(100)
      await waitFor(() => framesOf(peer, F.PONG).length === i, `pong ${i}`)
    }
    expect(framesOf(client, F.PING)).toHaveLength(5)
    expect(framesOf(peer, F.PING)).toHaveLength(0)
    expect(framesOf(client, F.PONG)).toHaveLength(0)
    // The pong carries the client's clock.
    expect(peer.clocks.filter((ms) => ms === 777_000).length).toBeGreaterThanOrEqual(5)
    expect(client.session.isOpen && peer.session.isOpen).toBe(true)
  })

  it('two peers keep each other alive with pings, and neither answers with a pong', async () => {
    const clock = new ManualClock()
    const { a, b } = pair({ name: 'a', seed: 32, ...hb }, { name: 'b', seed: 33, ...hb }, { clock })
    await opened(a, b)
    for (let i = 1; i <= 10; i++) {
      clock.advance(100)
      await waitFor(() => framesOf(a, F.PING).length === i && framesOf(b, F.PING).length === i, `ping ${i}`)
    }
    expect(a.session.isOpen && b.session.isOpen).toBe(true)
    expect(framesOf(a, F.PONG)).toHaveLength(0)
    expect(framesOf(b, F.PONG)).toHaveLength(0)
  })

  it('the pinging side times out when no frame comes back (reason timeout)', async () => {
    const clock = new ManualClock()
    const sched = new CuttableScheduler()
    // a = client (lane hb:a->b carries client -> peer), b = peer.
    const { a: client, b: peer } = pair({ name: 'tab', seed: 34, role: 'client', ...hb }, { name: 'relay', seed: 35, ...hb }, { clock, scheduler: sched, label: 'hb' })
    await opened(client, peer)
    clock.advance(100)
    await waitFor(() => framesOf(peer, F.PONG).length === 1, 'the first pong')

    sched.cut.add('hb:a->b') // the client's frames stop reaching the peer
    let elapsed = 0
    for (let step = 0; step < 20 && peer.close === null; step++) {
      const pings = framesOf(client, F.PING).length
      clock.advance(100)
      elapsed += 100
      if (peer.close === null) {
        // Still open: it must be within the timeout, and its ping reaches the client.
        expect(elapsed).toBeLessThanOrEqual(hb.heartbeatTimeoutMs + 2 * hb.heartbeatIntervalMs)
        await waitFor(() => framesOf(client, F.PING).length === pings + 1, 'a ping to the client')
      }
    }
    expect(peer.close?.reason).toBe('timeout')
    expect(peer.close?.detail).toMatch(/^no frame for \d+ ms$/)
    expect(elapsed).toBeGreaterThanOrEqual(hb.heartbeatTimeoutMs)
    expect(elapsed).toBeLessThanOrEqual(hb.heartbeatTimeoutMs + 2 * hb.heartbeatIntervalMs)
    // The client, still hearing the peer, gets its goodbye.
    await waitFor(() => client.close !== null, 'the client to close')
    expect(client.close).toEqual({ reason: 'goodbye', detail: peer.close?.detail })
    expect(clock.pending).toBe(0)
  })

  it('a client whose peer goes silent times out too', async () => {
    const clock = new ManualClock()
    const sched = new CuttableScheduler()
    const { a: client, b: peer } = pair({ name: 'tab', seed: 36, role: 'client', ...hb }, { name: 'relay', seed: 37, ...hb }, { clock, scheduler: sched, label: 'quiet' })
    await opened(client, peer)
    sched.cut.add('quiet:b->a') // the peer's pings never arrive
    let elapsed = 0
    for (let step = 0; step < 20 && client.close === null; step++) {
      clock.advance(100)
      elapsed += 100
    }
    expect(client.close?.reason).toBe('timeout')
    expect(elapsed).toBeGreaterThanOrEqual(hb.heartbeatTimeoutMs)
    expect(elapsed).toBeLessThanOrEqual(hb.heartbeatTimeoutMs + 2 * hb.heartbeatIntervalMs)
  })
})

describe('session: goodbye, batching and limits', () => {
  it('close() says goodbye: the remote closes with reason goodbye and the detail text', async () => {
    const { a, b } = pair({ name: 'a', seed: 40 }, { name: 'b', seed: 41 })
    await opened(a, b)
    a.session.close('local', 'node shutting down')
    expect(a.close).toEqual({ reason: 'local', detail: 'node shutting down' })
    await waitFor(() => b.close !== null, 'the goodbye')
    expect(b.close).toEqual({ reason: 'goodbye', detail: 'node shutting down' })
    // Once only, on both sides.
    a.session.close('local', 'again')
    b.session.close('local', 'again')
    await turn()
    await turn()
    expect([a.closes, b.closes]).toEqual([1, 1])
    expect(b.frames).toEqual([])
  })

  it('a closed link without goodbye closes with reason closed', async () => {
    const { a, b } = pair({ name: 'a', seed: 42 }, { name: 'b', seed: 43 })
    await opened(a, b)
    a.link.close('socket gone')
    await waitFor(() => a.close !== null && b.close !== null, 'both to close')
    expect(a.close).toEqual({ reason: 'closed', detail: 'socket gone' })
    expect(b.close).toEqual({ reason: 'closed', detail: 'socket gone' })
  })

  it('frames sent in one task arrive as one link message, in order', async () => {
    const { a, b } = pair({ name: 'a', seed: 44 }, { name: 'b', seed: 45 })
    await opened(a, b)
    const before = b.inbox.length
    a.session.send([F.UNCOUNT, 'o@1', 'r1'])
    a.session.send([F.SLICE_REQ, 'o@2'])
    a.session.sendEncoded(encodeValue([F.PEERS, ['p@1', 'memory://p']]))
    await waitFor(() => b.frames.length === 3, 'three frames')
    expect(b.inbox.length - before).toBe(1)
    expect(b.inbox[before]?.map((f) => f[0])).toEqual([F.UNCOUNT, F.SLICE_REQ, F.PEERS])
    expect(b.frames.map(([t]) => t)).toEqual([F.UNCOUNT, F.SLICE_REQ, F.PEERS])
    // Frames sent in separate tasks go separately.
    a.session.send([F.SLICE_REQ, 'o@3'])
    await waitFor(() => b.frames.length === 4, 'the fourth frame')
    a.session.send([F.SLICE_REQ, 'o@4'])
    await waitFor(() => b.frames.length === 5, 'the fifth frame')
    expect(b.inbox.length - before).toBe(3)
  })

  it('a batch that would pass BATCH_BYTES is split into several link messages', async () => {
    const max = 4096
    const { a, b } = pair({ name: 'a', seed: 46, maxFrameBytes: max }, { name: 'b', seed: 47, maxFrameBytes: max })
    await opened(a, b)
    const before = b.inbox.length
    const n = Math.ceil(BATCH_BYTES / 1000) + 10
    for (let i = 0; i < n; i++) a.session.send([F.UNCOUNT, `o@${i}`, 'x'.repeat(1000)])
    await waitFor(() => b.frames.length === n, 'every frame')
    expect(b.close).toBeNull()
    expect(b.inbox.length - before).toBeGreaterThan(1)
    expect(b.frames.map(([, f]) => f[1])).toEqual(Array.from({ length: n }, (_, i) => `o@${i}`))
  })

  // Once a bug: senders batched up to their own maxFrameBytes while receivers closed
  // on messages over theirs. Batches now stop at the protocol constant BATCH_BYTES,
  // which every receiver accepts whatever its maxFrameBytes.
  it('small frames batched by a sender with a larger maxFrameBytes still reach the receiver', async () => {
    const { a, b } = pair({ name: 'a', seed: 52, maxFrameBytes: 64 * 1024 }, { name: 'b', seed: 53, maxFrameBytes: 4096 })
    await opened(a, b)
    for (let i = 0; i < 10; i++) a.session.send([F.UNCOUNT, `o@${i}`, 'x'.repeat(1000)])
    await waitFor(() => b.frames.length === 10 || b.close !== null, 'the frames or a close')
    expect(b.close).toBeNull()
    expect(b.frames).toHaveLength(10)
  })

  it('sending a frame over the limit throws FRAME_TOO_LARGE and sends nothing', async () => {
    const max = 4096
    const { a, b } = pair({ name: 'a', seed: 48, maxFrameBytes: max }, { name: 'b', seed: 49, maxFrameBytes: max })
    await opened(a, b)
    let err: unknown
    try {
      a.session.send([F.UNCOUNT, 'o@1', 'x'.repeat(max)])
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(FlurryError)
    expect((err as FlurryError).code).toBe('FRAME_TOO_LARGE')
    expect(() => a.session.sendEncoded(new Uint8Array(max + 1))).toThrow(FlurryError)
    expect(a.session.isOpen).toBe(true)
    // The session still works, and only the small frame arrives.
    a.session.send([F.UNCOUNT, 'o@2', 'small'])
    await waitFor(() => b.frames.length === 1, 'the small frame')
    await turn()
    expect(b.frames).toEqual([[F.UNCOUNT, [F.UNCOUNT, 'o@2', 'small']]])
    expect(b.close).toBeNull()
  })

  it('unsent bytes past maxBufferedBytes close the session as a slow consumer', async () => {
    const { a, b } = pair({ name: 'a', seed: 50, maxBufferedBytes: 2000 }, { name: 'b', seed: 51 })
    await opened(a, b)
    a.session.send([F.UNCOUNT, 'o@1', 'x'.repeat(3000)])
    a.session.flush()
    expect(a.close?.reason).toBe('slow-consumer')
    await waitFor(() => b.close !== null, 'the remote to see the link close')
    expect(b.close?.reason).toBe('closed')
  })
})
