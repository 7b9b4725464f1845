/**
 * The test side of the multi-process integration tests: start fixture processes
 * (fixture.mjs, one node each, driven over IPC) and real flurry-relay CLIs, record
 * every child pid and kill them all after each test (by pid, SIGKILL as last resort),
 * collect their events, and wait on conditions with deadlines (never on sleeps).
 */
import { fork, spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'

const FIXTURE = fileURLToPath(new URL('./fixture.mjs', import.meta.url))
const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url))

export const COOKIE = 'integration-secret'
/** What the fixtures use (see fixture.mjs). */
export const HEARTBEAT_INTERVAL_MS = 100
export const HEARTBEAT_TIMEOUT_MS = 500
/**
 * Added to every bound on real time measured across processes: on a loaded 2-core
 * machine (the suite, a build and other work side by side) an event loop can wake
 * hundreds of ms late. Bounds are what the design promises plus this, never less.
 */
export const LOADED_MARGIN_MS = 750
/**
 * "At once" (DESIGN.md, Failure detection: a closed link, a GOODBYE): no timer is
 * involved, the promise is one delivery; the bound is a generous margin for a loaded
 * 2-core machine. That it was no timeout the tests show by the reason ('closed').
 */
export const AT_ONCE_MS = 1000

export interface PidRef {
  node: string
  id: number
}

/** An event a fixture streamed: { ev, t, ...fields } (t: the child's Date.now()). */
export interface Ev {
  ev: string
  t: number
  [field: string]: any
}

export interface NodeConfig {
  kind: 'peer' | 'client' | 'relay'
  name: string
  cookie?: string
  port?: number
  peers?: string[]
  home?: string | string[]
  /** More createNode options (onNameConflict, ...). */
  node?: Record<string, unknown>
  /** More startRelay options (maxNamesPerClient, ...). */
  relay?: Record<string, unknown>
  /** No register/unregister events (tables of tens of thousands of names). */
  quiet?: boolean
}

// ---- every child, for cleanup ----------------------------------------------------

const children = new Set<ChildProcess>()

function track(child: ChildProcess): void {
  children.add(child)
  child.once('exit', () => children.delete(child))
}

function alive(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null
}

function exited(child: ChildProcess): Promise<void> {
  if (!alive(child)) return Promise.resolve()
  return new Promise((resolve) => child.once('exit', () => resolve()))
}

/**
 * Stops every child still running, by pid: SIGCONT (a stopped one cannot die of
 * SIGTERM), SIGTERM, then SIGKILL for whatever is left after a short grace.
 */
export async function stopAll(graceMs = 1000): Promise<void> {
  const list = [...children].filter(alive)
  for (const c of list) signal(c, 'SIGCONT')
  for (const c of list) signal(c, 'SIGTERM')
  const deadline = new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref())
  await Promise.race([Promise.all(list.map(exited)), deadline])
  const left = list.filter(alive)
  for (const c of left) signal(c, 'SIGKILL')
  await Promise.all(left.map(exited))
  children.clear()
}

function signal(child: ChildProcess, sig: NodeJS.Signals): void {
  if (child.pid === undefined || !alive(child)) return
  try {
    process.kill(child.pid, sig)
  } catch {
    // gone already
  }
}

// The test process itself ending (even abruptly) takes its children along.
process.once('exit', () => {
  for (const c of children) signal(c, 'SIGKILL')
})

// ---- waiting --------------------------------------------------------------------

