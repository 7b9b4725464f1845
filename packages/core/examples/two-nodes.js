// Two nodes in one process, joined over a BroadcastChannel: one names an actor, the
// other calls it by name, then the owner closes and the name disappears.
// Run: npm run example (after npm install)
import { broadcastChannel, createNode } from '@flurry/core'

const say = (who, what) => console.log(`${who.padEnd(6)} ${what}`)
const channel = `example-${process.pid}`

const owner = await createNode({ name: 'owner', cookie: 'example' })
const caller = await createNode({ name: 'caller', cookie: 'example' })
await owner.join(broadcastChannel(channel))
await caller.join(broadcastChannel(channel))
say('owner', `is ${owner.id}; sees ${owner.nodes().join(', ')}`)

caller.global.on('register', (name, pid) => say('caller', `sees ${name} -> ${pid}`))
caller.global.on('unregister', (name, pid, reason) => say('caller', `lost ${name} (${reason})`))
caller.on('nodedown', (id, reason) => say('caller', `nodedown ${id} (${reason})`))

const greeter = owner.spawn(async (ctx) => {
  for (;;) {
    const msg = await ctx.receive()
    ctx.reply(`hello, ${msg.who}, from ${ctx.self}`)
  }
})
say('owner', `registers room:lobby -> ${owner.global.register('room:lobby', greeter)}`)

const deadline = Date.now() + 5000
while (caller.global.whereis('room:lobby') === undefined) {
  if (Date.now() > deadline) throw new Error('the name did not arrive within 5 s')
  await new Promise((r) => setTimeout(r, 10))
}
say('caller', `calls room:lobby: ${await caller.call('room:lobby', { who: 'caller' })}`)

say('owner', 'closes')
await owner.close()
while (caller.global.whereis('room:lobby') !== undefined) {
  if (Date.now() > deadline + 5000) throw new Error('the name did not go within 5 s')
  await new Promise((r) => setTimeout(r, 10))
}
try {
  caller.send('room:lobby', 'anyone?')
} catch (err) {
  say('caller', `send to room:lobby now fails: ${err.code}`)
}
await caller.close()
