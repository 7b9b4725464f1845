/**
 * The demo as a person uses it, in two tabs of one browser at `/` of a relay: create a
 * room, post in it from both tabs, close the tab that owns it, take it over from the
 * other. Screenshots of each step are attached to the HTML report.
 */
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Page, TestInfo } from '@playwright/test'
import { COOKIE, expect, test } from './support/fixtures.js'
import { RELAY_PUBLIC } from './support/routes.mjs'

const NODE_PEER = fileURLToPath(new URL('../../demo/node-peer.mjs', import.meta.url))

interface DemoState {
  id: string | null
  home: boolean
  connection: string
  rooms: string[]
  owned: string[]
  closed: string[]
  messages: Record<string, Array<{ nick: string; text: string }>>
  names: string[]
  nodes: string[]
}

declare global {
  // eslint-disable-next-line no-var
  var flurryDemo: { ready: Promise<unknown>; state(): DemoState }
}

const state = (page: Page) => page.evaluate(() => globalThis.flurryDemo.state())
const texts = async (page: Page, room: string) => ((await state(page)).messages[room] ?? []).map((m) => m.text)

async function snap(info: TestInfo, name: string, ...pages: Page[]) {
  for (const [i, page] of pages.entries()) {
    const label = pages.length > 1 ? `${name} (tab ${String.fromCharCode(65 + i)})` : name
    await info.attach(label, { body: await page.screenshot({ fullPage: true }), contentType: 'image/png' })
  }
}

async function openDemo(page: Page, url: string) {
  await page.goto(url + '/')
  await page.waitForFunction(() => globalThis.flurryDemo !== undefined, undefined, { timeout: 10_000 })
  await page.evaluate(() => globalThis.flurryDemo.ready.then(() => true))
  await expect(page.getByTestId('connection-state')).toHaveAttribute('data-state', 'online')
}

test('demo: create a room, post from two tabs, close the owner, take over', async ({ relay, context }, info) => {
  expect(existsSync(join(RELAY_PUBLIC, 'index.html')), 'the relay serves the demo once built: npm run build').toBe(true)
  const a = await context.newPage()
  const b = await context.newPage()
  await openDemo(a, relay.url)
  await openDemo(b, relay.url)
  const aId = (await state(a)).id as string
  const bId = (await state(b)).id as string
  await expect.poll(async () => (await state(a)).nodes).toContain(bId)
  await expect.poll(async () => (await state(b)).nodes).toContain(aId)
  await snap(info, '1 two tabs online', a, b)

  // Tab A creates #lobby: a room actor of A, registered as room:lobby.
  await a.getByTestId('room-name-input').fill('lobby')
  await a.getByTestId('room-submit').click()
  await expect.poll(async () => (await state(a)).owned).toEqual(['lobby'])
  await expect.poll(async () => (await state(a)).rooms).toEqual(['lobby'])
  await expect(a.getByTestId('current-room')).toContainText('lobby')
  await expect.poll(() => relay.node.global.whereis('room:lobby')?.node).toBe(aId)

  // Tab B sees it in the room list and in the names panel, and joins it.
  const item = b.locator('[data-testid="room-item"][data-room="lobby"]')
  await expect(item).toBeVisible()
  await expect(b.getByTestId('names-list')).toContainText('room:lobby')
  await item.getByRole('button').click()
  await expect.poll(async () => (await state(b)).rooms).toEqual(['lobby'])

  // Both post; both see both messages.
  await b.getByTestId('post-input').fill('hello from B')
  await b.getByTestId('send-button').click()
  await a.getByTestId('post-input').fill('hi B, this is A')
  await a.getByTestId('send-button').click()
  for (const page of [a, b]) {
    await expect(page.getByTestId('messages')).toContainText('hello from B')
    await expect(page.getByTestId('messages')).toContainText('hi B, this is A')
    await expect.poll(() => texts(page, 'lobby')).toEqual(['hello from B', 'hi B, this is A'])
  }
  await snap(info, '2 room with messages', a, b)

  // Close the owner: the room goes away, and B is offered to take it over.
  await a.close()
  await expect(b.getByTestId('takeover-banner')).toBeVisible()
  await expect.poll(async () => (await state(b)).closed).toEqual(['lobby'])
  await expect.poll(async () => (await state(b)).names).not.toContain('room:lobby')
  await expect.poll(() => relay.node.global.whereis('room:lobby')).toBeUndefined()
  await expect(b.getByTestId('names-list')).not.toContainText('room:lobby')
  await snap(info, '3 owner closed, take-over offered', b)

  // B takes it over: B's room actor holds room:lobby now, with the history B saw.
  await b.getByTestId('takeover-button').click()
  await expect.poll(async () => (await state(b)).owned).toEqual(['lobby'])
  await expect(b.getByTestId('takeover-banner')).toBeHidden()
  await expect.poll(() => relay.node.global.whereis('room:lobby')?.node).toBe(bId)
  await expect(b.locator('[data-testid="names-list"] [data-name="room:lobby"]')).toContainText('this tab')
  await b.getByTestId('post-input').fill('B owns the lobby now')
  await b.getByTestId('send-button').click()
  await expect(b.getByTestId('messages')).toContainText('B owns the lobby now')
  await expect.poll(() => texts(b, 'lobby')).toEqual(['hello from B', 'hi B, this is A', 'B owns the lobby now'])

  // A newcomer finds the room by name and gets its history.
  const c = await context.newPage()
  await openDemo(c, relay.url)
  const cItem = c.locator('[data-testid="room-item"][data-room="lobby"]')
  await expect(cItem).toBeVisible()
  await cItem.getByRole('button').click()
  await expect.poll(() => texts(c, 'lobby')).toEqual(['hello from B', 'hi B, this is A', 'B owns the lobby now'])
  await snap(info, '4 taken over; a new tab joined', b, c)
})

