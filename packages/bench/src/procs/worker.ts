/**
 * One OS process of the multi-process benchmarks, driven by the bench process over
 * the IPC channel of child_process.fork: `node worker.js NAME`. It may hold a Flurry
 * node (a peer, a client, or a relay) and raw `ws` + msgpack connections (raw.ts) side
 * by side, so that a figure and its baseline run between the same two processes.
 *
 * Requests are `{ rid, cmd, args }`, each answered `{ rid, ok, value | error }`;
 * events go up unasked as `{ ev, ...fields }`. Times are hr() (protocol.ts). The
 * process exits when its parent goes (IPC disconnect), so nothing outlives a bench.
 */
import { Pid, createNode, type FlurryNode } from '@flurry/core'
import { startRelay, type Relay } from '@flurry/relay'
import { dialWebSocket, listenWebSocket } from '@flurry/ws'
import { WebSocket, WebSocketServer } from 'ws'
import { Box, RawConn } from './raw.js'
import { hr, type Blasted, type Bounced, type Counted, type Crossed, type PidRef, type Reply, type Request, type WorkerEvent } from './protocol.js'

const NAME = process.argv[2] ?? 'worker'
export const COOKIE = 'bench'

if (typeof process.send !== 'function') {
  process.stderr.write('worker.js is started by the bench harness (child_process.fork)\n')
  process.exit(2)
}
process.on('disconnect', () => process.exit(0))

function emit(e: WorkerEvent): void {
  if (process.connected) process.send?.(e)
}

const immediate = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc
  if (g !== undefined) g()
}

function pidOf(p: PidRef): Pid {
  return new Pid(p.node, p.id)
}

function ref(p: Pid): PidRef {
  return { node: p.node, id: p.id }
}

function payload(bytes: number): Uint8Array {
  const out = new Uint8Array(bytes)
  for (let i = 0; i < bytes; i++) out[i] = i & 0xff
  return out
}

/** A count with waiters for it to cross a threshold; the time is taken when it does. */
interface TallyWaiter {
  target: number
  up: boolean
  resolve: (c: Crossed) => void
}

class Tally {
  value = 0
  #waiters: TallyWaiter[] = []

  add(d: number): void {
    this.value += d
    if (this.#waiters.length > 0) this.#check()
  }

  /** Resolves when the value is ≥ target (`up`) or ≤ target, or after timeoutMs with t null. */
  wait(target: number, up: boolean, timeoutMs: number): Promise<Crossed> {
    return new Promise((resolve) => {
      const w: TallyWaiter = {
        target,
        up,
        resolve: (c: Crossed) => {
          clearTimeout(timer)
          resolve(c)
        },
      }
      const timer = setTimeout(() => {
        const i = this.#waiters.indexOf(w)
        if (i >= 0) this.#waiters.splice(i, 1)
        resolve({ t: null, count: this.value })
      }, timeoutMs)
      this.#waiters.push(w)
      this.#check()
    })
  }

  #check(): void {
    const v = this.value
    for (let i = this.#waiters.length - 1; i >= 0; i--) {
      const w = this.#waiters[i] as TallyWaiter
      if (w.up ? v >= w.target : v <= w.target) {
        this.#waiters.splice(i, 1)
        w.resolve({ t: hr(), count: v })
      }
    }
  }
}

/**
 * Sends `n` messages, `chunk` per task, pausing (next task, bounded by the deadline)
 * while more than HIGH_WATER bytes wait in the socket. The same loop drives Flurry
 * and raw: only `send` and `buffered` differ.
 */
const HIGH_WATER = 1 << 20
async function blast(send: () => void, buffered: () => number, n: number, chunk: number, timeoutMs: number): Promise<Blasted> {
  const t0 = hr()
  const deadline = t0 + timeoutMs
  let sent = 0
  while (sent < n && hr() < deadline) {
    const end = Math.min(n, sent + chunk)
    for (; sent < end; sent++) send()
    await immediate()
    for (let k = 0; k < 1_000_000 && buffered() > HIGH_WATER && hr() < deadline; k++) await immediate()
  }
  return { sent, t0, t1: hr() }
}

