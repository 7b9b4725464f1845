/**
 * Many full client nodes on one relay process, as a user's test would run them
 * (createNode + dialWebSocket, several hundred per process, heartbeat defaults): every
 * client is admitted, none of the 2 honest names each registers is refused (no
 * name_refused notice, no CLOCK_SKEW or QUOTA error), and an observer client sees
 * every name (issue 8: "Full client nodes … must also get 0 refusals").
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { COOKIE, startNode, stopAll, waitFor } from './harness.js'

const PROCESSES = 2
const PER_PROCESS = 150
const CONNECTING = 25
/** createNode's defaults: what a user's nodes run with (the fixtures shorten them). */
const DEFAULT_HEARTBEATS = { heartbeatIntervalMs: 1000, heartbeatTimeoutMs: 5000 }
const RELAY_DIR = fileURLToPath(new URL('../..', import.meta.url))

/**
 * One process of client nodes (ESM from `node -e`, resolved from the relay package):
 * connects `count` nodes, CONNECTING at a time, each registering `<prefix><i>:a` and
 * `:b` for an actor that reports name_refused notices; answers 'report' over IPC.
 */
const CLIENTS_SCRIPT = `
import { createNode } from '@flurry/core'
import { dialWebSocket } from '@flurry/ws'
const { home, count, prefix, cookie, concurrency, node: opts } = JSON.parse(process.argv[1])
process.on('disconnect', () => process.exit(0))
const nodes = []
const refused = []
const errors = {}
const failures = {}
const homedowns = {}
const bump = (m, k) => { m[k] = (m[k] ?? 0) + 1 }
let next = 0
const t0 = Date.now()
async function lane() {
  for (let i = next++; i < count; i = next++) {
    const node = await createNode({ name: prefix + i, cookie, ...opts })
    node.on('error', (err) => bump(errors, err.code))
    node.on('homedown', (_id, reason) => bump(homedowns, reason))
    try {
      await node.connect(dialWebSocket(home))
    } catch (err) {
      bump(failures, err.code ?? String(err.message))
      await node.close()
      continue
    }
    nodes.push(node)
    const pid = node.spawn(async (ctx) => {
      for (;;) {
        const m = await ctx.receive()
        if (m !== null && typeof m === 'object' && m.flurry === 'name_refused') refused.push({ name: m.name, code: m.code })
      }
    })
    node.global.register(prefix + i + ':a', pid)
    node.global.register(prefix + i + ':b', pid)
  }
}
await Promise.all(Array.from({ length: concurrency }, lane))
const report = () => ({ admitted: nodes.length, failures, refused, errors, homedowns, ms: Date.now() - t0 })
process.send({ ev: 'connected', ...report() })
process.on('message', (m) => {
  if (m.cmd === 'report') process.send({ ev: 'report', ...report() })
})
`

interface Report {
  admitted: number
  failures: Record<string, number>
  refused: Array<{ name: string; code: string }>
  errors: Record<string, number>
  homedowns: Record<string, number>
  ms: number
}

class ClientsProc {
  readonly child: ChildProcess
  readonly reports: Report[] = []
  stderr = ''

  constructor(home: string, prefix: string) {
    const args = { home, count: PER_PROCESS, prefix, cookie: COOKIE, concurrency: CONNECTING, node: DEFAULT_HEARTBEATS }
    this.child = spawn(process.execPath, ['--input-type=module', '-e', CLIENTS_SCRIPT, JSON.stringify(args)], {
      cwd: RELAY_DIR,
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    })
    this.child.stderr?.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4000)
    })
    this.child.on('message', (m: Report & { ev: string }) => this.reports.push(m))
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null
  }

  latest(): Report | undefined {
    return this.reports[this.reports.length - 1]
  }

  async report(): Promise<Report> {
    const before = this.reports.length
    this.child.send({ cmd: 'report' })
    await waitFor(() => this.reports.length > before || !this.alive, 'a report from the clients process', 10_000)
    const r = this.latest()
    if (r === undefined || !this.alive) throw new Error(`clients process ended: ${this.stderr}`)
    return r
  }

  kill(): void {
    if (this.alive && this.child.pid !== undefined) process.kill(this.child.pid, 'SIGKILL')
  }
}

const procs: ClientsProc[] = []

afterEach(async () => {
  for (const p of procs.splice(0)) p.kill()
  await stopAll()
})

describe('several hundred full client nodes on one relay process', () => {
  it('admits every client, refuses none of their honest names, and an observer sees them all', async () => {
    const total = PROCESSES * PER_PROCESS
    const relay = await startNode({ kind: 'relay', name: 'R', node: DEFAULT_HEARTBEATS })
    const observer = await startNode({ kind: 'client', name: 'obs', home: relay.url, node: DEFAULT_HEARTBEATS })
    for (let i = 0; i < PROCESSES; i++) procs.push(new ClientsProc(relay.url, `m${i}-`))
    await waitFor(
      () => procs.every((p) => p.latest() !== undefined || !p.alive),
      `${total} clients to connect`,
      45_000,
      () => procs.map((p) => p.stderr.slice(-300)),
    )
    for (const p of procs) expect(p.alive, p.stderr).toBe(true)
    const expected = new Set<string>()
    for (let i = 0; i < PROCESSES; i++) for (let k = 0; k < PER_PROCESS; k++) for (const s of ['a', 'b']) expected.add(`m${i}-${k}:${s}`)
    let names: string[] = []
    const visible = (): boolean => names.filter((n) => expected.has(n)).length === expected.size
    await waitFor(
      async () => {
        names = await observer.names()
        return visible()
      },
      `all ${expected.size} names on the observer`,
      20_000,
    ).catch(() => undefined)
    const reports = await Promise.all(procs.map((p) => p.report()))
    const summary = {
      admitted: reports.reduce((n, r) => n + r.admitted, 0),
      failures: reports.map((r) => r.failures),
      refused: reports.flatMap((r) => r.refused).reduce<Record<string, number>>((m, r) => ({ ...m, [r.code]: (m[r.code] ?? 0) + 1 }), {}),
      errors: reports.map((r) => r.errors),
      homedowns: reports.map((r) => r.homedowns),
      connectMs: reports.map((r) => r.ms),
      relayRefusals: relay.find('error').reduce<Record<string, number>>((m, e) => ({ ...m, [e.code]: (m[e.code] ?? 0) + 1 }), {}),
      visibleOnObserver: names.filter((n) => expected.has(n)).length,
    }
    // One assertion on the whole picture, so a failure shows every figure at once.
    expect(summary).toEqual({
      ...summary,
      admitted: total,
      failures: reports.map(() => ({})),
      refused: {},
      errors: reports.map(() => ({})),
      homedowns: reports.map(() => ({})),
      relayRefusals: {},
      visibleOnObserver: expected.size,
    })
  }, 90_000)
})
