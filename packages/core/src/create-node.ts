/**
 * createNode: a node with its actors and its global registry, the public face of
 * @flurry/core. The layers below stay internal.
 */
import { ActorSystem, DEFAULT_CALL_TIMEOUT_MS, type ActorFn } from './actor/index.js'
import type { ExitReason } from './actor/index.js'
import { FlurryError } from './base/index.js'
import { Registry, GlobalService, type GlobalRegistry } from './global/index.js'
import type { BusSpec, Dialer, Listener, ListenerSpec } from './link/index.js'
import { NodeCore, type NodeEvents, resolveOptions, statsOf, type NodeInit, type NodeStats, type PeerInfo } from './node/index.js'
import { createIdentity } from './session/index.js'
import { ROLE_CLIENT, Pid } from './wire/index.js'

/** Options of {@link FlurryNode.call}. */
export interface CallOptions {
  /** How long to wait for the reply before rejecting with `TIMEOUT`. @default 5000 */
  timeoutMs?: number
}

/**
 * A Flurry node: actors, the sessions to other nodes and its view of the global
 * registry. Make one with {@link createNode}; a node that {@link FlurryNode.listen | listens}
 * is a peer, one that only {@link FlurryNode.connect | connects} is a client of its home.
 */
export class FlurryNode {
  /** `name@<hash of this incarnation's public key>`. */
  readonly id: string
  /** The cluster-wide names: register, whereis, names, and their events. */
  readonly global: GlobalRegistry
  /** @internal the layers, for the packages built on core (relay, bench). */
  readonly core: NodeCore
  readonly #actors: ActorSystem<FlurryNode>
  readonly #global: GlobalService

