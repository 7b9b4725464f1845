/**
 * The bench side of the multi-process benchmarks: forks worker processes (worker.ts,
 * one OS process each, `node --expose-gc`), calls them over IPC with a deadline on
 * every call, collects their events, and stops every one of them by pid: a polite
 * exit first, SIGKILL after a short grace, and SIGKILL of whatever is left if this
 * process itself ends. Workers also exit on their own when the IPC channel goes.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { hr, type Reply, type WorkerEvent } from './protocol.js'

const WORKER = fileURLToPath(new URL('./worker.js', import.meta.url))
const START_TIMEOUT_MS = 15_000
const CALL_TIMEOUT_MS = 30_000
/**
 * FLURRY_BENCH_CPU_PROF=<dir>: every worker runs with `--cpu-prof` and writes its
 * profile there when it exits (see profile.ts).
 */
const PROF_DIR = process.env.FLURRY_BENCH_CPU_PROF
const STOP_GRACE_MS = PROF_DIR ? 10_000 : 1000

const all = new Set<Worker>()

export interface WorkerOptions {
  /** The script to fork, answering the same IPC requests (default: worker.js). */
  script?: string
  /** Its argv (default: [name]). */
  args?: string[]
  /** More node flags, after --expose-gc. */
  execArgv?: string[]
  /** How many sockets it must be able to open: checked against the hard fd limit. */
  fds?: number
}

/** The hard limit on open files of this process (and of the processes it starts). */
export function hardFdLimit(): number {
  const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files')) ?? ''
  const hard = line.replace('Max open files', '').trim().split(/\s+/)[1]
  return hard === undefined || hard === 'unlimited' ? Infinity : Number(hard)
}

export class Worker {
  readonly name: string
  readonly child: ChildProcess
  readonly pid: number
  /** This worker's hr() minus ours (0 when both read the same clock; see clockCheck). */
  offset = 0
  stderr = ''
  #rid = 0
  #pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>()
  #listeners = new Map<string, Array<(e: WorkerEvent) => void>>()
  #exited: Promise<void>

  private constructor(name: string, child: ChildProcess) {
    this.name = name
    this.child = child
    this.pid = child.pid as number
    child.stderr?.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4000)
    })
    child.on('message', (m: Reply | WorkerEvent) => this.#onMessage(m))
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()))
    child.once('exit', (code, signal) => {
      all.delete(this)
      for (const p of this.#pending.values()) {
        clearTimeout(p.timer)
        p.reject(new Error(`${name} exited (${signal ?? code}) before answering${this.stderr ? `: ${this.stderr.trim().slice(-500)}` : ''}`))
      }
      this.#pending.clear()
    })
  }

  /** Forks a worker (worker.js, or `o.script`) and waits for it to say it is ready. */
  static start(name: string, o: WorkerOptions = {}): Promise<Worker> {
    const execArgv = ['--expose-gc', ...(o.execArgv ?? [])]
    if (PROF_DIR) execArgv.push('--cpu-prof', `--cpu-prof-dir=${PROF_DIR}`, `--cpu-prof-name=${name}-${Date.now()}.cpuprofile`)
    // Node raises its soft fd limit to the hard one at start-up: only the hard one binds.
    const need = (o.fds ?? 0) + 256
    const hard = hardFdLimit()
    if (need > hard) return Promise.reject(new Error(`${name} needs ${need} file descriptors; the hard limit is ${hard} (ulimit -Hn)`))
    const child = fork(o.script ?? WORKER, o.args ?? [name], { execArgv, stdio: ['ignore', 'inherit', 'pipe', 'ipc'] })
    const w = new Worker(name, child)
    all.add(w)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        w.kill()
        reject(new Error(`${name} did not start in ${START_TIMEOUT_MS} ms`))
      }, START_TIMEOUT_MS)
      w.once('ready', () => {
        clearTimeout(timer)
        resolve(w)
      })
      child.once('exit', (code, signal) => {
        clearTimeout(timer)
        reject(new Error(`${name} exited (${signal ?? code}) at start: ${w.stderr.trim().slice(-500)}`))
      })
    })
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null
  }

  /** One request; rejects with the worker's error, or after `timeoutMs`. */
  call<T = any>(cmd: string, args: Record<string, unknown> = {}, timeoutMs = CALL_TIMEOUT_MS): Promise<T> {
    if (!this.alive) return Promise.reject(new Error(`${this.name} is not running`))
    const rid = ++this.#rid
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(rid)
        reject(new Error(`${this.name} ${cmd}: no answer in ${timeoutMs} ms`))
      }, timeoutMs)
      this.#pending.set(rid, { resolve, reject, timer })
      this.child.send({ rid, cmd, args })
    })
  }

  /** Calls `handler` for every event `ev`; returns the unsubscribe function. */
  on(ev: string, handler: (e: WorkerEvent) => void): () => void {
    let list = this.#listeners.get(ev)
    if (list === undefined) this.#listeners.set(ev, (list = []))
    list.push(handler)
    return () => {
      const l = this.#listeners.get(ev)
      const i = l?.indexOf(handler) ?? -1
      if (l !== undefined && i >= 0) l.splice(i, 1)
    }
  }

  once(ev: string, handler: (e: WorkerEvent) => void): void {
    const off = this.on(ev, (e) => {
      off()
      handler(e)
    })
  }

  /** A worker time (its hr()) on this process's clock. */
  local(t: number): number {
    return t - this.offset
  }

  /** SIGKILL by pid; returns hr() taken just before the signal. */
  kill(): number {
    const t = hr()
    if (this.alive) {
      try {
        process.kill(this.pid, 'SIGKILL')
      } catch {
        // gone already
      }
    }
    return t
  }

  exited(): Promise<void> {
    return this.#exited
  }

  /** Asks the worker to close its node and exit; SIGKILL by pid after the grace. */
  async stop(): Promise<void> {
    if (!this.alive) return
    const polite = this.call('close', {}, STOP_GRACE_MS).catch(() => {})
    await Promise.race([polite, sleep(STOP_GRACE_MS)])
    if (this.alive && this.child.connected) this.child.disconnect()
    await Promise.race([this.#exited, sleep(STOP_GRACE_MS)])
    this.kill()
    await this.#exited
  }

  #onMessage(m: Reply | WorkerEvent): void {
    if ('rid' in m && typeof m.rid === 'number') {
      const reply = m as Reply
      const p = this.#pending.get(reply.rid)
      if (p === undefined) return
      this.#pending.delete(reply.rid)
      clearTimeout(p.timer)
      if (reply.ok) p.resolve(reply.value)
      else p.reject(new Error(reply.error ?? `${this.name}: failed`))
      return
    }
    const e = m as WorkerEvent
    const list = this.#listeners.get(e.ev)
    if (list !== undefined) for (const h of [...list]) h(e)
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref())
}

