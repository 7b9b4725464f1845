// Flurry rooms: the demo app served by the relay at /.
//
// Every tab is a Flurry node. It talks to the relay over a WebSocket (its home) and
// to the other tabs of this browser over a BroadcastChannel, so it keeps working
// among those tabs when the relay is down. A room is an actor of the tab that created
// it, registered globally as `room:<name>`; each tab has one "inbox" actor that joins
// rooms and receives their messages. Panels show what the registry sees, live.
//
// For end-to-end tests: window.flurryDemo = { node, ready, state() }, and the
// elements carry data-testid attributes (see index.html).

import { ROOM_PREFIX, cleanNick, cleanRoomName, roomActor } from './room.js'

const BUS_NAME = 'flurry-demo'
const CALL_TIMEOUT_MS = 5000
const LOG_LIMIT = 200
const MESSAGE_LIMIT = 200
const OFFLINE_AFTER_MS = 4000
const COOKIE_KEY = 'flurry-demo-cookie'
const NICK_KEY = 'flurry-demo-nick'

// ---- small DOM helpers ---------------------------------------------------------

const byTestId = (id) => document.querySelector(`[data-testid="${id}"]`)

/** h('li', { class: 'x', dataset: { room: 'a' } }, 'text', child): text is never parsed as HTML. */
function h(tag, props = {}, ...children) {
  const el = document.createElement(tag)
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue
    if (key === 'class') el.className = value
    else if (key === 'dataset') Object.assign(el.dataset, value)
    else if (key.startsWith('on')) el.addEventListener(key.slice(2), value)
    else if (key in el && typeof value !== 'string') el[key] = value
    else el.setAttribute(key, value === true ? '' : value)
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue
    el.append(child instanceof Node ? child : String(child))
  }
  return el
}

const pad = (n) => String(n).padStart(2, '0')
const clock = (ms, seconds = false) => {
  const d = new Date(ms)
  return `${pad(d.getHours())}:${pad(d.getMinutes())}${seconds ? `:${pad(d.getSeconds())}` : ''}`
}

/** 'tab@3f2a…' -> ['tab', '3f2a…'] */
function splitId(id) {
  const at = String(id).lastIndexOf('@')
  return at < 0 ? [String(id), ''] : [id.slice(0, at), id.slice(at + 1)]
}

function nodeLabel(id, { short = false } = {}) {
  const [name, hash] = splitId(id)
  return h('span', { class: 'node-id', title: id },
    h('span', { class: 'node-name' }, name),
    hash ? h('span', { class: 'node-hash' }, `@${short ? hash.slice(0, 6) : hash}`) : null)
}

// ---- errors: short messages, never a stack trace -----------------------------------

const CODE_TEXT = {
  NAME_NOT_FOUND: 'Room not found',
  TIMEOUT: 'The room did not answer',
  NO_PROCESS: 'The room has closed',
  NODE_DOWN: "The room's tab is not reachable",
  AUTH_FAILED: 'The relay refused the cookie',
  CONNECT_FAILED: 'Cannot reach the relay',
  VERSION_MISMATCH: 'This page and the relay speak different versions: reload',
  QUOTA: 'This tab holds too many names',
  NOT_AUTHORIZED: 'The relay does not allow that name',
  FRAME_TOO_LARGE: 'That message is too large',
  CLOCK_SKEW: "This computer's clock is too far off",
  CLOSED: 'This tab has disconnected',
  NOT_LOCAL: 'That actor belongs to another node',
  BAD_ARGUMENT: 'That did not work',
}

function errorCode(err) {
  return err !== null && typeof err === 'object' && err.name === 'FlurryError' && typeof err.code === 'string'
    ? err.code
    : null
}

/** A short sentence for a person: "Room not found (NAME_NOT_FOUND)". */
function explain(err, fallback = 'Something went wrong') {
  const code = errorCode(err)
  if (code === null) return fallback
  return `${CODE_TEXT[code] ?? fallback} (${code})`
}

// ---- toasts and the notice bar -------------------------------------------------------

function toast(text, kind = 'error') {
  const box = byTestId('toasts')
  const close = h('button', { type: 'button', class: 'toast-close', 'aria-label': 'Dismiss' }, '×')
  const el = h('div', { class: `toast toast--${kind}`, role: kind === 'error' ? 'alert' : 'status', dataset: { testid: 'toast' } },
    h('span', { class: 'toast-text' }, text), close)
  const remove = () => el.remove()
  close.addEventListener('click', remove)
  box.append(el)
  while (box.children.length > 4) box.firstElementChild.remove()
  setTimeout(remove, kind === 'error' ? 7000 : 4500)
}

