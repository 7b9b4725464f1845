#!/usr/bin/env node
// A Node process in the demo's chat: joins (or creates) a room by name through the
// relay, prints what is said there, and posts each line typed on stdin.
//
//   FLURRY_COOKIE=<cookie> node demo/node-peer.mjs [room] [nick] [ws://127.0.0.1:8080/flurry]
//
// The cookie is the one `npm start` prints. Ctrl-D or Ctrl-C leaves.
import { createInterface } from 'node:readline'
import { Pid, createNode, isFlurryError } from '@flurry/core'
import { dialWebSocket } from '@flurry/ws'
import { ROOM_PREFIX, cleanRoomName, roomActor } from './public/room.js'

const [roomArg = 'lobby', nickArg = 'node-peer', url = 'ws://127.0.0.1:8080/flurry'] = process.argv.slice(2)
const cookie = process.env.FLURRY_COOKIE
const room = cleanRoomName(roomArg)
if (!cookie || room === null) {
  console.error('usage: FLURRY_COOKIE=<cookie> node demo/node-peer.mjs [room] [nick] [relay ws url]')
  process.exit(2)
}
const name = ROOM_PREFIX + room
const short = (err) => (isFlurryError(err) ? `${err.message} (${err.code})` : String(err))

const node = await createNode({ name: 'node-peer', cookie })
const inbox = node.spawn(async (ctx) => {
  for (;;) {
    const msg = await ctx.receive()
    if (msg?.type === 'message') {
      const at = new Date(msg.at).toTimeString().slice(0, 5)
      console.log(msg.notice ? `${at}   — ${msg.text}` : `${at} ${msg.nick}: ${msg.text}`)
    }
  }
})

try {
  console.log(`connected to ${await node.connect(dialWebSocket(url))}`)
} catch (err) {
  console.error(`cannot connect: ${short(err)}`)
  process.exit(1)
}
// The demo's tabs show this process by its nickname (see nickOf in public/app.js).
node.global.register(`who:${node.id}:${nickArg}`, inbox)

async function join() {
  if (node.global.whereis(name) === undefined) {
    const pid = node.spawn(roomActor(room, { Pid, onNotice: (n) => console.log(`lost ${name}: ${n.flurry}`) }))
    if (node.global.register(name, pid)) console.log(`created ${name}, owned by this process`)
    else node.exit(pid, 'name taken')
  }
  const reply = await node.call(name, { type: 'join', who: inbox, nick: nickArg })
  for (const m of reply.history ?? []) console.log(m.notice ? `        — ${m.text}` : `        ${m.nick}: ${m.text}`)
  console.log(`joined ${name} as ${nickArg} (${reply.members.length} members); type to post`)
}

// Follow the room when another node takes it over. A room this process creates is
// joined by join() itself: following that registration too would join it twice.
node.global.on('register', (n, pid) => {
  if (n === name && pid.node !== node.id) join().catch((err) => console.error(`cannot rejoin: ${short(err)}`))
})
let leaving = false
node.global.on('unregister', (n, _pid, reason) => {
  if (n === name && !leaving) console.log(`${name} closed (${reason})`)
})

try {
  await join()
} catch (err) {
  console.error(`cannot join: ${short(err)}`)
}

const lines = createInterface({ input: process.stdin })
lines.on('line', (text) => {
  if (text.trim() === '') return
  node.call(name, { type: 'post', nick: nickArg, text }).catch((err) => console.error(short(err)))
})
const stop = () => {
  leaving = true
  void node.close().then(() => process.exit(0))
}
lines.on('close', stop)
process.on('SIGINT', stop)
