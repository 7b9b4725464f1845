// The room actor of the Flurry demo: one per room, owned by the tab (or Node process)
// that created it and registered globally as `room:<name>`.
//
// Messages it handles (sent with node.send, or node.call to get an answer):
//   { type: 'join', who: Pid, nick }   -> reply { ok, room, history, members }
//   { type: 'post', nick, text }       -> reply { ok, at }
//   { type: 'leave', who: Pid }        -> reply { ok }
//   { type: 'history' }                -> reply [{ nick, text, at, notice? }]
//   { type: 'members' }                -> reply [{ nick, pid }]
// It sends every member (the `who` pids, usually a tab's inbox actor):
//   { type: 'message', room, nick, text, at }      a post
//   { type: 'message', room, text, at, notice: true } someone came or went
//   { type: 'members', room, members: [{ nick, pid }] }
// It ends on { flurry: 'name_conflict' | 'name_refused', ... }: the name is not its.
//
// No DOM and no imports: the browser app and demo/node-peer.mjs both use it.

export const ROOM_PREFIX = 'room:'
export const HISTORY_SIZE = 50
export const MAX_TEXT = 500
export const MAX_NICK = 32
export const NAME_RE = /^[a-z0-9][a-z0-9_-]{0,31}$/

// A member's monitor tells the room with this type: a Symbol cannot cross the wire,
// so no one else can send it.
const GONE = Symbol('gone')

/** 'Lobby ' -> 'lobby'; null when it is not a usable room name. */
export function cleanRoomName(input) {
  const name = String(input ?? '').trim().toLowerCase().replace(/^room:/, '').replace(/\s+/g, '-')
  return NAME_RE.test(name) ? name : null
}

export function cleanNick(input, fallback) {
  const nick = String(input ?? '').replace(/\s+/g, ' ').trim().slice(0, MAX_NICK)
  return nick === '' ? fallback : nick
}

/**
 * The body of a room actor, for node.spawn.
 * @param {string} room the room's short name ('lobby' for 'room:lobby')
 * @param {object} deps
 * @param {Function} deps.Pid the Pid class of the bundle in use
 * @param {Array} [deps.history] messages to start with (a take-over keeps what the tab saw)
 * @param {string} [deps.opening] a notice to open with ('alice took the room over')
 * @param {(notice: object) => void} [deps.onNotice] told when the name is lost, before the actor ends
 */
export function roomActor(room, { Pid, history = [], opening, onNotice = () => {} }) {
  return async (ctx) => {
    const node = ctx.node
    const log = history.filter(isEntry).slice(-HISTORY_SIZE)
    /** pid string -> { pid, nick, off } */
    const members = new Map()

    const memberList = () => [...members.values()].map((m) => ({ nick: m.nick, pid: m.pid }))
    const broadcast = (msg) => {
      for (const m of members.values()) {
        try {
          ctx.send(m.pid, msg)
        } catch {
          // A member that cannot be reached is dropped by its monitor.
        }
      }
    }
    const remember = (entry) => {
      log.push(entry)
      if (log.length > HISTORY_SIZE) log.splice(0, log.length - HISTORY_SIZE)
    }
    const notice = (text) => {
      const entry = { nick: '', text, at: Date.now(), notice: true }
      remember(entry)
      broadcast({ type: 'message', room, ...entry })
    }
    const membersChanged = () => broadcast({ type: 'members', room, members: memberList() })
    const drop = (key, why) => {
      const m = members.get(key)
      if (m === undefined) return
      members.delete(key)
      m.off()
      notice(`${m.nick} ${why}`)
      membersChanged()
    }
    // ctx.reply only works while handling a call; a plain send gets no answer.
    const answer = (value) => {
      try {
        ctx.reply(value)
      } catch {
        // not a call
      }
    }

    if (typeof opening === 'string' && opening !== '') notice(opening)
    try {
      for (;;) {
        const msg = await ctx.receive()
        if (msg === null || typeof msg !== 'object') continue
        if (msg.flurry === 'name_conflict' || msg.flurry === 'name_refused') {
          onNotice(msg)
          return
        }
        switch (msg.type) {
          case 'join': {
            if (!(msg.who instanceof Pid)) {
              answer({ ok: false, error: 'join needs who: a Pid' })
              break
            }
            const key = msg.who.toString()
            const nick = cleanNick(msg.nick, msg.who.node.split('@')[0])
            const known = members.get(key)
            let news = null
            if (known === undefined) {
              const who = msg.who
              const off = node.monitor(who, () => ctx.send(ctx.self, { type: GONE, key }))
              members.set(key, { pid: who, nick, off })
              news = `${nick} joined`
            } else if (known.nick !== nick) {
              news = `${known.nick} is now ${nick}`
              known.nick = nick
            }
            // The answer first (history so far), then the news to everyone: the
            // newcomer sees its own arrival once, after the history.
            answer({ ok: true, room, history: log.slice(), members: memberList() })
            if (news !== null) {
              notice(news)
              membersChanged()
            }
            break
          }
          case 'post': {
            const text = String(msg.text ?? '').trim().slice(0, MAX_TEXT)
            if (text === '') {
              answer({ ok: false, error: 'empty message' })
              break
            }
            const entry = { nick: cleanNick(msg.nick, 'anonymous'), text, at: Date.now() }
            remember(entry)
            broadcast({ type: 'message', room, ...entry })
            answer({ ok: true, at: entry.at })
            break
          }
          case 'leave': {
            if (msg.who instanceof Pid) drop(msg.who.toString(), 'left')
            answer({ ok: true })
            break
          }
          case GONE:
            drop(msg.key, 'went away')
            break
          case 'history':
            answer(log.slice())
            break
          case 'members':
            answer(memberList())
            break
          default:
            answer({ ok: false, error: `unknown message type ${String(msg.type)}` })
        }
      }
    } finally {
      for (const m of members.values()) m.off()
    }
  }
}

function isEntry(e) {
  return e !== null && typeof e === 'object' && typeof e.text === 'string' && typeof e.at === 'number'
}
