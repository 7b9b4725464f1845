/**
 * The per-client name quota of a relay (maxNamesPerClient) with honest clients in
 * their own processes: a claim is refused only past the quota (DESIGN.md "Trust and
 * limits": "over a per-client name quota"), counting the names the client holds after
 * the change, not before it.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { pidKey, startNode, stopAll, tablesAre, tablesOf, waitFor, type NodeProc } from './harness.js'

afterEach(() => stopAll())

async function relayWithClients(quota: number): Promise<[NodeProc, NodeProc, NodeProc]> {
  const relay = await startNode({ kind: 'relay', name: 'R', relay: { maxNamesPerClient: quota } })
  const [c1, c2] = await Promise.all([
    startNode({ kind: 'client', name: 'c1', home: relay.url }),
    startNode({ kind: 'client', name: 'c2', home: relay.url }),
  ])
  await waitFor(async () => (await c2.nodes()).includes(c1.id), 'c2 to see c1')
  return [relay, c1, c2]
}

describe('maxNamesPerClient with honest clients', () => {
  it('the claim past the quota is refused (QUOTA) and its actor told; the others stand', async () => {
    const [relay, c1, c2] = await relayWithClients(3)
    const pid = await c1.spawnActor('svc')
    for (const n of ['n:1', 'n:2', 'n:3', 'n:4']) expect(await c1.register(n, pid)).toBe(true)
    const table = { 'n:1': pidKey(pid) as string, 'n:2': pidKey(pid) as string, 'n:3': pidKey(pid) as string }
    await waitFor(() => tablesAre([relay, c1, c2], table), 'n:1..3 everywhere, n:4 withdrawn', 5000, () => tablesOf([relay, c1, c2]))
    const notice = await c1.waitEvent('notice', (e) => e.msg.name === 'n:4', 'the refusal notice')
    expect(notice.msg).toEqual({ flurry: 'name_refused', name: 'n:4', code: 'QUOTA' })
  })

  it('a client at its quota may swap one name for another in one step', async () => {
    const [relay, c1, c2] = await relayWithClients(3)
    const pid = await c1.spawnActor('svc')
    for (const n of ['n:1', 'n:2', 'n:3']) expect(await c1.register(n, pid)).toBe(true)
    await waitFor(async () => (await c2.names()).length === 3, 'n:1..3 on c2')
    // Unregister one, register another: one delta, and still 3 names after it.
    expect(await c1.cmd('batch', { ops: [{ cmd: 'unregister', name: 'n:1' }, { cmd: 'register', name: 'n:4', pid }] })).toEqual([true, true])
    const table = { 'n:2': pidKey(pid) as string, 'n:3': pidKey(pid) as string, 'n:4': pidKey(pid) as string }
    await waitFor(() => tablesAre([relay, c1, c2], table), 'n:2..4 everywhere', 5000, () => tablesOf([relay, c1, c2]))
    expect(c1.find('notice')).toEqual([])
    expect(relay.find('error', (e) => e.code === 'QUOTA')).toEqual([])
  })

  it('a client under its quota that rejoins the same relay (frozen past the heartbeat timeout) gets all its names back', async () => {
    const [relay, c1, c2] = await relayWithClients(3)
    const pid = await c1.spawnActor('svc')
    for (const n of ['n:1', 'n:2']) expect(await c1.register(n, pid)).toBe(true)
    const table = { 'n:1': pidKey(pid) as string, 'n:2': pidKey(pid) as string }
    await waitFor(() => tablesAre([relay, c1, c2], table), 'n:1, n:2 everywhere')

    // Frozen: the relay times c1 out (its slice stays cached, hidden) ...
    c1.kill('SIGSTOP')
    await relay.waitEvent('nodedown', (e) => e.node === c1.id, 'the relay to time c1 out', 3000)
    await waitFor(async () => (await c2.names()).length === 0, "c1's names hidden on c2")
    // ... and c1, thawed, times its home out and rejoins it, re-stamping its claims.
    c1.kill('SIGCONT')
    await c1.waitEvent('homedown', () => true, 'c1 to see its home go', 3000)
    await waitFor(() => c1.find('homeup').length === 2, 'c1 home again', 5000)
    await waitFor(() => tablesAre([relay, c1, c2], table), "c1's two names back everywhere", 5000, () => tablesOf([relay, c1, c2]))
    expect(c1.find('notice')).toEqual([])
    expect(relay.find('error', (e) => e.code === 'QUOTA')).toEqual([])
  })
})
