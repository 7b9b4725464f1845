/**
 * `npm start`: a relay on 127.0.0.1 (port 8080, or PORT) in development mode, with a
 * cookie generated for this run and printed.
 */
import { randomBytes } from 'node:crypto'
import { startRelay } from './relay.js'

const port = Number(process.env.PORT ?? 8080)
const cookie = process.env.FLURRY_COOKIE ?? randomBytes(12).toString('base64url')
const relay = await startRelay({
  host: '127.0.0.1',
  port,
  cookie,
  devCookie: cookie,
  logger: (level, message) => console.log(`${level.padEnd(5)} ${message}`),
})
relay.node.on('nodeup', (id) => console.log(`event nodeup ${id}`))
relay.node.on('nodedown', (id, reason) => console.log(`event nodedown ${id} (${reason})`))
console.log(`Flurry relay ${relay.node.id}`)
console.log(`  open   ${relay.url}`)
console.log(`  cookie ${cookie}   (development: generated for this run)`)
const stop = () => void relay.close().then(() => process.exit(0))
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
