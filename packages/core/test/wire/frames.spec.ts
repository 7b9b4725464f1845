/**
 * The wire (src/wire/{codec,frames,pid}.ts): every frame type round-trips through a
 * FrameBatch and readFrames, pids arrive as Pid instances, golden bytes keep the
 * format stable, and malformed input only ever raises FlurryError BAD_FRAME or
 * FRAME_TOO_LARGE.
 *
 * Fuzz failures print fast-check's seed and path; replay with
 * FLURRY_SEED=<seed> FLURRY_PATH=<path> npx vitest run <this file>.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { FlurryError } from '../../src/base/error.js'
import { Registry } from '../../src/global/registry.js'
import {
  DEFAULT_MAX_FRAME_BYTES,
  FrameBatch,
  decodeValue,
  encodeMessage,
  encodeShared,
  encodeValue,
  readFrames,
} from '../../src/wire/codec.js'
import {
  A_CALL,
  A_SEND,
  DEL_EXIT,
  F,
  OP_CLIENT_ADD,
  OP_CLIENT_DEL,
  OP_DEL,
  OP_PUT,
  ROLE_CLIENT,
  ROLE_PEER,
  SYNC_PUSH,
  SYNC_SESSION,
  busEnvFrame,
  busHelloFrame,
  busStatusFrame,
  checkOps,
  chunkOf,
  deltaFrame,
  errorFrame,
  frameType,
  goodbyeFrame,
  helloFrame,
  num,
  peersFrame,
  proofFrame,
  readBusHello,
  readCodeMessage,
  readDelta,
  readHello,
  readPeers,
  readProof,
  readSync,
  refuseFrame,
  refuseNameFrame,
  sliceReqFrame,
  str,
  syncFrame,
  uint,
  uncountFrame,
  readUncount,
  type BusHello,
  type Hello,
  type SliceChunk,
} from '../../src/wire/frames.js'
import { Pid } from '../../src/wire/pid.js'

const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {}
const replay = {
  ...(env.FLURRY_SEED !== undefined && Number.isInteger(Number(env.FLURRY_SEED)) ? { seed: Number(env.FLURRY_SEED) } : {}),
  ...(env.FLURRY_PATH !== undefined ? { path: env.FLURRY_PATH } : {}),
}

const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')
const unhex = (s: string): Uint8Array => Uint8Array.from(s.match(/../g) ?? [], (h) => parseInt(h, 16))
const filled = (n: number, v: number): Uint8Array => new Uint8Array(n).fill(v)

/** Sends frames through a FrameBatch as one link message and reads them back. */
function roundtrip(frames: unknown[][], max = DEFAULT_MAX_FRAME_BYTES): unknown[][] {
  const batch = new FrameBatch(max)
  for (const f of frames) batch.append(f)
  expect(batch.frameCount).toBe(frames.length)
  const message = batch.take()
  expect(batch.frameCount).toBe(0)
  expect(batch.byteLength).toBe(0)
  const out: unknown[][] = []
  readFrames(message, max, (frame, raw) => {
    // The raw bytes are the frame's own encoding, and decode to the same value.
    expect(hex(raw)).toBe(hex(encodeValue(frame)))
    expect(decodeValue(raw)).toEqual(frame)
    out.push(frame as unknown[])
  })
  expect(out).toHaveLength(frames.length)
  return out
}
function one(frame: unknown[]): unknown[] {
  return roundtrip([frame])[0] as unknown[]
}

/** Runs `fn` and returns the FlurryError it throws (failing the test on anything else). */
function flurryErrorOf(fn: () => unknown): FlurryError {
  try {
    fn()
  } catch (err) {
    if (err instanceof FlurryError) return err
    throw new Error(`expected a FlurryError, got ${String(err)}`, { cause: err })
  }
  throw new Error('expected a FlurryError, nothing was thrown')
}
function expectCode(fn: () => unknown, code: string): void {
  expect(flurryErrorOf(fn).code).toBe(code)
}

const hello: Hello = {
  vMin: 1,
  vMax: 3,
  id: 'relay@0123456789abcdef',
  key: filled(32, 7),
  role: ROLE_PEER,
  url: 'ws://127.0.0.1:4000/flurry',
  nonce: filled(16, 9),
  clock: 1_700_000_000_123,
}
const busHello: BusHello = {
  id: 'tab@00ff00ff00ff00ff',
  key: filled(32, 1),
  nonce: filled(16, 2),
  replyTo: filled(16, 3),
  homed: true,
  mac: filled(32, 4),
  sig: filled(64, 5),
  clock: 42.5,
}

