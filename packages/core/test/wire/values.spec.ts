/**
 * Message values that plain msgpack would change on the way: Map and Set travel as
 * extensions and arrive as Map and Set (nested too); Date as a timestamp; malformed
 * extensions give BAD_FRAME; values msgpack cannot carry are refused at the sender.
 */
import { describe, expect, it } from 'vitest'
import { decodeValue, encodeValue } from '../../src/wire/codec.js'
import { Pid } from '../../src/wire/pid.js'
import { FlurryError } from '../../src/base/error.js'

describe('message values', () => {
  it('Map, Set, Date and Pid arrive as themselves, nested', () => {
    const pid = new Pid('n@0123456789abcdef', 7)
    const value = {
      m: new Map<unknown, unknown>([['a', 1], [2, new Set([pid, new Map([[1, [new Date(5)]]])])]]),
      s: new Set(['x', 3]),
      when: new Date(1_700_000_000_000),
    }
    const back = decodeValue(encodeValue(value)) as typeof value
    expect(back).toEqual(value)
    expect(back.m).toBeInstanceOf(Map)
    expect(back.s).toBeInstanceOf(Set)
    const inner = back.m.get(2) as Set<unknown>
    expect([...inner][0]).toBeInstanceOf(Pid)
  })

  it('a malformed Map extension is BAD_FRAME', () => {
    // fixext 1, type 1 (Map), payload 0xc0 (nil): not an array of pairs
    const bytes = Uint8Array.from([0xd4, 0x01, 0xc0])
    expect(() => decodeValue(bytes)).toThrow(FlurryError)
    try {
      decodeValue(bytes)
    } catch (err) {
      expect((err as FlurryError).code).toBe('BAD_FRAME')
    }
  })

  it('values msgpack cannot carry are refused with BAD_ARGUMENT', () => {
    for (const v of [{ f: () => 1 }, { s: Symbol('x') }, 10n]) {
      try {
        encodeValue(v)
        expect.unreachable(`${String(v)} should not encode`)
      } catch (err) {
        expect((err as FlurryError).code).toBe('BAD_ARGUMENT')
      }
    }
  })
})
