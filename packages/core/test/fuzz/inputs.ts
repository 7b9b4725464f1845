/**
 * What the fuzzer feeds: link messages (the unit every target receives) made of
 * random bytes, structurally valid frames of every type with random or mutated
 * fields, the golden frames of PROTOCOL.md §12, and byte-level mutants of both (bit
 * flips, truncation, wrong length prefixes, duplicated and batched frames). Resource
 * bombs live in bombs.ts.
 */
import { encodeValue } from '../../src/wire/codec.js'
import {
  A_CALL,
  A_DEMONITOR,
  A_DOWN,
  A_EXIT,
  A_FENCE,
  A_MONITOR,
  A_REPLY,
  A_SEND,
  A_SIGNAL,
  F,
  OP_CLIENT_ADD,
  OP_CLIENT_DEL,
  OP_DEL,
  OP_PUT,
} from '../../src/wire/frames.js'
import { Pid } from '../../src/wire/pid.js'
import type { Rng } from './rng.js'

/** What a generator may weave in to get past the first checks: ids and names in use. */
export interface Context {
  /** Node ids the target knows (its own, the fuzzing client's, others it listed). */
  ids: string[]
  /** The fuzzing side's own id (a home accepts a client's own slice only). */
  self: string | null
  /** The target's clock in ms, for stamps that pass the clock check. */
  nowMs: () => number
  /** The next DELTA seq of `self`'s slice that would be applied. */
  seq: number
}

export function emptyContext(): Context {
  return { ids: [], self: null, nowMs: () => Date.now(), seq: 0 }
}

const unhex = (s: string): Uint8Array => Uint8Array.from(s.match(/../g) ?? [], (h) => parseInt(h, 16))

/** PROTOCOL.md §12, byte for byte: PING, DIRECT with a Pid, GOODBYE, a DELTA, a batch. */
export const GOLDEN: readonly Uint8Array[] = [
  '00000005' + '9204cd04d2',
  '00000013' + '9520010107' + '81a2746f' + 'd700' + '04' + '07000000' + '614031',
  '00000006' + '9206a3627965',
  '00000017' + '9612a36e4031000105' + '9701a17802ce003e800102a17900',
  '00000005' + '9204cd04d2' + '00000006' + '9206a3627965',
].map(unhex)

const EDGE_NUMBERS = [
  0, 1, -1, 2, 7, 127, 128, 255, 256, 65535, 65536, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1, 2 ** 53,
  -(2 ** 31), -(2 ** 53), 0.5, -0.5, 1e308, -1e308, 5e-324, Number.NaN, Infinity, -Infinity, -0,
]
const CODES = [
  'AUTH_FAILED', 'VERSION_MISMATCH', 'BAD_FRAME', 'PROTOCOL', 'NOT_AUTHORIZED', 'QUOTA', 'CLOCK_SKEW', 'FRAME_TOO_LARGE',
  'TIMEOUT', 'CLOSED', 'NOT_A_CODE', '', 'constructor', '__proto__',
]
const NAMES = ['', 'a', 'n0', 'n1', 'room:lobby', 'x\n[error] forged line', '__proto__', 'constructor', 'é', '\u{1F600}', '\ud800']
const REASONS = ['closed', 'goodbye', 'timeout', 'bad-frame', 'noconnection', 'shutdown', '', 'x'.repeat(300)]

/** A node id of the right shape (name@16 hex digits). */
export function randomId(rng: Rng): string {
  return `${rng.pick(['node', 'tab', 'api', 'a'])}@${[...rng.bytes(8)].map((b) => b.toString(16).padStart(2, '0')).join('')}`
}

export function randomString(rng: Rng, ctx: Context): string {
  const r = rng.int(10)
  if (r < 3 && ctx.ids.length > 0) return rng.pick(ctx.ids)
  if (r < 6) return rng.pick(NAMES)
  if (r < 8) {
    let s = ''
    const n = rng.length(40)
    for (let i = 0; i < n; i++) s += String.fromCharCode(rng.chance(0.9) ? rng.range(32, 126) : rng.int(0x10000))
    return s
  }
  if (r < 9) return randomId(rng)
  return 'y'.repeat(rng.pick([64, 1024, 1025, 5000]))
}

