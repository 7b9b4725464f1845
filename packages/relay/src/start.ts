/**
 * `npm start`: a relay on 127.0.0.1 (port 8080, or PORT / FLURRY_PORT) in development
 * mode, with a cookie generated for this run and printed. Fails with one line.
 */
import { randomBytes } from 'node:crypto'
import { startRelay } from './relay.js'

const portText = process.env.PORT ?? process.env.FLURRY_PORT ?? '8080'
const port = Number(portText)
if (!Number.isInteger(port) || port < 0 || port > 65535 || portText.trim() === '') {
  process.stderr.write(`flurry relay: PORT needs a port number from 0 to 65535 (got ${JSON.stringify(portText)})\n`)
  process.exit(2)
}
const cookie = process.env.FLURRY_COOKIE ?? randomBytes(12).toString('base64url')
const relay = await startRelay({
  host: '127.0.0.1',
  port,
  cookie,
  devCookie: cookie,
  logger: (level, message) => console.log(`${level.padEnd(5)} ${message}`),
}).catch((err: unknown) => {
  process.stderr.write(`flurry relay: ${(err as Error).message ?? String(err)}\n`)
  process.exit(1)
})
relay.node.on('nodeup', (id) => console.log(`event nodeup ${id}`))
relay.node.on('nodedown', (id, reason) => console.log(`event nodedown ${id} (${reason})`))
console.log(`Flurry relay ${relay.node.id}`)
console.log(`  open   ${relay.url}`)
console.log(`  cookie ${cookie}   (development: generated for this run)`)
const stop = () => void relay.close().then(() => process.exit(0))
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