function noticeBar(text, action) {
  const bar = byTestId('notice-bar')
  bar.replaceChildren()
  if (text === null) {
    bar.hidden = true
    return
  }
  bar.append(h('span', {}, text))
  if (action) bar.append(h('button', { type: 'button', class: 'btn btn-small', onclick: action.run }, action.label))
  bar.hidden = false
}

window.addEventListener('error', (e) => {
  // Resource loading errors do not bubble here; these are script errors.
  if (e.error === undefined && e.message === undefined) return
  toast(errorCode(e.error) ? explain(e.error) : 'Something went wrong. The demo keeps running.')
})
window.addEventListener('unhandledrejection', (e) => {
  toast(errorCode(e.reason) ? explain(e.reason) : 'Something went wrong. The demo keeps running.')
})

// ---- state --------------------------------------------------------------------------

let lib = null // the /flurry.js module
let node = null
let inbox = null // this tab's inbox actor
let cookie = null
let cookieFrom = null // 'config' | 'storage' | 'form'
let conn = 'connecting' // 'connecting' | 'online' | 'reconnecting' | 'offline'
let homeId = null
let offlineTimer = null
let nick = ''
let selected = null
/** name -> { name, joined, closed, closedReason, pid, owned, messages, members, unread, joining } */
const rooms = new Map()
const events = []

let resolveReady
let rejectReady
const ready = new Promise((resolve, reject) => {
  resolveReady = resolve
  rejectReady = reject
})
ready.catch(() => {})

window.flurryDemo = {
  get node() {
    return node
  },
  ready,
  state() {
    const joined = [...rooms.values()].filter((r) => r.joined)
    return {
      id: node?.id ?? null,
      home: conn === 'online',
      connection: conn,
      homeId,
      nick,
      selected,
      rooms: joined.map((r) => r.name).sort(),
      owned: [...rooms.values()].filter((r) => r.owned !== null).map((r) => r.name).sort(),
      closed: [...rooms.values()].filter((r) => r.closed).map((r) => r.name).sort(),
      members: Object.fromEntries(joined.map((r) => [r.name, r.members.map((m) => m.nick)])),
      messages: Object.fromEntries(joined.map((r) => [r.name, r.messages.filter((m) => !m.notice).map((m) => ({ nick: m.nick, text: m.text, at: m.at }))])),
      names: node ? node.global.names() : [],
      nodes: node ? node.nodes().sort() : [],
    }
  },
}

function room(name) {
  let r = rooms.get(name)
  if (r === undefined) {
    r = { name, joined: false, closed: false, closedReason: '', pid: null, owned: null, messages: [], members: [], unread: 0, joining: null, joiningPid: null }
    rooms.set(name, r)
  }
  return r
}

const fullName = (name) => ROOM_PREFIX + name
const shortName = (global) => (global.startsWith(ROOM_PREFIX) ? global.slice(ROOM_PREFIX.length) : null)

// ---- rendering (batched: one pass per task) ----------------------------------------------
// A microtask, not requestAnimationFrame: a tab in the background gets no frames, and
// its panels must still be right when someone (or a test) reads them.

const dirty = new Set()
let scheduled = false
function invalidate(...parts) {
  for (const p of parts) dirty.add(p)
  if (!scheduled) {
    scheduled = true
    queueMicrotask(() => {
      scheduled = false
      const parts = [...dirty]
      dirty.clear()
      for (const p of parts) {
        try {
          RENDER[p]()
        } catch (err) {
          console.error(err)
        }
      }
    })
  }
}

const RENDER = {
  conn: renderConn,
  rooms: renderRooms,
  chat: renderChat,
  nodes: renderNodes,
  names: renderNames,
}

const CONN_TEXT = {
  connecting: 'connecting…',
  online: 'online via relay',
  reconnecting: 'reconnecting…',
  offline: 'offline — tabs of this browser only',
}

function renderConn() {
  const el = byTestId('connection-state')
  el.dataset.state = conn
  el.className = `conn conn--${conn}`
  el.querySelector('.conn-text').textContent = CONN_TEXT[conn]
  el.title = conn === 'online' && homeId ? `Home: ${homeId}` : ''
}

function visibleRooms() {
  const names = new Set()
  if (node) for (const n of node.global.names()) {
    const s = shortName(n)
    if (s !== null) names.add(s)
  }
  for (const r of rooms.values()) if (r.joined || r.closed) names.add(r.name)
  return [...names].sort()
}

