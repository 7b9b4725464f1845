/**
 * A hand-made client (built from '@flurry/core/internals' over a real WebSocket) that
 * misbehaves against a relay process with maxNamesPerClient: 3 (DESIGN.md "Trust and
 * limits"): each lie is refused with its FlurryError code and a log line on the relay,
 * bad frames close only that session, and numbered messages between other nodes keep
 * flowing through the same relay without a gap.
 */
import {
  A_SEND,
  DEFAULT_MAX_FRAME_BYTES,
  F,
  OP_CLIENT_ADD,
  OP_PUT,
  PROTOCOL_VERSION_MAX,
  ROLE_CLIENT,
  SYNC_SESSION,
  chunkOf,
  createIdentity,
  cryptoRandom,
  deltaFrame,
  syncFrame,
} from '@flurry/core/internals'
import { dialWebSocket } from '@flurry/ws'
import { afterEach, describe, expect, it } from 'vitest'
import { pidKey, startNode, stopAll, waitFor } from './harness.js'
import { CLIENT_COOKIE, Rogue, stampAgo } from './rogue.js'

afterEach(() => stopAll())

afterEach(() => stopAll())

describe('a misbehaving hand-made client against a relay (maxNamesPerClient: 3)', () => {
  it('is refused with the right code and a log line each time, while other traffic flows without a gap', async () => {
    const relay = await startNode({ kind: 'relay', name: 'R', relay: { maxNamesPerClient: 3, clientCookie: CLIENT_COOKIE } })
    const [p, c1, c2] = await Promise.all([
      startNode({ kind: 'peer', name: 'P', peers: [relay.url] }),
      startNode({ kind: 'client', name: 'C1', home: relay.url }),
      startNode({ kind: 'client', name: 'C2', home: relay.url }),
    ])
    const sink = await c2.spawnActor('sink')
    expect(await c2.register('sink', sink)).toBe(true)
    await waitFor(async () => pidKey(await c1.whereis('sink')) === pidKey(sink) && pidKey(await p.whereis('sink')) === pidKey(sink), 'sink on C1 and P')

    // Numbered messages: client -> client and peer -> client, both through the relay.
    await c1.cmd('streamStart', { to: 'sink', tag: 'c1', intervalMs: 5 })
    await p.cmd('streamStart', { to: 'sink', tag: 'p', intervalMs: 5 })
    const countOf = async (tag: string) => (await c2.received(sink)).filter((m) => m?.tag === tag).length
    await waitFor(async () => (await countOf('c1')) >= 10 && (await countOf('p')) >= 10, 'both streams flowing')

    const logs = (re: RegExp) => relay.find('log', (e) => re.test(e.message))
    const relayErrors = (code: string) => relay.find('error', (e) => e.code === code)

    // ---- 1. a well-formed client that lies
    const rogue = await Rogue.connect(relay.url, 'rogue')
    await rogue.join()
    await waitFor(async () => (await c1.nodes()).includes(rogue.id), 'the rogue counted (C1 sees it)')

    // It lies about its owner: a DELTA of C1's slice.
    rogue.session.send(deltaFrame(c1.id, 0, 1, Date.now(), [OP_PUT, 'stolen', 1, stampAgo(0)]))
    await waitFor(() => rogue.hasError('NOT_AUTHORIZED'), 'NOT_AUTHORIZED for the owner lie')
    await waitFor(() => logs(new RegExp(`refused ${rogue.id}: a client may only change its own slice`)).length === 1, 'the log line')
    expect(relayErrors('NOT_AUTHORIZED')).toHaveLength(1)

    // It lies about its sender: a ROUTED frame "from" C1 to the sink.
    rogue.session.send([F.ROUTED, c2.id, c1.id, 1, A_SEND, sink.id, { tag: 'c1', n: 1_000_000 }])
    await waitFor(() => rogue.errors.filter((e) => e.code === 'NOT_AUTHORIZED').length === 2, 'NOT_AUTHORIZED for the sender lie')
    await waitFor(() => logs(/a client may only send as itself/).length === 1, 'the log line')

    // It claims a name stamped an hour ago (it would win every conflict).
    const oldSeq = rogue.delta([OP_PUT, 'old', 1, stampAgo(3600_000)])
    await waitFor(() => rogue.refusals().some((r) => r.name === 'old'), 'REFUSE_NAME for the old stamp')
    expect(rogue.refusals()).toEqual([{ seq: oldSeq, name: 'old', code: 'CLOCK_SKEW' }])
    await waitFor(() => logs(new RegExp(`refused claim "old" of ${rogue.id}: CLOCK_SKEW`)).length === 1, 'the log line')
    expect(relayErrors('CLOCK_SKEW')).toHaveLength(1)

    // It passes its quota: 4 names when 3 are allowed.
    const quotaSeq = rogue.delta([OP_PUT, 'q:1', 1, stampAgo(0), OP_PUT, 'q:2', 1, stampAgo(0), OP_PUT, 'q:3', 1, stampAgo(0), OP_PUT, 'q:4', 1, stampAgo(0)])
    await waitFor(() => rogue.refusals().some((r) => r.name === 'q:4'), 'REFUSE_NAME for the quota')
    expect(rogue.refusals().slice(1)).toEqual([{ seq: quotaSeq, name: 'q:4', code: 'QUOTA' }])
    await waitFor(() => logs(new RegExp(`refused claim "q:4" of ${rogue.id}: QUOTA`)).length === 1, 'the log line')
    // The accepted claims are everyone's; the refused and forged ones nobody's.
    await waitFor(
      async () => (await c1.names()).filter((n) => n.startsWith('q:')).join() === 'q:1,q:2,q:3',
      'q:1..3 visible on C1',
      3000,
      () => c1.names(),
    )
    for (const node of [relay, p, c1, c2]) {
      for (const n of ['stolen', 'old', 'q:4']) expect(await node.whereis(n), `${n} on ${node.config.name}`).toBeNull()
      expect(pidKey(await node.whereis('q:1'))).toBe(`${rogue.id}.1`)
    }

    // It sends the slice of another node (C1's) as if it were a sync of its own.
    rogue.session.send(syncFrame(SYNC_SESSION, false, Date.now(), [chunkOf({ owner: c1.id, seq: 99, role: ROLE_CLIENT, clients: null, names: ['forged', 1, stampAgo(0)] })]))
    await waitFor(() => rogue.errors.filter((e) => e.code === 'NOT_AUTHORIZED').length === 3, 'NOT_AUTHORIZED for the foreign slice')
    await waitFor(() => logs(/a client may only send its own slice/).length === 1, 'the log line')
    // It lists a client of its own, as if it were a peer: nobody counts it.
    const ghost = createIdentity('ghost', cryptoRandom).id
    rogue.delta([OP_CLIENT_ADD, ghost])
    // A claim behind it in the same stream shows the delta was handled.
    rogue.delta([OP_PUT, 'after-ghost', 1, stampAgo(0)])
    await waitFor(() => rogue.refusals().some((r) => r.name === 'after-ghost'), 'the claim after the clients-list op refused (quota)')
    for (const node of [relay, p, c1, c2]) {
      expect(await node.nodes(), `${node.config.name} counts no ghost`).not.toContain(ghost)
      expect(await node.whereis('forged')).toBeNull()
      expect(pidKey(await node.whereis('q:1'))).toBe(`${rogue.id}.1`)
    }

    // ---- 2. a wrong cookie, a peer that proves only the clients' cookie, garbage first
    const impostor = await Rogue.connect(relay.url, 'impostor', CLIENT_COOKIE, 'peer')
    await waitFor(() => impostor.failure !== null, 'the peer handshake with the client cookie to fail')
    expect(impostor.failure?.code).toBe('AUTH_FAILED')
    expect(impostor.open).toBe(false)
    await waitFor(() => logs(new RegExp(`refused a session from ${impostor.id}: .*different cookie`)).length === 1, 'the log line')
    const future = await Rogue.connect(relay.url, 'future', CLIENT_COOKIE, 'client', [PROTOCOL_VERSION_MAX + 1, PROTOCOL_VERSION_MAX + 1])
    await waitFor(() => future.failure !== null, 'the handshake of an unknown protocol version to fail')
    expect(future.failure?.code).toBe('VERSION_MISMATCH')
    await waitFor(() => relayErrors('VERSION_MISMATCH').length >= 1, 'VERSION_MISMATCH on the relay')
    const early = await dialWebSocket(relay.url).dial()
    const earlyClosed: string[] = []
    early.onmessage = () => {}
    early.onclose = (reason) => earlyClosed.push(reason)
    early.send(Uint8Array.of(0, 0, 0, 2, 0xc1, 0xc1))
    await waitFor(() => earlyClosed.length === 1, 'the relay to drop a link that sends garbage before HELLO')
    await waitFor(() => logs(/^refused a session: malformed frame/).length === 1, 'the log line', 2000, () => relay.find('log'))
    expect(relay.find('error', (e) => e.code === 'BAD_FRAME' && e.remote === null).length).toBeGreaterThanOrEqual(1)

    const stranger = await Rogue.connect(relay.url, 'stranger', 'not-the-cookie')
    await waitFor(() => stranger.failure !== null, 'the handshake to fail')
    expect(stranger.failure?.code).toBe('AUTH_FAILED')
    expect(stranger.open).toBe(false)
    await waitFor(() => relayErrors('AUTH_FAILED').length === 2, 'AUTH_FAILED on the relay (impostor, stranger)')
    // Through the public API: node.connect rejects with AUTH_FAILED.
    await expect(startNode({ kind: 'client', name: 'wrong', cookie: 'not-the-cookie', home: relay.url })).rejects.toThrow(/AUTH_FAILED/)
    await waitFor(() => relayErrors('AUTH_FAILED').length === 3, 'AUTH_FAILED on the relay (the API client)')
    expect(logs(new RegExp(`refused a session from ${stranger.id}: .*different cookie`))).toHaveLength(1)

    // ---- 3. a garbage frame: closes that session only, with a bad-frame reason
    rogue.session.link.send(Uint8Array.of(0, 0, 0, 3, 0xc1, 0xc1, 0xc1))
    await waitFor(() => rogue.closed !== null, 'the relay to close the rogue session')
    expect(rogue.closed).toMatchObject({ reason: 'goodbye', detail: expect.stringMatching(/^bad frame: /) })
    const downRogue = await relay.waitEvent('nodedown', (e) => e.node === rogue.id, 'nodedown of the rogue on the relay')
    expect(downRogue.reason).toBe('bad-frame')
    expect(relay.find('error', (e) => e.code === 'BAD_FRAME' && e.remote === rogue.id)).toHaveLength(1)
    expect(logs(/malformed frame/).length).toBeGreaterThanOrEqual(1)
    // Its names went with it.
    await waitFor(async () => (await c1.names()).every((n) => !n.startsWith('q:')), 'q:1..3 gone with the rogue')

    // ---- 4. an oversized frame: the same
    const big = await Rogue.connect(relay.url, 'big')
    await big.join()
    await waitFor(async () => (await c1.nodes()).includes(big.id), 'the big client counted')
    // One length-prefixed frame of 1 MiB + 1 KiB: over the frame limit, under the
    // WebSocket message limit (so the session, not the socket, refuses it).
    const huge = new Uint8Array(DEFAULT_MAX_FRAME_BYTES + 1024)
    new DataView(huge.buffer).setUint32(0, huge.length - 4)
    big.session.link.send(huge)
    await waitFor(() => big.closed !== null, 'the relay to close the big session')
    expect(big.closed).toMatchObject({ reason: 'goodbye', detail: expect.stringMatching(/^bad frame: .*over the limit/) })
    expect((await relay.waitEvent('nodedown', (e) => e.node === big.id, 'nodedown of the big client')).reason).toBe('bad-frame')
    expect(relayErrors('FRAME_TOO_LARGE')).toHaveLength(1)
    expect(logs(/over the limit/).length).toBeGreaterThanOrEqual(1)

    // ---- the others never noticed: the streams flowed on, 1..N in order, no gap
    const before = { c1: await countOf('c1'), p: await countOf('p') }
    await waitFor(async () => (await countOf('c1')) >= before.c1 + 10 && (await countOf('p')) >= before.p + 10, 'the streams still flowing')
    const sent = {
      c1: (await c1.cmd('streamStop', { tag: 'c1' })) as { sent: number; errors: number },
      p: (await p.cmd('streamStop', { tag: 'p' })) as { sent: number; errors: number },
    }
    await waitFor(
      async () => (await countOf('c1')) === sent.c1.sent && (await countOf('p')) === sent.p.sent,
      'every numbered message to arrive',
      3000,
      async () => ({ sent, c1: await countOf('c1'), p: await countOf('p') }),
    )
    const got = await c2.received(sink)
    for (const tag of ['c1', 'p'] as const) {
      const ns = got.filter((m) => m?.tag === tag).map((m) => m.n as number)
      expect(sent[tag].errors).toBe(0)
      expect(ns).toEqual(Array.from({ length: sent[tag].sent }, (_, i) => i + 1))
    }
    console.log(`numbered messages delivered in order without a gap: c1->c2 ${sent.c1.sent}, P->c2 ${sent.p.sent}`)
    // Nothing else was lost either: the relay still counts every honest node.
    expect((await relay.nodes()).sort()).toEqual([p.id, c1.id, c2.id].sort())
    expect(relay.find('nodedown', (e) => [p.id, c1.id, c2.id].includes(e.node))).toEqual([])
  })
})
