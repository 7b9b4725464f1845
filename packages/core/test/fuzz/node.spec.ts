/**
 * Fuzz target 4: a whole node as home (createNode + listen on a memory network) with
 * a hand-made hostile client that completes a real handshake, sends its slice (or
 * not), then random and mutated frames: replication, routing, SYNC parts, actor ops.
 * Fresh links also send garbage before any handshake. Oracle: no unhandled rejection,
 * no handler exception (the node reports those as PROTOCOL "internal error"), every
 * 'error' event and every REFUSE / ERROR / REFUSE_NAME code documented, and every K
 * inputs a well-behaved client still registers a name the home sees and answers a
 * call through it.
 *
 * Replay: FLURRY_SEED=<seed printed> [FLURRY_FUZZ_INPUTS=<n>] npx vitest run packages/core/test/fuzz/node.spec.ts
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FlurryError } from '../../src/base/error.js'
import { seededRandom } from '../../src/base/random.js'
import { createNode, type FlurryNode } from '../../src/index.js'
import { memoryNetwork, type MemoryNetwork } from '../../src/link/memory.js'
import type { LogLevel } from '../../src/node/options.js'
import { createIdentity, type Identity } from '../../src/session/identity.js'
import { waitFor } from '../../src/testing/wait.js'
import { readFrames } from '../../src/wire/codec.js'
import { F } from '../../src/wire/frames.js'
import { WAYS, framed, randomBomb } from './bombs.js'
import { emptyContext, linkMessage, message, type Context } from './inputs.js'
import { DOCUMENTED, Findings, announce, expectNoFindings, watchProcess } from './oracle.js'
import { RawPeer, handshakeOver } from './raw-peer.js'
import { Rng, fuzzTimeoutMs, inputOr, replay, runSeed, shareOf } from './rng.js'

const COOKIE = 'fuzz-cookie'
/** Inputs between two checks that the home still serves an honest client. */
const PROBE_EVERY = 50
/** What a hostile client sends once open: mostly what a home reads from a client. */
const CLIENT_TYPES = [F.DELTA, F.DELTA, F.DELTA, F.SYNC, F.SYNC, F.ROUTED, F.ROUTED, F.ROUTED, F.DIRECT, F.DIRECT, F.SLICE_REQ, F.PEERS, F.UNCOUNT, F.REFUSE_NAME, F.PING, F.PONG, F.ERROR, F.BUS_HELLO, F.BUS_ENV, F.BUS_STATUS, F.HELLO, F.GOODBYE, 0, 99]
const HANDSHAKE_TYPES = [F.HELLO, F.HELLO, F.PROOF, F.REFUSE, F.PING, F.DELTA, 0]

const turn = (): Promise<void> => new Promise((r) => setImmediate(r))