function renderRooms() {
  const list = byTestId('room-list')
  const names = visibleRooms()
  // Keep the keyboard focus on the same room across a re-render.
  const focused = list.contains(document.activeElement) ? document.activeElement.closest('[data-room]')?.dataset.room : undefined
  byTestId('rooms-count').textContent = names.length ? String(names.length) : ''
  if (names.length === 0) {
    list.replaceChildren(h('li', { class: 'empty' }, 'No rooms yet. Create the first one above.'))
    return
  }
  list.replaceChildren(...names.map((name) => {
    const r = rooms.get(name)
    const pid = node?.global.whereis(fullName(name))
    const mine = r?.owned != null
    const badges = []
    if (mine) badges.push(h('span', { class: 'badge badge--mine' }, 'yours'))
    if (r?.closed) badges.push(h('span', { class: 'badge badge--closed' }, 'closed'))
    else if (r?.joined) badges.push(h('span', { class: 'badge badge--joined' }, 'joined'))
    if (r?.unread) badges.push(h('span', { class: 'badge badge--unread', 'aria-label': `${r.unread} unread` }, String(r.unread)))
    const owner = pid ? (pid.node === node.id ? 'this tab' : nickOf(pid.node) ?? splitId(pid.node)[0] + '@' + splitId(pid.node)[1].slice(0, 6)) : 'no owner'
    return h('li', { dataset: { testid: 'room-item', room: name } },
      h('button', {
        type: 'button',
        class: `room-item${name === selected ? ' is-selected' : ''}${r?.closed ? ' is-closed' : ''}`,
        'aria-current': name === selected ? 'true' : undefined,
        onclick: () => selectRoom(name),
      },
      h('span', { class: 'room-name' }, h('span', { class: 'hash', 'aria-hidden': 'true' }, '#'), name),
      h('span', { class: 'room-meta' }, owner),
      h('span', { class: 'badges' }, badges)))
  }))
  if (focused !== undefined) list.querySelector(`[data-room="${CSS.escape(focused)}"] button`)?.focus()
}

function renderChat() {
  const r = selected ? rooms.get(selected) : undefined
  const title = byTestId('current-room')
  const info = byTestId('room-info')
  const list = byTestId('messages')
  const empty = byTestId('empty-chat')
  const banner = byTestId('takeover-banner')
  const postInput = byTestId('post-input')
  const send = byTestId('send-button')
  const leave = byTestId('leave-button')
  const closeRoom = byTestId('close-room-button')

  if (r === undefined) {
    rendered.room = null
    rendered.keys = []
    title.textContent = 'No room yet'
    info.textContent = ''
    list.replaceChildren()
    list.hidden = true
    empty.hidden = false
    banner.hidden = true
    leave.hidden = true
    closeRoom.hidden = true
    postInput.disabled = true
    send.disabled = true
    postInput.placeholder = 'Join a room to write'
    return
  }
  title.replaceChildren(h('span', { class: 'hash', 'aria-hidden': 'true' }, '#'), r.name)
  const pid = node.global.whereis(fullName(r.name))
  if (r.closed) info.textContent = 'closed'
  else if (pid) {
    const who = r.members.map((m) => m.nick)
    info.replaceChildren(
      h('span', {}, r.owned ? 'owned by this tab' : `owned by ${nickOf(pid.node) ?? ''} `), r.owned ? '' : nodeLabel(pid.node, { short: true }),
      h('span', { class: 'sep', 'aria-hidden': 'true' }, ' · '),
      h('span', { title: who.join(', ') }, `${who.length} member${who.length === 1 ? '' : 's'}${who.length ? ': ' + who.slice(0, 4).join(', ') + (who.length > 4 ? '…' : '') : ''}`))
  } else info.textContent = ''
  empty.hidden = true
  list.hidden = false
  banner.hidden = !r.closed
  if (r.closed) byTestId('takeover-reason').textContent = r.closedReason
  leave.hidden = !r.joined || r.closed || r.owned !== null
  closeRoom.hidden = r.owned === null
  const canPost = r.joined && !r.closed
  postInput.disabled = !canPost
  send.disabled = !canPost
  postInput.placeholder = canPost ? `Message #${r.name}` : r.closed ? 'This room is closed' : 'Joining…'

  const nearBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 48
  const keys = r.messages.map(entryKey)
  const grows = rendered.room === r.name && rendered.keys.length > 0 && rendered.keys.length <= keys.length &&
    rendered.keys.every((k, i) => k === keys[i])
  // Only new messages are added, so screen readers announce just those.
  if (grows) list.append(...r.messages.slice(rendered.keys.length).map(renderMessage))
  else {
    list.replaceChildren(...(r.messages.length
      ? r.messages.map(renderMessage)
      : [h('li', { class: 'msg-empty' }, 'No messages yet. Say hello!')]))
  }
  if (nearBottom || rendered.room !== r.name) list.scrollTop = list.scrollHeight
  rendered.room = r.name
  rendered.keys = keys
}

