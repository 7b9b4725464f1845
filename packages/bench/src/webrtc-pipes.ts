/**
 * The byte pipes the WebRTC benchmark compares, opened between this process and the
 * echo process (webrtc-echo.ts), which runs the other end of the same kind:
 * - 'datachannel': node-datachannel's own API (PeerConnection, DataChannel), no polyfill;
 * - 'link': a Flurry Link from `@flurry/webrtc` (simple-peer sets it up, then the Link
 *   sends and receives on the RTCDataChannel itself);
 * - 'stream': simple-peer's own stream layer (`peer.send`, 'data' events) over the
 *   same polyfill, to show what it would cost on the path of every message;
 * - 'ws': a `ws` WebSocket, for reference.
 * Signaling goes over the IPC channel to the echo process. Everything on 127.0.0.1.
 */
import { webrtc } from '@flurry/webrtc'
import { PeerConnection } from 'node-datachannel'
import type { DataChannel } from 'node-datachannel'
import { RTCIceCandidate, RTCPeerConnection, RTCSessionDescription } from 'node-datachannel/polyfill'
import SimplePeer from 'simple-peer'
import { WebSocket } from 'ws'

export type PipeKind = 'datachannel' | 'link' | 'stream' | 'ws'

/** One open pipe, seen the same way whatever it is. */
export interface Pipe {
  send(data: Uint8Array): void
  onmessage: (data: Uint8Array) => void
  bufferedAmount(): number
  close(): void
}

/** What goes over IPC between the two processes. */
export type Signal =
  | { open: PipeKind }
  | { sig: unknown }
  | { port: number }
  | { close: true }

/** The signaling route: send to the other process; `onsignal` takes what it sends. */
export interface Signaling {
  send(m: Signal): void
  onsignal: ((data: unknown) => void) | null
}

const BIND = '127.0.0.1'

/** node-datachannel's own descriptions and candidates, as plain objects. */
type NativeSignal = { sdp: string; type: string } | { candidate: string; mid: string }

/**
 * A raw data channel. The offerer holds its candidates until the answer came, as
 * `@flurry/webrtc` does (without that, a DTLS hello can reach the offerer first).
 */
export function openDataChannel(initiator: boolean, signaling: Signaling): Promise<Pipe> {
  const pc = new PeerConnection(initiator ? 'bench-a' : 'bench-b', { iceServers: [], bindAddress: BIND })
  let held: NativeSignal[] | null = initiator ? [] : null
  pc.onLocalDescription((sdp, type) => signaling.send({ sig: { sdp, type } }))
  pc.onLocalCandidate((candidate, mid) => {
    if (held !== null) held.push({ candidate, mid })
    else signaling.send({ sig: { candidate, mid } })
  })
  signaling.onsignal = (data) => {
    const s = data as NativeSignal
    if ('sdp' in s) {
      pc.setRemoteDescription(s.sdp, s.type as 'offer')
      if (held !== null) for (const c of held.splice(0)) signaling.send({ sig: c })
      held = null
    } else pc.addRemoteCandidate(s.candidate, s.mid)
  }
  return new Promise((resolve) => {
    const ready = (dc: DataChannel): void => {
      const pipe: Pipe = {
        send: (data) => dc.sendMessageBinary(data),
        onmessage: () => {},
        bufferedAmount: () => dc.bufferedAmount(),
        close: () => {
          dc.close()
          pc.close()
        },
      }
      dc.onMessage((m) => {
        if (typeof m !== 'string') pipe.onmessage(m instanceof ArrayBuffer ? new Uint8Array(m) : (m as Uint8Array))
      })
      resolve(pipe)
    }
    if (initiator) {
      const dc = pc.createDataChannel('bench')
      dc.onOpen(() => ready(dc))
    } else pc.onDataChannel((dc) => ready(dc))
  })
}

export async function openLink(initiator: boolean, signaling: Signaling): Promise<Pipe> {
  const attempt = webrtc({ bindAddress: BIND }).open({ initiator, send: (sig) => signaling.send({ sig }) })
  signaling.onsignal = (data) => attempt.receive(data)
  const link = await attempt.link
  const pipe: Pipe = {
    send: (data) => link.send(data),
    onmessage: () => {},
    bufferedAmount: () => link.bufferedAmount,
    close: () => link.close('bench over'),
  }
  link.onmessage = (data) => pipe.onmessage(data)
  return pipe
}

/** The polyfill's peer connection with plain descriptions, which simple-peer rewrites. */
class PlainPeerConnection extends RTCPeerConnection {
  override async createOffer(): Promise<RTCSessionDescriptionInit> {
    const { type, sdp } = await super.createOffer()
    return { type, sdp }
  }
  override async createAnswer(): Promise<RTCSessionDescriptionInit> {
    const { type, sdp } = await super.createAnswer()
    return { type, sdp }
  }
}

/** simple-peer used as its README shows: `send`, and 'data' events of its stream. */
export function openStream(initiator: boolean, signaling: Signaling): Promise<Pipe> {
  const peer = new SimplePeer({
    initiator,
    config: { iceServers: [], bindAddress: BIND } as RTCConfiguration,
    wrtc: { RTCPeerConnection: PlainPeerConnection, RTCSessionDescription, RTCIceCandidate } as unknown as SimplePeer.Options['wrtc'],
    iceCompleteTimeout: 100,
  })
  // Candidates trickle after the answer only (see openDataChannel); none inside the SDP.
  let held: unknown[] | null = initiator ? [] : null
  peer.on('signal', (data: { type: string; sdp?: string }) => {
    if (data.type === 'candidate' && held !== null) held.push(data)
    else signaling.send({ sig: data.sdp === undefined ? data : { ...data, sdp: data.sdp.replace(/^a=(candidate|end-of-candidates).*\r\n/gm, '') } })
  })
  signaling.onsignal = (data) => {
    peer.signal(data as SimplePeer.SignalData)
    if ((data as { type?: string }).type === 'answer' && held !== null) for (const sig of held.splice(0)) signaling.send({ sig })
    if ((data as { type?: string }).type === 'answer') held = null
  }
  peer.on('error', () => {})
  return new Promise((resolve) => {
    peer.once('connect', () => {
      const channel = (peer as unknown as { _channel: { bufferedAmount: number } })._channel
      const pipe: Pipe = {
        send: (data) => peer.send(data),
        onmessage: () => {},
        bufferedAmount: () => channel.bufferedAmount,
        close: () => peer.destroy(),
      }
      peer.on('data', (data: Uint8Array) => pipe.onmessage(data))
      resolve(pipe)
    })
  })
}

export function wsPipe(socket: WebSocket): Pipe {
  const pipe: Pipe = {
    send: (data) => socket.send(data),
    onmessage: () => {},
    bufferedAmount: () => socket.bufferedAmount,
    close: () => socket.terminate(),
  }
  socket.on('message', (data: Buffer) => pipe.onmessage(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)))
  return pipe
}

/** The dialing side of the ws pipe: the echo process listens and tells its port. */
export async function dialWs(port: number): Promise<Pipe> {
  const socket = new WebSocket(`ws://${BIND}:${port}`, { perMessageDeflate: false })
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve())
    socket.once('error', reject)
  })
  return wsPipe(socket)
}