describe('frames: roundtrip of every frame type', () => {
  it('HELLO (peer with url, client without)', () => {
    const f = one(helloFrame(hello))
    expect(frameType(f)).toBe(F.HELLO)
    expect(readHello(f)).toEqual(hello)
    const client = { ...hello, role: ROLE_CLIENT, url: null }
    expect(readHello(one(helloFrame(client)))).toEqual(client)
  })

  it('PROOF', () => {
    const f = one(proofFrame(filled(32, 0xaa), filled(64, 0xbb)))
    expect(frameType(f)).toBe(F.PROOF)
    const p = readProof(f)
    expect(hex(p.mac)).toBe('aa'.repeat(32))
    expect(hex(p.sig)).toBe('bb'.repeat(64))
  })

  it('REFUSE and ERROR', () => {
    const r = one(refuseFrame('AUTH_FAILED', 'wrong cookie'))
    expect(frameType(r)).toBe(F.REFUSE)
    expect(readCodeMessage(r)).toEqual({ code: 'AUTH_FAILED', message: 'wrong cookie' })
    const e = one(errorFrame('QUOTA', 'too many names: ünïcødé ✓'))
    expect(frameType(e)).toBe(F.ERROR)
    expect(readCodeMessage(e)).toEqual({ code: 'QUOTA', message: 'too many names: ünïcødé ✓' })
  })

  it('PING, PONG and GOODBYE', () => {
    const [ping, pong, bye] = roundtrip([[F.PING, 1_700_000_000_000], [F.PONG, 12.25], goodbyeFrame('node closing')]) as [unknown[], unknown[], unknown[]]
    expect(frameType(ping)).toBe(F.PING)
    expect(num(ping[1], 'ping clock')).toBe(1_700_000_000_000)
    expect(frameType(pong)).toBe(F.PONG)
    expect(num(pong[1], 'pong clock')).toBe(12.25)
    expect(frameType(bye)).toBe(F.GOODBYE)
    expect(bye).toEqual([F.GOODBYE, 'node closing'])
  })

  it('PEERS (with and without peers)', () => {
    const flat = ['p1@00000000000000aa', 'ws://10.0.0.1:4000/flurry', 'p2@00000000000000bb', 'ws://[::1]:4001/flurry']
    const f = one(peersFrame(flat))
    expect(frameType(f)).toBe(F.PEERS)
    expect(readPeers(f)).toEqual([
      ['p1@00000000000000aa', 'ws://10.0.0.1:4000/flurry'],
      ['p2@00000000000000bb', 'ws://[::1]:4001/flurry'],
    ])
    expect(readPeers(one(peersFrame([])))).toEqual([])
  })

  it('SYNC: empty, one slice of each role, and a slice split over many chunks and frames', () => {
    const empty = one(syncFrame(SYNC_SESSION, false, 5, []))
    expect(frameType(empty)).toBe(F.SYNC)
    expect(readSync(empty)).toEqual({ purpose: SYNC_SESSION, more: false, clock: 5, chunks: [] })

    const peer: SliceChunk = { owner: 'p@0000000000000001', seq: 3, role: ROLE_PEER, clients: ['c1@0000000000000001', 'c2@0000000000000002'], names: ['a', 1, 4096 * 10, 'b', 2, 4096 * 11 + 3] }
    const client: SliceChunk = { owner: 'c1@0000000000000001', seq: 0, role: ROLE_CLIENT, clients: null, names: [] }
    const s = readSync(one(syncFrame(SYNC_PUSH, true, 1_700_000_000_000, [chunkOf(peer), chunkOf(client)])))
    expect(s).toEqual({ purpose: SYNC_PUSH, more: true, clock: 1_700_000_000_000, chunks: [peer, client] })

    // A big slice: the registry cuts it into chunks, the sender packs chunks into
    // frames with `more` on all but the last; joined, the parts give the slice back.
    const reg = new Registry('big@0000000000000001', { role: ROLE_PEER })
    reg.addClient('c@0000000000000001')
    for (let i = 0; i < 200; i++) reg.register(`room:${i.toString().padStart(3, '0')}:${'x'.repeat(i % 17)}`, i + 1, 4096 * (1000 + i))
    reg.takeOwnDelta(0)
    const chunks: unknown[][] = []
    reg.chunksOf('big@0000000000000001', 512, chunks)
    expect(chunks.length).toBeGreaterThan(5)
    const frames: unknown[][] = []
    for (let i = 0; i < chunks.length; i += 3) frames.push(syncFrame(SYNC_SESSION, i + 3 < chunks.length, 77, chunks.slice(i, i + 3)))
    const back = roundtrip(frames).map((f) => readSync(f))
    expect(back.map((b) => b.more)).toEqual(frames.map((_, i) => i < frames.length - 1))
    const names: unknown[] = []
    for (const part of back) {
      for (const c of part.chunks) {
        expect(c).toMatchObject({ owner: 'big@0000000000000001', seq: 1, role: ROLE_PEER, clients: ['c@0000000000000001'] })
        names.push(...c.names)
      }
    }
    const own = reg.snapshot().find((x) => x.owner === 'big@0000000000000001')
    expect(names).toEqual(own?.names)
    expect(names).toHaveLength(600)
    // Merged elsewhere, the joined slice is the same slice.
    const other = new Registry('o@0000000000000002')
    other.setCounted('big@0000000000000001', true)
    expect(other.mergeSlice({ owner: 'big@0000000000000001', seq: 1, role: ROLE_PEER, clients: ['c@0000000000000001'], names }).merged).toBe(true)
    expect(other.names()).toEqual(reg.names())
  })

  it('DELTA with every op kind', () => {
    const ops = [OP_PUT, 'room', 7, 1_700_000_000_000 * 4096 + 1, OP_DEL, 'old', DEL_EXIT, OP_CLIENT_ADD, 'c1@0000000000000009', OP_CLIENT_DEL, 'c2@0000000000000009', 'timeout']
    const f = one(deltaFrame('p@0000000000000001', 4, 5, 1_700_000_000_000, ops))
    expect(frameType(f)).toBe(F.DELTA)
    expect(readDelta(f)).toEqual({ owner: 'p@0000000000000001', prevSeq: 4, seq: 5, clock: 1_700_000_000_000, ops })
    expect(readDelta(one(deltaFrame('p@0000000000000001', 0, 1, 0, [])))).toEqual({ owner: 'p@0000000000000001', prevSeq: 0, seq: 1, clock: 0, ops: [] })
  })

  it('SLICE_REQ, UNCOUNT and REFUSE_NAME', () => {
    const [req, unc, ref] = roundtrip([sliceReqFrame('c@0000000000000001'), uncountFrame([['c@0000000000000001', 'nodedown'], ['d@0000000000000002', 'timeout']]), refuseNameFrame(12, 'room', 'QUOTA', 4096 * 99)]) as [
      unknown[],
      unknown[],
      unknown[],
    ]
    expect(frameType(req)).toBe(F.SLICE_REQ)
    expect(str(req[1], 'owner')).toBe('c@0000000000000001')
    expect(frameType(unc)).toBe(F.UNCOUNT)
    expect(unc).toEqual([F.UNCOUNT, 'c@0000000000000001', 'nodedown', 'd@0000000000000002', 'timeout'])
    expect(readUncount(unc)).toEqual([
      { owner: 'c@0000000000000001', reason: 'nodedown' },
      { owner: 'd@0000000000000002', reason: 'timeout' },
    ])
    expect(() => readUncount([F.UNCOUNT])).toThrow(/uncount/)
    expect(frameType(ref)).toBe(F.REFUSE_NAME)
    expect([uint(ref[1], 'seq'), str(ref[2], 'name'), str(ref[3], 'code'), num(ref[4], 'at')]).toEqual([12, 'room', 'QUOTA', 4096 * 99])
  })

  it('BUS_HELLO (answer and first hello), BUS_ENV and BUS_STATUS', () => {
    const f = one(busHelloFrame(busHello))
    expect(frameType(f)).toBe(F.BUS_HELLO)
    expect(readBusHello(f)).toEqual(busHello)
    const first = { ...busHello, replyTo: null, homed: false }
    expect(readBusHello(one(busHelloFrame(first)))).toEqual(first)
    const [envl, status] = roundtrip([busEnvFrame('tab@0000000000000001', ''), busStatusFrame(true)]) as [unknown[], unknown[]]
    expect(frameType(envl)).toBe(F.BUS_ENV)
    expect(envl).toEqual([F.BUS_ENV, 'tab@0000000000000001', ''])
    expect(frameType(status)).toBe(F.BUS_STATUS)
    expect(status).toEqual([F.BUS_STATUS, true])
  })

  it('DIRECT and ROUTED carry pids nested deep in messages as Pid instances', () => {
    const p1 = new Pid('api@0011223344556677', 1)
    const p2 = new Pid('tab@ffeeddccbbaa9988', 0xffffffff) // largest uint32 id
    const p3 = new Pid('ñode:ü@1', 2 ** 40) // float64 id path, UTF-8 node id
    const p4 = new Pid('n@2', 0)
    const body = {
      type: 'join',
      from: p1,
      list: [p2, { inner: [p3, [p4, null]] }],
      bytes: Uint8Array.from([0, 1, 255]),
      n: -3,
      f: 1.5,
      big: 2 ** 52,
      ok: true,
      s: 'héllo',
    }
    const direct = [F.DIRECT, 17, A_SEND, 5, body]
    const routed = [F.ROUTED, 'to@1', 'from@2', 18, A_CALL, 6, 99, [p1, body]]
    const [d, r] = roundtrip([direct, routed]) as [unknown[], unknown[]]
    expect(frameType(d)).toBe(F.DIRECT)
    expect(frameType(r)).toBe(F.ROUTED)
    expect(d.slice(0, 4)).toEqual([F.DIRECT, 17, A_SEND, 5])
    expect(r.slice(0, 7)).toEqual([F.ROUTED, 'to@1', 'from@2', 18, A_CALL, 6, 99])
    const got = d[4] as typeof body
    const deep = (got.list[1] as { inner: [Pid, [Pid, null]] }).inner
    for (const [x, y] of [
      [got.from, p1],
      [got.list[0], p2],
      [deep[0], p3],
      [deep[1][0], p4],
      [(r[7] as unknown[])[0], p1],
      [((r[7] as unknown[])[1] as typeof body).from, p1],
    ] as Array<[unknown, Pid]>) {
      expect(x).toBeInstanceOf(Pid)
      expect((x as Pid).equals(y)).toBe(true)
      expect(String(x)).toBe(String(y))
    }
    expect(deep[1][1]).toBeNull()
    expect(got.bytes).toBeInstanceOf(Uint8Array)
    expect([...got.bytes]).toEqual([0, 1, 255])
    expect({ n: got.n, f: got.f, big: got.big, ok: got.ok, s: got.s }).toEqual({ n: -3, f: 1.5, big: 2 ** 52, ok: true, s: 'héllo' })
  })

  it('reads a message that is a view into a bigger buffer (pooled socket buffers), and forwards raw frames as they came', () => {
    const frames = [
      [F.ROUTED, 'to@1', 'from@2', 3, A_SEND, 4, { reply: new Pid('from@2', 9) }],
      [F.PING, 5],
    ]
    const batch = new FrameBatch()
    for (const f of frames) batch.append(f)
    const message = batch.take()
    const pool = new Uint8Array(message.length + 11).fill(0xc1) // 0xc1 is never valid msgpack
    pool.set(message, 7)
    const view = pool.subarray(7, 7 + message.length)
    const got: unknown[][] = []
    const forward = new FrameBatch()
    readFrames(view, DEFAULT_MAX_FRAME_BYTES, (f, raw) => {
      got.push(f as unknown[])
      forward.appendEncoded(raw)
    })
    expect(got).toHaveLength(2)
    expect(((got[0]?.[6] as { reply: Pid }).reply as Pid).equals(new Pid('from@2', 9))).toBe(true)
    expect(got[1]).toEqual([F.PING, 5])
    // The next hop gets the same bytes, without a re-encode.
    expect(hex(forward.take())).toBe(hex(message))
  })

  it('every frame type constant is covered and distinct', () => {
    const values = Object.values(F)
    expect(new Set(values).size).toBe(values.length)
    expect(Object.keys(F).sort()).toEqual(
      ['BUS_ENV', 'BUS_HELLO', 'BUS_STATUS', 'DELTA', 'DIRECT', 'ERROR', 'GOODBYE', 'HELLO', 'PEERS', 'PING', 'PONG', 'PROOF', 'REFUSE', 'REFUSE_NAME', 'ROUTED', 'SLICE_REQ', 'SYNC', 'UNCOUNT'].sort(),
    )
  })
})