export function randomNumber(rng: Rng, ctx: Context): number {
  const r = rng.int(6)
  if (r === 0) return rng.pick(EDGE_NUMBERS)
  if (r === 1) return ctx.nowMs() + rng.range(-5000, 5000)
  if (r === 2) return (ctx.nowMs() + rng.range(-3000, 3000)) * 1024 + rng.int(1024)
  if (r === 3) return rng.float() * 2 ** rng.int(64) * (rng.chance(0.2) ? -1 : 1)
  return rng.int(20)
}

/** A claim stamp (ms * 1024 + counter), mostly one a home's clock check passes. */
function stamp(rng: Rng, ctx: Context): number {
  return rng.chance(0.7) ? (ctx.nowMs() + rng.range(-500, 2000)) * 1024 + rng.int(1024) : randomNumber(rng, ctx)
}

function uintLike(rng: Rng, ctx: Context): number {
  return rng.chance(0.85) ? rng.int(rng.chance(0.5) ? 8 : 2 ** 32) : randomNumber(rng, ctx)
}

/** Any value msgpack carries, `depth` levels deep at most. */
export function randomValue(rng: Rng, ctx: Context, depth = 3): unknown {
  const r = rng.int(depth > 0 ? 14 : 9)
  switch (r) {
    case 0:
      return null
    case 1:
      return rng.chance(0.5)
    case 2:
    case 3:
      return randomNumber(rng, ctx)
    case 4:
    case 5:
      return randomString(rng, ctx)
    case 6:
      return rng.bytes(rng.pick([0, 1, 15, 16, 17, 31, 32, 33, 63, 64, 65, rng.length(100)]))
    case 7:
      return new Pid(rng.chance(0.5) && ctx.ids.length > 0 ? rng.pick(ctx.ids) : randomString(rng, ctx) || 'a@1', rng.chance(0.8) ? rng.int(10) : randomNumber(rng, ctx))
    case 8:
      return new Date(rng.chance(0.9) ? ctx.nowMs() : randomNumber(rng, ctx))
    case 9:
    case 10: {
      const n = rng.length(6)
      return Array.from({ length: n }, () => randomValue(rng, ctx, depth - 1))
    }
    case 11: {
      const o: Record<string, unknown> = {}
      const n = rng.length(4)
      // defineProperty: a key '__proto__' becomes an own key, as on the wire.
      for (let i = 0; i < n; i++) Object.defineProperty(o, randomString(rng, ctx), { value: randomValue(rng, ctx, depth - 1), enumerable: true, configurable: true, writable: true })
      return o
    }
    case 12: {
      const m = new Map<unknown, unknown>()
      const n = rng.length(4)
      for (let i = 0; i < n; i++) m.set(randomValue(rng, ctx, depth - 1), randomValue(rng, ctx, depth - 1))
      return m
    }
    default: {
      const s = new Set<unknown>()
      const n = rng.length(4)
      for (let i = 0; i < n; i++) s.add(randomValue(rng, ctx, depth - 1))
      return s
    }
  }
}

/** Mostly a value of the right kind, sometimes anything: reaches past the first check. */
function field<T>(rng: Rng, ctx: Context, good: () => T): unknown {
  return rng.chance(0.9) ? good() : randomValue(rng, ctx, 1)
}

function actorArgs(rng: Rng, ctx: Context, op: number): unknown[] {
  const pidId = (): unknown => field(rng, ctx, () => rng.int(6))
  const ref = (): unknown => field(rng, ctx, () => rng.int(50))
  const body = (): unknown => randomValue(rng, ctx, 2)
  switch (op) {
    case A_SEND:
      return [pidId(), body()]
    case A_CALL:
      return [pidId(), ref(), body()]
    case A_REPLY:
      return [ref(), field(rng, ctx, () => true), body()]
    case A_MONITOR:
      return [ref(), pidId()]
    case A_DEMONITOR:
      return [ref()]
    case A_DOWN:
      return [ref(), body()]
    case A_EXIT:
      return [pidId(), body()]
    case A_FENCE:
      return []
    case A_SIGNAL:
      return [body()]
    default:
      return Array.from({ length: rng.int(3) }, body)
  }
}