describe('fuzz: a node as home, with a hostile client', () => {
  const findings = new Findings('node')
  const stop = watchProcess(findings)
  const hostiles: Identity[] = [0, 1].map((i) => createIdentity(`hostile${i}`, seededRandom(runSeed + i)))
  let net: MemoryNetwork
  let home: FlurryNode
  let honest: FlurryNode
  let lostHome = 0
  let hostileClaims = 0

  const logger =
    (who: string) =>
    (level: LogLevel, message: string): void => {
      // Remote input is worth a warn at most; error-level lines mean a handler failed.
      if (level === 'error') findings.add(`${who} logged an error-level line: ${logKind(message)}`, undefined, message.slice(0, 300))
      // Remote text reaches log lines: escaped, it cannot forge a line of its own.
      if (/[\u0000-\u001f\u007f]/.test(message)) findings.add(`${who} logged unescaped control characters`, undefined, JSON.stringify(message.slice(0, 300)))
    }
  const onError = (who: string) => (err: FlurryError, remote: string | null) => {
    findings.check(err, [...DOCUMENTED], `${who} 'error' event`)
    if (err instanceof FlurryError && err.code === 'PROTOCOL' && /internal error/.test(err.message)) {
      findings.add(`${who}: a frame handler threw`, err.cause ?? err, `${err.message.slice(0, 300)} (from ${remote})`)
    }
  }

  beforeAll(async () => {
    net = memoryNetwork()
    home = await createNode({ name: 'home', cookie: COOKIE, logger: logger('home') })
    await home.listen(net.listen('home'))
    honest = await createNode({ name: 'honest', cookie: COOKIE, logger: logger('honest'), reconnect: { minDelayMs: 10, maxDelayMs: 50 } })
    await honest.connect(net.dial('memory://home'))
    home.on('error', onError('home'))
    honest.on('error', onError('honest'))
    // Whatever a client claimed, no node takes a name the API would refuse (1 to 1024 characters).
    for (const [who, node] of [['home', home], ['honest', honest]] as const) {
      node.global.on('register', (name, pid) => {
        if (pid.node !== honest.id) hostileClaims++
        if (name.length === 0 || name.length > 1024) findings.add(`${who} holds a name the API would refuse`, undefined, `${JSON.stringify(name.slice(0, 20))}… of ${name.length} characters`)
      })
    }
    honest.on('homedown', (_id, reason) => {
      lostHome++
      findings.add('the honest client lost its home', undefined, reason)
    })
  })

  afterAll(async () => {
    await honest?.close()
    await home?.close()
    stop()
  })

  /** A fresh hostile link to the home; with `handshake`, a real one and (mostly) its own slice. */
  async function hostile(rng: Rng, ctx: Context, handshake: boolean): Promise<RawPeer | null> {
    const link = await net.dial('memory://home').dial()
    const identity = rng.pick(hostiles)
    const sendsSlice = rng.chance(0.85)
    const peer = new RawPeer({
      link,
      identity,
      role: 'client',
      cookie: handshake ? COOKIE : 'wrong',
      seed: rng.int(2 ** 31),
      prove: handshake || rng.chance(0.05),
      onframe: (f, p) => {
        if (f === null) return findings.add('the home sent bytes that do not parse')
        if (f[0] === F.REFUSE) findings.wireCode(f[1], 'REFUSE')
        if (f[0] === F.ERROR) findings.wireCode(f[1], 'ERROR')
        if (f[0] === F.REFUSE_NAME) findings.wireCode(f[3], 'REFUSE_NAME')
        if (f[0] === F.PING) p.sendFrame([F.PONG, Date.now(), f[1]])
        // The home lost track of our slice (a gap): answer with it, as a client does.
        if (f[0] === F.SLICE_REQ && f[1] === identity.id) p.sendFrame([F.SYNC, 2, false, Date.now(), [[identity.id, ctx.seq, 1, null, []]]])
        if (f[0] === F.SYNC && Array.isArray(f[4])) {
          for (const c of f[4]) if (Array.isArray(c) && typeof c[0] === 'string' && !ctx.ids.includes(c[0])) ctx.ids.push(c[0])
          // The first sync is merged: answer with our own slice, as a client does.
          if (f[1] === 0 && f[2] === false && sendsSlice) {
            p.sendFrame([F.SYNC, 0, false, Date.now(), [[identity.id, 0, 1, null, []]]])
            // One honest-looking claim first, so the registry behind the checks is reached.
            p.sendFrame([F.DELTA, identity.id, 0, 1, Date.now(), [1, `hostile:${identity.id}`, 1, Date.now() * 1024]])
            ctx.seq = 1
          }
        }
      },
    })
    ctx.self = identity.id
    ctx.seq = 0
    if (!handshake) return peer
    if (!(await handshakeOver(peer, 5000))) {
      findings.add('the home did not complete a real handshake', undefined, peer.closed ? `closed: ${peer.closeReason}` : 'no answer in 5 s')
      return null
    }
    return peer
  }

  /** The honest client registers a fresh name; the home must see it and answer a call through it. */
  async function probe(n: number): Promise<boolean> {
    const name = `probe.${n}`
    const pid = honest.spawn(async (ctx) => {
      for (let k = 0; k < 10; k++) {
        const m = await ctx.receive()
        ctx.reply(['echo', m])
      }
    })
    try {
      honest.global.register(name, pid)
      await waitFor(() => home.global.whereis(name)?.equals(pid) === true, `${name} visible on the home`, 5000)
      const answer = await home.call(name, n, { timeoutMs: 5000 })
      if (JSON.stringify(answer) !== JSON.stringify(['echo', n])) throw new Error(`wrong answer ${JSON.stringify(answer)}`)
      return true
    } catch (err) {
      findings.add('the home stopped serving an honest client', err, String(err))
      return false
    } finally {
      honest.exit(pid, 'probe done')
    }
  }

  it('random and mutated frames from a hostile client leave the home usable', async () => {
    const inputs = shareOf(0.04)
    announce('node (home with a hostile client)', inputs)
    expect(await probe(-1)).toBe(true)
    const ctx: Context = { ...emptyContext(), ids: [home.id, honest.id] }
    let peer: RawPeer | null = null
    let handshakes = 0
    let probes = 0
    for (let i = 0; i < inputs; i++) {
      if (i > 0 && i % PROBE_EVERY === 0) {
        probes++
        if (!(await probe(i))) break
      }
      const rng = Rng.forInput(runSeed, i, 5)
      if (replay === null && rng.chance(0.05)) {
        // A fresh link that never proves anything: garbage before the handshake.
        const raw = await hostile(rng, ctx, false)
        const bytes = linkMessage(rng, ctx, undefined, HANDSHAKE_TYPES).bytes
        findings.current = { index: i, input: bytes }
        raw?.send(bytes)
        await turn()
        await turn()
        raw?.close()
        continue
      }
      if (peer === null || peer.closed) {
        peer?.close()
        peer = await hostile(rng, ctx, true)
        handshakes++
        if (peer === null) break
      }
      const bytes = inputOr(() =>
        rng.chance(0.02)
          ? message([framed(rng.int(WAYS), randomBomb(rng).value)])
          : linkMessage(rng, ctx, { bytes: 0.5, frames: 10, mutant: 2, golden: 0.5 }, CLIENT_TYPES).bytes,
      )
      findings.current = { index: i, input: bytes }
      peer.send(bytes)
      noteOwnSeq(ctx, bytes)
      await turn()
      await turn()
    }
    peer?.close()
    console.log(`node: ${handshakes} hostile handshakes, ${probes} probes, ${lostHome} honest homedowns, ${hostileClaims} hostile claims taken`)
    // The generator must get claims past the home's checks, or the registry goes untested.
    if (replay === null) expect(hostileClaims).toBeGreaterThan(0)
    expect(await probe(inputs)).toBe(true)
    expectNoFindings(findings)
  }, fuzzTimeoutMs())
})

/** A DELTA of our own slice that continues our seq moves it on (the next one then applies). */
function noteOwnSeq(ctx: Context, bytes: Uint8Array): void {
  try {
    readFrames(bytes, 1 << 30, (f) => {
      if (Array.isArray(f) && f[0] === F.DELTA && f[1] === ctx.self && f[2] === ctx.seq && typeof f[3] === 'number' && f[3] > ctx.seq) ctx.seq = f[3]
    })
  } catch {
    // Not readable as frames: the home did not apply it either.
  }
}

/** The kind of a log line: ids and remote text cut away ("<id> refused", "actor frame from <id> failed: TypeError"). */
function logKind(message: string): string {
  const m = message.replace(/\S+@[0-9a-f]{16}/g, '<id>')
  // "<id> refused: <the remote's own text>": the text is the remote's, not the kind.
  if (m.startsWith('<id> refused: ')) return '<id> refused'
  return m.split(':').slice(0, 2).join(':').slice(0, 80)
}
