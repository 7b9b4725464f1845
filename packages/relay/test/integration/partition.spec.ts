/**
 * Two groups of peers (A+B and C+D, each meshed internally, in four OS processes)
 * register the same names while apart, then heal: one connects to the other and the
 * full mesh forms. Every node shows one winner per name (the older claim, DESIGN.md
 * "peers that heal after a partition keep their stamps"), and each losing actor is
 * told ('notify') or exits with the notice as its reason ('exit').
 */
import { afterEach, describe, expect, it } from 'vitest'
import {
  meshed,
  pidKey,
  startMesh,
  startNode,
  stopAll,
  tablesAre,
  tablesOf,
  tick,
  waitFor,
  type NodeConfig,
  type NodeProc,
  type PidRef,
} from './harness.js'

afterEach(() => stopAll())

interface Claim {
  node: NodeProc
  pid: PidRef
}

/**
 * `node` claims `name` for a fresh actor, and the claim reaches the rest of its group;
 * then `gapMs` pass, so that a claim made next elsewhere has a later stamp.
 */
async function claim(node: NodeProc, group: NodeProc[], name: string, gapMs = 3): Promise<Claim> {
  const pid = await node.spawnActor(`${node.config.name}:${name}`)
  expect(await node.register(name, pid)).toBe(true)
  await waitFor(
    async () => {
      for (const p of group) if (pidKey(await p.whereis(name)) !== pidKey(pid)) return false
      return true
    },
    `${name} of ${node.config.name} across its group`,
  )
  // Peers stamp with their own clock (the same machine's here): claims a few ms apart
  // are ordered. A client stamps with its home's time as of the last frame it got
  // (DESIGN.md: its clock has seen its home's), which lags by the delivery delay:
  // claims of clients in different partitions need more room to be ordered by age.
  await tick(gapMs)
  return { node, pid }
}

async function twoGroups(onNameConflict2: 'notify' | 'exit'): Promise<[NodeProc[], NodeProc[]]> {
  const extra2: Partial<NodeConfig> = { node: { onNameConflict: onNameConflict2 } }
  const [g1, g2] = await Promise.all([startMesh(['A', 'B']), startMesh(['C', 'D'], extra2)])
  return [g1, g2]
}

/** The groups heal: C dials A, and PEERS exchange completes the mesh of four. */
async function heal(g1: NodeProc[], g2: NodeProc[]): Promise<void> {
  const [a] = g1 as [NodeProc]
  const [c] = g2 as [NodeProc]
  expect(await c.cmd('connect', { url: a.url })).toBe(a.id)
  const all = [...g1, ...g2]
  await waitFor(() => meshed(all), 'the four peers to mesh', 10_000, () => Promise.all(all.map((p) => p.nodes())))
}