/** A registry name: mostly one the API allows, so claims get past the readers to the checks. */
function randomName(rng: Rng, ctx: Context): string {
  if (rng.chance(0.3)) return randomString(rng, ctx)
  if (rng.chance(0.5)) return rng.pick(['a', 'n0', 'n1', 'room:lobby', 'é', '\u{1F600}'])
  let out = ''
  const n = 1 + rng.int(20)
  for (let i = 0; i < n; i++) out += String.fromCharCode(rng.range(32, 126))
  return out
}

function deltaOps(rng: Rng, ctx: Context): unknown[] {
  const ops: unknown[] = []
  const n = rng.length(6)
  for (let i = 0; i < n; i++) {
    const op = rng.chance(0.95) ? rng.pick([OP_PUT, OP_PUT, OP_DEL, OP_CLIENT_ADD, OP_CLIENT_DEL]) : randomValue(rng, ctx, 0)
    ops.push(op)
    if (op === OP_PUT) ops.push(field(rng, ctx, () => randomName(rng, ctx)), field(rng, ctx, () => rng.int(6)), field(rng, ctx, () => stamp(rng, ctx)))
    else if (op === OP_DEL) ops.push(field(rng, ctx, () => randomName(rng, ctx)), field(rng, ctx, () => rng.int(5)))
    else if (op === OP_CLIENT_ADD) ops.push(field(rng, ctx, () => randomString(rng, ctx)))
    else if (op === OP_CLIENT_DEL) ops.push(field(rng, ctx, () => randomString(rng, ctx)), field(rng, ctx, () => rng.pick(REASONS)))
  }
  return ops
}

function chunk(rng: Rng, ctx: Context): unknown {
  const names: unknown[] = []
  const n = rng.length(5)
  for (let i = 0; i < n; i++) names.push(field(rng, ctx, () => randomName(rng, ctx)), field(rng, ctx, () => rng.int(6)), field(rng, ctx, () => stamp(rng, ctx)))
  const owner = rng.chance(0.5) && ctx.self !== null ? ctx.self : randomString(rng, ctx)
  const clients = rng.chance(0.5) ? null : Array.from({ length: rng.length(3) }, () => field(rng, ctx, () => randomString(rng, ctx)))
  return [field(rng, ctx, () => owner), field(rng, ctx, () => uintLike(rng, ctx)), field(rng, ctx, () => rng.int(2)), clients, names]
}

/** Every frame type of wire/frames.ts, plus types that do not exist. */
export const FRAME_TYPES: readonly number[] = [...Object.values(F), 0, 8, 15, 22, 27, 31, 34, 127, 255]