describe('frames: golden bytes (the format must not drift)', () => {
  it('PING: uint32 big-endian length, then msgpack [4, 1234]', () => {
    expect(hex(encodeMessage([F.PING, 1234]))).toBe('00000005' + '92' + '04' + 'cd04d2')
  })

  it('GOODBYE', () => {
    expect(hex(encodeMessage(goodbyeFrame('bye')))).toBe('00000006' + '92' + '06' + 'a3627965')
  })

  it('DELTA with a put and a del', () => {
    const f = deltaFrame('n@1', 0, 1, 5, [OP_PUT, 'x', 2, 4096 * 1000 + 1, OP_DEL, 'y', 0])
    expect(hex(encodeMessage(f))).toBe('00000017' + '96' + '12' + 'a36e4031' + '00' + '01' + '05' + '97' + '01' + 'a178' + '02' + 'ce003e8001' + '02' + 'a179' + '00')
  })

  it('HELLO', () => {
    const f = helloFrame({ vMin: 1, vMax: 1, id: 'a@1', key: filled(32, 1), role: ROLE_PEER, url: 'ws://h/f', nonce: filled(16, 2), clock: 1_700_000_000_000 })
    expect(hex(encodeMessage(f))).toBe(
      '0000004f' + '99' + '01' + '01' + '01' + 'a3614031' + 'c420' + '01'.repeat(32) + '00' + 'a877733a2f2f682f66' + 'c410' + '02'.repeat(16) + 'cf0000018bcfe56800',
    )
  })

  it('Pid as msgpack ext type 0: uint32 id, and float64 id', () => {
    // fixext8, type 0: width 4, id 7 little-endian, node id 'a@1' in UTF-8.
    expect(hex(encodeMessage([F.DIRECT, 1, 1, 7, { to: new Pid('a@1', 7) }]))).toBe(
      '00000013' + '95' + '20' + '01' + '01' + '07' + '81' + 'a2746f' + 'd700' + '04' + '07000000' + '614031',
    )
    // ext8 of 13 bytes, type 0: width 8, 2^40 as float64 little-endian, 'é@2'.
    expect(hex(encodeValue(new Pid('é@2', 2 ** 40)))).toBe('c70d00' + '08' + '0000000000007042' + 'c3a94032')
    // And the golden bytes decode back.
    const back = decodeValue(unhex('c70d00080000000000007042c3a94032'))
    expect(back).toBeInstanceOf(Pid)
    expect((back as Pid).equals(new Pid('é@2', 2 ** 40))).toBe(true)
  })

  it('two frames batched in one link message are two length-prefixed frames back to back', () => {
    const batch = new FrameBatch()
    batch.append([F.PING, 1234])
    batch.append(goodbyeFrame('bye'))
    expect(hex(batch.take())).toBe('0000000592' + '04cd04d2' + '00000006' + '9206a3627965')
  })
})