test('demo on a phone: nodes by nickname, a node-peer joins its new room once, the log beside the chat, /status', async ({ relay, browser }, info) => {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true })
  const peer = spawn(process.execPath, [NODE_PEER, 'phones', 'pi', relay.wsUrl], {
    env: { ...process.env, FLURRY_COOKIE: COOKIE },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let out = ''
  peer.stdout.setEncoding('utf8').on('data', (d: string) => (out += d))
  try {
    await expect.poll(() => out, { timeout: 15_000 }).toMatch(/joined room:phones as pi/)
    const page = await context.newPage()
    const notFound: string[] = []
    page.on('response', (r) => {
      if (r.status() === 404) notFound.push(r.url())
    })
    await openDemo(page, relay.url)
    await page.getByTestId('nick-input').fill('ada')
    await page.getByTestId('nick-input').press('Enter')

    // Nodes by nickname: the node-peer's, and this tab's own.
    await expect(page.locator('[data-testid="nodes-list"] [data-nick="pi"]')).toContainText('pi')
    await expect(page.locator('[data-testid="nodes-list"] [data-self="true"]')).toHaveAttribute('data-nick', 'ada')
    await expect.poll(() => relay.node.global.names()).toContain(`who:${(await state(page)).id}:ada`)

    // Post in the node-peer's room; the node-peer prints it, having joined once.
    const item = page.locator('[data-testid="room-item"][data-room="phones"]')
    await item.getByRole('button').click()
    await page.getByTestId('post-input').fill('from a phone')
    await page.getByTestId('send-button').click()
    await expect.poll(() => out).toMatch(/ada: from a phone/)
    expect(out.match(/^joined room:phones/gm)).toHaveLength(1)

    // The event log opens as a drawer: it and the chat's input are both on screen.
    await expect(page.getByTestId('event-log')).not.toBeInViewport()
    await page.getByTestId('log-toggle').click()
    await expect(page.getByTestId('event-log')).toBeInViewport()
    await expect(page.getByTestId('post-input')).toBeInViewport()
    await expect(page.getByTestId('messages')).toContainText('from a phone')
    // Beside, not under: the drawer starts below the chat's input, and the messages
    // show between the chat's head and the input.
    const drawer = await page.locator('#event-log-panel').boundingBox()
    const input = await page.getByTestId('post-input').boundingBox()
    const messages = await page.getByTestId('messages').boundingBox()
    expect(drawer !== null && input !== null && messages !== null).toBe(true)
    expect(input!.y + input!.height).toBeLessThanOrEqual(drawer!.y)
    expect(messages!.y).toBeGreaterThanOrEqual(0)
    expect(messages!.height).toBeGreaterThan(100)
    await info.attach('phone: chat and event log', { body: await page.screenshot(), contentType: 'image/png' })

    // The status page is linked and loads without a missing favicon.
    await expect(page.getByTestId('status-link')).toHaveAttribute('href', '/status')
    const status = await context.newPage()
    status.on('response', (r) => {
      if (r.status() === 404) notFound.push(r.url())
    })
    await status.goto(relay.url + '/status')
    await expect(status.locator('body')).toContainText(relay.node.id)
    await status.waitForLoadState('networkidle')
    expect(notFound).toEqual([])
  } finally {
    peer.kill('SIGTERM')
    await context.close()
  }
})
