/**
 * Failure detection of tabs: a closed tab says goodbye (pagehide), a crashed renderer
 * says nothing but its relay socket closes and its Web Lock is released. Each case
 * measures, from the moment the test acts, when the owner's names are gone in another
 * tab and on a Node peer, and when a homeless tab sharing the bus sees it down.
 */
import type { BrowserContext } from '@playwright/test'
import { AT_ONCE_MS, COOKIE, NodeSide, TAB_NODE, expect, report, test, type Relay, type Tab } from './support/fixtures.js'

interface Scene {
  owner: Tab
  other: Tab
  homeless: Tab
  peer: NodeSide
  relayEvents: NodeSide
}

/**
 * owner and other: same context, on the relay and on the bus; homeless: on the bus
 * only (never connected); peer: a Node node, client of the relay.
 */
async function scene(
  relay: Relay,
  context: BrowserContext,
  openTab: (c: BrowserContext, origin: string) => Promise<Tab>,
  nodeSide: (home?: string) => Promise<NodeSide>,
): Promise<Scene> {
  const relayEvents = new NodeSide(relay.node)
  const peer = await nodeSide(relay.wsUrl)
  const owner = await openTab(context, relay.url)
  const other = await openTab(context, relay.url)
  const homeless = await openTab(context, relay.url)
  const ownerId = await owner.start({ name: 'owner', cookie: COOKIE, bus: 'fd', relay: true, node: TAB_NODE })
  const otherId = await other.start({ name: 'other', cookie: COOKIE, bus: 'fd', relay: true, node: TAB_NODE })
  await homeless.start({ name: 'homeless', cookie: COOKIE, bus: 'fd', node: TAB_NODE })
  expect(await owner.register('room:owned')).toBe(true)
  expect(await owner.register('svc:owned')).toBe(true)
  expect(await homeless.register('svc:homeless')).toBe(true)
  await expect.poll(() => other.whereis('room:owned')).toMatchObject({ node: ownerId })
  await expect.poll(() => other.whereis('svc:owned')).toMatchObject({ node: ownerId })
  await expect.poll(() => peer.whereis('room:owned')?.node).toBe(ownerId)
  await expect.poll(() => peer.whereis('svc:owned')?.node).toBe(ownerId)
  await expect.poll(() => homeless.nodes()).toEqual([ownerId, otherId].sort())
  return { owner, other, homeless, peer, relayEvents }
}

/** Waits until the names are gone in `other` and on `peer`; returns when (ms after t0). */
async function goneEverywhere(s: Scene, t0: number, info: Parameters<typeof report>[0], how: string) {
  const ownerId = s.owner.id
  await expect.poll(() => s.other.whereis('room:owned'), { timeout: 5000 }).toBeNull()
  await expect.poll(() => s.other.whereis('svc:owned'), { timeout: 5000 }).toBeNull()
  await expect.poll(() => s.peer.whereis('room:owned'), { timeout: 5000 }).toBeNull()
  await expect.poll(() => s.peer.whereis('svc:owned'), { timeout: 5000 }).toBeNull()
  await expect.poll(async () => (await s.homeless.downAt(ownerId, t0)) !== undefined, { timeout: 5000 }).toBe(true)
  const inOther = Math.max((await s.other.goneAt('room:owned', t0))!, (await s.other.goneAt('svc:owned', t0))!) - t0
  const onPeer = Math.max(s.peer.goneAt('room:owned', t0)!, s.peer.goneAt('svc:owned', t0)!) - t0
  const homelessDown = (await s.homeless.downAt(ownerId, t0))!
  const relayDown = s.relayEvents.downAt(ownerId, t0)
  const otherDown = await s.other.downAt(ownerId, t0)
  report(info, `${how} → names gone in the other tab`, inOther)
  report(info, `${how} → names gone on the Node peer`, onPeer)
  report(info, `${how} → nodedown in the homeless bus tab (${homelessDown.reason})`, homelessDown.t - t0)
  report(info, `${how} → nodedown reasons`, `relay '${relayDown?.reason}', other tab '${otherDown?.reason}', homeless tab '${homelessDown.reason}'`)
  // Each a path that needs no timer (goodbye, socket close, Web Lock), then prompt.
  expect(['goodbye', 'closed']).toContain(relayDown?.reason)
  expect(['goodbye', 'closed']).toContain(homelessDown.reason)
  expect(inOther).toBeLessThan(AT_ONCE_MS)
  expect(onPeer).toBeLessThan(AT_ONCE_MS)
  expect(homelessDown.t - t0).toBeLessThan(AT_ONCE_MS)
  // The homeless tab keeps its own name and still sees the other tab.
  expect(await s.homeless.whereis('svc:homeless')).not.toBeNull()
  expect(await s.homeless.nodes()).toEqual([s.other.id])
  return { relayDown, otherDown, homelessDown }
}

test('closing the owner tab removes its names everywhere within 1 s', async ({ relay, context, openTab, nodeSide }, info) => {
  const s = await scene(relay, context, openTab, nodeSide)
  const t0 = Date.now()
  await s.owner.page.close()
  const { relayDown, homelessDown } = await goneEverywhere(s, t0, info, 'page.close()')
  // Whether pagehide ran shows in the reasons: 'goodbye' from its handler, else the
  // socket close and the Web Lock.
  report(info, 'page.close() ran pagehide', String(relayDown?.reason === 'goodbye' && homelessDown.reason === 'goodbye'))
})

test('closing the owner tab with runBeforeUnload removes its names everywhere within 1 s', async ({ relay, context, openTab, nodeSide }, info) => {
  const s = await scene(relay, context, openTab, nodeSide)
  const t0 = Date.now()
  await s.owner.page.close({ runBeforeUnload: true })
  const { relayDown, homelessDown } = await goneEverywhere(s, t0, info, 'page.close({ runBeforeUnload })')
  report(info, 'page.close({ runBeforeUnload }) ran pagehide', String(relayDown?.reason === 'goodbye' && homelessDown.reason === 'goodbye'))
})

test('a crashed renderer is down everywhere within 1 s: socket close, Web Lock', async ({ relay, context, openTab, nodeSide }, info) => {
  const s = await scene(relay, context, openTab, nodeSide)
  const t0 = await s.owner.crash()
  const { relayDown, homelessDown } = await goneEverywhere(s, t0, info, 'Page.crash')
  // No pagehide, no goodbye: the relay saw the socket close, the homeless tab the lock.
  expect(relayDown?.reason).toBe('closed')
  expect(homelessDown.reason).toBe('closed')
  // The survivors still talk to each other over the bus.
  expect(await s.homeless.call(await s.other.service('after'), { op: 'echo', body: 'still here' })).toMatchObject({ ok: true })
})