describe('frames: malformed input gives only FlurryError', () => {
  const max = 1024
  const read = (bytes: Uint8Array, limit = max): unknown[] => {
    const out: unknown[] = []
    readFrames(bytes, limit, (f) => out.push(f))
    return out
  }

  it('garbage and truncated messages are BAD_FRAME', () => {
    expectCode(() => read(new Uint8Array(0)), 'BAD_FRAME') // empty message
    expectCode(() => read(Uint8Array.from([1, 2, 3])), 'BAD_FRAME') // shorter than a header
    expectCode(() => read(Uint8Array.from([0, 0, 0, 0])), 'BAD_FRAME') // zero-length frame
    expectCode(() => read(unhex('00000005' + '9204cd04')), 'BAD_FRAME') // payload cut short
    expectCode(() => read(unhex('00000002' + '9204')), 'BAD_FRAME') // prefix cuts the msgpack value
    expectCode(() => read(unhex('00000003' + '910405')), 'BAD_FRAME') // extra bytes inside a frame
    expectCode(() => read(unhex('00000001' + 'c0' + '00')), 'BAD_FRAME') // trailing partial header
    expectCode(() => read(unhex('00000001' + 'c1')), 'BAD_FRAME') // never-used msgpack byte
    expectCode(() => read(unhex('00000004' + 'd4ff0000').subarray(0, 7)), 'BAD_FRAME')
  })

  it('frames before a bad one in the same message are delivered, in order', () => {
    const seen: unknown[] = []
    const good = encodeMessage([F.PING, 1])
    const bad = unhex('00000009' + '92')
    const msg = new Uint8Array(good.length + bad.length)
    msg.set(good)
    msg.set(bad, good.length)
    expectCode(() => readFrames(msg, max, (f) => seen.push(f)), 'BAD_FRAME')
    expect(seen).toEqual([[F.PING, 1]])
  })

  it('length prefixes past the limit are FRAME_TOO_LARGE, whatever follows', () => {
    expectCode(() => read(unhex('ffffffff' + '92')), 'FRAME_TOO_LARGE')
    expectCode(() => read(unhex('00000401' + '00'.repeat(10))), 'FRAME_TOO_LARGE') // 1025 > 1024
    // Exactly at the limit is fine.
    const atLimit = encodeMessage([F.GOODBYE, 'x'.repeat(max - 5)])
    expect(atLimit.length - 4).toBe(max)
    expect(read(atLimit)).toEqual([[F.GOODBYE, 'x'.repeat(max - 5)]])
    expectCode(() => read(atLimit, max - 1), 'FRAME_TOO_LARGE')
  })

  it('malformed values inside a frame are BAD_FRAME', () => {
    const cases: Array<[string, string]> = [
      ['d40005', 'pid ext with an unknown id width'],
      ['d6000401020' + '3', 'pid ext shorter than its id'],
      ['c70500' + '0401000000', 'pid ext with an empty node id'],
      ['c70600' + '0401000000ff', 'pid ext with a node id that is not UTF-8'],
      ['d4ff00', 'malformed timestamp ext'],
      ['81a95f5f70726f746f5f5fc0', '__proto__ key'],
      ['8180c0', 'map key that is a map'],
      ['dbffffffff41', 'string claiming 4 GiB'],
      ['ddffffffff', 'array claiming 4 billion items'],
      ['c6ffffffff00', 'bin claiming 4 GiB'],
    ]
    for (const [bytes, what] of cases) {
      const err = flurryErrorOf(() => decodeValue(unhex(bytes)))
      expect(err.code, what).toBe('BAD_FRAME')
    }
    // Lengths inside a frame are held to the frame limit too.
    expectCode(() => decodeValue(unhex('b4' + '61'.repeat(20)), 16), 'BAD_FRAME')
  })

  it('fuzz: random bytes (1000+ runs)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 1, max: 2048 }), (bytes, limit) => {
        try {
          readFrames(bytes, limit, () => {})
        } catch (err) {
          if (!(err instanceof FlurryError)) throw err
          expect(['BAD_FRAME', 'FRAME_TOO_LARGE']).toContain(err.code)
        }
      }),
      { numRuns: 3000, ...replay },
    )
  })

  it('fuzz: random payloads behind a right length prefix, and readers on what decodes', () => {
    const readers: Array<(f: unknown[]) => unknown> = [readHello, readProof, readCodeMessage, readPeers, readSync, readDelta, readBusHello]
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 300 }), (payload) => {
        const msg = new Uint8Array(4 + payload.length)
        new DataView(msg.buffer).setUint32(0, payload.length)
        msg.set(payload, 4)
        try {
          readFrames(msg, 4096, (frame) => {
            let t: number
            try {
              t = frameType(frame)
            } catch (err) {
              expect(err).toBeInstanceOf(FlurryError)
              expect((err as FlurryError).code).toBe('BAD_FRAME')
              return
            }
            expect(Number.isInteger(t)).toBe(true)
            for (const r of readers) {
              try {
                r(frame as unknown[])
              } catch (err) {
                if (!(err instanceof FlurryError)) throw err
                expect(err.code).toBe('BAD_FRAME')
              }
            }
          })
        } catch (err) {
          if (!(err instanceof FlurryError)) throw err
          expect(['BAD_FRAME', 'FRAME_TOO_LARGE']).toContain(err.code)
        }
      }),
      { numRuns: 3000, ...replay },
    )
  })

  it('fuzz: valid frames with bytes flipped, cut or inserted (1000+ runs)', () => {
    const samples = [
      encodeMessage(helloFrame(hello)),
      encodeMessage(busHelloFrame(busHello)),
      encodeMessage(deltaFrame('p@0000000000000001', 1, 2, 3, [OP_PUT, 'a', 1, 4096, OP_DEL, 'b', 0, OP_CLIENT_ADD, 'c', OP_CLIENT_DEL, 'd', 'r'])),
      encodeMessage(syncFrame(SYNC_SESSION, false, 1, [chunkOf({ owner: 'p@0000000000000001', seq: 1, role: ROLE_PEER, clients: ['c'], names: ['x', 1, 2] })])),
      encodeMessage([F.ROUTED, 'to@1', 'from@2', 1, A_SEND, 3, { p: new Pid('a@1', 5), l: [new Pid('b@2', 2 ** 33)] }]),
    ]
    const readers: Array<(f: unknown[]) => unknown> = [readHello, readDelta, readSync, readBusHello, readPeers]
    fc.assert(
      fc.property(
        fc.nat({ max: samples.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('flip', 'cut', 'insert')), { minLength: 1, maxLength: 4 }),
        (which, edits) => {
          let bytes = Array.from(samples[which] as Uint8Array)
          for (const [at, v, how] of edits) {
            const i = at % Math.max(1, bytes.length)
            if (how === 'flip') bytes[i] = v
            else if (how === 'cut') bytes = bytes.slice(0, i)
            else bytes.splice(i, 0, v)
          }
          try {
            readFrames(Uint8Array.from(bytes), 4096, (frame) => {
              for (const r of readers) {
                try {
                  frameType(frame)
                  r(frame as unknown[])
                } catch (err) {
                  if (!(err instanceof FlurryError)) throw err
                  expect(err.code).toBe('BAD_FRAME')
                }
              }
            })
          } catch (err) {
            if (!(err instanceof FlurryError)) throw err
            expect(['BAD_FRAME', 'FRAME_TOO_LARGE']).toContain(err.code)
          }
        },
      ),
      { numRuns: 2000, ...replay },
    )
  })

  it('fuzz: readers given arbitrary arrays throw only BAD_FRAME', () => {
    const readers: Array<(f: unknown[]) => unknown> = [readHello, readProof, readCodeMessage, readPeers, readSync, readDelta, readBusHello, (f) => checkOps(f)]
    fc.assert(
      fc.property(fc.array(fc.anything({ maxDepth: 3, withTypedArray: true, withNullPrototype: true })), (frame) => {
        for (const r of readers) {
          try {
            r(frame)
          } catch (err) {
            if (!(err instanceof FlurryError)) throw err
            expect(err.code).toBe('BAD_FRAME')
          }
        }
      }),
      { numRuns: 1000, ...replay },
    )
  })
})

