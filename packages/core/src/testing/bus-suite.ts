/**
 * The Bus compliance suite: what every broadcast transport promises (see
 * link/link.ts). A transport's test calls `busSuite(name, makeBuses)` once.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { seededRandom } from '../base/index.js'
import type { Bus } from '../link/index.js'
import { sameBytes, settle, testSeed, waitFor } from './wait.js'

/** `n` members of one fresh bus; `cleanup` closes whatever is still open. */
export interface BusGroup {
  buses: Bus[]
  cleanup(): Promise<void>
}

interface Member {
  bus: Bus
  got: Uint8Array[]
}

export function busSuite(name: string, makeBuses: (n: number) => Promise<BusGroup>): void {
  describe(`Bus compliance: ${name}`, () => {
    let group: BusGroup | undefined

    afterEach(async () => {
      const g = group
      group = undefined
      await g?.cleanup()
    })

    async function open(n: number): Promise<Member[]> {
      group = await makeBuses(n)
      expect(group.buses.length).toBe(n)
      return group.buses.map((bus) => {
        const member: Member = { bus, got: [] }
        bus.onmessage = (data) => member.got.push(data)
        return member
      })
    }

    it('a post reaches every other member once, never the poster', async () => {
      const members = await open(3)
      members.forEach((m, i) => m.bus.post(new Uint8Array([i, 42])))
      await waitFor(() => members.every((m) => m.got.length >= 2), 'two posts at every member')
      await settle()
      members.forEach((m, i) => {
        const from = m.got.map((data) => data[0]).sort()
        expect(from, `member ${i}`).toEqual([0, 1, 2].filter((j) => j !== i))
        for (const data of m.got) expect(data).toBeInstanceOf(Uint8Array)
      })
    })

    it("keeps each poster's order", async () => {
      const count = 500
      const members = await open(3)
      for (let i = 0; i < count; i++) {
        for (const from of [0, 1]) {
          const data = new Uint8Array(5)
          data[0] = from
          new DataView(data.buffer).setUint32(1, i)
          members[from]?.bus.post(data)
        }
      }
      const receiver = members[2] as Member
      await waitFor(() => receiver.got.length >= 2 * count, 'every post at the third member')
      for (const from of [0, 1]) {
        const seqs = receiver.got
          .filter((data) => data[0] === from)
          .map((data) => new DataView(data.buffer, data.byteOffset).getUint32(1))
        expect(seqs).toEqual(Array.from({ length: count }, (_, i) => i))
      }
      expect((members[1] as Member).got.filter((data) => data[0] === 0).length).toBe(count)
    })

    it('carries bytes intact, views into larger buffers included', async () => {
      const seed = testSeed()
      const random = seededRandom(seed)
      const members = await open(2)
      const big = random(200_000)
      const sent = [new Uint8Array(0), random(1), random(1000), random(65_536), big.subarray(1000, 3000), big]
      for (const data of sent) members[0]?.bus.post(data)
      const receiver = members[1] as Member
      await waitFor(() => receiver.got.length >= sent.length, `every post (seed ${seed})`)
      sent.forEach((data, i) => {
        expect(sameBytes(receiver.got[i] as Uint8Array, data), `post ${i} (seed ${seed})`).toBe(true)
      })
    })

    it('a closed member gets nothing more, and posting on it does nothing', async () => {
      const members = await open(3)
      const [m0, m1, m2] = members as [Member, Member, Member]
      m2.bus.close()
      expect(() => m2.bus.close()).not.toThrow()
      m0.bus.post(new Uint8Array([1]))
      expect(() => m2.bus.post(new Uint8Array([2]))).not.toThrow()
      m1.bus.post(new Uint8Array([3]))
      await waitFor(() => m1.got.length >= 1 && m0.got.length >= 1, 'the open members hear each other')
      await settle()
      expect(m1.got.map((d) => d[0])).toEqual([1])
      expect(m0.got.map((d) => d[0])).toEqual([3])
      expect(m2.got).toEqual([])
    })

    it('offers Web Locks or null', async () => {
      const [m0] = (await open(1)) as [Member]
      const locks = m0.bus.locks
      if (locks !== null) {
        expect(typeof locks.hold).toBe('function')
        expect(typeof locks.watch).toBe('function')
        expect(typeof locks.held).toBe('function')
      }
    })
  })
}