/** What the messages list shows now. */
const rendered = { room: null, keys: [] }

function renderMessage(m) {
  if (m.notice) {
    return h('li', { class: 'msg msg--notice' }, h('span', {}, m.text), h('time', { datetime: new Date(m.at).toISOString() }, clock(m.at)))
  }
  const own = m.nick === nick
  return h('li', { class: `msg${own ? ' msg--own' : ''}`, dataset: { testid: 'message' } },
    h('div', { class: 'msg-head' },
      h('span', { class: 'msg-nick' }, m.nick),
      h('time', { datetime: new Date(m.at).toISOString() }, clock(m.at))),
    h('p', { class: 'msg-text' }, m.text))
}

// ---- nicknames: every node registers `who:<node id>:<nick>` for its inbox ------------------

const WHO_PREFIX = 'who:'
const whoName = (id, nickname) => `${WHO_PREFIX}${id}:${nickname}`

/** The nickname a node registered, from the global names (node ids contain no ':'). */
function nickOf(id) {
  const prefix = `${WHO_PREFIX}${id}:`
  const name = node?.global.names().find((n) => n.startsWith(prefix))
  return name === undefined ? null : name.slice(prefix.length)
}

let whoRegistered = null

/** Registers this tab's nickname (and drops the old one): other nodes show it. */
function claimNick() {
  if (!node || !inbox) return
  const next = whoName(node.id, nick)
  if (whoRegistered === next) return
  if (whoRegistered !== null) node.global.unregister(whoRegistered)
  whoRegistered = node.global.register(next, inbox) ? next : null
}

function nodeKind(id) {
  const [name] = splitId(id)
  return name === 'relay' ? 'relay' : name === 'tab' ? 'tab' : 'node'
}

function renderNodes() {
  const list = byTestId('nodes-list')
  if (!node) return
  const others = node.nodes()
  const order = { relay: 0, tab: 1, node: 2 }
  others.sort((a, b) => order[nodeKind(a)] - order[nodeKind(b)] || a.localeCompare(b))
  const owned = new Map()
  for (const n of node.global.names()) {
    if (n.startsWith(WHO_PREFIX)) continue
    const pid = node.global.whereis(n)
    if (pid) owned.set(pid.node, (owned.get(pid.node) ?? 0) + 1)
  }
  byTestId('nodes-count').textContent = String(others.length + 1)
  const row = (id, self) => {
    const count = owned.get(id) ?? 0
    const nickname = self ? nick : nickOf(id)
    return h('li', { class: `node-row${self ? ' is-self' : ''}`, dataset: { node: id, ...(self ? { self: 'true' } : {}), ...(nickname ? { nick: nickname } : {}) } },
      h('span', { class: `kind kind--${nodeKind(id)}` }, nodeKind(id)),
      h('span', { class: 'node-who' },
        nickname ? h('span', { class: 'node-nick', 'data-testid': 'node-nick' }, nickname) : null,
        nodeLabel(id, { short: nickname !== null })),
      h('span', { class: 'node-extra' }, self ? 'this tab' : id === homeId ? 'home' : count ? `${count} name${count === 1 ? '' : 's'}` : ''))
  }
  list.replaceChildren(row(node.id, true), ...others.map((id) => row(id, false)))
}

function renderNames() {
  const list = byTestId('names-list')
  if (!node) return
  // Nicknames are global names too, shown in the Nodes panel instead.
  const names = node.global.names().filter((n) => !n.startsWith(WHO_PREFIX))
  byTestId('names-count').textContent = names.length ? String(names.length) : ''
  if (names.length === 0) {
    list.replaceChildren(h('li', { class: 'empty' }, 'No global names yet.'))
    return
  }
  list.replaceChildren(...names.map((name) => {
    const pid = node.global.whereis(name)
    const self = pid?.node === node.id
    return h('li', { class: `name-row${self ? ' is-self' : ''}`, dataset: { name, owner: pid?.node, pid: pid?.toString() } },
      h('span', { class: 'name' }, name),
      h('span', { class: 'name-owner' }, pid ? nodeLabel(pid.node) : '—', self ? h('span', { class: 'badge badge--mine' }, 'this tab') : null),
      h('span', { class: 'name-pid', title: pid ? pid.toString() : '' }, pid ? `pid ${pid.id}` : ''))
  }))
}

