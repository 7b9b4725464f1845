/**
 * The relay goes away and comes back on the same port: tabs reconnect on their own.
 * While it is away, two contexts (no shared bus) claim the same name; once both are
 * back there is one winner everywhere, and the loser's actor is told. Tabs of one
 * browser keep sharing names over their bus while the relay is away.
 */
import { COOKIE, TAB_NODE, expect, report, test } from './support/fixtures.js'

test('the same name claimed in two contexts while the relay is down: one winner, the loser told', async ({ relayProcess, newContext, openTab }, info) => {
  const relay = await relayProcess()
  const a = await openTab(await newContext(), relay.url)
  const b = await openTab(await newContext(), relay.url)
  const aId = await a.start({ name: 'a', cookie: COOKIE, relay: true, node: TAB_NODE })
  const bId = await b.start({ name: 'b', cookie: COOKIE, relay: true, node: TAB_NODE })
  await expect.poll(async () => (await relay.status()).nodes.sort()).toEqual([aId, bId].sort())
  const firstRelay = relay.id

  await relay.stop()
  await expect.poll(async () => (await a.events('homedown')).length).toBe(1)
  await expect.poll(async () => (await b.events('homedown')).length).toBe(1)
  // Alone: each counts only itself, so each claim succeeds locally.
  expect(await a.nodes()).toEqual([])
  expect(await a.register('room:contested', 'a-room')).toBe(true)
  expect(await b.register('room:contested', 'b-room')).toBe(true)
  expect(await a.register('svc:only-a', 'a-svc')).toBe(true)
  expect(await a.whereis('room:contested')).toMatchObject({ node: aId })
  expect(await b.whereis('room:contested')).toMatchObject({ node: bId })

  const t0 = Date.now()
  await relay.start()
  expect(relay.id).not.toBe(firstRelay)
  // Both reconnect by themselves (backoff, same URL).
  await expect.poll(async () => (await a.events('homeup')).some((e) => e.id === relay.id), { timeout: 10_000 }).toBe(true)
  await expect.poll(async () => (await b.events('homeup')).some((e) => e.id === relay.id), { timeout: 10_000 }).toBe(true)
  const back = Math.max(...[...(await a.events('homeup')), ...(await b.events('homeup'))].filter((e) => e.id === relay.id).map((e) => e.t)) - t0
  report(info, 'relay restart → both tabs home again', back)

  // One winner, the same in both tabs and on the relay.
  await expect
    .poll(async () => {
      const [wa, wb, st] = await Promise.all([a.whereis('room:contested'), b.whereis('room:contested'), relay.status()])
      const wr = st.names.find((n) => n.name === 'room:contested')?.pid ?? null
      return wa !== null && wa.pid === wb?.pid && wa.pid === wr
    })
    .toBe(true)
  const winner = (await a.whereis('room:contested'))!
  const [winTab, loseTab, loserLabel] = winner.node === aId ? [a, b, 'b-room'] : [b, a, 'a-room']
  report(info, 'contested name won by', winner.node === aId ? 'a' : 'b')
  // The loser's actor got { flurry: 'name_conflict', name, winner }.
  await expect
    .poll(async () => (await loseTab.inbox()).filter((m) => m.label === loserLabel).map((m) => m.msg))
    .toContainEqual({ flurry: 'name_conflict', name: 'room:contested', winner })
  expect((await loseTab.events('conflict')).map((e) => e.name)).toEqual(['room:contested'])
  expect(await winTab.events('conflict')).toEqual([])
  // The winner's actor was not told anything.
  expect((await winTab.inbox()).filter((m) => m.msg?.flurry !== undefined)).toEqual([])
  // The uncontested name made it through the restart.
  await expect.poll(() => b.whereis('svc:only-a')).toMatchObject({ node: aId })
  const st = await relay.status()
  expect(st.names.map((n) => n.name).sort()).toEqual(['room:contested', 'svc:only-a'])
  // Still one actor system each: calls work both ways through the new relay.
  expect(await loseTab.call('room:contested', { op: 'echo', body: 'to the winner' })).toMatchObject({
    ok: true,
    value: { node: winner.node },
  })
})

test('tabs of one browser keep sharing names over the bus while the relay is down', async ({ relayProcess, context, openTab }, info) => {
  const relay = await relayProcess()
  const a = await openTab(context, relay.url)
  const b = await openTab(context, relay.url)
  const aId = await a.start({ name: 'a', cookie: COOKIE, relay: true, bus: 'down', node: TAB_NODE })
  const bId = await b.start({ name: 'b', cookie: COOKIE, relay: true, bus: 'down', node: TAB_NODE })
  expect(await a.register('svc:before')).toBe(true)
  await expect.poll(() => b.whereis('svc:before')).toMatchObject({ node: aId })

  await relay.stop()
  await expect.poll(async () => (await a.events('homedown')).length).toBe(1)
  await expect.poll(async () => (await b.events('homedown')).length).toBe(1)
  // Homeless, the two tabs count each other over the bus: the table stays shared.
  await expect.poll(() => b.whereis('svc:before')).toMatchObject({ node: aId })
  expect(await a.nodes()).toEqual([bId])
  expect(await a.register('room:offline', 'room')).toBe(true)
  await expect.poll(() => b.whereis('room:offline')).toMatchObject({ node: aId })
  // The name is visible on the bus, so a second claim is refused at once.
  expect(await b.register('room:offline', 'second')).toBe(false)
  expect(await b.register('svc:b-offline')).toBe(true)
  await expect.poll(() => a.whereis('svc:b-offline')).toMatchObject({ node: bId })
  expect(await b.call('room:offline', { op: 'echo', body: 'over the bus' })).toMatchObject({ ok: true, value: { node: aId } })

  const t0 = Date.now()
  await relay.start()
  // Back home, everything claimed on the bus reaches the relay, with the same owners.
  const expected = [`room:offline=${aId}`, `svc:b-offline=${bId}`, `svc:before=${aId}`].sort()
  await expect
    .poll(async () => (await relay.status()).names.map((n) => `${n.name}=${n.node}`).sort(), { timeout: 10_000 })
    .toEqual(expected)
  report(info, 'relay restart → bus names on the relay', Date.now() - t0)
  for (const tab of [a, b]) {
    await expect.poll(async () => (await tab.names()).map(String)).toEqual(['room:offline', 'svc:b-offline', 'svc:before'])
    expect((await tab.events('conflict')).length).toBe(0)
  }
  expect((await a.inbox()).filter((m) => m.msg?.flurry !== undefined)).toEqual([])
  expect((await b.inbox()).filter((m) => m.msg?.flurry !== undefined)).toEqual([])
})
