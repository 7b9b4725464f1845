/**
 * One Flurry node (a peer, a client, or a relay) in its own OS process, driven by the
 * integration tests over the IPC channel of child_process.fork.
 *
 * argv[2] is a JSON config:
 *   { kind: 'peer' | 'client' | 'relay', name, cookie, port?, peers?: string[],
 *     home?: string[], node?: Partial<NodeInit>, relay?: Partial<RelayInit> }
 * - peer:   createNode, listenWebSocket on 127.0.0.1:port (0 by default), then
 *           node.addPeer(url) for every configured peer;
 * - client: createNode, node.connect(dialWebSocket(home)) (one URL or a list);
 * - relay:  startRelay on 127.0.0.1:port, its logger streamed as 'log' events.
 *
 * Requests from the parent are { rid, cmd, ...args }; every one is answered with
 * { rid, ok: true, value } or { rid, ok: false, error: { code, message } }. Events go
 * to the parent unasked as { ev, t, ...fields } (t: Date.now() here, for timings).
 * Pids cross IPC as { node, id } and are rebuilt here as new Pid(node, id).
 */
import { createNode, Pid } from '@flurry/core'
import { startRelay } from '@flurry/relay'
import { dialWebSocket, listenWebSocket } from '@flurry/ws'

const config = JSON.parse(process.argv[2] ?? '{}')

if (typeof process.send !== 'function') {
  process.stderr.write('fixture.mjs is started by child_process.fork (it needs the IPC channel)\n')
  process.exit(2)
}

/** Pids become { node, id }, Uint8Arrays arrays, errors { code, message }: plain data for IPC. */
function plain(v, depth = 0) {
  if (depth > 20) return '[deep]'
  if (v instanceof Pid) return { node: v.node, id: v.id }
  if (v instanceof Error) return { error: v.name, code: v.code, message: v.message }
  if (v instanceof Uint8Array) return { bytes: [...v] }
  if (Array.isArray(v)) return v.map((x) => plain(x, depth + 1))
  if (v !== null && typeof v === 'object') {
    const out = {}
    for (const [k, x] of Object.entries(v)) out[k] = plain(x, depth + 1)
    return out
  }
  return v === undefined ? null : v
}

function pidOf(p) {
  if (p === null || typeof p !== 'object' || typeof p.node !== 'string' || typeof p.id !== 'number') {
    throw Object.assign(new Error(`not a pid: ${JSON.stringify(p)}`), { code: 'BAD_ARGUMENT' })
  }
  return new Pid(p.node, p.id)
}

/** A destination: a global name (string) or a pid ({ node, id }). */
function destOf(to) {
  return typeof to === 'string' ? to : pidOf(to)
}

function emit(ev, fields = {}) {
  if (!process.connected) return
  try {
    process.send({ ev, t: Date.now(), ...fields })
  } catch {
    // the parent is gone: 'disconnect' ends us
  }
}

const base = {
  name: config.name ?? config.kind,
  cookie: config.cookie ?? 'secret',
  heartbeatIntervalMs: 100,
  heartbeatTimeoutMs: 500,
  reconnect: { minDelayMs: 50, maxDelayMs: 300 },
  ...(config.node ?? {}),
}

let node
let relay = null
let url = null
if (config.kind === 'relay') {
  relay = await startRelay({
    host: '127.0.0.1',
    port: config.port ?? 0,
    cookie: base.cookie,
    name: base.name,
    peers: config.peers ?? [],
    heartbeatIntervalMs: base.heartbeatIntervalMs,
    heartbeatTimeoutMs: base.heartbeatTimeoutMs,
    logger: (level, message, fields) => emit('log', { level, message, fields: plain(fields ?? null) }),
    node: base,
    ...(config.relay ?? {}),
  })
  node = relay.node
  url = relay.wsUrl
} else {
  node = await createNode(base)
}

// ---- events -------------------------------------------------------------------

node.on('nodeup', (id) => emit('nodeup', { node: id }))
node.on('nodedown', (id, reason) => emit('nodedown', { node: id, reason }))
node.on('homeup', (id) => emit('homeup', { node: id }))
node.on('homedown', (id, reason) => emit('homedown', { node: id, reason }))
node.on('error', (err, remote) => emit('error', { code: err.code, message: err.message, remote }))
// config.quiet: no event per name (tables of tens of thousands of names).
if (config.quiet !== true) {
  node.global.on('register', (name, pid) => emit('register', { name, pid: plain(pid) }))
  node.global.on('unregister', (name, pid, reason) => emit('unregister', { name, pid: plain(pid), reason }))
}
node.global.on('conflict', (name, winner, loser) => emit('conflict', { name, winner: plain(winner), loser: plain(loser) }))

// ---- actors -------------------------------------------------------------------

/** pid id -> what the actor received, in order. */
const received = new Map()

/**
 * An actor that records every message, reports Flurry notices ({ flurry: ... }) as
 * 'notice' events, and answers calls with { reply: msg, tag, node }.
 */