describe('partition, then heal', () => {
  it("notify: one winner per name everywhere (the older claim); each loser's actor is told", async () => {
    const [g1, g2] = await twoGroups('notify')
    const [a, b] = g1 as [NodeProc, NodeProc]
    const [c, d] = g2 as [NodeProc, NodeProc]
    // Each pair: [first claim (wins), second claim (loses)], alternating sides.
    const pairs: Record<string, [Claim, Claim]> = {}
    pairs['p:1'] = [await claim(a, g1, 'p:1'), await claim(c, g2, 'p:1')]
    pairs['p:2'] = [await claim(d, g2, 'p:2'), await claim(b, g1, 'p:2')]
    pairs['p:3'] = [await claim(c, g2, 'p:3'), await claim(a, g1, 'p:3')]
    pairs['p:4'] = [await claim(b, g1, 'p:4'), await claim(d, g2, 'p:4')]
    // Apart, each group sees its own claims.
    expect(await a.whereis('p:1')).toEqual(pairs['p:1'][0].pid)
    expect(await c.whereis('p:1')).toEqual(pairs['p:1'][1].pid)

    await heal(g1, g2)
    const all = [a, b, c, d]
    const expected = Object.fromEntries(Object.entries(pairs).map(([n, [w]]) => [n, pidKey(w.pid) as string]))
    await waitFor(() => tablesAre(all, expected), 'one table on A, B, C and D', 10_000, () => tablesOf(all))

    for (const [name, [winner, loser]] of Object.entries(pairs)) {
      const notice = await loser.node.waitEvent(
        'notice',
        (e) => e.pid.id === loser.pid.id && e.msg.name === name,
        `the loser of ${name} told`,
      )
      expect(notice.msg).toEqual({ flurry: 'name_conflict', name, winner: winner.pid })
      expect(loser.node.find('conflict', (e) => e.name === name)).toEqual([
        expect.objectContaining({ name, winner: winner.pid, loser: loser.pid }),
      ])
      // Winners hear nothing; the loser's actor lives on (notify).
      expect(winner.node.find('notice', (e) => e.pid.id === winner.pid.id)).toEqual([])
      expect(await loser.node.cmd('call', { to: loser.pid, msg: 'alive?' })).toMatchObject({ reply: 'alive?' })
    }
    // Each loser withdrew its claim: no node sees two owners, even hidden.
    for (const p of all) for (const [name, [w]] of Object.entries(pairs)) expect(await p.whereis(name)).toEqual(w.pid)
  })

  it("exit: the losing actors (onNameConflict 'exit' on their side) exit with the notice as their reason", async () => {
    const [g1, g2] = await twoGroups('exit')
    const [a, b] = g1 as [NodeProc, NodeProc]
    const [c, d] = g2 as [NodeProc, NodeProc]
    const names = ['x:1', 'x:2', 'x:3']
    const winners: Claim[] = [await claim(a, g1, 'x:1'), await claim(b, g1, 'x:2'), await claim(a, g1, 'x:3')]
    const losers: Claim[] = [await claim(c, g2, 'x:1'), await claim(d, g2, 'x:2'), await claim(d, g2, 'x:3')]
    // One more actor of C that holds a name nobody else claims: it must survive.
    const bystander = await claim(c, g2, 'c:only')
    const refs: number[] = []
    for (const l of losers) refs.push(await l.node.cmd('monitor', { pid: l.pid }))
    const bystanderRef: number = await c.cmd('monitor', { pid: bystander.pid })

    await heal(g1, g2)
    const all = [a, b, c, d]
    const expected: Record<string, string> = { 'c:only': pidKey(bystander.pid) as string }
    names.forEach((n, i) => (expected[n] = pidKey((winners[i] as Claim).pid) as string))
    await waitFor(() => tablesAre(all, expected), 'one table on A, B, C and D', 10_000, () => tablesOf(all))

    for (let i = 0; i < names.length; i++) {
      const l = losers[i] as Claim
      const down = await l.node.waitEvent('down', (e) => e.ref === refs[i], `the loser of ${names[i]} to exit`)
      expect(down.reason).toEqual({ flurry: 'name_conflict', name: names[i], winner: (winners[i] as Claim).pid })
      await expect(l.node.cmd('call', { to: l.pid, msg: 'alive?' })).rejects.toMatchObject({ code: 'NO_PROCESS' })
    }
    expect(c.find('down', (e) => e.ref === bystanderRef)).toEqual([])
    expect(await a.cmd('call', { to: 'c:only', msg: 'hi' })).toMatchObject({ reply: 'hi', node: c.id })
  })

  it('relays with a client each: the clients keep their stamps too, and the older claim wins', async () => {
    const [r1, r2] = await Promise.all([startNode({ kind: 'relay', name: 'R1' }), startNode({ kind: 'relay', name: 'R2' })])
    const [c1, c2] = await Promise.all([
      startNode({ kind: 'client', name: 'c1', home: r1.url }),
      startNode({ kind: 'client', name: 'c2', home: r2.url }),
    ])
    const g1 = [r1, c1]
    const g2 = [r2, c2]
    const gap = 100
    const pairs: Record<string, [Claim, Claim]> = {}
    pairs['s:1'] = [await claim(c1, g1, 's:1', gap), await claim(c2, g2, 's:1', gap)]
    pairs['s:2'] = [await claim(c2, g2, 's:2', gap), await claim(c1, g1, 's:2', gap)]
    pairs['s:3'] = [await claim(r2, g2, 's:3', gap), await claim(c1, g1, 's:3', gap)]

    expect(await r2.cmd('connect', { url: r1.url })).toBe(r1.id)
    const all = [r1, r2, c1, c2]
    await waitFor(() => meshed(all), 'all four to reach each other', 10_000, () => Promise.all(all.map((p) => p.nodes())))
    const expected = Object.fromEntries(Object.entries(pairs).map(([n, [w]]) => [n, pidKey(w.pid) as string]))
    await waitFor(() => tablesAre(all, expected), 'one table on R1, R2, c1 and c2', 10_000, () => tablesOf(all))
    for (const [name, [winner, loser]] of Object.entries(pairs)) {
      const notice = await loser.node.waitEvent('notice', (e) => e.pid.id === loser.pid.id && e.msg.name === name, `the loser of ${name} told`)
      expect(notice.msg).toEqual({ flurry: 'name_conflict', name, winner: winner.pid })
    }
    expect(await c2.cmd('call', { to: 's:1', msg: 'x' })).toMatchObject({ reply: 'x', node: c1.id })
  })
})
