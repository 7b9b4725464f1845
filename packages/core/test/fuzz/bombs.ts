/**
 * msgpack bombs: small inputs that cost a decoder without limits much memory or
 * stack: deep nesting (arrays, maps, Map/Set extensions), container headers that
 * declare more elements than bytes are left, huge str/bin lengths, and malformed
 * payloads of extension types 0 (Pid), 1 (Map) and 2 (Set).
 *
 * Two sizes: 'safe' stays small enough that today's decoder (no depth limit, declared
 * lengths pre-allocated) survives it in a test process; 'full' is the attack as
 * issue 8 describes it (a 30 KB array16 nesting takes GBs today). FLURRY_FUZZ_BOMBS=full
 * turns the full size on, once the decoder has its limits.
 */
import type { Rng } from './rng.js'
import { concatBytes } from '@noble/hashes/utils.js'

export type BombScale = 'safe' | 'full'

const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {}
export const BOMB_SCALE: BombScale = env.FLURRY_FUZZ_BOMBS === 'safe' ? 'safe' : 'full'

const concat = (parts: readonly Uint8Array[]): Uint8Array => concatBytes(...parts)
const u8 = (...xs: number[]): Uint8Array => Uint8Array.from(xs)
const be16 = (n: number): number[] => [(n >>> 8) & 0xff, n & 0xff]
const be32 = (n: number): number[] => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]

function repeat(unit: Uint8Array, times: number, tail: Uint8Array): Uint8Array {
  const out = new Uint8Array(unit.length * times + tail.length)
  for (let i = 0; i < times; i++) out.set(unit, i * unit.length)
  out.set(tail, unit.length * times)
  return out
}

/** An extension header and payload, with the smallest header that fits. */
export function ext(type: number, payload: Uint8Array): Uint8Array {
  const t = type & 0xff
  const n = payload.length
  const fixed: Record<number, number> = { 1: 0xd4, 2: 0xd5, 4: 0xd6, 8: 0xd7, 16: 0xd8 }
  const head =
    fixed[n] !== undefined ? u8(fixed[n] as number, t) : n < 0x100 ? u8(0xc7, n, t) : n < 0x10000 ? u8(0xc8, ...be16(n), t) : u8(0xc9, ...be32(n), t)
  return concat([head, payload])
}

export interface Bomb {
  name: string
  /** One msgpack value. */
  value: Uint8Array
  /**
   * Refused (BAD_FRAME / FRAME_TOO_LARGE) once the decoder has its limits; the others
   * (a NaN pid, an unknown extension type…) may also decode, but never crash.
   */
  refused: boolean
}

/** Sizes per scale: safe ones survive today's decoder, full ones are the attack. */
function sizes(scale: BombScale) {
  return scale === 'full'
    ? { depth: 200_000, wide16Levels: 10_000, wide32Levels: 200, wide32Count: 1_000_000, extDepth: 20_000 }
    : { depth: 2_000, wide16Levels: 6, wide32Levels: 3, wide32Count: 100_000, extDepth: 60 }
}

/** Every kind of bomb once, at the given scale: the named group of the bomb spec. */
export function allBombs(scale: BombScale): Bomb[] {
  const s = sizes(scale)
  const bombs: Bomb[] = [
    { name: `fixarray(1) nested ${s.depth} deep`, value: repeat(u8(0x91), s.depth, u8(0xc0)), refused: true },
    { name: `fixmap(1) nested ${s.depth} deep`, value: repeat(u8(0x81, 0xa1, 0x6b), s.depth, u8(0xc0)), refused: true },
    { name: `array16 declaring 65535, nested ${s.wide16Levels} deep`, value: repeat(u8(0xdc, 0xff, 0xff), s.wide16Levels, u8()), refused: true },
    { name: `array32 declaring ${s.wide32Count}, nested ${s.wide32Levels} deep`, value: repeat(u8(0xdd, ...be32(s.wide32Count)), s.wide32Levels, u8()), refused: true },
    { name: 'map16 declaring 65535, nested', value: repeat(u8(0xde, 0xff, 0xff, 0xa1, 0x6b), s.wide16Levels, u8()), refused: true },
    { name: 'map32 declaring 2^32-1', value: u8(0xdf, 0xff, 0xff, 0xff, 0xff), refused: true },
    { name: 'array32 declaring 2^32-1', value: u8(0xdd, 0xff, 0xff, 0xff, 0xff), refused: true },
    { name: 'str32 declaring 2^32-1', value: u8(0xdb, 0xff, 0xff, 0xff, 0xff, 0x61), refused: true },
    { name: 'str32 declaring 1 MiB, 1 byte there', value: u8(0xdb, ...be32(1 << 20), 0x61), refused: true },
    { name: 'bin32 declaring 2^32-1', value: u8(0xc6, 0xff, 0xff, 0xff, 0xff, 0x00), refused: true },
    { name: 'bin32 declaring 1 MiB - 1, 1 byte there', value: u8(0xc6, ...be32((1 << 20) - 1), 0x00), refused: true },
    { name: 'ext32 declaring 2^32-1', value: u8(0xc9, 0xff, 0xff, 0xff, 0xff, 0x01), refused: true },
    { name: `Map extension nested ${s.extDepth} deep`, value: nestedMapExt(s.extDepth), refused: true },
    { name: `Set extension nested ${s.extDepth} deep`, value: nestedSetExt(s.extDepth), refused: true },
    { name: 'Set extension holding an array16 bomb', value: ext(2, concat([u8(0x91), repeat(u8(0xdc, 0xff, 0xff), s.wide16Levels, u8())])), refused: true },
    { name: 'Set extension of a fixarray nested deep', value: ext(2, concat([u8(0x91), repeat(u8(0x91), s.depth, u8(0xc0))])), refused: true },
  ]
  for (const [name, payload, refused] of MALFORMED_EXT) bombs.push({ name, value: payload, refused })
  return bombs
}