  /** @internal use createNode */
  constructor(init: NodeInit) {
    const opts = resolveOptions(init)
    const identity = createIdentity(opts.name, opts.random, opts.ed25519)
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

  /**
   * Starts an actor: `fn` runs with its context (`ctx.receive()`, `ctx.reply()`, `ctx.self`)
   * and the actor exits when `fn` returns ('normal') or throws (the error).
   * @returns the new actor's pid, valid on every node that reaches this one.
   */
  spawn(fn: ActorFn<FlurryNode>): Pid {
    return this.#actors.spawn(fn)
  }

  /**
   * Sends `msg` to a pid of any node, or to a global name, without waiting: delivery is
   * at most once, in order per sender and receiver.
   * @throws FlurryError `NAME_NOT_FOUND` for a name nobody holds, `BAD_ARGUMENT` for
   * anything but a Pid or a string.
   */
  send(to: Pid | string, msg: unknown): void {
    this.#actors.send(this.#resolve(to), msg)
  }

  /**
   * Sends `msg` and waits for the actor's `ctx.reply(...)`.
   * @returns the reply. Rejects with FlurryError `TIMEOUT` (after `options.timeoutMs`),
   * `NAME_NOT_FOUND`, `NO_PROCESS` (the actor is gone) or `NODE_DOWN` (its node went).
   */
  call<T = any>(to: Pid | string, msg: unknown, options: CallOptions = {}): Promise<T> {
    let pid: Pid
    try {
      pid = this.#resolve(to)
    } catch (err) {
      return Promise.reject(err)
    }
    return this.#actors.call(pid, msg, options.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS) as Promise<T>
  }

  /**
   * Stops an actor of any node with `reason` (default 'killed'); its monitors fire
   * with that reason.
   * @throws FlurryError `BAD_ARGUMENT` if `pid` is not a Pid.
   */
  exit(pid: Pid, reason: ExitReason = 'killed'): void {
    if (!(pid instanceof Pid)) throw new FlurryError('BAD_ARGUMENT', 'exit needs a Pid')
    this.#actors.exit(pid, reason)
  }

  /**
   * Calls `onDown` once when the actor exits (its reason), or when its node goes
   * ('noconnection'); at once with 'noproc' if it is already gone.
   * @returns a function that removes the monitor.
   */
  monitor(pid: Pid, onDown: (reason: ExitReason) => void): () => void {
    return this.#actors.monitor(pid, onDown)
  }

  /** The ids of the nodes this one reaches now (itself not included). */
  nodes(): string[] {
    return this.core.nodes()
  }

  /**
   * Listens to node events: 'nodeup' (id), 'nodedown' (id, reason), 'homeup' and
   * 'homedown' (a client's home), 'error' (a refusal or a failed session, for logs).
   * @returns a function that removes the handler.
   */
  on<K extends keyof NodeEvents>(event: K, handler: NodeEvents[K]): () => void {
    return this.core.events.on(event, handler)
  }

  /**
   * Accepts sessions (e.g. `listenWebSocket({ port })`): the node becomes a peer, home
   * to the clients that dial it, meshed with the peers it connects to. Call it before
   * {@link FlurryNode.connect} on a peer.
   * @returns the listener: its `url` (the one other peers dial) and `close()`.
   * @throws FlurryError `BAD_ARGUMENT` on a node that already connected as a client.
   */
  listen(spec: ListenerSpec): Promise<Listener> {
    return this.core.listen(spec)
  }

  /**
   * Dials another node (e.g. `dialWebSocket(url)`). On a client, that node becomes its
   * home (redialed with backoff after a loss); on a peer, one more mesh peer (redialed
   * forever, like {@link FlurryNode.addPeer}).
   * @returns the remote node's id, once its registry is merged. Rejects with
   * FlurryError `CONNECT_FAILED`, `AUTH_FAILED`, `VERSION_MISMATCH` or `TIMEOUT`.
   */
  connect(dialer: Dialer): Promise<string> {
    return this.core.connect(dialer)
  }

  /**
   * A peer to mesh with that may not be up yet (a peer only: listen first): dialed in
   * the background and redialed with backoff while down, forever, even after it said
   * goodbye. `url` is dialed with the transport this node listens with
   * (`ws://…` after `listenWebSocket`); pass a Dialer for another one.
   * @throws FlurryError `BAD_ARGUMENT` on a client, or for a URL no transport of
   * this node can dial; `CLOSED` after close().
   */
  addPeer(peer: string | Dialer): void {
    if (typeof peer === 'string') {
      if (this.core.role !== 'peer') throw new FlurryError('BAD_ARGUMENT', 'addPeer is for peers: listen first')
      const dialer = this.core.dialerFor(peer)
      if (dialer === null) throw new FlurryError('BAD_ARGUMENT', `no transport of this node can dial ${JSON.stringify(peer)}`)
      this.core.addPeer(dialer)
      return
    }
    if (peer === null || typeof peer !== 'object' || typeof peer.dial !== 'function') {
      throw new FlurryError('BAD_ARGUMENT', 'addPeer takes a URL or a dialer, like dialWebSocket(url)')
    }
    this.core.addPeer(peer)
  }

  /**
   * The mesh peers this node knows by URL: configured ones (addPeer, connect) and
   * ones learned from other peers' lists, with `reachable` false while one is down. A
   * learned peer that closed its node (said goodbye) is forgotten; a configured one
   * stays and is redialed.
   */
  peers(): PeerInfo[] {
    return this.core.mesh.peers()
  }

  /**
   * Counts for operators since the node started: nodes, clients, peers, names and
   * sessions now; bytes and frames in and out; refusals by error code; slow-consumer
   * drops; failed handshakes. A fresh snapshot on each call.
   */
  stats(): NodeStats {
    return statsOf(this.core, this.global.names().length)
  }

  /**
   * Joins a bus of direct neighbours (e.g. `broadcastChannel({ name })` for tabs of
   * one browser): actor messages and liveness go straight to them.
   * @throws FlurryError `BAD_ARGUMENT` if already on a bus.
   */
  join(bus: BusSpec): Promise<void> {
    return this.core.join(bus)
  }

  /**
   * Goodbye to every session (others see nodedown 'goodbye' at once), then stops its
   * actors ('shutdown') and listeners. Call it before the process exits. Idempotent.
   */
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

/**
 * Makes a node. It reaches nobody until it {@link FlurryNode.listen | listens},
 * {@link FlurryNode.connect | connects} or {@link FlurryNode.join | joins} a bus.
 * @param init its name and the cluster cookie (required), and tuning (NodeInit).
 * @throws FlurryError `BAD_ARGUMENT` for a missing cookie or an invalid option.
 */
export async function createNode(init: NodeInit): Promise<FlurryNode> {
  return new FlurryNode(init)
}
