/**
 * Page lifecycle: a frozen tab says goodbye (down for the others at once) and rejoins
 * with its names when resumed, losing a name someone took meanwhile; a tab whose own
 * timers are stopped (like a hidden, throttled tab) stays up, because the relay drives
 * the pings and the page answers from its message handler.
 */
import { COOKIE, HEARTBEAT, LOADED_MARGIN_MS, NodeSide, TAB_NODE, expect, report, test } from './support/fixtures.js'

test('a frozen tab is down at once, and rejoins with its names when resumed', async ({ relay, plainContext, openTab, nodeSide }, info) => {
  // CDP Page.setWebLifecycleState freezes only a page that can be hidden: not one
  // under Playwright's focus emulation, hence a context without its overrides.
  const context = await plainContext()
  const peer = await nodeSide(relay.wsUrl)
  const owner = await openTab(context, relay.url)
  const other = await openTab(context, relay.url)
  const homeless = await openTab(context, relay.url)
  const ownerId = await owner.start({ name: 'owner', cookie: COOKIE, relay: true, bus: 'life', node: TAB_NODE })
  const otherId = await other.start({ name: 'other', cookie: COOKIE, relay: true, bus: 'life', node: TAB_NODE })
  await homeless.start({ name: 'homeless', cookie: COOKIE, bus: 'life', node: TAB_NODE })
  expect(await owner.register('svc:frozen', 'keep')).toBe(true)
  expect(await owner.register('room:taken', 'lose')).toBe(true)
  await expect.poll(() => peer.whereis('room:taken')?.node).toBe(ownerId)
  await expect.poll(() => other.whereis('svc:frozen')).toMatchObject({ node: ownerId })
  await expect.poll(() => homeless.nodes()).toEqual([ownerId, otherId].sort())

  await owner.page.evaluate(() => {
    const w = globalThis as any
    w.__lifecycle = []
    for (const type of ['freeze', 'resume']) document.addEventListener(type, () => w.__lifecycle.push(type))
  })
  const cdp = await owner.cdp()
  const t0 = Date.now()
  await cdp.send('Page.setWebLifecycleState', { state: 'frozen' })
  await expect.poll(() => peer.whereis('svc:frozen'), { timeout: 5000 }).toBeNull()
  await expect.poll(() => other.whereis('svc:frozen'), { timeout: 5000 }).toBeNull()
  await expect.poll(async () => (await homeless.downAt(ownerId, t0)) !== undefined, { timeout: 5000 }).toBe(true)
  await expect.poll(async () => (await other.downAt(ownerId, t0)) !== undefined, { timeout: 5000 }).toBe(true)
  const onPeer = peer.goneAt('svc:frozen', t0)! - t0
  const inOther = (await other.goneAt('svc:frozen', t0))! - t0
  const homelessDown = (await homeless.downAt(ownerId, t0))!
  const otherDown = (await other.downAt(ownerId, t0))!
  report(info, 'freeze → names gone on the Node peer', onPeer)
  report(info, 'freeze → names gone in the other tab', inOther)
  report(info, `freeze → nodedown in the homeless bus tab (${homelessDown.reason})`, homelessDown.t - t0)
  report(info, `freeze → nodedown in the other tab (${otherDown.reason})`, otherDown.t - t0)
  // At once (the freeze handler's goodbye), at the latest after the heartbeat timeout.
  for (const ms of [onPeer, inOther, homelessDown.t - t0, otherDown.t - t0]) {
    expect(ms).toBeLessThan(HEARTBEAT.heartbeatTimeoutMs + HEARTBEAT.heartbeatIntervalMs + LOADED_MARGIN_MS)
  }

  // Meanwhile someone else takes one of its names.
  expect(await other.register('room:taken', 'winner')).toBe(true)
  await expect.poll(() => peer.whereis('room:taken')?.node).toBe(otherId)

  const t1 = Date.now()
  await cdp.send('Page.setWebLifecycleState', { state: 'active' })
  // The page really was frozen and resumed (the events the node listens to).
  expect(await owner.page.evaluate(() => (globalThis as any).__lifecycle)).toEqual(['freeze', 'resume'])
  // Back with the name nobody took, everywhere.
  await expect.poll(() => peer.whereis('svc:frozen')?.node, { timeout: 5000 }).toBe(ownerId)
  await expect.poll(() => other.whereis('svc:frozen'), { timeout: 5000 }).toMatchObject({ node: ownerId })
  await expect.poll(() => homeless.nodes(), { timeout: 5000 }).toEqual([ownerId, otherId].sort())
  report(info, 'resume → its names visible again on the Node peer', peer.events.find((e) => e.kind === 'register' && e.name === 'svc:frozen' && e.t >= t1)!.t - t1)
  // The taken name stays with the holder, in every table, and the owner's actor is told.
  await expect.poll(() => owner.whereis('room:taken')).toMatchObject({ node: otherId })
  expect(peer.whereis('room:taken')?.node).toBe(otherId)
  expect(await other.whereis('room:taken')).toMatchObject({ node: otherId })
  expect(relay.node.global.whereis('room:taken')?.node).toBe(otherId)
  const winner = await other.whereis('room:taken')
  await expect
    .poll(async () => (await owner.inbox()).filter((m) => m.label === 'lose').map((m) => m.msg))
    .toContainEqual({ flurry: 'name_conflict', name: 'room:taken', winner })
  // The resumed tab works: calls in both directions.
  expect(await other.call('svc:frozen', { op: 'echo', body: 'welcome back' })).toMatchObject({ ok: true, value: { node: ownerId } })
  expect(await peer.node.call('svc:frozen', { op: 'echo', body: 1 })).toMatchObject({ node: ownerId })
})