/** A frame of `type` whose fields mostly have the right shape. */
export function frameOf(rng: Rng, ctx: Context, type: number): unknown[] {
  const s = (): unknown => field(rng, ctx, () => randomString(rng, ctx))
  const u = (): unknown => field(rng, ctx, () => uintLike(rng, ctx))
  const num = (): unknown => field(rng, ctx, () => randomNumber(rng, ctx))
  const bin = (n: number): unknown => field(rng, ctx, () => rng.bytes(rng.chance(0.9) ? n : rng.length(70)))
  const owner = (): unknown => field(rng, ctx, () => (rng.chance(0.6) && ctx.self !== null ? ctx.self : randomString(rng, ctx)))
  switch (type) {
    case F.HELLO: {
      // Mostly well-formed ids and URLs, so the reader's later checks are reached too.
      const id = field(rng, ctx, () => (rng.chance(0.7) ? randomId(rng) : randomString(rng, ctx)))
      const url = rng.chance(0.5) ? null : field(rng, ctx, () => (rng.chance(0.7) ? 'ws://127.0.0.1:4000/flurry' : randomString(rng, ctx)))
      return [type, u(), u(), id, bin(32), field(rng, ctx, () => rng.int(3)), url, bin(16), num()]
    }
    case F.PROOF:
      return [type, bin(32), bin(64)]
    case F.REFUSE:
    case F.ERROR:
      return [type, field(rng, ctx, () => rng.pick(CODES)), s()]
    case F.PING:
    case F.PONG:
      return [type, num()]
    case F.GOODBYE:
      return [type, s()]
    case F.PEERS:
      return [type, Array.from({ length: rng.length(4) * 2 }, () => (rng.chance(0.5) ? s() : field(rng, ctx, () => `memory://${randomString(rng, ctx)}`)))]
    case F.SYNC:
      return [type, field(rng, ctx, () => rng.int(4)), field(rng, ctx, () => rng.chance(0.3)), num(), Array.from({ length: rng.length(3) }, () => field(rng, ctx, () => chunk(rng, ctx)))]
    case F.DELTA: {
      const prev = rng.chance(0.6) ? ctx.seq : rng.int(10)
      const seq = rng.chance(0.8) ? prev + 1 : rng.int(12)
      return [type, owner(), field(rng, ctx, () => prev), field(rng, ctx, () => seq), num(), field(rng, ctx, () => deltaOps(rng, ctx))]
    }
    case F.SLICE_REQ:
      return [type, owner()]
    case F.UNCOUNT:
      return [type, s(), field(rng, ctx, () => rng.pick(REASONS))]
    case F.REFUSE_NAME:
      return [type, u(), s(), field(rng, ctx, () => rng.pick(CODES)), num()]
    case F.BUS_HELLO:
      return [type, s(), bin(32), bin(16), rng.chance(0.5) ? null : bin(16), field(rng, ctx, () => rng.chance(0.5)), bin(32), bin(64), num()]
    case F.BUS_ENV:
      return [type, s(), s()]
    case F.BUS_STATUS:
      return [type, field(rng, ctx, () => rng.chance(0.5))]
    case F.DIRECT: {
      const op = rng.chance(0.9) ? rng.range(1, 9) : rng.int(300)
      return [type, field(rng, ctx, () => rng.range(1, 8)), op, ...actorArgs(rng, ctx, op)]
    }
    case F.ROUTED: {
      const op = rng.chance(0.9) ? rng.range(1, 9) : rng.int(300)
      const to = field(rng, ctx, () => (ctx.ids.length > 0 && rng.chance(0.7) ? rng.pick(ctx.ids) : randomString(rng, ctx)))
      const from = rng.chance(0.6) && ctx.self !== null ? ctx.self : s()
      return [type, to, from, field(rng, ctx, () => rng.range(1, 8)), op, ...actorArgs(rng, ctx, op)]
    }
    default:
      return [type, ...Array.from({ length: rng.int(4) }, () => randomValue(rng, ctx, 1))]
  }
}

/** A frame of some type, then now and then a field dropped, added or its type changed. */
export function randomFrame(rng: Rng, ctx: Context, types: readonly number[] = FRAME_TYPES): unknown[] {
  const f = frameOf(rng, ctx, rng.pick(types))
  const r = rng.int(20)
  if (r === 0 && f.length > 1) f.pop()
  else if (r === 1) f.push(randomValue(rng, ctx, 1))
  else if (r === 2) f[0] = randomValue(rng, ctx, 0)
  else if (r === 3 && f.length > 1) f[rng.range(1, f.length - 1)] = randomValue(rng, ctx, 2)
  return f
}

/** Frames as one link message: each a big-endian uint32 length and its bytes. */
export function message(frames: readonly Uint8Array[]): Uint8Array {
  let n = 0
  for (const f of frames) n += 4 + f.length
  const out = new Uint8Array(n)
  const view = new DataView(out.buffer)
  let pos = 0
  for (const f of frames) {
    view.setUint32(pos, f.length)
    out.set(f, pos + 4)
    pos += 4 + f.length
  }
  return out
}

const INTERESTING_BYTES = [0x00, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xc0, 0xc1, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xcb, 0xcf, 0xd3, 0xd4, 0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xff]

