/**
 * Playwright fixtures of the e2e tests: a real relay started in the test process, Node
 * nodes, relays in child processes, a plain static server, more browser contexts, and
 * tabs — all closed in teardown.
 */
import { test as base, expect, type Browser, type BrowserContext } from '@playwright/test'
import { startRelay, type Relay } from '@flurry/relay'
import type { NodeInit } from '@flurry/core'
import { launchWithoutOverrides } from './browser.js'
import { NodeSide } from './node-side.js'
import { RelayProcess, type RelayProcessInit } from './relay-process.js'
import { e2eRoute, startStaticServer } from './routes.mjs'
import { Tab } from './tab.js'

export { expect, Tab, NodeSide, RelayProcess }
export type { Relay }

export const COOKIE = 'e2e-cookie'
/** The relay's (and the Node nodes') heartbeats in these tests. */
export const HEARTBEAT = { heartbeatIntervalMs: 200, heartbeatTimeoutMs: 1000 } as const
/**
 * "At once" (DESIGN.md, Failure detection: GOODBYE, a closed socket, a released Web
 * Lock): one delivery, no timer. The bound is margin for a loaded 2-core machine
 * running Chromium beside the relay; the tests show by the nodedown reason that no
 * heartbeat timeout did it, since this bound is above heartbeatTimeoutMs.
 */
export const AT_ONCE_MS = 2000
/** Added to a bound that includes a timer (heartbeat timeout + interval): late wake-ups on a loaded machine. */
export const LOADED_MARGIN_MS = 750
/** Tabs reconnect quickly when their relay comes back. */
export const TAB_NODE = { ...HEARTBEAT, reconnect: { minDelayMs: 100, maxDelayMs: 500 } }

export interface StaticServer {
  url: string
  port: number
  close(): Promise<void>
}

interface Fixtures {
  /** A relay in this process, on 127.0.0.1 with a free port. */
  relay: Relay
  /** Node nodes in this process; `home` makes them a client of that relay. */
  nodeSide: (home?: string, init?: Partial<NodeInit>) => Promise<NodeSide>
  /** Relays in child processes (stop/start on the same port). */
  relayProcess: (init?: Partial<RelayProcessInit>) => Promise<RelayProcess>
  /** A plain HTTP server: /flurry.js and /e2e/* only, no Flurry node. */
  staticServer: () => Promise<StaticServer>
  /** Another browser context (a separate profile) of the test's browser. */
  newContext: () => Promise<BrowserContext>
  /**
   * The default context of a Chromium without Playwright's page overrides (no focus
   * emulation, so pages can be hidden and frozen): see launchWithoutOverrides.
   */
  plainContext: () => Promise<BrowserContext>
  /** A tab of `context` at `origin` with the harness loaded (closed with its context). */
  openTab: (context: BrowserContext, origin: string, path?: string) => Promise<Tab>
}

export const test = base.extend<Fixtures>({
  relay: async ({}, use) => {
    const relay = await startRelay({
      host: '127.0.0.1',
      port: 0,
      cookie: COOKIE,
      devCookie: COOKIE,
      routes: [e2eRoute()],
      node: { ...HEARTBEAT },
    })
    await use(relay)
    await relay.close()
  },

  nodeSide: async ({}, use) => {
    const made: NodeSide[] = []
    await use(async (home, init) => {
      const side = await NodeSide.start({ cookie: COOKIE, ...HEARTBEAT, ...init }, home)
      made.push(side)
      return side
    })
    await Promise.allSettled(made.map((s) => s.close()))
  },

  relayProcess: async ({}, use) => {
    const made: RelayProcess[] = []
    await use(async (init) => {
      const p = new RelayProcess({ cookie: COOKIE, node: { ...HEARTBEAT }, ...init })
      made.push(p)
      return p.start()
    })
    await Promise.allSettled(made.map((p) => p.stop('SIGKILL')))
  },

  staticServer: async ({}, use) => {
    const made: StaticServer[] = []
    await use(async () => {
      const s = (await startStaticServer()) as StaticServer
      made.push(s)
      return s
    })
    await Promise.allSettled(made.map((s) => s.close()))
  },

  newContext: async ({ browser }, use) => {
    const made: BrowserContext[] = []
    await use(async () => {
      const c = await browser.newContext()
      made.push(c)
      return c
    })
    await Promise.allSettled(made.map((c) => c.close()))
  },

  plainContext: async ({}, use) => {
    const made: Array<Awaited<ReturnType<typeof launchWithoutOverrides>>> = []
    await use(async () => {
      const b = await launchWithoutOverrides()
      made.push(b)
      return b.context
    })
    await Promise.allSettled(made.map((b) => b.close()))
  },

  openTab: async ({}, use, testInfo) => {
    const tabs: Tab[] = []
    await use(async (context, origin, path) => {
      const tab = await Tab.open(context, origin, path)
      tabs.push(tab)
      return tab
    })
    const errors = tabs.flatMap((t, i) => t.errors.map((e) => `tab ${i}: ${e}`))
    if (errors.length > 0) await testInfo.attach('page errors', { body: errors.join('\n'), contentType: 'text/plain' })
  },
})

/** Prints a measured time (the list reporter shows it) and attaches it to the report. */
export function report(testInfo: { annotations: Array<{ type: string; description?: string }> }, what: string, ms: number | string): void {
  const text = typeof ms === 'number' ? `${what}: ${ms} ms` : `${what}: ${ms}`
  console.log(`  [measured] ${text}`)
  testInfo.annotations.push({ type: 'measured', description: text })
}

export type { Browser }
