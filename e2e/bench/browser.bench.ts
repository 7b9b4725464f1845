/**
 * Register in one tab -> visible in the others, with 10 tabs:
 * - over BroadcastChannel: 10 tabs of one context on one bus, no relay (the page and
 *   /flurry.js come from a plain static server);
 * - through the relay: 10 tabs of one context that do not join a bus, each a client of
 *   one relay (its own process), so every name goes tab -> relay -> 9 tabs.
 * Each round registers a fresh name in the next tab (round-robin) and waits until all
 * 9 others have it. Latency = the observer's `register` event time minus the
 * registering call's time, both `performance.timeOrigin + performance.now()` (one
 * machine clock, sub-millisecond). Reported per observer and for "all 9 see it".
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, platform, arch } from 'node:os'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { COOKIE, RelayProcess, Tab, test } from '../tests/support/fixtures.js'

const TABS = Number(process.env.BENCH_TABS ?? 10)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 300)
const WARMUP = 20
const OUT = fileURLToPath(new URL('../../bench-results/browser.json', import.meta.url))

interface Stats {
  n: number
  p50: number
  p90: number
  p99: number
  mean: number
  min: number
  max: number
}

function stats(xs: number[]): Stats {
  const s = [...xs].sort((a, b) => a - b)
  const at = (q: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] as number
  const r = (x: number) => Math.round(x * 1000) / 1000
  return {
    n: s.length,
    p50: r(at(0.5)),
    p90: r(at(0.9)),
    p99: r(at(0.99)),
    mean: r(s.reduce((a, b) => a + b, 0) / s.length),
    min: r(s[0] as number),
    max: r(s[s.length - 1] as number),
  }
}

/** Installs the bench listener in a started tab: name -> time first seen here. */
async function instrument(tab: Tab): Promise<void> {
  await tab.page.evaluate(() => {
    const w = globalThis as any
    const seen = new Map<string, number>()
    const waiters = new Map<string, (t: number) => void>()
    w.e2e.node.global.on('register', (name: string) => {
      if (seen.has(name)) return
      const t = performance.timeOrigin + performance.now()
      seen.set(name, t)
      waiters.get(name)?.(t)
      waiters.delete(name)
    })
    w.bench = {
      seenAt(name: string, timeoutMs: number): Promise<number> {
        const t = seen.get(name)
        if (t !== undefined) return Promise.resolve(t)
        return new Promise((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`${name} not seen in ${timeoutMs} ms`)), timeoutMs)
          waiters.set(name, (at) => {
            clearTimeout(timer)
            resolve(at)
          })
        })
      },
      register(name: string): number {
        const pid = w.e2e.service('bench')
        const t = performance.timeOrigin + performance.now()
        if (!w.e2e.node.global.register(name, new w.e2e.flurry.Pid(pid.node, pid.id))) throw new Error(`register ${name} failed`)
        return t
      },
    }
  })
}

async function run(tabs: Tab[], label: string): Promise<{ perObserver: number[]; allVisible: number[] }> {
  const perObserver: number[] = []
  const allVisible: number[] = []
  for (let round = 0; round < WARMUP + ROUNDS; round++) {
    const i = round % tabs.length
    const owner = tabs[i] as Tab
    const observers = tabs.filter((_, j) => j !== i)
    const name = `bench:${label}:${round}`
    const t0 = await owner.page.evaluate((n) => (globalThis as any).bench.register(n) as number, name)
    const seen = await Promise.all(observers.map((o) => o.page.evaluate((n) => (globalThis as any).bench.seenAt(n, 10_000) as Promise<number>, name)))
    if (round < WARMUP) continue
    const lat = seen.map((t) => t - t0)
    perObserver.push(...lat)
    allVisible.push(Math.max(...lat))
  }
  return { perObserver, allVisible }
}

function row(bench: string, name: string, s: Stats, note: string) {
  console.log(`  ${name.padEnd(52)} p50 ${s.p50.toFixed(2).padStart(7)} ms   p99 ${s.p99.toFixed(2).padStart(7)} ms   (n=${s.n}, mean ${s.mean.toFixed(2)}, max ${s.max.toFixed(2)})`)
  return { bench, name, unit: 'ms', better: 'lower', ...s, note }
}

test('register in one tab -> visible in the others (10 tabs)', async ({ browser, staticServer, openTab, relayProcess }) => {
  const started = Date.now()
  const load0 = loadavg()[0] ?? 0
  const rows = []

  // Over BroadcastChannel, no relay at all.
  {
    const server = await staticServer()
    const context = await browser.newContext()
    const tabs: Tab[] = []
    for (let k = 0; k < TABS; k++) tabs.push(await openTab(context, server.url))
    for (const [k, t] of tabs.entries()) await t.start({ name: `bus${k}`, cookie: COOKIE, bus: 'bench' })
    for (const t of tabs) await instrument(t)
    const r = await run(tabs, 'bus')
    console.log(`\nregister -> visible, ${TABS} tabs, ${ROUNDS} rounds (+${WARMUP} warm-up), Chromium ${browser.version()}`)
    rows.push(row('register-visible', 'BroadcastChannel, per observer', stats(r.perObserver), `${TABS} tabs of one context on one bus, no relay; each of the ${TABS - 1} others' register event`))
    rows.push(row('register-visible', 'BroadcastChannel, all others', stats(r.allVisible), `until the last of the ${TABS - 1} others has it`))
    await context.close()
  }

  // Through the relay (its own process), no bus.
  {
    const relay: RelayProcess = await relayProcess()
    const context = await browser.newContext()
    const tabs: Tab[] = []
    for (let k = 0; k < TABS; k++) tabs.push(await openTab(context, relay.url))
    for (const [k, t] of tabs.entries()) await t.start({ name: `ws${k}`, cookie: COOKIE, relay: true })
    for (const t of tabs) await instrument(t)
    const r = await run(tabs, 'relay')
    rows.push(row('register-visible', 'relay (WebSocket), per observer', stats(r.perObserver), `${TABS} tabs, no bus, each a client of one relay in its own process: tab -> relay -> tabs`))
    rows.push(row('register-visible', 'relay (WebSocket), all others', stats(r.allVisible), `until the last of the ${TABS - 1} others has it`))
    await context.close()
  }

  const report = {
    suite: 'browser',
    date: new Date().toISOString(),
    node: process.version,
    platform: `${platform()} ${arch()}`,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? '',
    chromium: browser.version(),
    loadavg: { start: Math.round(load0 * 100) / 100, end: Math.round((loadavg()[0] ?? 0) * 100) / 100 },
    tabs: TABS,
    rounds: ROUNDS,
    warmup: WARMUP,
    durationMs: Date.now() - started,
    rows,
  }
  mkdirSync(dirname(OUT), { recursive: true })
  writeFileSync(OUT, `${JSON.stringify(report, null, 2)}\n`)
  console.log(`\nwrote ${OUT}`)
})