/** Starts workers in parallel; if one fails, stops those that started. */
export async function startWorkers(names: readonly string[]): Promise<Worker[]> {
  const settled = await Promise.allSettled(names.map((n) => Worker.start(n)))
  const failed = settled.find((s) => s.status === 'rejected')
  if (failed !== undefined) {
    await Promise.all(settled.map((s) => (s.status === 'fulfilled' ? s.value.stop() : undefined)))
    throw (failed as PromiseRejectedResult).reason
  }
  return settled.map((s) => (s as PromiseFulfilledResult<Worker>).value)
}

/** Stops every worker still running (by pid). */
export async function stopWorkers(workers: Iterable<Worker> = all): Promise<void> {
  await Promise.all([...workers].map((w) => w.stop()))
}

// This process ending, however it ends, takes its workers along.
process.once('exit', () => {
  for (const w of all) w.kill()
})

/**
 * Checks that a worker's hr() reads our clock: over `rounds` IPC round trips, its
 * reading must lie between our readings before and after. If it does not (another
 * OS), the worker's offset is estimated from the fastest round trip (its reading
 * minus our midpoint) and worker times are corrected by it. Returns the method, for
 * the report.
 */
export async function clockCheck(workers: readonly Worker[], rounds = 8): Promise<string> {
  let shared = true
  let worstRtt = 0
  for (const w of workers) {
    let best = { rtt: Infinity, offset: 0 }
    let inside = true
    for (let i = 0; i < rounds; i++) {
      const t0 = hr()
      const tw = await w.call<number>('now')
      const t1 = hr()
      if (tw < t0 || tw > t1) inside = false
      if (t1 - t0 < best.rtt) best = { rtt: t1 - t0, offset: tw - (t0 + t1) / 2 }
    }
    worstRtt = Math.max(worstRtt, best.rtt)
    if (inside) w.offset = 0
    else {
      shared = false
      w.offset = best.offset
    }
  }
  return shared
    ? 'one clock: process.hrtime (CLOCK_MONOTONIC) in every process, checked against IPC round trips'
    : `per-process offsets estimated from the fastest IPC round trip (≤ ${worstRtt.toFixed(3)} ms)`
}

/** Waits for the event `ev` whose `key` field equals `value`, from a listener set up before the cause. */
export class EventWaiter {
  #got = new Map<string, WorkerEvent>()
  #want = new Map<string, (e: WorkerEvent) => void>()
  readonly off: () => void

  constructor(w: Worker, ev: string, key = 'name') {
    this.off = w.on(ev, (e) => {
      const k = String(e[key])
      const resolve = this.#want.get(k)
      if (resolve !== undefined) {
        this.#want.delete(k)
        resolve(e)
      } else this.#got.set(k, e)
    })
  }

  /** The event for `value`, or null after `timeoutMs`. */
  wait(value: string, timeoutMs: number): Promise<WorkerEvent | null> {
    const got = this.#got.get(value)
    if (got !== undefined) {
      this.#got.delete(value)
      return Promise.resolve(got)
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#want.delete(value)
        resolve(null)
      }, timeoutMs)
      this.#want.set(value, (e) => {
        clearTimeout(timer)
        resolve(e)
      })
    })
  }
}

/**
 * Makes every worker a Flurry peer, connects the rest to the first, and waits until
 * each reaches all the others. Returns each one's { id, url }, in order.
 */
export async function meshPeers(workers: readonly Worker[]): Promise<Array<{ id: string; url: string }>> {
  const peers: Array<{ id: string; url: string }> = []
  for (const w of workers) peers.push(await w.call<{ id: string; url: string }>('flurry.peer'))
  const first = peers[0] as { url: string }
  for (const w of workers.slice(1)) await w.call('flurry.connect', { url: first.url })
  for (const [i, w] of workers.entries()) {
    const others = peers.filter((_, j) => j !== i).map((p) => p.id)
    if (!(await w.call<boolean>('flurry.waitNodes', { ids: others, timeoutMs: 10_000 }))) throw new Error(`${w.name}: mesh did not form`)
  }
  return peers
}
