// The browser dialer, run in Node with `ws` standing in for the page's WebSocket (it
// implements the same WHATWG interface), against the real listener.
import { isFlurryError } from '@flurry/core'
import type { Link, Listener } from '@flurry/core'
import { waitFor } from '@flurry/core/testing'
import { linkSuite } from '@flurry/core/testing/suites'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket as WsWebSocket } from 'ws'
import { dialWebSocket } from '../src/index.browser.js'
import { listenWebSocket } from '../src/index.js'

const global = globalThis as { WebSocket?: unknown }
const original = global.WebSocket
beforeAll(() => {
  global.WebSocket = WsWebSocket
})
afterAll(() => {
  global.WebSocket = original
})

linkSuite('ws, browser dialer', async () => {
  const accepted: Link[] = []
  const listener = await listenWebSocket({ port: 0 }).listen((link) => accepted.push(link))
  const a = await dialWebSocket(listener.url).dial()
  await waitFor(() => accepted.length === 1, 'the accepted link')
  return { a, b: accepted[0] as Link, cleanup: () => listener.close() }
})

describe('browser dialer', () => {
  let listener: Listener | undefined
  afterAll(async () => listener?.close())

  it('rejects with CONNECT_FAILED naming the URL, then fails over', async () => {
    const accepted: Link[] = []
    listener = await listenWebSocket({ port: 0, maxMessageBytes: 100 }).listen((link) => accepted.push(link))
    const dead = listener.url.replace('/flurry', '/nope')
    const dialer = dialWebSocket([dead, listener.url])
    const err = await dialer.dial().then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(isFlurryError(err, 'CONNECT_FAILED')).toBe(true)
    expect((err as Error).message).toContain(dead)
    const link = await dialer.dial()
    const closes: string[] = []
    link.onclose = (reason) => closes.push(reason)
    await waitFor(() => accepted.length === 1, 'the accepted link')
    link.send(new Uint8Array(101))
    await waitFor(() => closes.length === 1, 'the link closed')
    expect(closes).toEqual(['message too big'])
  })

  it('rejects with ABORTED when aborted first', async () => {
    const err = await dialWebSocket('ws://127.0.0.1:1/flurry')
      .dial({ signal: AbortSignal.abort() })
      .then(
        () => undefined,
        (e: unknown) => e,
      )
    expect(isFlurryError(err, 'ABORTED')).toBe(true)
  })
})