/** Map(1) { Map(1) { … : nil } : nil }: each level an extension decoded by a nested decoder. */
function nestedMapExt(depth: number): Uint8Array {
  let v = u8(0xc0)
  for (let i = 0; i < depth; i++) v = ext(1, concat([u8(0x91, 0x92), v, u8(0xc0)]))
  return v
}
function nestedSetExt(depth: number): Uint8Array {
  let v = u8(0xc0)
  for (let i = 0; i < depth; i++) v = ext(2, concat([u8(0x91), v]))
  return v
}

const MALFORMED_EXT: ReadonlyArray<[string, Uint8Array, boolean]> = [
  ['Pid: empty payload', u8(0xc7, 0x00, 0x00), true],
  ['Pid: width 5', ext(0, u8(5, 1, 2, 3, 4, 5, 0x61)), true],
  ['Pid: width 4, payload too short', ext(0, u8(4, 1, 2)), true],
  ['Pid: width 8, no node id', ext(0, u8(8, 0, 0, 0, 0, 0, 0, 0xf0, 0x7f)), true],
  ['Pid: invalid UTF-8 node id', ext(0, u8(4, 1, 0, 0, 0, 0xff, 0xfe)), true],
  ['Pid: NaN id', ext(0, u8(8, 0, 0, 0, 0, 0, 0, 0xf8, 0x7f, 0x61)), false],
  ['Map: empty payload', u8(0xc7, 0x00, 0x01), true],
  ['Map: payload not an array', ext(1, u8(0xa1, 0x61)), true],
  ['Map: a pair of three', ext(1, u8(0x91, 0x93, 0x01, 0x02, 0x03)), true],
  ['Map: pairs not arrays', ext(1, u8(0x92, 0x01, 0x02)), true],
  ['Map: trailing bytes', ext(1, u8(0x90, 0xc0, 0xc0)), true],
  ['Map: truncated payload', ext(1, u8(0x92, 0x92, 0x01)), true],
  ['Map: __proto__ key', ext(1, u8(0x91, 0x92, 0xa9, ...new TextEncoder().encode('__proto__'), 0x01)), false],
  ['Set: empty payload', u8(0xc7, 0x00, 0x02), true],
  ['Set: payload not an array', ext(2, u8(0x05)), true],
  ['Set: trailing bytes', ext(2, u8(0x90, 0x01)), true],
  ['Set: array16 declaring 65535 in 3 bytes', ext(2, u8(0xdc, 0xff, 0xff)), true],
  ['timestamp ext (-1) of 5 bytes', ext(-1, u8(1, 2, 3, 4, 5)), true],
  ['timestamp ext (-1) of 12 bytes, nanoseconds out of range', ext(-1, u8(0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 1)), false],
  ['unknown ext type 3', ext(3, u8(1, 2, 3)), false],
  ['unknown ext type -128', ext(-128, u8(1)), false],
]

/** Ways to carry a bomb (`way` 0 to 3): as the frame itself, or as a field of a frame a target reads. */
export const WAYS = 4
export function framed(way: number, bomb: Uint8Array): Uint8Array {
  switch (way % WAYS) {
    case 0:
      return bomb
    case 1: // DIRECT A_SEND to pid 1: the body
      return concat([u8(0x95, 0x20, 0x01, 0x01, 0x01), bomb])
    case 2: // HELLO with the bomb as its id (read before the handshake)
      return concat([u8(0x99, 0x01, 0x01, 0x01), bomb])
    default: // SYNC chunks
      return concat([u8(0x95, 0x11, 0x00, 0xc2, 0x00), bomb])
  }
}

/** A random small bomb for the mixed streams: one of the safe ones, maybe cut short. */
export function randomBomb(rng: Rng): Bomb {
  const b = rng.pick(SAFE)
  if (!rng.chance(0.2)) return b
  return { ...b, name: `${b.name}, cut`, value: b.value.subarray(0, rng.int(b.value.length + 1)) }
}
const SAFE = allBombs('safe')