test('a tab whose timers are stopped stays up: the relay drives the pings', async ({ relay, context, openTab, nodeSide }, info) => {
  const relayEvents = new NodeSide(relay.node)
  const peer = await nodeSide(relay.wsUrl)
  const tab = await openTab(context, relay.url)
  const tabId = await tab.start({ name: 'background', cookie: COOKIE, relay: true, node: TAB_NODE })
  expect(await tab.register('svc:background')).toBe(true)
  await expect.poll(() => peer.whereis('svc:background')?.node).toBe(tabId)

  // From now on the page cannot schedule a timer: its own heartbeat tick dies, as in
  // a hidden tab throttled to one timer a minute (or worse).
  await tab.page.evaluate(() => {
    const w = globalThis as any
    w.__timersCalled = 0
    w.setTimeout = () => {
      w.__timersCalled++
      return 0
    }
    w.setInterval = w.setTimeout
  })
  const t0 = Date.now()
  const span = 5 * HEARTBEAT.heartbeatTimeoutMs
  // The invariant holds for the whole span: still counted by the relay, name visible.
  while (Date.now() - t0 < span) {
    expect(relay.node.nodes()).toContain(tabId)
    expect(peer.whereis('svc:background')?.node).toBe(tabId)
    await new Promise((r) => setTimeout(r, HEARTBEAT.heartbeatIntervalMs))
  }
  expect(relayEvents.downAt(tabId, t0)).toBeUndefined()
  expect(peer.downAt(tabId, t0)).toBeUndefined()
  // The page really tried to schedule timers (and could not).
  const attempts = await tab.page.evaluate(() => (globalThis as any).__timersCalled as number)
  expect(attempts).toBeGreaterThan(0)
  report(info, 'timers stopped, still up', `${span} ms = ${span / HEARTBEAT.heartbeatTimeoutMs} heartbeat timeouts (${attempts} timer calls refused)`)
  // Its actors still answer, from the message handler.
  expect(await peer.node.call('svc:background', { op: 'echo', body: 'ping' })).toMatchObject({ node: tabId })
  expect(await tab.events('homedown')).toEqual([])
})

test('a page restored from the back/forward cache rejoins with its names', async ({ relay, plainContext, openTab, nodeSide }, info) => {
  // Playwright's own launch disables the back/forward cache; this Chromium keeps it.
  const context = await plainContext()
  const peer = await nodeSide(relay.wsUrl)
  const tab = await openTab(context, relay.url)
  const other = await openTab(context, relay.url)
  const tabId = await tab.start({ name: 'bfcache', cookie: COOKIE, relay: true, bus: 'bf', node: TAB_NODE })
  await other.start({ name: 'other', cookie: COOKIE, relay: true, bus: 'bf', node: TAB_NODE })
  await tab.page.evaluate(() => {
    addEventListener('pagehide', (e) => sessionStorage.setItem('pagehide-persisted', String(e.persisted)))
    addEventListener('pageshow', (e) => sessionStorage.setItem('pageshow-persisted', String(e.persisted)))
  })
  expect(await tab.register('svc:bfcache')).toBe(true)
  await expect.poll(() => peer.whereis('svc:bfcache')?.node).toBe(tabId)
  await expect.poll(() => other.whereis('svc:bfcache')).toMatchObject({ node: tabId })

  // Navigate away: pagehide (persisted) says goodbye, so the page can enter the cache.
  const t0 = Date.now()
  await tab.page.goto(relay.url + '/status')
  await expect.poll(() => peer.whereis('svc:bfcache'), { timeout: 5000 }).toBeNull()
  await expect.poll(() => other.whereis('svc:bfcache'), { timeout: 5000 }).toBeNull()
  report(info, 'navigate away (pagehide) → names gone on the Node peer', peer.goneAt('svc:bfcache', t0)! - t0)
  expect(peer.downAt(tabId, t0)?.reason).toBe('goodbye')

  // Back: restored from the cache (same node, same actors), it rejoins by itself.
  const t1 = Date.now()
  await tab.page.goBack({ waitUntil: 'commit' })
  await expect.poll(() => tab.page.evaluate(() => sessionStorage.getItem('pageshow-persisted'))).toBe('true')
  expect(await tab.page.evaluate(() => sessionStorage.getItem('pagehide-persisted'))).toBe('true')
  expect(await tab.page.evaluate(() => (globalThis as any).e2e.id())).toBe(tabId)
  await expect.poll(() => peer.whereis('svc:bfcache')?.node, { timeout: 5000 }).toBe(tabId)
  await expect.poll(() => other.whereis('svc:bfcache'), { timeout: 5000 }).toMatchObject({ node: tabId })
  await expect.poll(() => other.nodes()).toContain(tabId)
  report(info, 'back (pageshow persisted) → names visible again on the Node peer', peer.events.find((e) => e.kind === 'register' && e.name === 'svc:bfcache' && e.t >= t1)!.t - t1)
  expect(await peer.node.call('svc:bfcache', { op: 'echo', body: 'restored' })).toMatchObject({ node: tabId })
})
