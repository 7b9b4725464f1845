/**
 * The actors of one node: spawn, send, call with reply, exit and monitors, locally
 * and across nodes through the node layer's channels (which keep order per pair).
 * - A send to a dead pid or a down node is dropped, as in Erlang.
 * - A call whose target ends or whose node goes down rejects at once (NO_PROCESS,
 *   NODE_DOWN); one with no answer rejects with TIMEOUT.
 * - Monitors fire exactly once: with the exit reason, 'noproc' or 'noconnection'.
 */
import type { TimerHandle } from '../base/index.js'
import { FlurryError } from '../base/index.js'
import type { NodeCore } from '../node/index.js'
import {
  A_CALL,
  A_DEMONITOR,
  A_DOWN,
  A_EXIT,
  A_MONITOR,
  A_REPLY,
  A_SEND,
  A_SIGNAL,
  str,
  uint,
  Pid,
} from '../wire/index.js'
import { Actor, CallEnvelope, describeReason, type ActorContext, type ExitReason, type ReceiveOptions } from './actor.js'

export type ActorFn<N> = (ctx: ActorContext<N>) => unknown

interface PendingCall {
  node: string
  resolve: (v: unknown) => void
  reject: (e: unknown) => void
  timer: TimerHandle
}

export const DEFAULT_CALL_TIMEOUT_MS = 5000

export class ActorSystem<N = unknown> {
  #node: NodeCore
  #actors = new Map<number, Actor>()
  #nextId = 0
  #nextRef = 0
  #calls = new Map<number, PendingCall>()
  #remoteMonitors = new Map<number, { node: string; cb: (reason: ExitReason) => void }>()
  /** Remote watcher key -> the actor it watches. */
  #watched = new Map<string, Actor>()
  /** Set by the layer above: the public node (ctx.node) and sends by name. */
  publicNode: N | undefined
  sendAny: (to: Pid | string, msg: unknown) => void = (to, msg) => {
    if (!(to instanceof Pid)) throw new FlurryError('BAD_ARGUMENT', 'send needs a Pid')
    this.send(to, msg)
  }
  /** Called when a local actor ended, before its monitors fire (names go first). */
  onExit: (pid: Pid, reason: ExitReason) => void = () => {}
  /** WebRTC signaling frames (A_SIGNAL) for the layer that wants them. */
  onSignal: (from: string, data: unknown) => void = () => {}

