/**
 * The far process of the WebRTC benchmark (forked by webrtc.ts): opens the pipe it is
 * asked for and answers on it. First byte of a message: PING is sent back as it came;
 * BULK is counted; END is answered with END and the count since the last END.
 */
import type { AddressInfo } from 'node:net'
import { WebSocketServer } from 'ws'
import { openDataChannel, openLink, openStream, wsPipe } from './webrtc-pipes.js'
import type { Pipe, Signal, Signaling } from './webrtc-pipes.js'
import { BULK, END, PING } from './webrtc-protocol.js'

const send = (m: Signal): void => {
  process.send?.(m)
}
const signaling: Signaling = { send, onsignal: null }
let pipe: Pipe | null = null
let server: WebSocketServer | null = null

function serve(p: Pipe): void {
  pipe = p
  let count = 0
  p.onmessage = (data) => {
    const tag = data[0]
    if (tag === PING) p.send(data)
    else if (tag === BULK) count++
    else if (tag === END) {
      const reply = new Uint8Array(5)
      reply[0] = END
      new DataView(reply.buffer).setUint32(1, count)
      count = 0
      p.send(reply)
    }
  }
}

process.on('message', (m: Signal) => {
  if ('sig' in m) signaling.onsignal?.(m.sig)
  else if ('open' in m) {
    if (m.open === 'datachannel') void openDataChannel(false, signaling).then(serve)
    else if (m.open === 'link') void openLink(false, signaling).then(serve)
    else if (m.open === 'stream') void openStream(false, signaling).then(serve)
    else {
      server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false })
      server.once('connection', (socket) => serve(wsPipe(socket)))
      server.once('listening', () => send({ port: (server?.address() as AddressInfo).port }))
    }
  } else if ('close' in m) {
    pipe?.close()
    pipe = null
    server?.close()
    server = null
  }
})
// Its parent gone, it goes too.
process.on('disconnect', () => process.exit(0))
