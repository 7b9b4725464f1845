/**
 * Hostile input against a real relay process over raw WebSockets (issue 8's nine
 * findings): each attack gets a clear refusal, costs the relay almost nothing (it stays
 * up, its RSS bounded), and honest clients keep registering and calling meanwhile.
 */
import { readFileSync } from 'node:fs'
import { connect } from 'node:net'
import {
  A_EXIT,
  A_SEND,
  F,
  OP_PUT,
  ROLE_CLIENT,
  ROLE_PEER,
  SYNC_SESSION,
  chunkOf,
  createIdentity,
  cryptoRandom,
  encodeMessage,
  helloFrame,
  proofFrame,
  readFrames,
  syncFrame,
} from '@flurry/core/internals'
import { WebSocket } from 'ws'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type NodeProc, type PidRef, pidKey, startNode, stopAll, waitFor } from './harness.js'
import { CLIENT_COOKIE, Rogue, stampAgo } from './rogue.js'

/** The relay's resident memory, from /proc. */
function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return Number(m?.[1] ?? 0) / 1024
}

/** A raw socket to the relay's WebSocket endpoint, recording the frame types it gets. */
async function raw(url: string): Promise<{ ws: WebSocket; types: number[]; closed: Promise<void> }> {
  const ws = new WebSocket(url)
  const types: number[] = []
  ws.binaryType = 'nodebuffer'
  ws.on('message', (data: Buffer) => {
    try {
      readFrames(new Uint8Array(data), 1 << 20, (f) => void types.push((f as unknown[])[0] as number))
    } catch {
      types.push(-1)
    }
  })
  const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()))
  ws.on('error', () => {})
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('error', reject)
  })
  return { ws, types, closed }
}

function nested(depth: number): unknown {
  let v: unknown = 'leaf'
  for (let i = 0; i < depth; i++) v = [v]
  return v
}