function logEvent(kind, text) {
  const at = Date.now()
  events.unshift({ at, kind, text })
  if (events.length > LOG_LIMIT) events.length = LOG_LIMIT
  const list = byTestId('event-log')
  list.prepend(h('li', { class: `ev ev--${kind}`, dataset: { kind } },
    h('time', { datetime: new Date(at).toISOString() }, clock(at, true)),
    h('span', { class: 'ev-kind' }, kind),
    h('span', { class: 'ev-text' }, text)))
  while (list.children.length > LOG_LIMIT) list.lastElementChild.remove()
}

// ---- connection state -------------------------------------------------------------------

function setConn(next) {
  if (offlineTimer !== null && next !== 'reconnecting') {
    clearTimeout(offlineTimer)
    offlineTimer = null
  }
  conn = next
  if (next === 'reconnecting' && offlineTimer === null) {
    offlineTimer = setTimeout(() => {
      offlineTimer = null
      if (conn === 'reconnecting') setConn('offline')
    }, OFFLINE_AFTER_MS)
  }
  if (next === 'online') noticeBar(null)
  invalidate('conn', 'nodes')
}

function wsUrl() {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/flurry`
}

let firstConnectDelay = 1000
let connecting = false

/** The first connect; the core reconnects by itself once it has been home once. */
async function connectHome() {
  if (connecting || conn === 'online') return
  connecting = true
  try {
    await node.connect(lib.dialWebSocket(wsUrl()))
    firstConnectDelay = 1000
  } catch (err) {
    if (errorCode(err) === 'AUTH_FAILED') {
      cookieRefused()
      return
    }
    if (conn !== 'online') setConn('offline')
    setTimeout(() => void connectHome(), firstConnectDelay)
    firstConnectDelay = Math.min(firstConnectDelay * 2, 15000)
  } finally {
    connecting = false
  }
}

function cookieRefused() {
  setConn('offline')
  if (cookieFrom === 'config') {
    noticeBar('The relay refused this page’s cookie (AUTH_FAILED). It may have restarted.', { label: 'Reload', run: () => location.reload() })
  } else {
    localStorage.removeItem(COOKIE_KEY)
    showCookieGate('The relay refused that cookie (AUTH_FAILED). Check it and try again.').then((c) => {
      localStorage.setItem(COOKIE_KEY, c)
      location.reload()
    })
  }
}

// While away from the relay, watch for a restarted dev relay with a fresh cookie.
setInterval(async () => {
  if (node === null || conn === 'online' || cookieFrom !== 'config') return
  try {
    const res = await fetch('/config.json', { cache: 'no-store' })
    const cfg = await res.json()
    if (typeof cfg.cookie === 'string' && cfg.cookie !== cookie) {
      noticeBar('The relay restarted with a new cookie.', { label: 'Reload to reconnect', run: () => location.reload() })
    }
  } catch {
    // relay still down
  }
}, 5000)

// ---- the cookie ---------------------------------------------------------------------------

async function findCookie() {
  try {
    const res = await fetch('/config.json', { cache: 'no-store' })
    if (res.ok) {
      const cfg = await res.json()
      if (typeof cfg.cookie === 'string' && cfg.cookie !== '') {
        cookieFrom = 'config'
        return cfg.cookie
      }
    }
  } catch {
    // no config: ask
  }
  const stored = localStorage.getItem(COOKIE_KEY)
  if (stored) {
    cookieFrom = 'storage'
    return stored
  }
  const entered = await showCookieGate(null)
  localStorage.setItem(COOKIE_KEY, entered)
  cookieFrom = 'form'
  return entered
}

/** While the cookie form is up, the page behind it takes no focus or clicks. */
function setInert(on) {
  for (const el of document.querySelectorAll('.skip, .topbar, .notice-bar, main')) el.inert = on
}

function showCookieGate(error) {
  const gate = byTestId('cookie-gate')
  const form = byTestId('cookie-form')
  const input = byTestId('cookie-input')
  const errorEl = byTestId('cookie-error')
  errorEl.hidden = error === null
  errorEl.textContent = error ?? ''
  gate.hidden = false
  setInert(true)
  input.focus()
  return new Promise((resolve) => {
    const submit = (e) => {
      e.preventDefault()
      const value = input.value.trim()
      if (value === '') {
        errorEl.hidden = false
        errorEl.textContent = 'Enter the cookie first.'
        return
      }
      form.removeEventListener('submit', submit)
      gate.hidden = true
      setInert(false)
      resolve(value)
    }
    form.addEventListener('submit', submit)
  })
}

// ---- the inbox actor: room messages for this tab -------------------------------------------

async function inboxBody(ctx) {
  for (;;) {
    const msg = await ctx.receive()
    try {
      onInbox(msg)
    } catch (err) {
      console.error(err)
    }
  }
}

function onInbox(msg) {
  if (msg === null || typeof msg !== 'object' || typeof msg.room !== 'string') return
  const r = rooms.get(msg.room)
  // While a join is on its way, its room's news may come before the answer.
  if (r === undefined || (!r.joined && r.joining === null)) return
  if (msg.type === 'message') {
    addMessages(r, [msg])
    if (r.name !== selected && !msg.notice) r.unread++
    invalidate('chat', 'rooms')
  } else if (msg.type === 'members' && Array.isArray(msg.members)) {
    r.members = msg.members
    invalidate('chat')
  }
}

function entryKey(m) {
  return `${m.at}\u0000${m.nick ?? ''}\u0000${m.text}`
}

function addMessages(r, list) {
  const seen = new Set(r.messages.map(entryKey))
  for (const m of list) {
    if (m === null || typeof m !== 'object' || typeof m.text !== 'string' || typeof m.at !== 'number') continue
    const entry = { nick: String(m.nick ?? ''), text: m.text, at: m.at, notice: m.notice === true }
    const key = entryKey(entry)
    if (seen.has(key)) continue
    seen.add(key)
    r.messages.push(entry)
  }
  r.messages.sort((a, b) => a.at - b.at)
  if (r.messages.length > MESSAGE_LIMIT) r.messages.splice(0, r.messages.length - MESSAGE_LIMIT)
}

function localNotice(r, text) {
  addMessages(r, [{ nick: '', text, at: Date.now(), notice: true }])
}

// ---- rooms: create, join, post, leave, take over -----------------------------------------------

/** Create the room if its name is free, else join the one that holds it. */
async function openRoom(name) {
  const r = room(name)
  if (node.global.whereis(fullName(name)) !== undefined) return joinRoom(name)
  let pid
  let registered = false
  try {
    pid = node.spawn(roomActor(name, {
      Pid: lib.Pid,
      history: r.messages,
      opening: r.closed ? `${nick} took the room over` : undefined,
      onNotice: (notice) => onRoomNotice(name, pid, notice),
    }))
    registered = node.global.register(fullName(name), pid)
  } catch (err) {
    if (pid) node.exit(pid, 'not registered')
    toast(explain(err, 'Could not create the room'))
    return false
  }
  if (!registered) {
    // Someone holds the name already (or took it a moment ago): join theirs.
    node.exit(pid, 'name taken')
    return joinRoom(name)
  }
  r.owned = pid
  const pidNow = pid
  node.monitor(pid, () => {
    if (r.owned !== null && r.owned.equals(pidNow)) r.owned = null
    invalidate('rooms', 'chat')
  })
  selected = name
  return joinRoom(name)
}

function onRoomNotice(name, pid, notice) {
  const r = room(name)
  if (r.owned !== null && r.owned.equals(pid)) r.owned = null
  if (notice.flurry === 'name_conflict') {
    toast(`Another tab holds #${name}: joining it instead (name conflict)`, 'info')
  } else {
    toast(`The relay refused the room name #${name} (${notice.code ?? 'refused'})`)
    r.joined = false
  }
  invalidate('rooms', 'chat')
}