  constructor(node: NodeCore) {
    this.#node = node
    node.onActorFrame = (from, op, frame, at) => this.#onFrame(from, op, frame, at)
    node.events.on('nodedown', (id) => this.#nodeDown(id))
  }

  get count(): number {
    return this.#actors.size
  }

  isAlive(pid: Pid): boolean {
    return pid.node === this.#node.id && this.#actors.has(pid.id)
  }

  spawn(fn: ActorFn<N>): Pid {
    if (typeof fn !== 'function') throw new FlurryError('BAD_ARGUMENT', 'spawn takes a function (ctx) => ...')
    if (this.#node.closing) throw new FlurryError('CLOSED', 'node is closed')
    const pid = new Pid(this.#node.id, ++this.#nextId)
    const actor = new Actor(pid, this.#node.opts.clock)
    actor.onReply = (env, value) => this.#reply(actor, env, value)
    this.#actors.set(pid.id, actor)
    const ctx: ActorContext<N> = {
      self: pid,
      node: this.publicNode as N,
      receive: (options?: ReceiveOptions) => actor.receive(options) as Promise<never>,
      reply: (value) => actor.reply(value),
      send: (to, msg) => this.sendAny(to, msg),
    }
    // The body starts in a microtask: spawn returns first, so the caller can name it.
    Promise.resolve()
      .then(() => fn(ctx))
      .then(
        () => this.#exit(actor, 'normal'),
        (err) => this.#exit(actor, err),
      )
      .catch((err: unknown) => this.#node.log('error', `ending ${pid} failed: ${String(err)}`))
    return pid
  }

  send(pid: Pid, msg: unknown): void {
    if (pid.node === this.#node.id) {
      this.#actors.get(pid.id)?.deliver(msg)
      return
    }
    this.#node.router.send(pid.node, A_SEND, pid.id, msg)
  }

  call(pid: Pid, msg: unknown, timeoutMs = DEFAULT_CALL_TIMEOUT_MS): Promise<unknown> {
    if (!(timeoutMs > 0)) return Promise.reject(new FlurryError('BAD_ARGUMENT', 'timeoutMs must be a positive number'))
    const clock = this.#node.opts.clock
    if (pid.node === this.#node.id) {
      const actor = this.#actors.get(pid.id)
      if (actor === undefined) return Promise.reject(new FlurryError('NO_PROCESS', `no process ${pid}`))
      return new Promise((resolve, reject) => {
        let done = false
        const finish = (fn: (v: unknown) => void, v: unknown) => {
          if (done) return
          done = true
          off()
          clock.clearTimeout(timer)
          fn(v)
        }
        const off = this.monitor(pid, (reason) =>
          finish(reject, new FlurryError('NO_PROCESS', `${pid} exited before replying: ${describeReason(reason)}`)),
        )
        const timer = clock.setTimeout(() => finish(reject, new FlurryError('TIMEOUT', `call to ${pid} timed out after ${timeoutMs} ms`)), timeoutMs)
        actor.deliver(new CallEnvelope(msg, (v) => finish(resolve, v), this.#node.id, 0))
      })
    }
    const ref = ++this.#nextRef
    return new Promise((resolve, reject) => {
      const timer = clock.setTimeout(() => {
        if (this.#calls.delete(ref)) {
          this.#node.router.send(pid.node, A_DEMONITOR, ref)
          reject(new FlurryError('TIMEOUT', `call to ${pid} timed out after ${timeoutMs} ms`))
        }
      }, timeoutMs)
      this.#calls.set(ref, { node: pid.node, resolve, reject, timer })
      let sent: boolean
      try {
        sent = this.#node.router.send(pid.node, A_CALL, pid.id, ref, msg)
      } catch (err) {
        this.#settleCall(ref)
        reject(err)
        return
      }
      if (!sent) {
        this.#settleCall(ref)
        reject(new FlurryError('NODE_DOWN', `node ${pid.node} is not reachable`))
      }
    })
  }

  #settleCall(ref: number): PendingCall | undefined {
    const c = this.#calls.get(ref)
    if (c === undefined) return undefined
    this.#calls.delete(ref)
    this.#node.opts.clock.clearTimeout(c.timer)
    return c
  }

  exit(pid: Pid, reason: ExitReason = 'killed'): void {
    if (pid.node === this.#node.id) {
      const actor = this.#actors.get(pid.id)
      if (actor !== undefined) this.#exit(actor, reason)
      return
    }
    this.#node.router.send(pid.node, A_EXIT, pid.id, wireReason(reason))
  }

  monitor(pid: Pid, cb: (reason: ExitReason) => void): () => void {
    if (!(pid instanceof Pid)) throw new FlurryError('BAD_ARGUMENT', 'monitor needs a Pid')
    if (typeof cb !== 'function') throw new FlurryError('BAD_ARGUMENT', 'monitor needs a callback')
    let fired = false
    const once = (reason: ExitReason) => {
      if (fired) return
      fired = true
      try {
        cb(reason)
      } catch (err) {
        this.#node.log('error', `monitor callback threw: ${String(err)}`)
      }
    }
    const ref = ++this.#nextRef
    if (pid.node === this.#node.id) {
      const actor = this.#actors.get(pid.id)
      if (actor === undefined) {
        queueMicrotask(() => once('noproc'))
        return () => {
          fired = true
        }
      }
      ;(actor.monitors ??= new Map()).set(ref, once)
      return () => {
        fired = true
        actor.monitors?.delete(ref)
      }
    }
    const node = pid.node
    this.#remoteMonitors.set(ref, { node, cb: once })
    let sent = false
    try {
      sent = this.#node.router.send(node, A_MONITOR, ref, pid.id)
    } catch {
      sent = false
    }
    if (!sent) {
      this.#remoteMonitors.delete(ref)
      queueMicrotask(() => once('noconnection'))
    }
    return () => {
      fired = true
      if (this.#remoteMonitors.delete(ref)) this.#node.router.send(node, A_DEMONITOR, ref)
    }
  }

  /** Ends every actor (node closing). */
  stopAll(reason: ExitReason): void {
    for (const actor of [...this.#actors.values()]) this.#exit(actor, reason)
  }

  #exit(actor: Actor, reason: ExitReason): void {
    if (!actor.alive) return
    actor.end(reason)
    this.#actors.delete(actor.pid.id)
    try {
      this.onExit(actor.pid, reason)
    } catch (err) {
      this.#node.log('error', `exit hook threw: ${String(err)}`)
    }
    const monitors = actor.monitors
    actor.monitors = null
    if (monitors !== null) for (const cb of monitors.values()) cb(reason)
    const watchers = actor.watchers
    actor.watchers = null
    if (watchers !== null) {
      let r = wireReason(reason)
      for (const [key, w] of watchers) {
        this.#watched.delete(key)
        try {
          this.#node.router.send(w.node, A_DOWN, w.ref, r)
        } catch {
          // A reason msgpack cannot carry (a function, a cycle): its description then.
          r = describeReason(reason)
          this.#node.router.send(w.node, A_DOWN, w.ref, r)
        }
      }
    }
  }

  #watch(actor: Actor, node: string, ref: number): void {
    const key = `${node}\0${ref}`
    ;(actor.watchers ??= new Map()).set(key, { node, ref })
    this.#watched.set(key, actor)
  }

  #unwatch(node: string, ref: number): void {
    const key = `${node}\0${ref}`
    const actor = this.#watched.get(key)
    if (actor === undefined) return
    this.#watched.delete(key)
    actor.watchers?.delete(key)
  }

  #reply(actor: Actor, env: CallEnvelope, value: unknown): void {
    if (env.local !== null) {
      env.local(value)
      return
    }
    this.#unwatch(env.node, env.ref)
    this.#node.router.send(env.node, A_REPLY, env.ref, true, value)
  }

  #onFrame(from: string, op: number, f: unknown[], at: number): void {
    switch (op) {
      case A_SEND: {
        this.#actors.get(uint(f[at], 'pid'))?.deliver(f[at + 1])
        return
      }
      case A_CALL: {
        const pidId = uint(f[at], 'pid')
        const ref = uint(f[at + 1], 'ref')
        const actor = this.#actors.get(pidId)
        if (actor === undefined) {
          this.#node.router.send(from, A_DOWN, ref, 'noproc')
          return
        }
        this.#watch(actor, from, ref)
        actor.deliver(new CallEnvelope(f[at + 2], null, from, ref))
        return
      }
      case A_REPLY: {
        const ref = uint(f[at], 'ref')
        const c = this.#calls.get(ref)
        if (c === undefined || c.node !== from) return
        this.#settleCall(ref)
        c.resolve(f[at + 2])
        return
      }
      case A_MONITOR: {
        const ref = uint(f[at], 'ref')
        const actor = this.#actors.get(uint(f[at + 1], 'pid'))
        if (actor === undefined) this.#node.router.send(from, A_DOWN, ref, 'noproc')
        else this.#watch(actor, from, ref)
        return
      }
      case A_DEMONITOR: {
        this.#unwatch(from, uint(f[at], 'ref'))
        return
      }
      case A_DOWN: {
        const ref = uint(f[at], 'ref')
        const reason = f[at + 1]
        const m = this.#remoteMonitors.get(ref)
        if (m !== undefined && m.node === from) {
          this.#remoteMonitors.delete(ref)
          m.cb(reason)
          return
        }
        const c = this.#calls.get(ref)
        if (c !== undefined && c.node === from) {
          this.#settleCall(ref)
          c.reject(new FlurryError(reason === 'noproc' ? 'NO_PROCESS' : 'NO_PROCESS', `process on ${from} ended before replying: ${describeReason(reason)}`))
        }
        return
      }
      case A_EXIT: {
        const actor = this.#actors.get(uint(f[at], 'pid'))
        if (actor !== undefined) this.#exit(actor, f[at + 1])
        return
      }
      case A_SIGNAL: {
        this.onSignal(from, f[at])
        return
      }
      default:
        str(undefined, `actor op ${op}`)
    }
  }

  #nodeDown(id: string): void {
    for (const [ref, m] of [...this.#remoteMonitors]) {
      if (m.node !== id) continue
      this.#remoteMonitors.delete(ref)
      m.cb('noconnection')
    }
    for (const [ref, c] of [...this.#calls]) {
      if (c.node !== id) continue
      this.#settleCall(ref)
      c.reject(new FlurryError('NODE_DOWN', `node ${id} went down before replying`))
    }
    for (const [key, actor] of [...this.#watched]) {
      if (!key.startsWith(`${id}\0`)) continue
      this.#watched.delete(key)
      actor.watchers?.delete(key)
    }
  }
}

/** Exit reasons cross the wire as msgpack values: errors become plain objects. */
export function wireReason(reason: ExitReason): unknown {
  if (reason instanceof FlurryError) return { error: reason.name, code: reason.code, message: reason.message }
  if (reason instanceof Error) return { error: reason.name, message: reason.message }
  if (reason === undefined) return null
  return reason
}