// ---- Flurry -----------------------------------------------------------------------

let node: FlurryNode | null = null
let relay: Relay | null = null
let nodeUrl: string | null = null
/** Names visible here: +1 per register event, −1 per unregister. */
const visible = new Tally()
/** Register events of names with this prefix go up as 'seen' events. */
let streamPrefix: string | null = null
let ownActors: Pid[] = []

function theNode(): FlurryNode {
  if (node === null) throw new Error(`${NAME} has no Flurry node`)
  return node
}

function adopt(n: FlurryNode): void {
  node = n
}

let tracking = false
/**
 * Counts visible names (register/unregister events) from now on. Only where a count
 * is read: a listener makes the registry build every event's arguments.
 */
function track(): void {
  if (tracking) return
  tracking = true
  const n = theNode()
  visible.value = n.global.names().length
  n.global.on('register', (name) => {
    visible.add(1)
    if (streamPrefix !== null && name.startsWith(streamPrefix)) emit({ ev: 'seen', name, t: hr() })
  })
  n.global.on('unregister', () => visible.add(-1))
}

interface CounterState extends Counted {
  done: Promise<void>
}
const counters = new Map<string, CounterState>()
/** Raw pingers' mailboxes, by consumer id. */
const rawPingers = new Map<number, Box>()

/** The Flurry actor pair of the ping-pong: the pinger waits for a go, then bounces. */
interface Go {
  to: Pid
  ms: number
  max: number
  done: (b: Bounced) => void
}

// ---- raw ws + msgpack ---------------------------------------------------------------

/** Raw frame types (raw.ts carries any msgpack array). */
const R_HELLO = 0 // [0, tag]
const R_DIRECT = 1 // [1, seq, op, target, body], as Flurry's DIRECT frame
const R_NAMES = 2 // [2, flat: name, id, at, ...]
const R_SYNC_REQ = 3 // [3]
const R_MARK = 4 // [4, name]
const OP_SEND = 1

let rawServer: WebSocketServer | null = null
const rawConns = new Map<string, RawConn>()
const rawAll = new Set<RawConn>()
const rawTargets = new Map<number, (body: unknown) => void>()
let rawNextId = 0
/** Relays of the raw chain forward every R_MARK to their other sockets. */
let rawForward = false
/** Raw names held here (from R_NAMES), and which connection brought each. */
const rawNames = new Map<string, { id: number; at: number }>()
const rawNamesOf = new Map<RawConn, string[]>()
const rawVisible = new Tally()
/** Raw names this process sent out (flat chunks), for R_SYNC_REQ. */
const rawOwn: unknown[][] = []

function rawConn(tag: string): RawConn {
  const c = rawConns.get(tag)
  if (c === undefined) throw new Error(`${NAME} has no raw connection ${tag}`)
  return c
}

function wire(c: RawConn): void {
  rawAll.add(c)
  c.onframe = onRawFrame
  c.onclose = () => {
    rawAll.delete(c)
    if (rawConns.get(c.tag) === c) rawConns.delete(c.tag)
    const names = rawNamesOf.get(c)
    if (names !== undefined) {
      rawNamesOf.delete(c)
      for (const name of names) rawNames.delete(name)
      rawVisible.add(-names.length)
    }
  }
}

function onRawFrame(f: unknown[], raw: Uint8Array, c: RawConn): void {
  switch (f[0]) {
    case R_DIRECT: {
      const seq = f[1] as number
      if (seq <= c.inSeq) return
      c.inSeq = seq
      if (f[2] === OP_SEND) rawTargets.get(f[3] as number)?.(f[4])
      return
    }
    case R_NAMES: {
      const flat = f[1] as unknown[]
      let list = rawNamesOf.get(c)
      if (list === undefined) rawNamesOf.set(c, (list = []))
      for (let i = 0; i + 2 < flat.length; i += 3) {
        const name = flat[i] as string
        rawNames.set(name, { id: flat[i + 1] as number, at: flat[i + 2] as number })
        list.push(name)
      }
      rawVisible.add(flat.length / 3)
      return
    }
    case R_MARK: {
      const t = hr()
      if (rawForward) {
        for (const other of rawAll) if (other !== c) other.sendEncoded(raw)
      } else {
        emit({ ev: 'rawseen', name: f[1] as string, t })
      }
      return
    }
    case R_SYNC_REQ:
      for (const flat of rawOwn) c.send([R_NAMES, flat])
      return
    case R_HELLO:
      c.tag = f[1] as string
      rawConns.set(c.tag, c)
      return
  }
}

