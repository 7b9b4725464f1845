/**
 * The global registry wired to the node and its actors: the public
 * `node.global` API, user events, withdrawing beaten or refused claims and telling
 * their actors, and cleanupProcess when an actor ends.
 */
import type { ActorSystem } from '../actor/index.js'
import { Emitter, FlurryError } from '../base/index.js'
import type { NodeCore } from '../node/index.js'
import { DEL_CONFLICT, DEL_REFUSED, MAX_NAME_LENGTH, Pid, nameFault } from '../wire/index.js'
import type { Registry, RegistryEvents, UnregisterReason } from './registry.js'

export type GlobalEvents = {
  register: (name: string, pid: Pid) => void
  unregister: (name: string, pid: Pid, reason: UnregisterReason) => void
  conflict: (name: string, winner: Pid, loser: Pid) => void
}

/** What `node.global` is. */
export interface GlobalRegistry {
  register(name: string, pid: Pid): boolean
  unregister(name: string): boolean
  whereis(name: string): Pid | undefined
  names(): string[]
  on<K extends keyof GlobalEvents>(event: K, handler: GlobalEvents[K]): () => void
}

export class GlobalService implements GlobalRegistry {
  readonly events = new Emitter<GlobalEvents>()
  #node: NodeCore
  #actors: ActorSystem<unknown>
  #registry!: Registry
  #withdrawScheduled = false

  constructor(node: NodeCore, actors: ActorSystem<unknown>) {
    this.#node = node
    this.#actors = actors
    this.events.onError = (err) => node.log('error', `global event handler threw: ${String(err)}`)
    actors.onExit = (pid) => {
      this.#registry.cleanupProcess(pid.id)
    }
    node.repl.onRefused = (name, code, at) => this.#refused(name, code, at)
  }

  /** The registry is made before the node (the node stores slices in it). */
  attach(registry: Registry): void {
    this.#registry = registry
    this.#updateQuiet()
  }

  /** With nobody listening, the registry skips building event arguments. */
  #updateQuiet(): void {
    this.#registry.quiet = !this.events.has('register') && !this.events.has('unregister')
  }

  get registry(): Registry {
    return this.#registry
  }

  register(name: string, pid: Pid): boolean {
    checkName(name)
    if (!(pid instanceof Pid)) throw new FlurryError('BAD_ARGUMENT', 'register needs a Pid')
    if (pid.node !== this.#node.id) throw new FlurryError('NOT_LOCAL', `${pid} is not an actor of this node`)
    if (!this.#actors.isAlive(pid)) throw new FlurryError('NO_PROCESS', `${pid} is not alive`)
    if (this.#registry.winner(name) !== undefined) return false
    return this.#registry.register(name, pid.id, this.#node.hlc.stamp())
  }

  unregister(name: string): boolean {
    checkName(name)
    return this.#registry.unregister(name)
  }

  whereis(name: string): Pid | undefined {
    return this.#registry.whereis(name)
  }

  names(): string[] {
    return this.#registry.names()
  }

  on<K extends keyof GlobalEvents>(event: K, handler: GlobalEvents[K]): () => void {
    const off = this.events.on(event, handler)
    this.#updateQuiet()
    return () => {
      off()
      this.#updateQuiet()
    }
  }

  /** What the registry reports to. */
  readonly sink: RegistryEvents = {
    register: (name, pid) => this.events.emit('register', name, pid),
    unregister: (name, pid, reason) => this.events.emit('unregister', name, pid, reason),
    conflict: () => {
      // Withdraw after the change that beat us has been applied in full.
      if (this.#withdrawScheduled) return
      this.#withdrawScheduled = true
      queueMicrotask(() => this.#withdrawBeaten())
    },
  }

  #withdrawBeaten(): void {
    this.#withdrawScheduled = false
    for (const claim of this.#registry.takeBeaten()) {
      const winner = this.#registry.winner(claim.name)
      if (winner === undefined || winner === claim) continue
      const loser = claim.pid
      this.#registry.unregister(claim.name, DEL_CONFLICT)
      this.events.emit('conflict', claim.name, winner.pid, loser)
      this.#tell(loser, { flurry: 'name_conflict', name: claim.name, winner: winner.pid })
    }
  }

  #refused(name: string, code: string, at: number): void {
    const claim = this.#registry.ownClaim(name)
    if (claim === undefined || claim.at !== at) return
    const pid = claim.pid
    this.#registry.unregister(name, DEL_REFUSED)
    this.#node.log('warn', `home refused name ${JSON.stringify(name)}: ${code}`, { code })
    this.#tell(pid, { flurry: 'name_refused', name, code })
  }

  #tell(pid: Pid, notice: Record<string, unknown>): void {
    if (this.#node.opts.onNameConflict === 'exit') this.#actors.exit(pid, notice)
    else this.#actors.send(pid, notice)
  }
}

/** The same rules as names arriving in frames (wire/names.ts). */
function checkName(name: unknown): asserts name is string {
  const fault = nameFault(name)
  if (fault !== null) {
    throw new FlurryError('BAD_ARGUMENT', `a global name is 1 to ${MAX_NAME_LENGTH} characters of printable, well-formed text (${fault})`)
  }
}
