/**
 * The baseline server of a load run: a bare `ws` server on 127.0.0.1, port 0, that
 * accepts every connection and passes every binary message to every other socket
 * (what a relay does with a client's delta, minus everything else a relay does).
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
    for (const other of sockets) if (other !== ws) other.send(data)
  })
})

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
