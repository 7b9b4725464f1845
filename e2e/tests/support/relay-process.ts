/**
 * A relay in a child process (relay-child.mjs), for the cases that stop it and start
 * it again on the same port while pages keep running.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const CHILD = fileURLToPath(new URL('./relay-child.mjs', import.meta.url))

export interface RelayProcessInit {
  cookie: string
  port?: number
  node?: Record<string, unknown>
}

export class RelayProcess {
  url = ''
  wsUrl = ''
  id = ''
  port = 0
  #init: RelayProcessInit
  #child: ChildProcess | null = null

  constructor(init: RelayProcessInit) {
    this.#init = init
    this.port = init.port ?? 0
  }

  get running(): boolean {
    const c = this.#child
    return c !== null && c.exitCode === null && c.signalCode === null
  }

  /** Starts the relay (again, on the same port once it had one). */
  async start(): Promise<this> {
    if (this.running) throw new Error('relay process already running')
    const child = fork(CHILD, [JSON.stringify({ ...this.#init, port: this.port })], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    this.#child = child
    const ready = await new Promise<{ url: string; wsUrl: string; id: string }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('relay process did not start within 15 s')), 15_000)
      child.once('message', (m: any) => {
        clearTimeout(timer)
        if (m?.ready) resolve(m.ready)
        else reject(new Error(`relay process said ${JSON.stringify(m)}`))
      })
      child.once('exit', (code, signal) => {
        clearTimeout(timer)
        reject(new Error(`relay process exited (${code ?? signal}) before it was ready`))
      })
    })
    this.url = ready.url
    this.wsUrl = ready.wsUrl
    this.id = ready.id
    this.port = Number(new URL(ready.url).port)
    return this
  }

  /** SIGTERM (the relay says goodbye to its sessions) and wait for the exit; SIGKILL after 5 s. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.#child
    if (child === null || !this.running) return
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    child.kill(signal)
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000)
    await exited
    clearTimeout(timer)
  }

  /** GET /status.json of the running relay. */
  async status(): Promise<{ id: string; nodes: string[]; names: Array<{ name: string; pid: string | null; node: string | null }> }> {
    const res = await fetch(`${this.url}/status.json`)
    return (await res.json()) as any
  }
}
