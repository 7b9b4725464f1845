// The page side of the e2e tests, served at /e2e/harness.js next to /flurry.js.
// A test loads it in page.evaluate (`await import('/e2e/harness.js')`); it makes one
// Flurry node in the page and records what the node sees, with wall-clock times
// (Date.now(): the pages and the test process share the machine's clock).
//
//   window.e2e.start({ name, cookie, relay, bus, busInit, node })  -> node id
//   window.e2e.service(label) -> pid: an actor that logs every message it gets and
//                              answers calls { op: 'echo', body } with
//                              { node, label, body }
//   window.e2e.register(name, label) -> boolean (spawns the service if needed)
//   window.e2e.whereis(name) / names() / send(to, msg) / call(to, msg, timeoutMs)
//   window.e2e.events: [{ t, kind, ... }]   window.e2e.inbox: [{ t, label, msg }]
import * as flurry from '/flurry.js'

const events = []
const inbox = []
const services = new Map()
let node = null

function now() {
  return Date.now()
}

/** Messages and values made plain for page.evaluate: Pids as { pid, node, id }. */
function plain(v, depth = 0) {
  if (depth > 10) return '[deep]'
  if (v instanceof flurry.Pid) return { pid: v.toString(), node: v.node, id: v.id }
  if (v instanceof Error) return { error: v.name, code: v.code, message: v.message }
  if (v instanceof Uint8Array) return { bytes: v.length }
  if (Array.isArray(v)) return v.map((x) => plain(x, depth + 1))
  if (v !== null && typeof v === 'object') {
    const out = {}
    for (const [k, x] of Object.entries(v)) out[k] = plain(x, depth + 1)
    return out
  }
  return v === undefined ? null : v
}

function record(kind, fields) {
  events.push({ t: now(), kind, ...fields })
}

/** A Pid from its plain form ({ node, id }), or a name as it is. */
function dest(to) {
  return typeof to === 'string' ? to : new flurry.Pid(to.node, to.id)
}

function need() {
  if (node === null) throw new Error('e2e.start() first')
  return node
}

export async function start(opts = {}) {
  if (node !== null) throw new Error('e2e.start() twice')
  node = await flurry.createNode({ name: opts.name ?? 'tab', cookie: opts.cookie, ...(opts.node ?? {}) })
  node.on('nodeup', (id) => record('nodeup', { id }))
  node.on('nodedown', (id, reason) => record('nodedown', { id, reason }))
  node.on('homeup', (id) => record('homeup', { id }))
  node.on('homedown', (id, reason) => record('homedown', { id, reason }))
  node.global.on('register', (name, pid) => record('register', { name, pid: pid.toString(), node: pid.node }))
  node.global.on('unregister', (name, pid, reason) =>
    record('unregister', { name, pid: pid.toString(), node: pid.node, reason }),
  )
  node.global.on('conflict', (name, winner, loser) =>
    record('conflict', { name, winner: winner.toString(), loser: loser.toString() }),
  )
  if (opts.bus) await node.join(flurry.broadcastChannel(opts.bus, opts.busInit ?? {}))
  if (opts.relay) {
    const url = opts.relay === true ? `ws://${location.host}/flurry` : opts.relay
    await node.connect(flurry.dialWebSocket(url))
  }
  return node.id
}

export function id() {
  return need().id
}

export function service(label = 'svc') {
  const n = need()
  const known = services.get(label)
  if (known !== undefined) return plain(known)
  const pid = n.spawn(async (ctx) => {
    for (;;) {
      const msg = await ctx.receive()
      inbox.push({ t: now(), label, msg: plain(msg) })
      if (msg !== null && typeof msg === 'object' && msg.op === 'echo') {
        ctx.reply({ node: n.id, label, body: msg.body })
      }
    }
  })
  services.set(label, pid)
  return plain(pid)
}

export function register(name, label = 'svc') {
  service(label)
  return need().global.register(name, services.get(label))
}

export function unregister(name) {
  return need().global.unregister(name)
}

export function whereis(name) {
  const pid = need().global.whereis(name)
  return pid === undefined ? null : plain(pid)
}

export function names() {
  return need().global.names()
}

export function nodes() {
  return need().nodes().sort()
}

export function send(to, msg) {
  need().send(dest(to), msg)
  return true
}

export async function call(to, msg, timeoutMs = 5000) {
  try {
    return { ok: true, value: plain(await need().call(dest(to), msg, { timeoutMs })) }
  } catch (err) {
    return { ok: false, error: plain(err) }
  }
}

export async function close() {
  if (node !== null) await node.close()
}

const api = {
  flurry,
  events,
  inbox,
  get node() {
    return node
  },
  start,
  id,
  service,
  register,
  unregister,
  whereis,
  names,
  nodes,
  send,
  call,
  close,
}
globalThis.e2e = api
export default api
