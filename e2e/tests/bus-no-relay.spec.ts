/**
 * Two tabs of one browser context over BroadcastChannel, with no relay anywhere: the
 * page and /flurry.js come from a plain static server. Register in one tab; whereis,
 * send and call from the other.
 */
import { concurrentClaims } from './support/claims.js'
import { AT_ONCE_MS, COOKIE, expect, report, test, type Tab } from './support/fixtures.js'

test('two tabs share names over BroadcastChannel with no relay running', async ({ context, staticServer, openTab }) => {
  const server = await staticServer()
  const a = await openTab(context, server.url)
  const b = await openTab(context, server.url)
  const aId = await a.start({ name: 'a', cookie: COOKIE, bus: 'e2e-bus' })
  const bId = await b.start({ name: 'b', cookie: COOKIE, bus: 'e2e-bus' })
  await expect.poll(() => a.nodes()).toEqual([bId])
  await expect.poll(() => b.nodes()).toEqual([aId])

  expect(await a.register('svc:bus-echo')).toBe(true)
  await expect.poll(() => b.whereis('svc:bus-echo')).toMatchObject({ node: aId })
  const pid = await b.whereis('svc:bus-echo')
  const seen = (await b.events('register')).find((e) => e.name === 'svc:bus-echo')
  expect(seen).toMatchObject({ node: aId, pid: pid?.pid })

  expect(await b.send('svc:bus-echo', { hello: 'from b' })).toBe(true)
  await expect.poll(async () => (await a.inbox()).map((m) => m.msg)).toContainEqual({ hello: 'from b' })

  const reply = await b.call('svc:bus-echo', { op: 'echo', body: 42 })
  expect(reply).toEqual({ ok: true, value: { node: aId, label: 'svc', body: 42 } })
  // By pid as well as by name.
  expect(await b.call(pid!, { op: 'echo', body: 'pid' })).toMatchObject({ ok: true, value: { body: 'pid' } })

  // A name registered in b is visible in a: the table is the bus's, both ways.
  expect(await b.register('svc:other')).toBe(true)
  await expect.poll(() => a.whereis('svc:other')).toMatchObject({ node: bId })
  // A second claim of a visible name is refused synchronously.
  expect(await b.register('svc:bus-echo', 'second')).toBe(false)
})

test('a crashed tab leaves the bus at once: its Web Lock is granted to the others', async ({ context, staticServer, openTab }, info) => {
  const server = await staticServer()
  const a = await openTab(context, server.url)
  const b = await openTab(context, server.url)
  const aId = await a.start({ name: 'a', cookie: COOKIE, bus: 'e2e-crash' })
  await b.start({ name: 'b', cookie: COOKIE, bus: 'e2e-crash' })
  expect(await a.register('svc:crashing')).toBe(true)
  await expect.poll(() => b.whereis('svc:crashing')).toMatchObject({ node: aId })
  const t0 = await a.crash()
  await expect.poll(() => b.whereis('svc:crashing'), { timeout: 5000 }).toBeNull()
  const down = (await b.downAt(aId, t0))!
  report(info, `bus only: crash → names gone in the other tab (nodedown '${down.reason}')`, (await b.goneAt('svc:crashing', t0))! - t0)
  expect(down.reason).toBe('closed')
  expect(down.t - t0).toBeLessThan(AT_ONCE_MS)
  expect(await b.nodes()).toEqual([])
})

test('tabs claiming one name at once on the bus end with one winner, the others told', async ({ context, staticServer, openTab }, info) => {
  const server = await staticServer()
  const tabs: Tab[] = []
  for (let i = 0; i < 4; i++) tabs.push(await openTab(context, server.url))
  for (const [i, t] of tabs.entries()) await t.start({ name: `t${i}`, cookie: COOKIE, bus: 'e2e-race' })
  await expect.poll(() => tabs[0]!.nodes()).toHaveLength(3)
  const r = await concurrentClaims(tabs, 15)
  report(info, 'bus: concurrent claims', `${r.contested} of ${r.rounds} rounds contested; ${r.told} losers told, ${r.interimWinners} of them about an interim winner`)
})
