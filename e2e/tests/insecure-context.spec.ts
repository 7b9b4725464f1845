/**
 * A page that is not a secure context (plain http on a name that is not localhost):
 * no crypto.subtle, no navigator.locks. The handshake still works (HMAC and ed25519 in
 * JavaScript), and bus members fall back to heartbeats: a neighbour that closed or
 * crashed is down after busTimeoutMs.
 */
import { chromium, type Browser } from '@playwright/test'
import { launchOptionsWith } from './support/browser.js'
import { COOKIE, LOADED_MARGIN_MS, TAB_NODE, expect, report, test } from './support/fixtures.js'

const HOST = 'flurry.test'
const BUS_TIMEOUT_MS = 1500
const BUS_HEARTBEAT_MS = 250
const BUS_NODE = { ...TAB_NODE, busTimeoutMs: BUS_TIMEOUT_MS, busHeartbeatMs: BUS_HEARTBEAT_MS }

let browser: Browser
test.beforeAll(async () => {
  // A browser of its own: the host mapping is a command-line switch.
  browser = await chromium.launch(launchOptionsWith(`--host-resolver-rules=MAP ${HOST} 127.0.0.1`))
})
test.afterAll(async () => {
  await browser?.close()
})

test('no secure context: the handshake works and bus liveness is heartbeats', async ({ relay, openTab }, info) => {
  const origin = `http://${HOST}:${new URL(relay.url).port}`
  const context = await browser.newContext()
  try {
    const owner = await openTab(context, origin)
    const probe = await owner.page.evaluate(() => ({
      origin: location.origin,
      secure: isSecureContext,
      subtle: typeof crypto.subtle,
      locks: 'locks' in navigator,
    }))
    expect(probe).toEqual({ origin, secure: false, subtle: 'undefined', locks: false })

    const other = await openTab(context, origin)
    const homeless = await openTab(context, origin)
    // The handshake with the relay (cookie HMAC, ed25519 identity) without crypto.subtle.
    const ownerId = await owner.start({ name: 'owner', cookie: COOKIE, relay: true, bus: 'insecure', node: BUS_NODE })
    const otherId = await other.start({ name: 'other', cookie: COOKIE, relay: true, bus: 'insecure', node: BUS_NODE })
    await homeless.start({ name: 'homeless', cookie: COOKIE, bus: 'insecure', node: BUS_NODE })
    await expect.poll(() => relay.node.nodes().sort()).toEqual([ownerId, otherId].sort())
    expect(await owner.register('svc:insecure')).toBe(true)
    await expect.poll(() => other.whereis('svc:insecure')).toMatchObject({ node: ownerId })
    expect(await other.call('svc:insecure', { op: 'echo', body: 'plain http' })).toMatchObject({ ok: true, value: { node: ownerId } })
    await expect.poll(() => homeless.nodes()).toEqual([ownerId, otherId].sort())

    // A crashed neighbour: no goodbye, no lock to be granted; the bus heartbeat timeout.
    const t0 = await owner.crash()
    await expect.poll(async () => (await homeless.downAt(ownerId, t0)) !== undefined, { timeout: BUS_TIMEOUT_MS * 3 }).toBe(true)
    const down = (await homeless.downAt(ownerId, t0))!
    report(info, `insecure: crash → nodedown in the homeless bus tab (${down.reason})`, down.t - t0)
    expect(down.reason).toBe('timeout')
    // Silent for busTimeoutMs, noticed at the next heartbeat tick (+ a little slack).
    expect(down.t - t0).toBeGreaterThanOrEqual(BUS_TIMEOUT_MS - 2 * BUS_HEARTBEAT_MS)
    expect(down.t - t0).toBeLessThan(BUS_TIMEOUT_MS + 2 * BUS_HEARTBEAT_MS + LOADED_MARGIN_MS)
    // The relay, meanwhile, saw the socket close at once.
    await expect.poll(() => other.whereis('svc:insecure')).toBeNull()

    // A closed neighbour: pagehide says goodbye on the bus (or, failing that, the timeout).
    const t1 = Date.now()
    await other.page.close()
    await expect.poll(async () => (await homeless.downAt(otherId, t1)) !== undefined, { timeout: BUS_TIMEOUT_MS * 3 }).toBe(true)
    const down2 = (await homeless.downAt(otherId, t1))!
    report(info, `insecure: page.close() → nodedown in the homeless bus tab (${down2.reason})`, down2.t - t1)
    expect(['goodbye', 'timeout']).toContain(down2.reason)
    expect(down2.t - t1).toBeLessThan(BUS_TIMEOUT_MS + 2 * BUS_HEARTBEAT_MS + LOADED_MARGIN_MS)
    expect(await homeless.nodes()).toEqual([])
  } finally {
    await context.close()
  }
})
