/**
 * createNode: a node with its actors and its global registry, the public face of
 * @flurry/core. The layers below stay internal.
 */
import { ActorSystem, DEFAULT_CALL_TIMEOUT_MS, type ActorFn } from './actor/index.js'
import type { ExitReason } from './actor/index.js'
import { FlurryError } from './base/index.js'
import { Registry, GlobalService, type GlobalRegistry } from './global/index.js'
import type { BusSpec, Dialer, Listener, ListenerSpec } from './link/index.js'
import { NodeCore, type NodeEvents, resolveOptions, type NodeInit } from './node/index.js'
import { createIdentity } from './session/index.js'
import { ROLE_CLIENT, Pid } from './wire/index.js'

export interface CallOptions {
  /** @default 5000 */
  timeoutMs?: number
}

export class FlurryNode {
  /** `name@<hash of this incarnation's public key>`. */
  readonly id: string
  readonly global: GlobalRegistry
  /** @internal the layers, for the packages built on core (relay, bench). */
  readonly core: NodeCore
  readonly #actors: ActorSystem<FlurryNode>
  readonly #global: GlobalService

  /** @internal use createNode */
  constructor(init: NodeInit) {
    const opts = resolveOptions(init)
    const identity = createIdentity(opts.name, opts.random)
    this.id = identity.id
    let service: GlobalService | null = null
    const registry = new Registry(identity.id, {
      role: ROLE_CLIENT,
      now: () => opts.clock.now(),
      events: {
        register: (n, p) => service?.sink.register(n, p),
        unregister: (n, p, r) => service?.sink.unregister(n, p, r),
        conflict: (n, w, l) => service?.sink.conflict(n, w, l),
      },
    })
    this.core = new NodeCore(opts, identity, registry)
    this.#actors = new ActorSystem<FlurryNode>(this.core)
    this.#actors.publicNode = this
    this.#actors.sendAny = (to, msg) => this.send(to, msg)
    service = new GlobalService(this.core, this.#actors as ActorSystem<unknown>)
    service.attach(registry)
    this.#global = service
    this.global = service
  }

  /** 'peer' once it listens, else 'client'. */
  get role(): 'peer' | 'client' {
    return this.core.role
  }

  spawn(fn: ActorFn<FlurryNode>): Pid {
    return this.#actors.spawn(fn)
  }

  /** To a pid of any node, or a global name (FlurryError NAME_NOT_FOUND if unknown). */
  send(to: Pid | string, msg: unknown): void {
    this.#actors.send(this.#resolve(to), msg)
  }

  call<T = any>(to: Pid | string, msg: unknown, options: CallOptions = {}): Promise<T> {
    let pid: Pid
    try {
      pid = this.#resolve(to)
    } catch (err) {
      return Promise.reject(err)
    }
    return this.#actors.call(pid, msg, options.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS) as Promise<T>
  }

  exit(pid: Pid, reason: ExitReason = 'killed'): void {
    if (!(pid instanceof Pid)) throw new FlurryError('BAD_ARGUMENT', 'exit needs a Pid')
    this.#actors.exit(pid, reason)
  }

  monitor(pid: Pid, onDown: (reason: ExitReason) => void): () => void {
    return this.#actors.monitor(pid, onDown)
  }

  nodes(): string[] {
    return this.core.nodes()
  }

  on<K extends keyof NodeEvents>(event: K, handler: NodeEvents[K]): () => void {
    return this.core.events.on(event, handler)
  }

  listen(spec: ListenerSpec): Promise<Listener> {
    return this.core.listen(spec)
  }

  connect(dialer: Dialer): Promise<string> {
    return this.core.connect(dialer)
  }

  join(bus: BusSpec): Promise<void> {
    return this.core.join(bus)
  }

  /** Goodbye to every session (others see nodedown 'goodbye'), then stop. Idempotent. */
  async close(): Promise<void> {
    // Goodbye first: the others see this node go (nodedown 'goodbye', its names with
    // reason 'nodedown') in one step, rather than each name unregistered.
    const first = !this.core.closing
    await this.core.close()
    if (first) this.#actors.stopAll('shutdown')
  }

  #resolve(to: Pid | string): Pid {
    if (to instanceof Pid) return to
    if (typeof to === 'string') {
      const pid = this.#global.whereis(to)
      if (pid === undefined) throw new FlurryError('NAME_NOT_FOUND', `no process is registered as ${JSON.stringify(to)}`)
      return pid
    }
    throw new FlurryError('BAD_ARGUMENT', 'a destination is a Pid or a global name')
  }
}

export async function createNode(init: NodeInit): Promise<FlurryNode> {
  return new FlurryNode(init)
}