/** One byte-level change: a bit flip, an edge byte, a cut, an insert, a deletion, a duplicate. */
export function mutateBytes(rng: Rng, input: Uint8Array): Uint8Array {
  const b = input.slice()
  const at = (): number => rng.int(Math.max(1, b.length))
  switch (rng.int(8)) {
    case 0:
    case 1: {
      if (b.length === 0) return rng.bytes(1)
      const flips = rng.range(1, 3)
      for (let i = 0; i < flips; i++) {
        const k = at()
        b[k] = (b[k] as number) ^ (1 << rng.int(8))
      }
      return b
    }
    case 2:
      if (b.length > 0) b[at()] = rng.pick(INTERESTING_BYTES)
      return b
    case 3:
      return b.subarray(0, at())
    case 4: {
      const k = at()
      const ins = rng.chance(0.5) ? rng.bytes(rng.range(1, 8)) : Uint8Array.of(rng.pick(INTERESTING_BYTES))
      const out = new Uint8Array(b.length + ins.length)
      out.set(b.subarray(0, k))
      out.set(ins, k)
      out.set(b.subarray(k), k + ins.length)
      return out
    }
    case 5: {
      const k = at()
      const n = rng.range(1, 8)
      const head = b.subarray(0, k)
      const tail = b.subarray(Math.min(b.length, k + n))
      const out = new Uint8Array(head.length + tail.length)
      out.set(head)
      out.set(tail, head.length)
      return out
    }
    case 6: {
      // A slice of itself pasted elsewhere (repeats headers and fields).
      const from = at()
      const piece = b.subarray(from, from + rng.range(1, 16))
      const k = at()
      const out = new Uint8Array(b.length + piece.length)
      out.set(b.subarray(0, k))
      out.set(piece, k)
      out.set(b.subarray(k), k + piece.length)
      return out
    }
    default: {
      // A multi-byte big-endian integer in place (lengths and counts live there).
      if (b.length < 3) return b
      const k = rng.int(b.length - 2)
      const v = rng.pick([0, 1, 0x7f, 0xff, 0xffff, 0x7fffffff, 0xffffffff])
      b[k] = (v >>> 16) & 0xff
      b[k + 1] = (v >>> 8) & 0xff
      b[k + 2] = v & 0xff
      return b
    }
  }
}

/** Rewrites the length prefix of the first frame: 0, off by a little, or huge. */
function wrongPrefix(rng: Rng, msg: Uint8Array): Uint8Array {
  if (msg.length < 4) return msg
  const b = msg.slice()
  const view = new DataView(b.buffer)
  const len = view.getUint32(0)
  view.setUint32(0, rng.pick([0, 1, len - 1, len + 1, len + 4, 0x100000, 0x100001, 0xffffffff, rng.int(2 ** 32)]) >>> 0)
  return b
}

export type InputKind = 'bytes' | 'frames' | 'mutant' | 'golden'

/**
 * One link message. `weights` shifts the mix (a target past the handshake wants
 * mostly frames that parse, to get deep).
 */
export function linkMessage(
  rng: Rng,
  ctx: Context,
  weights: Readonly<Record<InputKind, number>> = { bytes: 2, frames: 4, mutant: 3, golden: 1 },
  types: readonly number[] = FRAME_TYPES,
): { kind: InputKind; bytes: Uint8Array } {
  const total = weights.bytes + weights.frames + weights.mutant + weights.golden
  let r = rng.float() * total
  let kind: InputKind = 'golden'
  for (const k of ['bytes', 'frames', 'mutant', 'golden'] as const) {
    if (r < weights[k]) {
      kind = k
      break
    }
    r -= weights[k]
  }
  switch (kind) {
    case 'bytes': {
      const body = rng.bytes(rng.length(rng.chance(0.1) ? 4096 : 96))
      // Half of them behind a correct length prefix, so the msgpack decoder sees them.
      return { kind, bytes: rng.chance(0.5) ? message([body]) : body }
    }
    case 'frames': {
      const n = rng.chance(0.8) ? 1 : rng.range(2, 6)
      return { kind, bytes: message(Array.from({ length: n }, () => encodeValue(randomFrame(rng, ctx, types)))) }
    }
    case 'golden': {
      const g = rng.pick(GOLDEN)
      if (rng.chance(0.3)) return { kind, bytes: g }
      const times = rng.range(2, 4)
      const out = new Uint8Array(g.length * times)
      for (let i = 0; i < times; i++) out.set(g, i * g.length)
      return { kind, bytes: rng.chance(0.5) ? out : mutateBytes(rng, out) }
    }
    default: {
      const base = rng.chance(0.3) ? rng.pick(GOLDEN) : message([encodeValue(randomFrame(rng, ctx, types))])
      if (rng.chance(0.2)) return { kind, bytes: wrongPrefix(rng, base) }
      let b = base
      const rounds = rng.range(1, 3)
      for (let i = 0; i < rounds; i++) b = mutateBytes(rng, b)
      if (rng.chance(0.1)) {
        // A good frame before the mutant: the batch is read frame by frame.
        const good = message([encodeValue(randomFrame(rng, ctx, types))])
        const out = new Uint8Array(good.length + b.length)
        out.set(good)
        out.set(b, good.length)
        b = out
      }
      return { kind, bytes: b }
    }
  }
}
