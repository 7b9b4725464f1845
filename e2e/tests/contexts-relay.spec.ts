/**
 * Through the relay: two browser contexts (separate profiles, so no shared bus), and
 * a tab with a Node node.
 */
import { concurrentClaims } from './support/claims.js'
import { COOKIE, TAB_NODE, expect, report, test, type Tab } from './support/fixtures.js'

test('two browser contexts share names through the relay', async ({ relay, newContext, openTab }) => {
  const ctxA = await newContext()
  const ctxB = await newContext()
  const a = await openTab(ctxA, relay.url)
  const b = await openTab(ctxB, relay.url)
  const aId = await a.start({ name: 'a', cookie: COOKIE, relay: true, node: TAB_NODE })
  const bId = await b.start({ name: 'b', cookie: COOKIE, relay: true, node: TAB_NODE })
  await expect.poll(() => relay.node.nodes().sort()).toEqual([aId, bId].sort())
  await expect.poll(() => b.nodes()).toContain(aId)

  expect(await a.register('room:lobby')).toBe(true)
  await expect.poll(() => b.whereis('room:lobby')).toMatchObject({ node: aId })
  expect(relay.node.global.whereis('room:lobby')?.node).toBe(aId)

  expect(await b.send('room:lobby', { text: 'hi from b' })).toBe(true)
  await expect.poll(async () => (await a.inbox()).map((m) => m.msg)).toContainEqual({ text: 'hi from b' })
  expect(await b.call('room:lobby', { op: 'echo', body: { n: 1 } })).toEqual({
    ok: true,
    value: { node: aId, label: 'svc', body: { n: 1 } },
  })
  // Unknown names: NAME_NOT_FOUND, from the calling tab.
  expect(await b.call('room:nowhere', { op: 'echo' })).toMatchObject({ ok: false, error: { code: 'NAME_NOT_FOUND' } })
  // Unregister travels too.
  expect(await a.unregister('room:lobby')).toBe(true)
  await expect.poll(() => b.whereis('room:lobby')).toBeNull()
})

test('a tab and a Node node call each other by name through the relay', async ({ relay, context, openTab, nodeSide }) => {
  const server = await nodeSide(relay.wsUrl)
  expect(server.register('svc:echo')).toBe(true)
  const tab = await openTab(context, relay.url)
  const tabId = await tab.start({ name: 'tab', cookie: COOKIE, relay: true, node: TAB_NODE })

  // connect resolves after the first sync: the Node side's name is there at once.
  expect(await tab.whereis('svc:echo')).toMatchObject({ node: server.id })
  expect(await tab.call('svc:echo', { op: 'echo', body: 'from the tab' })).toEqual({
    ok: true,
    value: { node: server.id, label: 'svc', body: 'from the tab' },
  })

  expect(await tab.register('tab:svc')).toBe(true)
  await expect.poll(() => server.whereis('tab:svc')?.node).toBe(tabId)
  expect(await server.node.call('tab:svc', { op: 'echo', body: [1, 2, 3] })).toEqual({
    node: tabId,
    label: 'svc',
    body: [1, 2, 3],
  })
  server.node.send('tab:svc', { note: 'from node' })
  await expect.poll(async () => (await tab.inbox()).map((m) => m.msg)).toContainEqual({ note: 'from node' })
  // The relay's own node sees both.
  expect(relay.node.global.whereis('tab:svc')?.node).toBe(tabId)
  expect(relay.node.global.whereis('svc:echo')?.node).toBe(server.id)
})

test('three contexts claiming one name at once end with one winner, the same on the relay', async ({ relay, newContext, openTab }, info) => {
  const tabs: Tab[] = []
  for (let i = 0; i < 3; i++) tabs.push(await openTab(await newContext(), relay.url))
  for (const [i, t] of tabs.entries()) await t.start({ name: `t${i}`, cookie: COOKIE, relay: true, node: TAB_NODE })
  const r = await concurrentClaims(tabs, 15, (name) => relay.node.global.whereis(name)?.toString())
  report(info, 'relay: concurrent claims', `${r.contested} of ${r.rounds} rounds contested; ${r.told} losers told, ${r.interimWinners} of them about an interim winner`)
})
