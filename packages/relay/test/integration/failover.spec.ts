/**
 * A client given a list of relays (dialWebSocket([r1, r2])) fails over when its relay
 * dies (kill -9) or freezes (SIGSTOP): its names vanish, then come back through the
 * other relay, and messages between actors stay in order, at most once (DESIGN.md
 * "Roles and topology", "Delivery", "Failure detection").
 */
import { afterEach, describe, expect, it } from 'vitest'
import { AT_ONCE_MS, pidKey, startNode, stopAll, tablesAre, tablesOf, waitFor, type NodeProc, type PidRef } from './harness.js'

afterEach(() => stopAll())

interface World {
  r1: NodeProc
  r2: NodeProc
  c1: NodeProc
  c2: NodeProc
  /** c1's actor, holding f:1 and f:2 */
  svc: PidRef
  /** c2's actor, receiving c1's stream */
  sink: PidRef
  table: Record<string, string>
}

async function world(): Promise<World> {
  const r1 = await startNode({ kind: 'relay', name: 'R1' })
  const r2 = await startNode({ kind: 'relay', name: 'R2', peers: [r1.url] })
  await waitFor(async () => (await r1.nodes()).includes(r2.id), 'R1 and R2 to mesh')
  const [c1, c2] = await Promise.all([
    startNode({ kind: 'client', name: 'c1', home: [r1.url, r2.url] }),
    startNode({ kind: 'client', name: 'c2', home: [r2.url] }),
  ])
  expect(c1.find('homeup')[0]?.node).toBe(r1.id)
  const svc = await c1.spawnActor('svc')
  const sink = await c2.spawnActor('sink')
  expect(await c1.register('f:1', svc)).toBe(true)
  expect(await c1.register('f:2', svc)).toBe(true)
  expect(await c2.register('sink', sink)).toBe(true)
  const table = { 'f:1': pidKey(svc) as string, 'f:2': pidKey(svc) as string, sink: pidKey(sink) as string }
  await waitFor(() => tablesAre([r1, r2, c1, c2], table), 'the names everywhere', 5000, () => tablesOf([r1, r2, c1, c2]))
  return { r1, r2, c1, c2, svc, sink, table }
}

/**
 * The numbers of `tag` that `to` received: strictly increasing (in order, at most
 * once), ending with the last one sent, and missing at most one run (the outage).
 */
async function checkStream(to: NodeProc, pid: PidRef, tag: string, sent: number): Promise<{ got: number; lost: number }> {
  const ns = (await to.received(pid)).filter((m) => m?.tag === tag).map((m) => m.n as number)
  for (let i = 1; i < ns.length; i++) expect(ns[i], `${tag}: ${ns[i - 1]} then ${ns[i]}`).toBeGreaterThan(ns[i - 1] as number)
  expect(ns[ns.length - 1]).toBe(sent)
  let gaps = 0
  let prev = 0
  for (const n of ns) {
    if (n !== prev + 1) gaps++
    prev = n
  }
  expect(gaps, `${tag}: runs of lost messages`).toBeLessThanOrEqual(1)
  return { got: ns.length, lost: sent - ns.length }
}

async function stream(from: NodeProc, to: string | PidRef, tag: string): Promise<void> {
  await from.cmd('streamStart', { to, tag, intervalMs: 5 })
}

async function stopStream(from: NodeProc, tag: string): Promise<number> {
  return ((await from.cmd('streamStop', { tag })) as { sent: number }).sent
}

