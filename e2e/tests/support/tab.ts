/**
 * A browser tab running one Flurry node through the page harness (page/harness.js,
 * served at /e2e/harness.js): the test drives it with page.evaluate.
 */
import type { BrowserContext, CDPSession, Page } from '@playwright/test'
import type { Ev, InboxEntry } from './node-side.js'

export interface TabStart {
  name?: string
  cookie: string
  /** true: the relay that served the page (ws://<page host>/flurry); or a ws URL. */
  relay?: boolean | string
  /** Join broadcastChannel(bus). */
  bus?: string
  busInit?: { locks?: boolean }
  /** More createNode options. */
  node?: Record<string, unknown>
}

export interface PlainPid {
  pid: string
  node: string
  id: number
}

declare global {
  // eslint-disable-next-line no-var
  var e2e: any
}

export class Tab {
  readonly page: Page
  id = ''
  /** Lines the page logged as errors (console.error, uncaught exceptions). */
  readonly errors: string[] = []
  #cdp: CDPSession | null = null

  constructor(page: Page) {
    this.page = page
    page.on('pageerror', (err) => this.errors.push(`pageerror: ${err.message}`))
    page.on('console', (msg) => {
      if (msg.type() === 'error' && !msg.text().includes('favicon') && !msg.text().includes('404')) {
        this.errors.push(`console: ${msg.text()}`)
      }
    })
  }

  /** A new page of `context` at `origin`/e2e/blank.html with the harness loaded. */
  static async open(context: BrowserContext, origin: string, path = '/e2e/blank.html'): Promise<Tab> {
    const tab = new Tab(await context.newPage())
    await tab.page.goto(origin + path)
    await tab.load()
    return tab
  }

  /** Imports /flurry.js and the harness into the page (idempotent). */
  async load(): Promise<void> {
    // A string, so no transpiler touches the dynamic imports.
    await this.page.evaluate("import('/flurry.js').then(() => import('/e2e/harness.js')).then(() => true)")
  }

  async start(opts: TabStart): Promise<string> {
    this.id = await this.page.evaluate((o) => globalThis.e2e.start(o), opts)
    return this.id
  }

  register(name: string, label = 'svc'): Promise<boolean> {
    return this.page.evaluate(([n, l]) => globalThis.e2e.register(n, l), [name, label] as const)
  }

  unregister(name: string): Promise<boolean> {
    return this.page.evaluate((n) => globalThis.e2e.unregister(n), name)
  }

  whereis(name: string): Promise<PlainPid | null> {
    return this.page.evaluate((n) => globalThis.e2e.whereis(n), name)
  }

  names(): Promise<string[]> {
    return this.page.evaluate(() => globalThis.e2e.names())
  }

  nodes(): Promise<string[]> {
    return this.page.evaluate(() => globalThis.e2e.nodes())
  }

  service(label = 'svc'): Promise<PlainPid> {
    return this.page.evaluate((l) => globalThis.e2e.service(l), label)
  }

  send(to: string | PlainPid, msg: unknown): Promise<boolean> {
    return this.page.evaluate(([t, m]) => globalThis.e2e.send(t, m), [to, msg] as const)
  }

  call(to: string | PlainPid, msg: unknown, timeoutMs = 5000): Promise<{ ok: boolean; value?: any; error?: any }> {
    return this.page.evaluate(([t, m, ms]) => globalThis.e2e.call(t, m, ms), [to, msg, timeoutMs] as const)
  }

  events(kind?: string): Promise<Ev[]> {
    return this.page.evaluate((k) => globalThis.e2e.events.filter((e: Ev) => k === undefined || e.kind === k), kind)
  }

  inbox(): Promise<InboxEntry[]> {
    return this.page.evaluate(() => globalThis.e2e.inbox)
  }

  /** When `name` went away here (first unregister event at or after `after`). */
  async goneAt(name: string, after = 0): Promise<number | undefined> {
    return (await this.events('unregister')).find((e) => e.name === name && e.t >= after)?.t
  }

  async downAt(id: string, after = 0): Promise<Ev | undefined> {
    return (await this.events('nodedown')).find((e) => e.id === id && e.t >= after)
  }

  async cdp(): Promise<CDPSession> {
    this.#cdp ??= await this.page.context().newCDPSession(this.page)
    return this.#cdp
  }

  /** Crashes the renderer (no pagehide, no unload): resolves once Playwright saw it. */
  async crash(): Promise<number> {
    const cdp = await this.cdp()
    const crashed = this.page.waitForEvent('crash', { timeout: 10_000 })
    const t0 = Date.now()
    // Page.crash never answers: the renderer is gone before it could.
    cdp.send('Page.crash').catch(() => {})
    await crashed
    return t0
  }
}