describe('frames: FrameBatch limits', () => {
  it('throws FRAME_TOO_LARGE past the limit and appends nothing', () => {
    const batch = new FrameBatch(64)
    batch.append([F.PING, 1])
    const before = { bytes: batch.byteLength, count: batch.frameCount }
    expectCode(() => batch.append([F.GOODBYE, 'x'.repeat(100)]), 'FRAME_TOO_LARGE')
    expectCode(() => batch.appendEncoded(new Uint8Array(65)), 'FRAME_TOO_LARGE')
    expect({ bytes: batch.byteLength, count: batch.frameCount }).toEqual(before)
    // Exactly the limit is accepted.
    batch.appendEncoded(encodeValue([F.GOODBYE, 'y'.repeat(64 - 5)]))
    const frames: unknown[] = []
    readFrames(batch.take(), 64, (f) => frames.push(f))
    expect(frames).toEqual([
      [F.PING, 1],
      [F.GOODBYE, 'y'.repeat(59)],
    ])
  })

  it('a value msgpack cannot encode is BAD_ARGUMENT and appends nothing', () => {
    const batch = new FrameBatch()
    expectCode(() => batch.append([F.DIRECT, 1, 1, 1, { f: Symbol('nope') }]), 'BAD_ARGUMENT')
    let deep: unknown = null
    for (let i = 0; i < 1000; i++) deep = [deep]
    expectCode(() => encodeShared(deep), 'BAD_ARGUMENT')
    expect(batch.frameCount).toBe(0)
    expect(batch.byteLength).toBe(0)
  })

  it('grows past its first buffer, keeps frame order, and starts empty after take()', () => {
    const batch = new FrameBatch()
    const sent: unknown[][] = []
    for (let i = 0; i < 500; i++) {
      const f = [F.DIRECT, i, A_SEND, i, { i, s: 'z'.repeat(i % 50) }]
      sent.push(f)
      batch.append(f)
    }
    expect(batch.byteLength).toBeGreaterThan(4096)
    const got: unknown[] = []
    readFrames(batch.take(), DEFAULT_MAX_FRAME_BYTES, (f) => got.push(f))
    expect(got).toEqual(sent)
    expect(batch.take()).toHaveLength(0)
    batch.append([F.PONG, 2])
    const again: unknown[] = []
    readFrames(batch.take(), DEFAULT_MAX_FRAME_BYTES, (f) => again.push(f))
    expect(again).toEqual([[F.PONG, 2]])
  })

  it('take() returns a copy that later appends do not change', () => {
    const batch = new FrameBatch()
    batch.append([F.PING, 1])
    const first = batch.take()
    const copy = hex(first)
    batch.append([F.PING, 2])
    batch.take()
    expect(hex(first)).toBe(copy)
  })
})

