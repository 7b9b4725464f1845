/**
 * In-memory links: a connected pair of Links in one process, and a tiny network of
 * listeners addressed by `memory://` URLs. Deliveries are asynchronous and FIFO per
 * direction; a MemoryScheduler can take them over (tests interleave, delay and drop).
 */
import { FlurryError } from '../base/index.js'
import type { Dialer, Link, Listener, ListenerSpec } from './link.js'

/** One direction of one pair. */
export interface MemoryLane {
  readonly id: number
  /** `<label>:a->b`, `<label>:b->a`, or `...:control` for local close notices. */
  readonly label: string
}

/**
 * Runs deliveries. It must run the tasks of one lane in the order given; across lanes
 * it may interleave as it likes, and it may drop tasks (a cut link).
 */
export interface MemoryScheduler {
  enqueue(lane: MemoryLane, task: () => void): void
}

const later: (fn: () => void) => void =
  typeof (globalThis as { setImmediate?: unknown }).setImmediate === 'function'
    ? (fn) => (globalThis as unknown as { setImmediate: (f: () => void) => void }).setImmediate(fn)
    : (fn) => globalThis.setTimeout(fn, 0)

/**
 * The default scheduler: each lane's queue is drained in a later macrotask, so two
 * actors talking forever cannot starve timers.
 */
export class MacrotaskScheduler implements MemoryScheduler {
  #queues = new Map<MemoryLane, Array<() => void>>()
  #scheduled = false

  enqueue(lane: MemoryLane, task: () => void): void {
    let q = this.#queues.get(lane)
    if (q === undefined) {
      q = []
      this.#queues.set(lane, q)
    }
    q.push(task)
    if (!this.#scheduled) {
      this.#scheduled = true
      later(() => this.#run())
    }
  }

  #run(): void {
    this.#scheduled = false
    const queues = [...this.#queues.values()]
    this.#queues.clear()
    for (const q of queues) for (const task of q) task()
  }
}

const defaultScheduler = new MacrotaskScheduler()
let laneIds = 0

export interface MemoryPairInit {
  /** @default a shared MacrotaskScheduler */
  scheduler?: MemoryScheduler
  /** Labels the lanes, for debugging. */
  label?: string
  /** The `remote` info the second link reports (what a listener would see). */
  remote?: Link['remote']
}

class MemoryLink implements Link {
  readonly kind = 'memory'
  readonly remote: Link['remote']
  onmessage: ((data: Uint8Array) => void) | null = null
  onclose: ((reason: string) => void) | null = null
  other!: MemoryLink
  readonly lane: MemoryLane
  /** Local close notices: never dropped by a scheduler that cuts `lane`. */
  readonly control: MemoryLane
  #scheduler: MemoryScheduler
  #buffered = 0
  #closed = false
  #closeFired = false

  constructor(scheduler: MemoryScheduler, label: string, remote: Link['remote']) {
    this.#scheduler = scheduler
    this.lane = { id: ++laneIds, label }
    this.control = { id: ++laneIds, label: `${label}:control` }
    this.remote = remote
  }

  get bufferedAmount(): number {
    return this.#buffered
  }

  send(data: Uint8Array): void {
    if (this.#closed) return
    const other = this.other
    this.#buffered += data.byteLength
    this.#scheduler.enqueue(this.lane, () => {
      this.#buffered -= data.byteLength
      if (!other.#closed) other.onmessage?.(data)
    })
  }

  close(reason = 'closed'): void {
    if (this.#closed) return
    this.#closed = true
    this.#fireClose(reason)
    const other = this.other
    this.#scheduler.enqueue(this.lane, () => {
      other.#closed = true
      other.#fireClose(reason)
    })
  }

  #fireClose(reason: string): void {
    if (this.#closeFired) return
    this.#closeFired = true
    this.#scheduler.enqueue(this.control, () => this.onclose?.(reason))
  }
}

/** Two connected links. */
export function memoryPair(init: MemoryPairInit = {}): [Link, Link] {
  const scheduler = init.scheduler ?? defaultScheduler
  const label = init.label ?? 'memory'
  const a = new MemoryLink(scheduler, `${label}:a->b`, undefined)
  const b = new MemoryLink(scheduler, `${label}:b->a`, init.remote)
  a.other = b
  b.other = a
  return [a, b]
}

/**
 * Listeners and dialers on `memory://<name>` URLs within one process.
 * @example
 * const net = memoryNetwork()
 * await a.listen(net.listen('a'))
 * await b.connect(net.dial('memory://a'))
 */
export interface MemoryNetwork {
  listen(name?: string): ListenerSpec
  dial(url: string | string[]): Dialer
}

export function memoryNetwork(init: { scheduler?: MemoryScheduler } = {}): MemoryNetwork {
  const listeners = new Map<string, (link: Link) => void>()
  let anon = 0
  const dialerFor = (url: string): Dialer | null => (url.startsWith('memory://') ? makeDialer([url]) : null)
  const makeDialer = (list: string[]): Dialer => {
    let next = 0
    return {
      kind: 'memory',
      target: list.join(', '),
      async dial(options) {
        if (options?.signal?.aborted) throw new FlurryError('ABORTED', 'dial aborted')
        const url = list[next++ % list.length] as string
        const accept = listeners.get(url)
        if (accept === undefined) throw new FlurryError('CONNECT_FAILED', `nothing listens at ${url}`)
        const [mine, theirs] = memoryPair({ label: url, ...(init.scheduler ? { scheduler: init.scheduler } : {}) })
        accept(theirs)
        return mine
      },
      dialerFor,
    }
  }
  return {
    listen(name) {
      const url = `memory://${name ?? `listener-${++anon}`}`
      return {
        kind: 'memory',
        async listen(accept) {
          if (listeners.has(url)) throw new FlurryError('BAD_ARGUMENT', `${url} is already listening`)
          listeners.set(url, accept)
          const listener: Listener = {
            url,
            async close() {
              if (listeners.get(url) === accept) listeners.delete(url)
            },
          }
          return listener
        },
        dialerFor,
      }
    },
    dial(urls) {
      return makeDialer(Array.isArray(urls) ? urls : [urls])
    },
  }
}
