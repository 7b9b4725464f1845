/**
 * The Link compliance suite: what every point-to-point transport promises (see
 * link/link.ts). A transport's test calls `linkSuite(name, makePair)` once.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { seededRandom } from '../base/index.js'
import type { Link } from '../link/index.js'
import { sameBytes, settle, testSeed, waitFor } from './wait.js'

/** Two connected links; `cleanup` frees whatever made them (servers, sockets). */
export interface LinkPair {
  a: Link
  b: Link
  cleanup(): Promise<void>
}

/** One end as the suite sees it: what arrived, and how it closed. */
interface End {
  link: Link
  got: Uint8Array[]
  closes: string[]
}

const SIZES = [0, 1, 2, 3, 7, 64, 125, 126, 127, 1000, 65_535, 65_536, 65_537, 100_000, 512 * 1024, 1024 * 1024]

export function linkSuite(name: string, makePair: () => Promise<LinkPair>): void {
  describe(`Link compliance: ${name}`, () => {
    let pair: LinkPair | undefined
    /** Events that fired inside send() or close(), which the contract forbids. */
    let violations: string[] = []
    let inside = false

    afterEach(async () => {
      const p = pair
      pair = undefined
      await p?.cleanup()
    })

    /** Opens a pair and takes its events at once, as an owner must. */
    async function open(): Promise<[End, End]> {
      violations = []
      pair = await makePair()
      return [watch(pair.a, 'a'), watch(pair.b, 'b')]
    }

    function watch(link: Link, label: string): End {
      const end: End = { link, got: [], closes: [] }
      link.onmessage = (data) => {
        if (inside) violations.push(`${label}.onmessage inside send/close`)
        end.got.push(data)
      }
      link.onclose = (reason) => {
        if (inside) violations.push(`${label}.onclose inside send/close`)
        end.closes.push(reason)
      }
      return end
    }

    /** Runs send/close calls, noting any event that fires before they return. */
    function guarded(fn: () => void): void {
      inside = true
      try {
        fn()
      } finally {
        inside = false
      }
    }

    it('delivers messages of every size intact and in order, both ways', async () => {
      const seed = testSeed()
      const random = seededRandom(seed)
      const [a, b] = await open()
      const toB = SIZES.map((n) => random(n))
      const toA = [...SIZES].reverse().map((n) => random(n))
      guarded(() => {
        for (let i = 0; i < toB.length; i++) {
          a.link.send(toB[i] as Uint8Array)
          b.link.send(toA[i] as Uint8Array)
        }
      })
      await waitFor(() => a.got.length >= toA.length && b.got.length >= toB.length, `all messages (seed ${seed})`)
      await settle()
      expect(b.got.length, `seed ${seed}`).toBe(toB.length)
      expect(a.got.length, `seed ${seed}`).toBe(toA.length)
      for (let i = 0; i < toB.length; i++) {
        expect(sameBytes(b.got[i] as Uint8Array, toB[i] as Uint8Array), `a->b #${i} (seed ${seed})`).toBe(true)
        expect(sameBytes(a.got[i] as Uint8Array, toA[i] as Uint8Array), `b->a #${i} (seed ${seed})`).toBe(true)
      }
      for (const m of [...a.got, ...b.got]) expect(m).toBeInstanceOf(Uint8Array)
      expect(violations).toEqual([])
    })

    it('keeps 10,000 small messages in order', async () => {
      const count = 10_000
      const [a, b] = await open()
      const message = (i: number, from: number): Uint8Array => {
        // Lengths 5..20 so that framing of varied small sizes is exercised too.
        const m = new Uint8Array(5 + (i % 16))
        new DataView(m.buffer).setUint32(0, i)
        m[4] = from
        return m
      }
      guarded(() => {
        for (let i = 0; i < count; i++) {
          a.link.send(message(i, 1))
          b.link.send(message(i, 2))
        }
      })
      await waitFor(() => a.got.length >= count && b.got.length >= count, '10,000 messages each way')
      for (const [end, from] of [[b, 1], [a, 2]] as const) {
        expect(end.got.length).toBe(count)
        end.got.forEach((m, i) => {
          if (!sameBytes(m, message(i, from))) expect.fail(`message ${i} from ${from} out of order or damaged`)
        })
      }
      expect(violations).toEqual([])
    })

    for (const closer of ['a', 'b'] as const) {
      it(`close from ${closer} fires onclose once on each side, with the reason`, async () => {
        const ends = await open()
        const [self, other] = closer === 'a' ? ends : [ends[1], ends[0]]
        guarded(() => self.link.close(`bye from ${closer}`))
        await waitFor(() => self.closes.length > 0 && other.closes.length > 0, 'onclose on both sides')
        guarded(() => self.link.close('again'))
        await settle()
        expect(self.closes).toEqual([`bye from ${closer}`])
        expect(other.closes).toEqual([`bye from ${closer}`])
        expect(violations).toEqual([])
      })
    }

    it('both sides closing at once still fire onclose once each', async () => {
      const [a, b] = await open()
      guarded(() => {
        a.link.close('a quits')
        b.link.close('b quits')
      })
      await waitFor(() => a.closes.length > 0 && b.closes.length > 0, 'onclose on both sides')
      await settle()
      expect(a.closes).toEqual(['a quits'])
      expect(b.closes).toEqual(['b quits'])
      expect(violations).toEqual([])
    })

    it('close without a reason gives a non-empty one', async () => {
      const [a, b] = await open()
      guarded(() => a.link.close())
      await waitFor(() => a.closes.length > 0 && b.closes.length > 0, 'onclose on both sides')
      for (const reason of [...a.closes, ...b.closes]) expect(reason).toMatch(/./)
    })

    it('a long reason reaches the remote whole or as a prefix', async () => {
      const reason = `long ${'ü'.repeat(150)}`
      const [a, b] = await open()
      guarded(() => a.link.close(reason))
      await waitFor(() => a.closes.length > 0 && b.closes.length > 0, 'onclose on both sides')
      expect(a.closes).toEqual([reason])
      const remote = b.closes[0] as string
      expect(remote.length).toBeGreaterThan(4)
      expect(reason.startsWith(remote)).toBe(true)
    })

    it('send after close does nothing and never throws; the closer hears nothing more', async () => {
      const [a, b] = await open()
      guarded(() => {
        for (let i = 0; i < 100; i++) b.link.send(new Uint8Array([i]))
        a.link.close('done')
      })
      const heardAtClose = a.got.length
      expect(() => guarded(() => a.link.send(new Uint8Array([1, 2, 3])))).not.toThrow()
      await waitFor(() => a.closes.length > 0 && b.closes.length > 0, 'onclose on both sides')
      expect(() =>
        guarded(() => {
          a.link.send(new Uint8Array([4]))
          b.link.send(new Uint8Array([5]))
          b.link.close('late')
        }),
      ).not.toThrow()
      await settle()
      expect(a.got.length).toBe(heardAtClose)
      expect(b.got).toEqual([])
      expect(a.closes).toEqual(['done'])
      expect(b.closes).toEqual(['done'])
      expect(violations).toEqual([])
    })

    it('fires no event synchronously inside send or close', async () => {
      const [a, b] = await open()
      // Let traffic flow for a while, so events are due while we keep calling send.
      guarded(() => a.link.send(new Uint8Array(10)))
      await waitFor(() => b.got.length === 1, 'the first message')
      for (let round = 0; round < 20; round++) {
        guarded(() => {
          for (let i = 0; i < 50; i++) {
            a.link.send(new Uint8Array([round, i]))
            b.link.send(new Uint8Array([round, i]))
          }
        })
        await new Promise((resolve) => setTimeout(resolve, 0))
      }
      await waitFor(() => b.got.length === 1001 && a.got.length === 1000, 'all rounds')
      guarded(() => b.link.close('end'))
      await waitFor(() => a.closes.length > 0 && b.closes.length > 0, 'onclose on both sides')
      expect(violations).toEqual([])
    })

    it('reports bufferedAmount as a number >= 0', async () => {
      const [a, b] = await open()
      const check = (link: Link): void => {
        expect(typeof link.bufferedAmount).toBe('number')
        expect(link.bufferedAmount).toBeGreaterThanOrEqual(0)
      }
      check(a.link)
      guarded(() => a.link.send(new Uint8Array(1024 * 1024)))
      check(a.link)
      await waitFor(() => b.got.length === 1, 'the big message')
      check(a.link)
      check(b.link)
      guarded(() => a.link.close())
      await waitFor(() => a.closes.length > 0 && b.closes.length > 0, 'onclose on both sides')
      check(a.link)
      check(b.link)
    })
  })
}
