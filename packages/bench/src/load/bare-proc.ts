/**
 * The baseline server of a load run: a bare `ws` server on 127.0.0.1, port 0, that
 * accepts every connection and passes on every binary message to every socket, the
 * messages of one event-loop turn joined into one (frames are length-prefixed, so
 * they join as they are): what a relay does with its clients' deltas, minus
 * everything else a relay does. The sender gets its own back; load clients ignore it.
 * `node --expose-gc bare-proc.js`
 */
import { WebSocketServer, type WebSocket } from 'ws'
import { gc } from '../measure.js'
import { serve } from './serve.js'

const sockets = new Set<WebSocket>()
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, path: '/flurry', perMessageDeflate: false })
await new Promise<void>((resolve) => wss.once('listening', () => resolve()))
wss.on('connection', (ws) => {
  sockets.add(ws)
  ws.on('error', () => {})
  ws.on('close', () => sockets.delete(ws))
  ws.on('message', (data, isBinary) => {
    if (!isBinary) return
    pending.push(data as Buffer)
    if (pending.length === 1) setImmediate(flush)
  })
})

let pending: Buffer[] = []
function flush(): void {
  const out = pending.length === 1 ? (pending[0] as Buffer) : Buffer.concat(pending)
  pending = []
  for (const s of sockets) s.send(out)
}

const { port } = wss.address() as { port: number }
serve(
  {
    gc: () => {
      gc()
      return true
    },
    health: () => ({ sockets: sockets.size }),
  },
  { url: `ws://127.0.0.1:${port}/flurry` },
)
