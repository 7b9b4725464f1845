/**
 * The relay's /flurry.js carries the WebRTC helpers: a page imports `webrtc` from it,
 * and two pages in two browser contexts (two profiles, so no shared memory or
 * BroadcastChannel) open a data-channel Link to each other with `webrtc().open()`,
 * the test process carrying their signaling data, and exchange messages over it.
 */
import type { BrowserContext, Page } from '@playwright/test'
import { launchOptionsWith } from './support/browser.js'
import { expect, test, type Tab } from './support/fixtures.js'

// Loopback WebRTC: offer 127.0.0.1 as a candidate, and plain addresses, not mDNS names.
test.use({ launchOptions: launchOptionsWith('--disable-features=WebRtcHideLocalIpsWithMdns', '--allow-loopback-in-peer-connection') })

declare global {
  // eslint-disable-next-line no-var
  var rtc: any
}

/** A tab of `origin` (the harness records its page errors) with /flurry.js as globalThis.flurry. */
async function bundleTab(openTab: (c: BrowserContext, origin: string) => Promise<Tab>, context: BrowserContext, origin: string): Promise<Tab> {
  const tab = await openTab(context, origin)
  // A string, so no transpiler touches the dynamic import.
  await tab.page.evaluate("import('/flurry.js').then((m) => { globalThis.flurry = m; return true })")
  return tab
}

/**
 * Starts an attempt in the page: what it sends is handed to `forward`, in order;
 * its link, once open, records every message it gets (as lengths and first bytes).
 */
async function startAttempt(page: Page, initiator: boolean): Promise<void> {
  await page.evaluate((initiator) => {
    const { webrtc } = (globalThis as any).flurry
    const state: any = { link: null, error: null, got: [], closed: null }
    globalThis.rtc = state
    state.attempt = webrtc({ connectTimeoutMs: 20_000 }).open({
      initiator,
      send: (data: unknown) => void (globalThis as any).toRemote(data),
    })
    state.attempt.link.then(
      (link: any) => {
        link.onmessage = (data: Uint8Array) => state.got.push({ length: data.length, head: Array.from(data.subarray(0, 4)) })
        link.onclose = (reason: string) => (state.closed = reason)
        state.link = link
      },
      (err: any) => (state.error = { code: err.code, message: err.message }),
    )
  }, initiator)
}

test('/flurry.js exports webrtc, and two pages in two contexts link over a data channel', async ({ relay, context, newContext, openTab }) => {
  const a = await bundleTab(openTab, context, relay.url)
  const b = await bundleTab(openTab, await newContext(), relay.url)

  const exported = await a.page.evaluate(() => {
    const f = (globalThis as any).flurry
    return ['createNode', 'dialWebSocket', 'broadcastChannel', 'Pid', 'FlurryError', 'webrtc'].map((n) => `${n}:${typeof f[n]}`)
  })
  expect(exported).toEqual(['createNode:function', 'dialWebSocket:function', 'broadcastChannel:function', 'Pid:function', 'FlurryError:function', 'webrtc:function'])

  // Signaling: each page's send goes to the other page's attempt.receive, in order.
  const signals = { a: 0, b: 0 }
  for (const [from, to, key] of [[a.page, b.page, 'a'], [b.page, a.page, 'b']] as const) {
    let queue = Promise.resolve()
    await from.exposeFunction('toRemote', (data: unknown) => {
      signals[key]++
      queue = queue.then(() => to.evaluate((d) => globalThis.rtc.attempt.receive(d), data)).catch(() => {})
    })
  }
  await startAttempt(b.page, false)
  await startAttempt(a.page, true)

  for (const side of [a, b]) {
    await side.page.waitForFunction(() => globalThis.rtc.link !== null || globalThis.rtc.error !== null, undefined, { timeout: 25_000 })
    expect(await side.page.evaluate(() => globalThis.rtc.error)).toBeNull()
    expect(await side.page.evaluate(() => globalThis.rtc.link.kind)).toBe('webrtc')
  }
  // An offer, an answer, and at least one candidate each way.
  expect(signals.a).toBeGreaterThanOrEqual(2)
  expect(signals.b).toBeGreaterThanOrEqual(2)

  // One message each way, and one above the 64 KiB chunk size (split and joined).
  await a.page.evaluate(() => globalThis.rtc.link.send(new Uint8Array([1, 2, 3])))
  await b.page.evaluate(() => globalThis.rtc.link.send(new Uint8Array([4, 5])))
  await a.page.evaluate(() => globalThis.rtc.link.send(new Uint8Array(100_000).fill(7)))
  await b.page.waitForFunction(() => globalThis.rtc.got.length >= 2, undefined, { timeout: 10_000 })
  await a.page.waitForFunction(() => globalThis.rtc.got.length >= 1, undefined, { timeout: 10_000 })
  expect(await b.page.evaluate(() => globalThis.rtc.got)).toEqual([
    { length: 3, head: [1, 2, 3] },
    { length: 100_000, head: [7, 7, 7, 7] },
  ])
  expect(await a.page.evaluate(() => globalThis.rtc.got)).toEqual([{ length: 2, head: [4, 5] }])

  // Closing one side closes the other with the reason given.
  await a.page.evaluate(() => globalThis.rtc.link.close('done'))
  await b.page.waitForFunction(() => globalThis.rtc.closed !== null, undefined, { timeout: 10_000 })
  expect(await b.page.evaluate(() => globalThis.rtc.closed)).toBe('done')

  expect(a.errors).toEqual([])
  expect(b.errors).toEqual([])
})