/** Join the room that holds `room:<name>` now; quiet joins (re-joins) do not toast. */
function joinRoom(name, { quiet = false } = {}) {
  const r = room(name)
  const full = fullName(name)
  const pid = node.global.whereis(full)
  if (r.joining !== null && (pid === undefined || (r.joiningPid !== null && r.joiningPid.equals(pid)))) return r.joining
  if (!quiet) selected = name
  const attempt = (async () => {
    try {
      const reply = await node.call(pid ?? full, { type: 'join', who: inbox, nick }, { timeoutMs: CALL_TIMEOUT_MS })
      if (reply === null || typeof reply !== 'object' || reply.ok !== true) {
        if (!quiet) toast('The room turned the request down')
        return false
      }
      r.pid = pid ?? node.global.whereis(full) ?? null
      r.joined = true
      r.closed = false
      addMessages(r, Array.isArray(reply.history) ? reply.history : [])
      r.members = Array.isArray(reply.members) ? reply.members : []
      if (name === selected) r.unread = 0
      return true
    } catch (err) {
      if (!quiet) toast(explain(err, 'Could not join the room'))
      if (!r.joined && !r.closed && r.owned === null && name === selected && !quiet) selected = null
      return false
    } finally {
      if (r.joining === attempt) {
        r.joining = null
        r.joiningPid = null
      }
      invalidate('rooms', 'chat')
    }
  })()
  r.joining = attempt
  r.joiningPid = pid ?? null
  invalidate('rooms', 'chat')
  return attempt
}