describe('a client with a list of relays fails over', () => {
  it('kill -9 of its relay: its names vanish and come back through the other relay; streams stay in order', async () => {
    const { r1, r2, c1, c2, svc, sink, table } = await world()
    await stream(c1, sink, 'c1')
    await stream(c2, svc, 'c2')
    const countOf = async (p: NodeProc, pid: PidRef, tag: string) => (await p.received(pid)).filter((m) => m?.tag === tag).length
    await waitFor(async () => (await countOf(c2, sink, 'c1')) >= 10 && (await countOf(c1, svc, 'c2')) >= 10, 'both streams flowing')

    const seen = c2.events.length
    const killedAt = Date.now()
    r1.kill('SIGKILL')
    // c1 is gone for c2 at once (its home's socket closed), then back through R2.
    const down = await c2.waitEvent('nodedown', (e) => e.node === c1.id, 'nodedown of c1 on c2', 2000)
    expect(down.reason).toBe('home-down')
    expect((await r2.waitEvent('nodedown', (e) => e.node === r1.id, 'nodedown of R1 on R2')).reason).toBe('closed')
    expect((await c1.waitEvent('homedown', (e) => e.node === r1.id, 'homedown on c1')).reason).toBe('closed')
    await c1.waitEvent('homeup', (e) => e.node === r2.id, 'c1 home at R2', 5000)
    await waitFor(() => tablesAre([r2, c1, c2], table), "c1's names back on R2, c1 and c2", 5000, () => tablesOf([r2, c1, c2]))
    const gone = c2.events.slice(seen).filter((e) => e.ev === 'unregister' && e.pid.node === c1.id)
    const back = c2.events.slice(seen).filter((e) => e.ev === 'register' && e.pid.node === c1.id)
    expect(gone.map((e) => [e.name, e.reason]).sort()).toEqual([['f:1', 'nodedown'], ['f:2', 'nodedown']])
    const goneMs = Math.max(...gone.map((e) => e.t)) - killedAt
    const backMs = Math.max(...back.map((e) => e.t)) - killedAt
    console.log(`relay kill -9 -> c1's names gone on c2: ${goneMs} ms, back through R2: ${backMs} ms`)
    // Its home's socket closed: gone at once (AT_ONCE_MS), not after a heartbeat timeout.
    expect(goneMs).toBeLessThan(AT_ONCE_MS)
    expect(c1.find('notice')).toEqual([])

    // Both streams go on through R2, in order, with at most one run lost (the outage).
    const before = { c1: await countOf(c2, sink, 'c1'), c2: await countOf(c1, svc, 'c2') }
    await waitFor(
      async () => (await countOf(c2, sink, 'c1')) >= before.c1 + 10 && (await countOf(c1, svc, 'c2')) >= before.c2 + 10,
      'both streams flowing again',
    )
    const sent = { c1: await stopStream(c1, 'c1'), c2: await stopStream(c2, 'c2') }
    await waitFor(
      async () =>
        (await c2.received(sink)).some((m) => m?.tag === 'c1' && m.n === sent.c1) &&
        (await c1.received(svc)).some((m) => m?.tag === 'c2' && m.n === sent.c2),
      'the last numbered messages to arrive',
    )
    const s1 = await checkStream(c2, sink, 'c1', sent.c1)
    const s2 = await checkStream(c1, svc, 'c2', sent.c2)
    console.log(`streams across the failover: c1->c2 ${s1.got}/${sent.c1} (lost ${s1.lost}), c2->c1 ${s2.got}/${sent.c2} (lost ${s2.lost})`)
    expect(await c2.cmd('call', { to: 'f:1', msg: 'after' })).toMatchObject({ reply: 'after', node: c1.id })
  })

  it('SIGSTOP of its relay: the client times its home out, fails over, and all agree once the relay thaws', async () => {
    const { r1, r2, c1, c2, table } = await world()
    const stoppedAt = Date.now()
    r1.kill('SIGSTOP')
    expect((await c1.waitEvent('homedown', (e) => e.node === r1.id, 'c1 to time its home out', 3000)).reason).toBe('timeout')
    await c1.waitEvent('homeup', (e) => e.node === r2.id, 'c1 home at R2', 5000)
    await waitFor(() => tablesAre([r2, c1, c2], table), "c1's names on R2, c1 and c2 while R1 is frozen", 5000, () =>
      tablesOf([r2, c1, c2]),
    )
    console.log(`relay SIGSTOP -> c1 home again at R2 after ${c1.find('homeup').at(-1)!.t - stoppedAt} ms`)
    expect(await c2.cmd('call', { to: 'f:2', msg: 'frozen' })).toMatchObject({ reply: 'frozen', node: c1.id })

    r1.kill('SIGCONT')
    // R1 comes back into the mesh; it no longer speaks for c1, R2 does.
    await waitFor(
      async () => (await r1.nodes()).includes(r2.id) && (await r2.nodes()).includes(r1.id) && (await c1.nodes()).includes(r1.id),
      'R1 back in the mesh and seen by c1',
      10_000,
    )
    await waitFor(() => tablesAre([r1, r2, c1, c2], table), 'one table on all four', 5000, () => tablesOf([r1, r2, c1, c2]))
    expect(c1.find('notice')).toEqual([])
    // c1 stays reachable from everyone, through R2.
    expect(await r1.cmd('call', { to: 'f:1', msg: 'from R1' })).toMatchObject({ reply: 'from R1', node: c1.id })
    expect(await c2.cmd('call', { to: 'f:1', msg: 'from c2' })).toMatchObject({ reply: 'from c2', node: c1.id })
    for (const p of [r1, r2, c2]) expect(await p.nodes()).toContain(c1.id)
  })
})