function rawDial(url: string, tag: string): Promise<RawConn> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 64 << 20 })
    const timer = setTimeout(() => {
      ws.terminate()
      reject(new Error(`raw connect to ${url} timed out`))
    }, 10_000)
    ws.once('error', (err) => {
      clearTimeout(timer)
      reject(err)
    })
    ws.once('open', () => {
      clearTimeout(timer)
      const c = new RawConn(ws, tag)
      wire(c)
      rawConns.set(tag, c)
      c.send([R_HELLO, NAME])
      resolve(c)
    })
  })
}

/** A consumer awaiting a promise per message (an actor's receive, stripped down). */
function rawCounter(n: number): { id: number; state: CounterState } {
  const id = ++rawNextId
  const box = new Box()
  rawTargets.set(id, (body) => box.deliver(body))
  const state = { count: 0, first: 0, last: 0 } as CounterState
  state.done = (async () => {
    while (state.count < n) {
      await box.receive()
      if (state.count === 0) state.first = hr()
      state.count++
    }
    state.last = hr()
  })()
  return { id, state }
}

/** The same count, in the frame handler itself (no consumer, no promise). */
function rawHandlerCounter(n: number): { id: number; state: CounterState } {
  const id = ++rawNextId
  const state = { count: 0, first: 0, last: 0 } as CounterState
  let finish: () => void = () => {}
  state.done = new Promise((resolve) => (finish = resolve))
  rawTargets.set(id, () => {
    if (state.count === 0) state.first = hr()
    if (++state.count === n) {
      state.last = hr()
      finish()
    }
  })
  return { id, state }
}

async function waitCounter(state: CounterState, timeoutMs: number): Promise<Counted> {
  let timer: NodeJS.Timeout | undefined
  await Promise.race([state.done, new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))])
  clearTimeout(timer)
  return { count: state.count, first: state.first, last: state.last === 0 ? hr() : state.last }
}

// ---- commands -------------------------------------------------------------------------