async function post(text) {
  const r = selected ? rooms.get(selected) : undefined
  if (r === undefined || !r.joined || r.closed) {
    toast('Join a room first')
    return false
  }
  try {
    const reply = await node.call(fullName(r.name), { type: 'post', nick, text }, { timeoutMs: CALL_TIMEOUT_MS })
    if (reply?.ok !== true) {
      toast('The room did not take the message')
      return false
    }
    return true
  } catch (err) {
    toast(explain(err, 'Could not send the message'))
    return false
  }
}

function leaveRoom(name) {
  const r = rooms.get(name)
  if (r === undefined) return
  if (r.joined && !r.closed && r.pid !== null) {
    try {
      node.send(r.pid, { type: 'leave', who: inbox })
    } catch (err) {
      toast(explain(err, 'Could not leave the room'))
    }
  }
  r.joined = false
  r.closed = false
  r.messages = []
  r.members = []
  r.unread = 0
  r.pid = null
  if (selected === name) selected = null
  invalidate('rooms', 'chat')
}

function closeOwnRoom(name) {
  const r = rooms.get(name)
  if (r?.owned == null) return
  try {
    node.exit(r.owned, 'closed by its owner')
  } catch (err) {
    toast(explain(err, 'Could not close the room'))
    return
  }
  r.owned = null
  leaveRoom(name)
}

async function takeOver(name) {
  const r = room(name)
  if (node.global.whereis(fullName(name)) !== undefined) return joinRoom(name)
  const ok = await openRoom(name)
  if (ok && r.owned !== null) toast(`You now own #${name}`, 'info')
  return ok
}

function selectRoom(name) {
  const r = room(name)
  selected = name
  r.unread = 0
  if (!r.joined && !r.closed) void joinRoom(name)
  invalidate('rooms', 'chat')
  if (matchMedia('(max-width: 700px)').matches) document.getElementById('chat').scrollIntoView({ behavior: 'smooth', block: 'start' })
}

const CLOSED_REASON = {
  nodedown: 'its owner tab went away',
  exit: 'its owner closed it',
  unregister: 'its owner gave up the name',
  refused: 'the relay refused its name',
  conflict: 'its name went to another claim',
}

function onRegister(name, pid) {
  logEvent('register', `${name} → ${pid.node}`)
  invalidate('names', 'nodes', 'rooms', 'chat')
  const s = shortName(name)
  if (s === null) return
  const r = rooms.get(s)
  // Reopened (taken over) or re-registered after an outage: join it (again).
  if (r !== undefined && (r.joined || r.closed)) {
    void joinRoom(s, { quiet: true })
  }
}

function onUnregister(name, pid, reason) {
  logEvent('unregister', `${name} (${reason})`)
  invalidate('names', 'nodes', 'rooms', 'chat')
  const s = shortName(name)
  if (s === null) return
  const r = rooms.get(s)
  if (r === undefined || !r.joined || r.pid === null || !r.pid.equals(pid)) return
  // A conflict hands the name to another claim at once (register follows).
  queueMicrotask(() => {
    if (node.global.whereis(name) !== undefined || !r.joined) return
    r.closed = true
    r.closedReason = CLOSED_REASON[reason] ?? 'its owner went away'
    localNotice(r, `Room closed: ${r.closedReason}`)
    invalidate('rooms', 'chat')
  })
}

// ---- nickname -------------------------------------------------------------------------------

function defaultNick(id) {
  const [name, hash] = splitId(id)
  return `${name}-${hash.slice(0, 4)}`
}

function setNick(value) {
  const next = cleanNick(value, defaultNick(node.id))
  byTestId('nick-input').value = next
  if (next === nick) return
  nick = next
  sessionStorage.setItem(NICK_KEY, next)
  claimNick()
  invalidate('nodes')
  for (const r of rooms.values()) if (r.joined && !r.closed) void joinRoom(r.name, { quiet: true })
  invalidate('chat')
}

// ---- wiring the page --------------------------------------------------------------------------