describe('a relay under hostile input', () => {
  let relay: NodeProc
  let c1: NodeProc
  let c2: NodeProc
  let echo: PidRef
  let relayActor: PidRef
  let baseRss = 0
  let honest = 0

  /** An honest client still registers a fresh name, sees it everywhere and calls through the relay. */
  async function stillServes(): Promise<void> {
    const name = `honest:${++honest}`
    const pid = await c1.spawnActor(name)
    expect(await c1.register(name, pid)).toBe(true)
    await waitFor(async () => pidKey(await c2.whereis(name)) === pidKey(pid), `${name} visible on C2`)
    const reply = await c2.cmd('call', { to: echo, msg: { n: honest } })
    expect(reply.reply).toEqual({ n: honest })
    expect(relay.alive).toBe(true)
  }

  beforeAll(async () => {
    relay = await startNode({
      kind: 'relay',
      name: 'R',
      relay: { clientCookie: CLIENT_COOKIE, maxNamesPerClient: 100, maxNameBytesPerClient: 64 * 1024 },
    })
    ;[c1, c2] = await Promise.all([
      startNode({ kind: 'client', name: 'C1', home: relay.url }),
      startNode({ kind: 'client', name: 'C2', home: relay.url }),
    ])
    echo = await c1.spawnActor('echo')
    relayActor = await relay.spawnActor('relay-actor')
    await stillServes()
    baseRss = rssMb(relay.pid)
  }, 30_000)
  afterAll(() => stopAll())

  it('1. a 30 KB nesting bomb before the handshake is refused at once and costs nothing', async () => {
    // 10,000 nested array16 headers of 65,535 elements each, as one frame.
    const bomb = new Uint8Array(4 + 30_000)
    new DataView(bomb.buffer).setUint32(0, 30_000)
    for (let i = 0; i < 10_000; i++) bomb.set([0xdc, 0xff, 0xff], 4 + i * 3)
    for (let round = 0; round < 20; round++) {
      const s = await raw(relay.url)
      s.ws.send(bomb)
      await s.closed
    }
    // The same bomb after a valid HELLO, and 900 KB of nesting: refused too.
    const deep = new Uint8Array(4 + 900_000).fill(0x91)
    new DataView(deep.buffer).setUint32(0, 900_000)
    const s = await raw(relay.url)
    s.ws.send(deep)
    await s.closed
    expect(rssMb(relay.pid) - baseRss).toBeLessThan(64)
    await stillServes()
  })

  it('2. upgrades to any other path are answered 404 and closed, none left hanging', async () => {
    const port = Number(new URL(relay.url).port)
    const answers = await Promise.all(
      Array.from({ length: 500 }, () =>
        new Promise<string>((resolve) => {
          const sock = connect(port, '127.0.0.1')
          let got = ''
          sock.on('data', (d) => (got += d.toString()))
          sock.on('error', () => resolve(`error ${got}`))
          sock.on('close', () => resolve(got))
          sock.write('GET /not-flurry HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n')
        }),
      ),
    )
    // Every socket was answered and closed by the relay (the promise resolved on 'close').
    expect(answers.filter((a) => a.startsWith('HTTP/1.1 404')).length).toBe(500)
    await stillServes()
  })

  it('3. a HELLO claiming role peer without the cookie never gets a PROOF keyed by the cluster cookie', async () => {
    const id = createIdentity('impostor', cryptoRandom)
    const s = await raw(relay.url)
    s.ws.send(encodeMessage(helloFrame({ vMin: 1, vMax: 1, id: id.id, key: id.publicKey, role: ROLE_PEER, url: 'ws://127.0.0.1:9/flurry', nonce: cryptoRandom(16), clock: Date.now() })))
    await waitFor(() => s.types.includes(F.HELLO), 'the relay HELLO')
    expect(s.types).not.toContain(F.PROOF)
    // Whatever it proves next is checked first: a wrong MAC is refused, still no PROOF.
    s.ws.send(encodeMessage(proofFrame(new Uint8Array(32), id.sign(new Uint8Array(8)))))
    await s.closed
    expect(s.types).toContain(F.REFUSE)
    expect(s.types).not.toContain(F.PROOF)
    // The client cookie as a peer: refused the same way (Rogue proves first, as a dialer).
    const impostor = await Rogue.connect(relay.url, 'impostor2', CLIENT_COOKIE, 'peer')
    await waitFor(() => impostor.failure !== null, 'AUTH_FAILED')
    expect(impostor.failure?.code).toBe('AUTH_FAILED')
    await stillServes()
  })

  it('5. names the API refuses are refused on arrival; the quota counts bytes', async () => {
    for (const bad of ['', 'x'.repeat(1_000_004), 'a\nb']) {
      const r = await Rogue.connect(relay.url, 'badname')
      await r.join()
      r.delta([OP_PUT, bad, 1, stampAgo(0)])
      await waitFor(() => r.closed !== null, 'the session closed for a bad frame')
      expect(r.closed?.detail).toMatch(/bad frame: malformed frame: put name/)
    }
    for (const node of [relay, c1, c2]) expect((await node.names()).filter((n: string) => !n.startsWith('honest:'))).toEqual([])
    // 64 KiB of names for this relay: 100 names of 1,000 characters do not all fit.
    const r = await Rogue.connect(relay.url, 'bytes')
    await r.join()
    const ops: unknown[] = []
    for (let i = 0; i < 100; i++) ops.push(OP_PUT, `${i}:`.padEnd(1000, 'x'), 1, stampAgo(0))
    r.delta(ops)
    await waitFor(() => r.refusals().length > 0, 'QUOTA refusals')
    const refused = r.refusals()
    expect(new Set(refused.map((x) => x.code))).toEqual(new Set(['QUOTA']))
    expect(100 - refused.length).toBe(Math.floor((64 * 1024) / 1000))
    await stillServes()
  })

  it('6. SYNC parts that never end are cut off at a byte budget', async () => {
    const r = await Rogue.connect(relay.url, 'endless')
    await waitFor(() => r.open, 'handshake')
    const names: unknown[] = []
    for (let i = 0; i < 200; i++) names.push(`p${i}`.padEnd(1000, 'y'), 1, stampAgo(0))
    const part = syncFrame(SYNC_SESSION, true, Date.now(), [chunkOf({ owner: r.id, seq: 1, role: ROLE_CLIENT, clients: null, names })])
    for (let i = 0; i < 80 && r.closed === null; i++) {
      r.session.send(part)
      await new Promise((resolve) => setImmediate(resolve))
    }
    await waitFor(() => r.closed !== null, 'the session closed')
    expect(r.closed?.detail).toMatch(/sync parts of more than/)
    expect(rssMb(relay.pid) - baseRss).toBeLessThan(128)
    await stillServes()
  })

  it('7. remote text cannot forge log lines or level, and 12,000 refused claims write a few lines', async () => {
    // An id with a line break is not an id: refused before anything is logged with it.
    const s = await raw(relay.url)
    const key = createIdentity('x', cryptoRandom)
    s.ws.send(encodeMessage(helloFrame({ vMin: 1, vMax: 1, id: 'x\n2026-12-03T00:00:00Z error forged@0123456789abcdef', key: key.publicKey, role: ROLE_CLIENT, url: null, nonce: cryptoRandom(16), clock: Date.now() })))
    await s.closed
    const r = await Rogue.connect(relay.url, 'noisy')
    await r.join()
    r.session.send([F.ERROR, 'PROTOCOL', 'line one\nerror forged line two\u001b[31m'])
    const ops: unknown[] = []
    for (let i = 0; i < 12_000; i++) ops.push(OP_PUT, `n${i}`, 1, stampAgo(0))
    r.delta(ops)
    await waitFor(() => r.refusals().length === 12_000 - 100, 'the refusals', 10_000, () => r.refusals().length)
    await waitFor(() => relay.find('log', (e) => /line one/.test(e.message)).length === 1, 'the ERROR text logged once, escaped')
    await waitFor(() => relay.find('log', (e) => e.message.includes(`refused 11900 claims of ${r.id}`)).length === 1, 'one line for the refused change')
    const lines = relay.find('log')
    for (const l of lines) {
      expect(l.message).not.toMatch(/[\n\r\u001b]/)
      expect(l.level).not.toBe('error')
    }
    expect(lines.filter((l) => l.message.includes(r.id)).length).toBeLessThanOrEqual(12)
    await stillServes()
  })

  it('8. a frame nested deeper than the limit closes only its sender; the API refuses to send one', async () => {
    const r = await Rogue.connect(relay.url, 'deep')
    await r.join()
    // Built by hand: the encoder refuses to make it.
    const body = new Uint8Array(150).fill(0x91)
    const head = encodeMessage([F.ROUTED, c1.id, r.id, 1, A_SEND, echo.id, null])
    const frame = new Uint8Array(head.length - 1 + body.length + 1)
    frame.set(head.subarray(0, head.length - 1))
    frame.set(body, head.length - 1)
    frame[frame.length - 1] = 0x01
    new DataView(frame.buffer).setUint32(0, frame.length - 4)
    r.session.link.send(frame)
    await waitFor(() => r.closed !== null, 'the sender closed')
    expect(r.closed?.detail).toMatch(/nested deeper/)
    await expect(c2.cmd('send', { to: echo, msg: nested(150) })).rejects.toThrow(/BAD_ARGUMENT|deep/)
    await stillServes()
  })

  it('9. exit signals from clients are refused (NOT_AUTHORIZED); the actors live on', async () => {
    const r = await Rogue.connect(relay.url, 'killer')
    await r.join()
    r.session.send([F.ROUTED, c1.id, r.id, 1, A_EXIT, echo.id, 'killed'])
    r.session.send([F.DIRECT, 1, A_EXIT, relayActor.id, 'killed'])
    await waitFor(() => r.errors.filter((e) => e.code === 'NOT_AUTHORIZED').length === 2, 'two NOT_AUTHORIZED')
    // Through the API too: a client's node.exit of a remote pid goes nowhere.
    await c2.cmd('exit', { pid: echo, reason: 'killed' })
    await c2.cmd('exit', { pid: relayActor, reason: 'killed' })
    const viaRelay = await c2.cmd('call', { to: relayActor, msg: 'alive?' })
    expect(viaRelay.reply).toBe('alive?')
    await stillServes()
  })
})