type Args = Record<string, any>
const commands: Record<string, (a: Args) => unknown> = {
  now: () => hr(),
  gc: () => gc(),
  memory: () => process.memoryUsage(),

  /** A peer: createNode and listen on 127.0.0.1, port 0. */
  async 'flurry.peer'(a) {
    const n = await createNode({ name: a.name ?? NAME, cookie: COOKIE, ...(a.node ?? {}) })
    adopt(n)
    nodeUrl = (await n.listen(listenWebSocket({ host: '127.0.0.1', port: 0 }))).url
    return { id: n.id, url: nodeUrl }
  },
  /** A client of `home`: createNode, connect. */
  async 'flurry.client'(a) {
    const n = await createNode({ name: a.name ?? NAME, cookie: COOKIE, ...(a.node ?? {}) })
    adopt(n)
    await n.connect(dialWebSocket(a.home as string))
    return { id: n.id }
  },
  /** A relay (startRelay on 127.0.0.1, port 0) meshing with `peers`. */
  async 'flurry.relay'(a) {
    relay = await startRelay({
      host: '127.0.0.1',
      port: 0,
      cookie: COOKIE,
      name: a.name ?? NAME,
      peers: a.peers ?? [],
      publicDir: null,
      // The latency runs register a few thousand names from one client.
      maxNamesPerClient: 1_000_000,
    })
    adopt(relay.node)
    nodeUrl = relay.wsUrl
    return { id: relay.node.id, url: nodeUrl }
  },
  /** A peer's connect: hr() before the call and when it resolved. */
  async 'flurry.connect'(a) {
    const t0 = hr()
    const remote = await theNode().connect(dialWebSocket(a.url as string))
    return { remote, t0, t1: hr() }
  },
  /** Until every id in `ids` is among node.nodes(); false after timeoutMs. */
  async 'flurry.waitNodes'(a) {
    const ids = a.ids as string[]
    const deadline = hr() + (a.timeoutMs ?? 10_000)
    for (let i = 0; i < 100_000; i++) {
      const have = new Set(theNode().nodes())
      if (ids.every((id) => have.has(id))) return true
      if (hr() > deadline) return false
      await sleep(2)
    }
    return false
  },
  /** Closes the Flurry node (goodbye to its sessions) and the raw sockets. */
  async close() {
    if (relay !== null) await relay.close()
    else await node?.close()
    for (const c of [...rawAll]) c.close()
    rawServer?.close()
    return true
  },

  /** An actor counting `n` messages (time of the first and the last). */
  'flurry.counter'(a) {
    const n = a.n as number
    const state = { count: 0, first: 0, last: 0 } as CounterState
    let finish: () => void = () => {}
    state.done = new Promise((resolve) => (finish = resolve))
    const pid = theNode().spawn(async (ctx) => {
      while (state.count < n) {
        await ctx.receive()
        if (state.count === 0) state.first = hr()
        state.count++
      }
      state.last = hr()
      finish()
    })
    counters.set(`f${pid.id}`, state)
    return ref(pid)
  },
  'flurry.counterWait'(a) {
    const state = counters.get(`f${(a.pid as PidRef).id}`)
    if (state === undefined) throw new Error('no such counter')
    return waitCounter(state, a.timeoutMs ?? 10_000)
  },
  /** node.send of `n` payloads of `bytes` bytes to `to`, `chunk` per task. */
  'flurry.blast'(a) {
    const n0 = theNode()
    const to = pidOf(a.to as PidRef)
    const body = payload(a.bytes as number)
    const session = n0.core.conns.get(to.node)
    if (session === undefined) throw new Error(`no session to ${to.node}`)
    return blast(() => n0.send(to, body), () => session.link.bufferedAmount, a.n, a.chunk, a.timeoutMs ?? 10_000)
  },
  /** The pinger of a ping-pong: waits for a go (flurry.pingpong), bounces, reports. */
  'flurry.pinger'(a) {
    const body = payload(a.bytes as number)
    const pid = theNode().spawn(async (ctx) => {
      for (;;) {
        const go = await ctx.receive<Go>()
        let trips = 0
        const t0 = hr()
        let t = t0
        try {
          while (trips < go.max && t - t0 < go.ms) {
            ctx.send(go.to, body)
            await ctx.receive()
            trips++
            if ((trips & 63) === 0) t = hr()
          }
          go.done({ trips, ms: hr() - t0 })
        } catch (err) {
          go.done({ trips, ms: hr() - t0, error: String(err) })
        }
      }
    })
    return ref(pid)
  },
  /** The ponger: sends every message back to `partner`. */
  'flurry.ponger'(a) {
    const partner = pidOf(a.partner as PidRef)
    return ref(
      theNode().spawn(async (ctx) => {
        for (;;) ctx.send(partner, await ctx.receive())
      }),
    )
  },
  'flurry.pingpong'(a) {
    const deadline = (a.ms as number) + 5000
    return new Promise<Bounced>((resolve) => {
      const timer = setTimeout(() => resolve({ trips: 0, ms: 0, error: 'no result in time' }), deadline)
      const go: Go = {
        to: pidOf(a.ponger as PidRef),
        ms: a.ms,
        max: a.max,
        done: (b) => {
          clearTimeout(timer)
          resolve(b)
        },
      }
      theNode().send(pidOf(a.pinger as PidRef), go)
    })
  },

  /** `count` idle actors to own names. */
  'reg.actors'(a) {
    const n0 = theNode()
    for (let i = 0; i < (a.count as number); i++) {
      ownActors.push(
        n0.spawn(async (ctx) => {
          for (;;) await ctx.receive()
        }),
      )
    }
    return ownActors.length
  },
  /** One register; hr() just before it. */
  'reg.one'(a) {
    const pid = ownActors[0]
    if (pid === undefined) throw new Error('no actors: reg.actors first')
    const t = hr()
    const ok = theNode().global.register(a.name as string, pid)
    return { t, ok }
  },
  /** `prefix0` … `prefix${n-1}`, `chunk` per task, over the actors in turn. */
  async 'reg.chunked'(a) {
    const n0 = theNode()
    const prefix = a.prefix as string
    const n = a.n as number
    const chunk = a.chunk as number
    const k = ownActors.length
    if (k === 0) throw new Error('no actors: reg.actors first')
    let ok = 0
    const t0 = hr()
    for (let i = 0; i < n; i += chunk) {
      const end = Math.min(n, i + chunk)
      for (let j = i; j < end; j++) if (n0.global.register(`${prefix}${j}`, ownActors[j % k] as Pid)) ok++
      await immediate()
    }
    return { t0, t1: hr(), ok }
  },
  /** Counts this node's visible names from now on (reg.count, reg.waitCount). */
  'reg.track'() {
    track()
    return visible.value
  },
  /** Register events of names starting with `prefix` go up as { ev: 'seen', name, t }. */
  'reg.stream'(a) {
    track()
    streamPrefix = (a.prefix as string | null) ?? null
    return true
  },
  'reg.count'() {
    if (!tracking) throw new Error('reg.track first')
    return visible.value
  },
  /** Until the visible count is ≥ (or ≤, with `below`) `count`. */
  'reg.waitCount'(a) {
    if (!tracking) throw new Error('reg.track first')
    return visible.wait(a.count, a.below !== true, a.timeoutMs ?? 10_000)
  },
  /** How many of `prefix0` … resolve here. */
  'reg.resolve'(a) {
    const n0 = theNode()
    let found = 0
    for (let i = 0; i < (a.n as number); i++) if (n0.global.whereis(`${a.prefix}${i}`) !== undefined) found++
    return found
  },

  async 'raw.listen'() {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, maxPayload: 64 << 20, clientTracking: false })
    await new Promise<void>((resolve, reject) => {
      server.once('listening', () => resolve())
      server.once('error', reject)
    })
    server.on('connection', (ws) => wire(new RawConn(ws)))
    rawServer = server
    const addr = server.address()
    if (addr === null || typeof addr === 'string') throw new Error('raw server has no port')
    return { url: `ws://127.0.0.1:${addr.port}/raw` }
  },
  /** Dials a raw server; the connection is known here as `tag`, there as this worker's name. */
  async 'raw.connect'(a) {
    await rawDial(a.url as string, a.tag as string)
    return true
  },
  /** Until a raw connection from `tag` was accepted here. */
  async 'raw.waitConn'(a) {
    const deadline = hr() + (a.timeoutMs ?? 5000)
    for (let i = 0; i < 100_000 && !rawConns.has(a.tag as string); i++) {
      if (hr() > deadline) throw new Error(`no raw connection from ${a.tag}`)
      await sleep(1)
    }
    return true
  },
  'raw.forward'(a) {
    rawForward = a.on === true
    return true
  },
  /** Closes every raw connection (the others drop the names they brought). */
  'raw.closeAll'() {
    for (const c of [...rawAll]) c.socket.close()
    return true
  },
  'raw.counter'(a) {
    const { id, state } = a.handlerOnly === true ? rawHandlerCounter(a.n) : rawCounter(a.n)
    counters.set(`r${id}`, state)
    return id
  },
  'raw.counterWait'(a) {
    const state = counters.get(`r${a.id}`)
    if (state === undefined) throw new Error('no such counter')
    return waitCounter(state, a.timeoutMs ?? 10_000)
  },
  'raw.blast'(a) {
    const c = rawConn(a.tag as string)
    const frame: unknown[] = [R_DIRECT, 0, OP_SEND, a.to as number, payload(a.bytes as number)]
    return blast(
      () => {
        frame[1] = ++c.outSeq
        c.send(frame)
      },
      () => c.bufferedAmount,
      a.n,
      a.chunk,
      a.timeoutMs ?? 10_000,
    )
  },
  /** The raw ponger: every message back to consumer `partner` over connection `tag`. */
  'raw.ponger'(a) {
    const c = rawConn(a.tag as string)
    const partner = a.partner as number
    const id = ++rawNextId
    const box = new Box()
    rawTargets.set(id, (body) => box.deliver(body))
    const frame: unknown[] = [R_DIRECT, 0, OP_SEND, partner, null]
    void (async () => {
      for (;;) {
        const m = await box.receive()
        frame[1] = ++c.outSeq
        frame[4] = m
        c.send(frame)
      }
    })()
    return id
  },
  'raw.pinger'() {
    const id = ++rawNextId
    const box = new Box()
    rawTargets.set(id, (body) => box.deliver(body))
    rawPingers.set(id, box)
    return id
  },
  /** Bounces through connection `tag` to consumer `ponger` for `ms` (at most `max` trips). */
  async 'raw.pingpong'(a) {
    const c = rawConn(a.tag as string)
    const box = rawPingers.get(a.pinger as number)
    if (box === undefined) throw new Error('no such pinger: raw.pinger first')
    const body = payload(a.bytes as number)
    const frame: unknown[] = [R_DIRECT, 0, OP_SEND, a.ponger as number, body]
    const run = async (): Promise<Bounced> => {
      let trips = 0
      const t0 = hr()
      let t = t0
      while (trips < a.max && t - t0 < a.ms) {
        frame[1] = ++c.outSeq
        c.send(frame)
        await box.receive()
        trips++
        if ((trips & 63) === 0) t = hr()
      }
      return { trips, ms: hr() - t0 }
    }
    let timer: NodeJS.Timeout | undefined
    const r = await Promise.race([run(), new Promise<Bounced>((resolve) => (timer = setTimeout(() => resolve({ trips: 0, ms: 0, error: 'no result in time' }), a.ms + 5000)))])
    clearTimeout(timer)
    return r
  },
  /** One R_MARK frame to `tag`; hr() just before it is queued. */
  'raw.mark'(a) {
    const c = rawConn(a.tag as string)
    const t = hr()
    c.send([R_MARK, a.name])
    return { t }
  },
  /** `prefix0` … as R_NAMES frames of `chunk` names, one chunk per task, to every `tags`. */
  async 'rawreg.chunked'(a) {
    const conns = (a.tags as string[]).map(rawConn)
    const prefix = a.prefix as string
    const n = a.n as number
    const chunk = a.chunk as number
    const base = Date.now() * 1024
    const t0 = hr()
    for (let i = 0; i < n; i += chunk) {
      const end = Math.min(n, i + chunk)
      const flat: unknown[] = []
      for (let j = i; j < end; j++) flat.push(`${prefix}${j}`, (j % 100) + 1, base + j)
      rawOwn.push(flat)
      for (const c of conns) c.send([R_NAMES, flat])
      await immediate()
    }
    return { t0, t1: hr() }
  },
  'rawreg.count'() {
    return rawVisible.value
  },
  'rawreg.waitCount'(a) {
    return rawVisible.wait(a.count, a.below !== true, a.timeoutMs ?? 10_000)
  },
  /** A raw join: connect to `url`, ask for its names, until `n` more are held here. */
  async 'rawreg.join'(a) {
    const target = rawVisible.value + (a.n as number)
    const t0 = hr()
    const c = await rawDial(a.url as string, a.tag as string)
    c.send([R_SYNC_REQ])
    const crossed = await rawVisible.wait(target, true, a.timeoutMs ?? 10_000)
    return { t0, t1: crossed.t, count: crossed.count - target + (a.n as number) }
  },
}

process.on('message', (m: Request) => {
  const fn = commands[m.cmd]
  const answer = (r: Omit<Reply, 'rid'>): void => {
    if (process.connected) process.send?.({ rid: m.rid, ...r })
  }
  if (fn === undefined) {
    answer({ ok: false, error: `${NAME}: no command ${m.cmd}` })
    return
  }
  Promise.resolve()
    .then(() => fn(m.args ?? {}))
    .then(
      (value) => answer({ ok: true, value: value === undefined ? null : value }),
      (err: unknown) => answer({ ok: false, error: `${NAME} ${m.cmd}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}` }),
    )
})

emit({ ev: 'ready', pid: process.pid })
