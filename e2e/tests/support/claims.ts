/**
 * Many tabs claim the same name at once: every table must converge on one winner,
 * and every other claim that succeeded locally must be withdrawn with its actor told.
 *
 * The `winner` in a loser's { flurry: 'name_conflict' } is the claim that beat it in
 * that node's table at that moment. With three or more claims crossing, that can be a
 * claim that loses in turn a moment later, so the tests accept any contender there and
 * count how often it was not the final winner.
 */
import { expect } from '@playwright/test'
import type { Tab } from './tab.js'

export interface ClaimRounds {
  rounds: number
  /** Rounds where more than one claim succeeded locally (real conflicts). */
  contested: number
  /** Losers told about a winner that lost in turn (see above). */
  interimWinners: number
  told: number
}

export async function concurrentClaims(
  tabs: Tab[],
  rounds: number,
  winnerElsewhere?: (name: string) => string | undefined,
): Promise<ClaimRounds> {
  const out: ClaimRounds = { rounds, contested: 0, interimWinners: 0, told: 0 }
  for (let round = 0; round < rounds; round++) {
    const name = `room:race-${round}`
    const label = `race-${round}`
    // All evaluations in flight together: the claims cross on the wire.
    const ok = await Promise.all(tabs.map((t) => t.register(name, label)))
    const contenders = new Set((await Promise.all(tabs.map((t) => t.service(label)))).map((p) => p.pid))
    const succeeded = ok.filter(Boolean).length
    expect(succeeded).toBeGreaterThanOrEqual(1)
    if (succeeded > 1) out.contested++
    await expect
      .poll(async () => {
        const seen = await Promise.all(tabs.map((t) => t.whereis(name)))
        const first = seen[0]?.pid
        return first !== undefined && seen.every((w) => w?.pid === first) && (winnerElsewhere === undefined || winnerElsewhere(name) === first)
      })
      .toBe(true)
    const winner = (await tabs[0]!.whereis(name))!
    expect(ok[tabs.findIndex((t) => t.id === winner.node)]).toBe(true)
    // Every local success but the winner's is withdrawn, its actor told.
    const notices = async () => {
      const got: Array<{ tab: string; winner: string }> = []
      for (const [i, t] of tabs.entries()) {
        if (!ok[i] || t.id === winner.node) continue
        for (const m of await t.inbox()) {
          if (m.label === label && m.msg?.flurry === 'name_conflict' && m.msg.name === name) got.push({ tab: t.id, winner: m.msg.winner?.pid })
        }
      }
      return got
    }
    await expect.poll(async () => new Set((await notices()).map((n) => n.tab)).size).toBe(succeeded - 1)
    for (const n of await notices()) {
      expect(contenders.has(n.winner)).toBe(true)
      out.told++
      if (n.winner !== winner.pid) out.interimWinners++
    }
    // The winner's actor hears nothing, and every loser's table shows the winner.
    const winnerTab = tabs.find((t) => t.id === winner.node)!
    expect((await winnerTab.inbox()).filter((m) => m.label === label && m.msg?.flurry !== undefined)).toEqual([])
  }
  return out
}
