/**
 * The shape check before decoding: nesting limit (the same for encode and decode, Map
 * and Set payloads included), container lengths held to the bytes left, and the name
 * and id rules shared by the API and the frame readers.
 */
import { describe, expect, it } from 'vitest'
import { FlurryError } from '../../src/base/index.js'
import { decodeValue, encodeValue, readFrames, encodeMessage } from '../../src/wire/codec.js'
import { MAX_DEPTH, checkStructure } from '../../src/wire/structure.js'
import { isName, isNodeId, nameFault } from '../../src/wire/names.js'
import { F, readDelta, deltaFrame, OP_PUT } from '../../src/wire/frames.js'

function nest(depth: number, leaf: unknown = 1): unknown {
  let v: unknown = leaf
  for (let i = 0; i < depth; i++) v = [v]
  return v
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(FlurryError)
    return (err as FlurryError).code
  }
  return undefined
}

describe('wire: shape check before decoding', () => {
  it('accepts exactly MAX_DEPTH levels both ways, and refuses one more both ways', () => {
    // A value inside MAX_DEPTH arrays sits at depth MAX_DEPTH.
    const ok = nest(MAX_DEPTH)
    const bytes = encodeValue(ok)
    expect(decodeValue(bytes)).toEqual(ok)
    expect(codeOf(() => encodeValue(nest(MAX_DEPTH + 1)))).toBe('BAD_ARGUMENT')
    // Hand-built: MAX_DEPTH + 1 fixarray(1) headers, then a fixint.
    const deep = new Uint8Array(MAX_DEPTH + 2).fill(0x91)
    deep[MAX_DEPTH + 1] = 0x01
    expect(codeOf(() => decodeValue(deep))).toBe('BAD_FRAME')
  })

  it('counts Map and Set payloads as the containers they replace, encoding and decoding alike', () => {
    const inMap = (depth: number) => {
      let v: unknown = new Map([['k', 1]])
      for (let i = 0; i < depth; i++) v = [v]
      return v
    }
    // A Map's pairs array replaces it; pairs and then values add two levels.
    const fits = inMap(MAX_DEPTH - 2)
    expect(decodeValue(encodeValue(fits))).toEqual(fits)
    expect(codeOf(() => encodeValue(inMap(MAX_DEPTH - 1)))).toBe('BAD_ARGUMENT')
    expect(codeOf(() => encodeValue(new Set([nest(MAX_DEPTH)])))).toBe('BAD_ARGUMENT')
  })

  it('refuses the nested array16 bomb at once, without allocating its declared lengths', () => {
    // 10,000 nested array16 headers of 65,535 elements each: 30 KB.
    const bomb = new Uint8Array(30_001)
    for (let i = 0; i < 10_000; i++) bomb.set([0xdc, 0xff, 0xff], i * 3)
    const heap = process.memoryUsage().heapUsed
    const t0 = performance.now()
    expect(codeOf(() => decodeValue(bomb))).toBe('BAD_FRAME')
    expect(performance.now() - t0).toBeLessThan(200)
    expect(process.memoryUsage().heapUsed - heap).toBeLessThan(16 * 1024 * 1024)
  })

  it('refuses containers that declare more elements than bytes are left', () => {
    expect(codeOf(() => checkStructure(Uint8Array.of(0xdc, 0x00, 0x05, 1, 2, 3)))).toBe('BAD_FRAME')
    expect(codeOf(() => checkStructure(Uint8Array.of(0xde, 0x00, 0x02, 1, 2, 3)))).toBe('BAD_FRAME')
    // Nested: each fits alone, but not together.
    expect(codeOf(() => checkStructure(Uint8Array.of(0x92, 0x93, 1, 2)))).toBe('BAD_FRAME')
    expect(() => checkStructure(Uint8Array.of(0x92, 0x92, 1, 2, 3))).not.toThrow()
  })

  it('refuses trailing bytes, truncation and the unused byte 0xc1', () => {
    expect(codeOf(() => checkStructure(Uint8Array.of(1, 2)))).toBe('BAD_FRAME')
    expect(codeOf(() => checkStructure(Uint8Array.of(0xcd, 1)))).toBe('BAD_FRAME')
    expect(codeOf(() => checkStructure(Uint8Array.of(0xa5, 0x61)))).toBe('BAD_FRAME')
    expect(codeOf(() => checkStructure(Uint8Array.of(0xc1)))).toBe('BAD_FRAME')
  })

  it('readFrames takes a smaller depth budget (before the handshake)', () => {
    const msg = encodeMessage([F.PING, [[1]]])
    expect(codeOf(() => readFrames(msg, 1024, () => {}, 2))).toBe('BAD_FRAME')
    let got: unknown = null
    readFrames(msg, 1024, (f) => void (got = f), 3)
    expect(got).toEqual([F.PING, [[1]]])
  })
})

describe('wire: names and ids, the same rules for the API and the readers', () => {
  it('names are 1..1024 characters of well-formed, printable text', () => {
    expect(isName('room:lobby')).toBe(true)
    expect(isName('\u{1F600} émoji')).toBe(true)
    expect(isName('x'.repeat(1024))).toBe(true)
    expect(nameFault('')).toBe('empty')
    expect(nameFault('x'.repeat(1025))).toMatch(/longer/)
    expect(nameFault('a\nb')).toMatch(/control/)
    expect(nameFault('a\u0085b')).toMatch(/control/)
    expect(nameFault('a\ud800b')).toMatch(/surrogate/)
    expect(nameFault('\udc00')).toMatch(/surrogate/)
    expect(nameFault(7)).toMatch(/string/)
  })

  it('node ids are name@16 hex digits; a forged log line is not one', () => {
    expect(isNodeId('relay@0123456789abcdef')).toBe(true)
    expect(isNodeId('x\n2026-01-01 error forged@0123456789abcdef')).toBe(false)
    expect(isNodeId('relay@0123456789ABCDEF')).toBe(false)
    expect(isNodeId('relay@0123')).toBe(false)
  })

  it('a delta claiming an empty or over-long name is BAD_FRAME', () => {
    const owner = 'c@0000000000000001'
    expect(codeOf(() => readDelta(deltaFrame(owner, 0, 1, 0, [OP_PUT, '', 1, 1])))).toBe('BAD_FRAME')
    expect(codeOf(() => readDelta(deltaFrame(owner, 0, 1, 0, [OP_PUT, 'x'.repeat(1_000_004), 1, 1])))).toBe('BAD_FRAME')
    expect(readDelta(deltaFrame(owner, 0, 1, 0, [OP_PUT, 'ok', 1, 1])).ops).toEqual([OP_PUT, 'ok', 1, 1])
  })
})