function wireUi() {
  const roomInput = byTestId('room-name-input')
  const roomSubmit = byTestId('room-submit')
  const updateSubmit = () => {
    const name = cleanRoomName(roomInput.value)
    const exists = name !== null && node.global.whereis(fullName(name)) !== undefined
    roomSubmit.textContent = exists ? 'Join' : 'Create'
  }
  roomInput.addEventListener('input', updateSubmit)
  node.global.on('register', updateSubmit)
  node.global.on('unregister', updateSubmit)
  byTestId('room-form').addEventListener('submit', (e) => {
    e.preventDefault()
    const raw = roomInput.value
    if (raw.trim() === '') {
      roomInput.focus()
      return
    }
    const name = cleanRoomName(raw)
    if (name === null) {
      toast('Room names are 1–32 letters, digits, - or _')
      return
    }
    roomInput.value = ''
    updateSubmit()
    void openRoom(name).then((ok) => {
      if (ok && !matchMedia('(max-width: 700px)').matches) byTestId('post-input').focus()
    })
  })

  const postInput = byTestId('post-input')
  byTestId('post-form').addEventListener('submit', (e) => {
    e.preventDefault()
    const text = postInput.value.trim()
    if (text === '') return
    postInput.value = ''
    void post(text).then((ok) => {
      if (!ok && postInput.value === '') postInput.value = text
    })
  })

  const nickInput = byTestId('nick-input')
  nickInput.addEventListener('change', () => setNick(nickInput.value))
  nickInput.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') nickInput.blur()
  })

  byTestId('leave-button').addEventListener('click', () => selected && leaveRoom(selected))
  byTestId('close-room-button').addEventListener('click', () => selected && closeOwnRoom(selected))
  byTestId('takeover-button').addEventListener('click', () => selected && void takeOver(selected))
  byTestId('dismiss-button').addEventListener('click', () => selected && leaveRoom(selected))
  byTestId('open-tab').addEventListener('click', () => window.open(location.href, '_blank'))
  // Phones: the event log opens as a drawer under the chat, both in view.
  const logToggle = byTestId('log-toggle')
  logToggle.addEventListener('click', () => {
    const open = document.body.classList.toggle('log-open')
    logToggle.setAttribute('aria-expanded', String(open))
    logToggle.textContent = open ? 'Hide log' : 'Log'
    if (open) byTestId('chat-panel').scrollIntoView({ block: 'start' })
  })
  byTestId('clear-log').addEventListener('click', () => {
    events.length = 0
    byTestId('event-log').replaceChildren()
  })

  for (const el of [roomInput, roomSubmit, postInput, nickInput]) el.disabled = false
  invalidate('chat')
}

function wireNode() {
  node.on('nodeup', (id) => {
    logEvent('nodeup', id)
    invalidate('nodes')
    // A room whose owner was out of sight may have dropped us: join it again.
    for (const r of rooms.values()) if (r.joined && !r.closed && r.pid?.node === id) void joinRoom(r.name, { quiet: true })
  })
  node.on('nodedown', (id, reason) => {
    logEvent('nodedown', `${id} (${reason})`)
    invalidate('nodes')
  })
  node.on('homeup', (id) => {
    homeId = id
    logEvent('homeup', id)
    setConn('online')
  })
  node.on('homedown', (id, reason) => {
    logEvent('homedown', `${id} (${reason})`)
    setConn('reconnecting')
  })
  node.global.on('register', onRegister)
  node.global.on('unregister', onUnregister)
  node.global.on('conflict', (name, winner, loser) => {
    logEvent('conflict', `${name} kept by ${winner.node}; this tab's claim (pid ${loser.id}) withdrawn`)
  })
}

async function boot() {
  try {
    lib = await import('/flurry.js')
  } catch {
    setConn('offline')
    noticeBar('Could not load Flurry from the relay. Is it running?', { label: 'Retry', run: () => location.reload() })
    throw new Error('no /flurry.js')
  }
  cookie = await findCookie()
  try {
    node = await lib.createNode({ name: 'tab', cookie })
  } catch (err) {
    noticeBar(explain(err, 'Could not start this tab’s node'))
    throw err
  }
  nick = cleanNick(sessionStorage.getItem(NICK_KEY), defaultNick(node.id))
  byTestId('nick-input').value = nick
  inbox = node.spawn(inboxBody)
  claimNick()
  wireNode()
  wireUi()
  invalidate('conn', 'rooms', 'chat', 'nodes', 'names')
  try {
    await node.join(lib.broadcastChannel(BUS_NAME))
  } catch (err) {
    toast(explain(err, 'Other tabs of this browser cannot be reached directly'))
  }
  invalidate('nodes', 'names', 'rooms')
  await connectHome()
  invalidate('conn', 'nodes', 'names', 'rooms')
}

boot().then(
  () => resolveReady(window.flurryDemo),
  (err) => rejectReady(err),
)