describe('a first sync larger than maxBufferedBytes', () => {
  afterAll(() => stopAll())

  it('4. 27,000 names of 1 KB (three honest clients) reach a new client: the sync is paced', async () => {
    // Default heartbeats: moving 27 MB keeps a loop busy for longer than the tests' 500 ms.
    const node = { heartbeatIntervalMs: 1000, heartbeatTimeoutMs: 5000 }
    const relay = await startNode({ kind: 'relay', name: 'R', quiet: true, node })
    const owners = await Promise.all([1, 2, 3].map((i) => startNode({ kind: 'client', name: `O${i}`, home: relay.url, quiet: true, node })))
    await Promise.all(
      owners.map(async (o, i) => {
        const pid = await o.spawnActor('holder')
        const ops = Array.from({ length: 9000 }, (_, k) => ({ cmd: 'register', name: `${i}:${k}:`.padEnd(1000, 'n'), pid }))
        const ok: boolean[] = await o.cmd('batch', { ops }, 30_000)
        expect(ok.every((x) => x)).toBe(true)
      }),
    )
    await waitFor(async () => (await relay.cmd('count')) === 27_000, 'the relay holds 27,000 names', 30_000)
    const late = await startNode({ kind: 'client', name: 'late', home: relay.url, quiet: true, node }, 30_000)
    expect(await late.cmd('count')).toBe(27_000)
    expect(late.find('homedown')).toEqual([])
    expect(relay.find('nodedown')).toEqual([])
  }, 90_000)
})