function spawnRecorder(tag) {
  const log = []
  const pid = node.spawn(async (ctx) => {
    for (;;) {
      const msg = await ctx.receive()
      log.push(msg)
      if (msg !== null && typeof msg === 'object' && typeof msg.flurry === 'string') {
        emit('notice', { pid: plain(ctx.self), msg: plain(msg) })
      }
      try {
        ctx.reply({ reply: msg, tag, node: node.id })
      } catch {
        // not a call
      }
    }
  })
  received.set(pid.id, log)
  return pid
}

let monitorRefs = 0
/** tag -> { timer, n } of a running numbered stream. */
const streams = new Map()

// ---- commands -----------------------------------------------------------------

const commands = {
  info: () => ({ id: node.id, url, role: node.role, pid: process.pid }),
  /** This node's clocks: the wall clock, the hybrid clock and its offset to the home's. */
  clock: () => ({ now: Date.now(), hlcMs: node.core.hlc.nowMs(), offset: node.core.hlc.offset }),
  spawn: ({ tag }) => plain(spawnRecorder(tag ?? 'actor')),
  received: ({ pid }) => plain(received.get(pidOf(pid).id) ?? []),
  register: ({ name, pid }) => node.global.register(name, pidOf(pid)),
  unregister: ({ name }) => node.global.unregister(name),
  whereis: ({ name }) => plain(node.global.whereis(name) ?? null),
  names: () => node.global.names(),
  /** How many names are visible (for tables too big to ship). */
  count: () => node.global.names().length,
  /** The visible table: name -> 'node.id' of its pid. */
  table: () => {
    const out = {}
    for (const n of node.global.names()) {
      const p = node.global.whereis(n)
      out[n] = p === undefined ? null : `${p.node}.${p.id}`
    }
    return out
  },
  nodes: () => node.nodes().sort(),
  send: ({ to, msg }) => {
    node.send(destOf(to), msg)
    return true
  },
  call: async ({ to, msg, timeoutMs }) => plain(await node.call(destOf(to), msg, { timeoutMs: timeoutMs ?? 2000 })),
  exit: ({ pid, reason }) => {
    node.exit(pidOf(pid), reason ?? 'killed')
    return true
  },
  /** Monitors a pid; its end comes back as a 'down' event with this ref. */
  monitor: ({ pid }) => {
    const ref = ++monitorRefs
    const p = pidOf(pid)
    node.monitor(p, (reason) => emit('down', { ref, pid: plain(p), reason: plain(reason) }))
    return ref
  },
  connect: async ({ url: target }) => node.connect(dialWebSocket(target)),
  addPeer: ({ url: target }) => {
    node.addPeer(target)
    return true
  },
  /** Sends { tag, n } with n = 1, 2, ... to `to` every `intervalMs` until streamStop. */
  streamStart: ({ to, tag, intervalMs }) => {
    const dest = destOf(to)
    const s = { n: 0, errors: 0, timer: undefined }
    s.timer = setInterval(() => {
      try {
        node.send(dest, { tag, n: s.n + 1 })
        s.n++
      } catch (err) {
        s.errors++
        if (s.errors === 1) emit('streamError', { tag, code: err.code, message: err.message })
      }
    }, intervalMs ?? 5)
    streams.set(tag, s)
    return true
  },
  streamStop: ({ tag }) => {
    const s = streams.get(tag)
    if (s === undefined) return null
    clearInterval(s.timer)
    streams.delete(tag)
    return { sent: s.n, errors: s.errors }
  },
  /**
   * Runs synchronous commands one after the other in the same task (what a program
   * does in one go: the node sends them as one delta). Returns their values.
   */
  batch: ({ ops }) => ops.map((op) => {
    const value = commands[op.cmd](op)
    if (value instanceof Promise) throw Object.assign(new Error(`${op.cmd} is not synchronous`), { code: 'BAD_ARGUMENT' })
    return value
  }),
  close: async () => {
    if (relay !== null) await relay.close()
    else await node.close()
    return true
  },
}

process.on('message', async (m) => {
  if (m === null || typeof m !== 'object' || typeof m.rid !== 'number') return
  const fn = commands[m.cmd]
  let reply
  try {
    if (fn === undefined) throw Object.assign(new Error(`unknown command ${m.cmd}`), { code: 'BAD_ARGUMENT' })
    reply = { rid: m.rid, ok: true, value: await fn(m) }
  } catch (err) {
    reply = { rid: m.rid, ok: false, error: { code: err?.code ?? null, message: String(err?.message ?? err) } }
  }
  if (process.connected) process.send(reply)
})

// Orphaned (the test process died): leave at once, never linger.
process.on('disconnect', () => process.exit(0))

// ---- start ----------------------------------------------------------------------

try {
  if (config.kind === 'peer') {
    const server = await node.listen(listenWebSocket({ host: '127.0.0.1', port: config.port ?? 0 }))
    url = server.url
    for (const peer of config.peers ?? []) node.addPeer(peer)
  } else if (config.kind === 'client') {
    await node.connect(dialWebSocket(config.home))
  }
  emit('ready', { id: node.id, url, pid: process.pid })
} catch (err) {
  // Exit once the parent has the reason (a plain exit could drop the message).
  const msg = { ev: 'failed', t: Date.now(), code: err?.code ?? null, message: String(err?.message ?? err) }
  if (process.connected) process.send(msg, () => process.exit(1))
  else process.exit(1)
}