describe('frames: readers reject wrong shapes with BAD_FRAME', () => {
  const h = helloFrame(hello)
  const with_ = (f: unknown[], i: number, v: unknown): unknown[] => {
    const c = [...f]
    c[i] = v
    return c
  }

  it('frameType', () => {
    for (const f of [{}, [], ['x'], [-1], [1.5], null, 'x', [Number.NaN]]) expectCode(() => frameType(f), 'BAD_FRAME')
    expect(frameType([F.SYNC])).toBe(F.SYNC)
  })

  it('HELLO', () => {
    expectCode(() => readHello(with_(h, 1, -1)), 'BAD_FRAME') // vMin
    expectCode(() => readHello(with_(h, 2, '1')), 'BAD_FRAME') // vMax
    expectCode(() => readHello(with_(h, 3, 42)), 'BAD_FRAME') // id
    expectCode(() => readHello(with_(h, 4, filled(31, 0))), 'BAD_FRAME') // key length
    expectCode(() => readHello(with_(h, 4, 'key')), 'BAD_FRAME')
    expectCode(() => readHello(with_(h, 5, 2)), 'BAD_FRAME') // role
    expectCode(() => readHello(with_(h, 6, 5)), 'BAD_FRAME') // url
    expectCode(() => readHello(with_(h, 7, filled(15, 0))), 'BAD_FRAME') // nonce length
    expectCode(() => readHello(with_(h, 8, 'now')), 'BAD_FRAME') // clock
    expectCode(() => readHello(with_(h, 8, Number.POSITIVE_INFINITY)), 'BAD_FRAME')
    expectCode(() => readHello(h.slice(0, 5)), 'BAD_FRAME')
  })

  it('PROOF, REFUSE/ERROR, PEERS', () => {
    expectCode(() => readProof([F.PROOF, filled(31, 0), filled(64, 0)]), 'BAD_FRAME')
    expectCode(() => readProof([F.PROOF, filled(32, 0), filled(63, 0)]), 'BAD_FRAME')
    expectCode(() => readProof([F.PROOF, filled(32, 0)]), 'BAD_FRAME')
    // A code that is not one of ours is read as PROTOCOL (the message is for logs only).
    expect(readCodeMessage([F.ERROR, 7, 'x'])).toEqual({ code: 'PROTOCOL', message: 'x' })
    expect(readCodeMessage([F.ERROR, 'QUOTA', 7])).toEqual({ code: 'QUOTA', message: '' })
    expectCode(() => readPeers([F.PEERS, 'a']), 'BAD_FRAME')
    expectCode(() => readPeers([F.PEERS, ['a@1']]), 'BAD_FRAME')
    expectCode(() => readPeers([F.PEERS, ['a@1', 5]]), 'BAD_FRAME')
  })

  it('SYNC', () => {
    const good = ['p@0000000000000001', 1, ROLE_CLIENT, null, ['x', 1, 2]]
    expect(readSync([F.SYNC, 0, false, 0, [good]]).chunks).toHaveLength(1)
    const bad: unknown[][] = [
      [F.SYNC, 0, false, 0, 'chunks'],
      [F.SYNC, 0, false, 0, ['chunk']],
      [F.SYNC, 0, false, 0, [with_(good, 0, 1)]], // owner
      [F.SYNC, 0, false, 0, [with_(good, 1, -1)]], // seq
      [F.SYNC, 0, false, 0, [with_(good, 1, 1.5)]],
      [F.SYNC, 0, false, 0, [with_(good, 2, 'peer')]], // role
      [F.SYNC, 0, false, 0, [with_(good, 3, 'c1')]], // clients not a list
      [F.SYNC, 0, false, 0, [with_(good, 3, [1])]], // client id not a string
      [F.SYNC, 0, false, 0, [with_(good, 4, ['x', 1])]], // names not in threes
      [F.SYNC, 0, false, 0, [with_(good, 4, [1, 1, 2])]], // name
      [F.SYNC, 0, false, 0, [with_(good, 4, ['x', -1, 2])]], // pid
      [F.SYNC, 0, false, 0, [with_(good, 4, ['x', 1, '2'])]], // stamp
      [F.SYNC, -1, false, 0, [good]], // purpose
      [F.SYNC, 0, false, 'now', [good]], // clock
    ]
    for (const f of bad) expectCode(() => readSync(f), 'BAD_FRAME')
  })

  it('DELTA', () => {
    const ok = deltaFrame('p@0000000000000001', 1, 2, 0, [OP_PUT, 'x', 1, 4096])
    expect(readDelta(ok).seq).toBe(2)
    const bad: unknown[][] = [
      deltaFrame('p@0000000000000001', 2, 2, 0, []), // seq not after prevSeq
      deltaFrame('p@0000000000000001', 3, 2, 0, []),
      with_(ok, 1, 5), // owner
      with_(ok, 2, -1), // prevSeq
      with_(ok, 3, 'two'), // seq
      with_(ok, 4, null), // clock
      with_(ok, 5, {}), // ops
      deltaFrame('p@0000000000000001', 1, 2, 0, [9, 'x']), // unknown op
      deltaFrame('p@0000000000000001', 1, 2, 0, [OP_PUT, 'x', 1]), // put cut short
      deltaFrame('p@0000000000000001', 1, 2, 0, [OP_PUT, 'x', -1, 4096]), // put pid
      deltaFrame('p@0000000000000001', 1, 2, 0, [OP_PUT, 7, 1, 4096]), // put name
      deltaFrame('p@0000000000000001', 1, 2, 0, [OP_DEL, 'x', 'why']), // del reason
      deltaFrame('p@0000000000000001', 1, 2, 0, [OP_CLIENT_ADD, 3]), // client id
      deltaFrame('p@0000000000000001', 1, 2, 0, [OP_CLIENT_DEL, 'c@0000000000000001']), // client del without reason
      deltaFrame('p@0000000000000001', 1, 2, 0, [OP_PUT, 'x', 1, 4096, 'trailing']),
    ]
    for (const f of bad) expectCode(() => readDelta(f), 'BAD_FRAME')
  })

  it('BUS_HELLO', () => {
    const b = busHelloFrame(busHello)
    expectCode(() => readBusHello(with_(b, 1, null)), 'BAD_FRAME') // id
    expectCode(() => readBusHello(with_(b, 2, filled(33, 0))), 'BAD_FRAME') // key
    expectCode(() => readBusHello(with_(b, 3, filled(8, 0))), 'BAD_FRAME') // nonce
    expectCode(() => readBusHello(with_(b, 4, filled(15, 0))), 'BAD_FRAME') // replyTo
    expectCode(() => readBusHello(with_(b, 6, filled(31, 0))), 'BAD_FRAME') // mac
    expectCode(() => readBusHello(with_(b, 7, filled(32, 0))), 'BAD_FRAME') // sig
    expectCode(() => readBusHello(with_(b, 8, '1')), 'BAD_FRAME') // clock
  })
})