/** Polls `cond` until it holds; throws naming `what` (and the last state) after `ms`. */
export async function waitFor(
  cond: () => boolean | Promise<boolean>,
  what: string,
  ms = 5000,
  describe?: () => unknown | Promise<unknown>,
): Promise<number> {
  const start = Date.now()
  const deadline = start + ms
  for (;;) {
    if (await cond()) return Date.now() - start
    if (Date.now() > deadline) {
      let state = ''
      if (describe !== undefined) {
        try {
          state = `; last state: ${JSON.stringify(await describe())}`
        } catch (err) {
          state = `; (state unavailable: ${String(err)})`
        }
      }
      throw new Error(`timed out after ${ms} ms waiting for ${what}${state}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** Lets a wall-clock millisecond or more pass: separates two HLC stamps, never waits on a condition. */
export function tick(ms = 5): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

// ---- fixture processes ------------------------------------------------------------

export class NodeProc {
  readonly child: ChildProcess
  readonly config: NodeConfig
  readonly events: Ev[] = []
  /** The node id, known once 'ready' arrived. */
  id = ''
  /** The WebSocket URL of a peer or relay ('' for a client). */
  url = ''
  stderr = ''
  #rid = 0
  #pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>()

  constructor(child: ChildProcess, config: NodeConfig) {
    this.child = child
    this.config = config
    child.on('message', (m: any) => this.#onMessage(m))
    child.stderr?.on('data', (d: Buffer) => {
      this.stderr += d.toString()
    })
    child.once('exit', (code, sig) => {
      for (const p of this.#pending.values()) p.reject(new Error(`${config.name} exited (${code ?? sig}) before answering`))
      this.#pending.clear()
    })
  }

  get pid(): number {
    return this.child.pid as number
  }

  get alive(): boolean {
    return alive(this.child)
  }

  #onMessage(m: any): void {
    if (m === null || typeof m !== 'object') return
    if (typeof m.rid === 'number') {
      const p = this.#pending.get(m.rid)
      if (p === undefined) return
      this.#pending.delete(m.rid)
      if (m.ok) p.resolve(m.value)
      else p.reject(Object.assign(new Error(`${this.config.name}: ${m.error.message}`), { code: m.error.code }))
      return
    }
    if (typeof m.ev === 'string') this.events.push(m as Ev)
  }

  /** Sends a command and resolves with its value (rejects with the fixture's error and code). */
  cmd<T = any>(cmd: string, args: Record<string, unknown> = {}, timeoutMs = 5000): Promise<T> {
    if (!this.alive || !this.child.connected) return Promise.reject(new Error(`${this.config.name} is not running`))
    const rid = ++this.#rid
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.#pending.delete(rid)) reject(new Error(`${this.config.name}: no answer to ${cmd} in ${timeoutMs} ms`))
      }, timeoutMs)
      this.#pending.set(rid, {
        resolve: (v) => {
          clearTimeout(timer)
          resolve(v)
        },
        reject: (e) => {
          clearTimeout(timer)
          reject(e)
        },
      })
      this.child.send({ rid, cmd, ...args })
    })
  }

  // typed shortcuts
  spawnActor(tag = 'actor'): Promise<PidRef> {
    return this.cmd('spawn', { tag })
  }
  register(name: string, pid: PidRef): Promise<boolean> {
    return this.cmd('register', { name, pid })
  }
  whereis(name: string): Promise<PidRef | null> {
    return this.cmd('whereis', { name })
  }
  names(): Promise<string[]> {
    return this.cmd('names')
  }
  table(): Promise<Record<string, string | null>> {
    return this.cmd('table')
  }
  nodes(): Promise<string[]> {
    return this.cmd('nodes')
  }
  received(pid: PidRef): Promise<any[]> {
    return this.cmd('received', { pid })
  }

  /** Events of kind `ev` matching `pred`, so far. */
  find(ev: string, pred: (e: Ev) => boolean = () => true): Ev[] {
    return this.events.filter((e) => e.ev === ev && pred(e))
  }

  /** Waits for an event of kind `ev` matching `pred` (one seen already counts). */
  async waitEvent(ev: string, pred: (e: Ev) => boolean = () => true, what = ev, ms = 5000): Promise<Ev> {
    let hit: Ev | undefined
    await waitFor(
      () => (hit = this.events.find((e) => e.ev === ev && pred(e))) !== undefined,
      `${this.config.name}: ${what}`,
      ms,
    )
    return hit as Ev
  }

  kill(sig: NodeJS.Signals): void {
    signal(this.child, sig)
  }

  exited(): Promise<void> {
    return exited(this.child)
  }

  /** A graceful close (goodbye to every session), then the process is ended. */
  async close(): Promise<void> {
    if (!this.alive) return
    try {
      await this.cmd('close', {}, 3000)
    } catch {
      // ended below anyway
    }
    this.kill('SIGTERM')
    await this.exited()
  }
}

/** Forks fixture.mjs with `config` and resolves once its node is up. */
export async function startNode(config: NodeConfig, readyMs = 10_000): Promise<NodeProc> {
  const full: NodeConfig = { cookie: COOKIE, ...config }
  const child = fork(FIXTURE, [JSON.stringify(full)], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] })
  track(child)
  const proc = new NodeProc(child, full)
  try {
    await waitFor(
      () => proc.events.some((e) => e.ev === 'ready' || e.ev === 'failed') || !proc.alive,
      `${config.name} to start`,
      readyMs,
    )
  } catch (err) {
    signal(child, 'SIGKILL')
    throw err
  }
  const failed = proc.events.find((e) => e.ev === 'failed')
  const ready = proc.events.find((e) => e.ev === 'ready')
  if (ready === undefined) {
    signal(child, 'SIGKILL')
    const why = failed !== undefined ? `${failed.code}: ${failed.message}` : `exited ${proc.stderr}`
    throw Object.assign(new Error(`${config.name} did not start: ${why}`), { code: failed?.code })
  }
  proc.id = ready.id
  proc.url = ready.url ?? ''
  return proc
}

// ---- the flurry-relay CLI -------------------------------------------------------------

export class CliProc {
  readonly child: ChildProcess
  readonly lines: string[] = []
  readonly errLines: string[] = []
  /** 'ws://127.0.0.1:port/flurry', from the 'listening on' line. */
  wsUrl = ''
  httpUrl = ''
  id = ''
  exitCode: number | null = null

  constructor(child: ChildProcess) {
    this.child = child
    lines(child.stdout, (l) => this.lines.push(l))
    lines(child.stderr, (l) => this.errLines.push(l))
    child.once('exit', (code) => {
      this.exitCode = code
    })
  }

  get pid(): number {
    return this.child.pid as number
  }

  get alive(): boolean {
    return alive(this.child)
  }

  /** Waits for a stdout line matching `re`. */
  async waitLine(re: RegExp, what: string, ms = 5000): Promise<string> {
    let hit: string | undefined
    await waitFor(() => (hit = this.lines.find((l) => re.test(l))) !== undefined, `relay ${this.id}: ${what}`, ms, () => this.lines)
    return hit as string
  }

  kill(sig: NodeJS.Signals): void {
    signal(this.child, sig)
  }

  /** Resolves with the exit code (null if killed by a signal). */
  async exited(): Promise<number | null> {
    await exited(this.child)
    return this.child.exitCode
  }
}

function lines(stream: NodeJS.ReadableStream | null, onLine: (l: string) => void): void {
  if (stream === null) return
  let buf = ''
  stream.setEncoding('utf8')
  stream.on('data', (d: string) => {
    buf += d
    let i: number
    while ((i = buf.indexOf('\n')) >= 0) {
      onLine(buf.slice(0, i))
      buf = buf.slice(i + 1)
    }
  })
}

/** Starts `node packages/relay/dist/cli.js ...args` and resolves once it logged 'listening on'. */
export async function startCli(args: string[], readyMs = 10_000): Promise<CliProc> {
  const child = spawn(process.execPath, [CLI, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, FLURRY_COOKIE: COOKIE },
  })
  track(child)
  const cli = new CliProc(child)
  let line: string | undefined
  try {
    await waitFor(
      () => (line = cli.lines.find((l) => / listening on /.test(l))) !== undefined || !cli.alive,
      'flurry-relay to listen',
      readyMs,
    )
  } catch (err) {
    signal(child, 'SIGKILL')
    throw err
  }
  if (line === undefined) throw new Error(`flurry-relay exited (${cli.exitCode}): ${cli.errLines.join('\n')}`)
  // "<iso> info  relay <id> listening on http://127.0.0.1:port (WebSocket ws://127.0.0.1:port/flurry)"
  const m = /relay (\S+) listening on (\S+) \(WebSocket (\S+)\)/.exec(line)
  if (m === null) throw new Error(`unexpected 'listening' line: ${line}`)
  cli.id = m[1] as string
  cli.httpUrl = m[2] as string
  cli.wsUrl = m[3] as string
  return cli
}

/** A port that was free a moment ago (for processes that must come back on the same one). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port
      srv.close(() => resolve(port))
    })
  })
}

// ---- small helpers ------------------------------------------------------------------

export function pidKey(p: PidRef | null | undefined): string | null {
  return p == null ? null : `${p.node}.${p.id}`
}

/** The visible tables of `procs`, all equal to `expected` (name -> 'node.id'). */
export async function tablesAre(procs: NodeProc[], expected: Record<string, string>): Promise<boolean> {
  const want = JSON.stringify(sorted(expected))
  for (const p of procs) if (JSON.stringify(sorted(await p.table())) !== want) return false
  return true
}

export async function tablesOf(procs: NodeProc[]): Promise<Record<string, Record<string, string | null>>> {
  const out: Record<string, Record<string, string | null>> = {}
  for (const p of procs) out[p.config.name] = await p.table()
  return out
}

function sorted(t: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(t).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
}

/** Every node of `procs` reaches every other one. */
export async function meshed(procs: NodeProc[]): Promise<boolean> {
  for (const p of procs) {
    const nodes = await p.nodes()
    for (const q of procs) if (q !== p && !nodes.includes(q.id)) return false
  }
  return true
}

/** Peers A, B, C, ... each configured with the URL of the first: they mesh by PEERS exchange. */
export async function startMesh(names: string[], extra: Partial<NodeConfig> = {}): Promise<NodeProc[]> {
  const first = await startNode({ kind: 'peer', name: names[0] as string, ...extra })
  const rest = await Promise.all(
    names.slice(1).map((name) => startNode({ kind: 'peer', name, peers: [first.url], ...extra })),
  )
  const all = [first, ...rest]
  await waitFor(() => meshed(all), `${names.join(', ')} to mesh`, 10_000, () => Promise.all(all.map((p) => p.nodes())))
  return all
}
