/**
 * One lightweight client session, written by hand from PROTOCOL.md §1-§7 (core's
 * session/session.ts and node/replication.ts are the reference): HELLO, the client's
 * PROOF first, the relay's PROOF checked, the relay's SYNC (purpose 0, maybe in parts)
 * and then our own slice as SYNC purpose 0; every PING answered with
 * PONG [5, ownClock, echoedPingClock]; names claimed and dropped with DELTAs stamped
 * honestly from the relay's clock. It decodes only the frames it needs (the type is
 * the second byte of a frame), so thousands of them fit in one process and the relay
 * is what a load run measures.
 *
 * `bare` mode is the baseline: a plain socket to a bare `ws` server, no handshake;
 * frames are sent the same way.
 */
import { randomBytes } from 'node:crypto'
import { WebSocket, type RawData } from 'ws'
import { decodeValue, encodeMessage, F, OP_DEL, OP_PUT, readDelta, readHello, readProof, readSync } from '@flurry/core/internals'
import { cookieMac, idOf, proofSignature, proofValid, type LoadIdentity } from './identity.js'
import { wallNow } from './wall.js'

const COUNTER_SPAN = 1024
const ROLE_CLIENT = 1
const SYNC_SESSION = 0
const SYNC_REPAIR = 2
const DEL_UNREGISTER = 0

/** What a watching client (the observer) is told, with the wall time the message arrived. */
export interface Watcher {
  put(name: string, owner: string, t: number): void
  del(name: string, owner: string, t: number): void
  /** The relay stopped counting `owner` (UNCOUNT) or replaced its slice with `names`. */
  owner(owner: string, names: string[] | null, t: number): void
}

export interface Tally {
  /** REFUSE_NAME by code. */
  refused: Record<string, number>
  /** ERROR frames by code. */
  errors: Record<string, number>
  /** Sessions that ended after admission, by reason. */
  closed: Record<string, number>
}

export function newTally(): Tally {
  return { refused: {}, errors: {}, closed: {} }
}

function bump(m: Record<string, number>, k: string): void {
  m[k] = (m[k] ?? 0) + 1
}

export class RawClient {
  readonly me: LoadIdentity
  readonly cookie: string
  readonly tally: Tally
  readonly watcher: Watcher | null
  socket: WebSocket | null = null
  admitted = false
  #bare = false
  #nonce = new Uint8Array(randomBytes(16))
  #relay: { id: string; key: Uint8Array; nonce: Uint8Array } | null = null
  #syncing = true
  /** Relay clock as last seen and our monotonic time then; the newest PING clock. */
  #seenMs = 0
  #seenAt = 0
  #pingMs = 0
  #lastStamp = 0
  /** Own slice: name -> stamp, and its seq. */
  #names = new Map<string, number>()
  #seq = 0
  #settle: ((err: Error | null) => void) | null = null

  constructor(me: LoadIdentity, cookie: string, tally: Tally, watcher: Watcher | null = null) {
    this.me = me
    this.cookie = cookie
    this.tally = tally
    this.watcher = watcher
  }

  get id(): string {
    return this.me.id
  }

  get open(): boolean {
    return this.socket !== null && this.socket.readyState === WebSocket.OPEN
  }

  /** Resolves once admitted (bare: once the socket is open); rejects on failure or after timeoutMs. */
  connect(url: string, timeoutMs: number, bare = false): Promise<void> {
    this.#bare = bare
    const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 64 * 1024 * 1024 })
    this.socket = ws
    ws.binaryType = 'nodebuffer'
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => finish(new Error('TIMEOUT')), timeoutMs)
      const finish = (err: Error | null): void => {
        if (this.#settle === null) return
        this.#settle = null
        clearTimeout(timer)
        if (err === null) resolve()
        else {
          ws.terminate()
          reject(err)
        }
      }
      this.#settle = finish
      ws.on('open', () => {
        if (bare) {
          this.admitted = true
          finish(null)
          return
        }
        this.#send([F.HELLO, 1, 1, this.me.id, this.me.publicKey, ROLE_CLIENT, null, this.#nonce, Date.now()])
      })
      ws.on('message', (data: RawData) => this.#onMessage(data as Buffer))
      ws.on('error', (err) => finish(new Error(`CONNECT_FAILED ${err.message}`)))
      ws.on('close', (code, reason) => {
        if (this.admitted) bump(this.tally.closed, `${code} ${reason.toString().slice(0, 40)}`.trim())
        finish(new Error(`CLOSED ${code} ${reason.toString()}`))
      })
    })
  }

  close(): void {
    this.socket?.terminate()
  }

  /** The relay's clock now, as this client reckons it: never below the newest PING. */
  clockMs(): number {
    return Math.max(this.#seenMs + (performance.now() - this.#seenAt), this.#pingMs)
  }

  #observe(ms: number): void {
    this.#seenMs = ms
    this.#seenAt = performance.now()
  }

  #stamp(): number {
    const at = Math.floor(this.clockMs()) * COUNTER_SPAN
    this.#lastStamp = at > this.#lastStamp ? at : this.#lastStamp + 1
    return this.#lastStamp
  }

  /** Claims `name` for pid 1; returns the wall time just before the frame left. */
  register(name: string): number {
    const at = this.#stamp()
    this.#names.set(name, at)
    return this.#delta([OP_PUT, name, 1, at])
  }

  unregister(name: string): number {
    if (!this.#names.delete(name)) return wallNow()
    return this.#delta([OP_DEL, name, DEL_UNREGISTER])
  }

  #delta(ops: unknown[]): number {
    const prev = this.#seq++
    const t = wallNow()
    this.#send([F.DELTA, this.me.id, prev, this.#seq, Math.floor(this.clockMs()), ops])
    return t
  }

  #ownSync(purpose: number): void {
    const flat: unknown[] = []
    for (const [name, at] of this.#names) flat.push(name, 1, at)
    this.#send([F.SYNC, purpose, false, Math.floor(this.clockMs()), [[this.me.id, this.#seq, ROLE_CLIENT, null, flat]]])
  }

  #send(frame: unknown[]): void {
    const ws = this.socket
    if (ws === null || ws.readyState !== WebSocket.OPEN) return
    ws.send(encodeMessage(frame))
  }

  #onMessage(data: Buffer): void {
    const t = wallNow()
    let pos = 0
    while (pos + 4 <= data.length) {
      const len = data.readUInt32BE(pos)
      const start = pos + 4
      pos = start + len
      if (len === 0 || pos > data.length) return
      // Every frame is a fixarray whose first element, the type, is a positive fixint.
      const head = data[start] as number
      const type = (head & 0xf0) === 0x90 ? (data[start + 1] as number) : -1
      if (!this.#wants(type)) continue
      try {
        this.#onFrame(decodeValue(data.subarray(start, pos)) as unknown[], t)
      } catch (err) {
        bump(this.tally.errors, `local ${(err as Error).message.slice(0, 60)}`)
      }
    }
  }

  #wants(type: number): boolean {
    if (this.watcher !== null || !this.admitted || type === -1) return true
    return type === F.PING || type === F.REFUSE_NAME || type === F.ERROR || type === F.GOODBYE || type === F.SLICE_REQ
  }

  #onFrame(f: unknown[], t: number): void {
    const type = f[0]
    switch (type) {
      case F.HELLO: {
        const h = readHello(f)
        if (idOf(h.id.slice(0, h.id.lastIndexOf('@')), h.key) !== h.id) return this.#settle?.(new Error('AUTH_FAILED relay id'))
        this.#relay = { id: h.id, key: h.key, nonce: h.nonce }
        this.#observe(h.clock)
        const mac = cookieMac(this.cookie, h.nonce, this.#nonce, this.me.id)
        this.#send([F.PROOF, mac, proofSignature(this.me, h.nonce, this.#nonce)])
        return
      }
      case F.PROOF: {
        if (this.#relay === null || !proofValid(this.cookie, readProof(f), this.#relay, this.#nonce)) {
          return this.#settle?.(new Error('AUTH_FAILED relay proof'))
        }
        return
      }
      case F.REFUSE:
        return this.#settle?.(new Error(`REFUSED ${String(f[1])}: ${String(f[2])}`))
      case F.SYNC: {
        const s = readSync(f)
        this.#observe(s.clock)
        if (this.watcher !== null) for (const c of s.chunks) this.#watchSlice(c.owner, c.names, t)
        if (!this.#syncing || s.more) return
        this.#syncing = false
        this.#ownSync(SYNC_SESSION)
        this.admitted = true
        this.#settle?.(null)
        return
      }
      case F.PING: {
        const clock = f[1] as number
        this.#observe(clock)
        if (clock > this.#pingMs) this.#pingMs = clock
        this.#send([F.PONG, Math.floor(this.clockMs()), clock])
        return
      }
      case F.REFUSE_NAME:
        bump(this.tally.refused, String(f[3]))
        return
      case F.ERROR:
        bump(this.tally.errors, String(f[1]))
        return
      case F.GOODBYE:
        bump(this.tally.closed, `goodbye ${String(f[1]).slice(0, 40)}`)
        return
      case F.SLICE_REQ:
        if (f[1] === this.me.id) this.#ownSync(SYNC_REPAIR)
        return
      case F.DELTA:
        if (this.watcher !== null) this.#watchDelta(f, t)
        return
      case F.UNCOUNT:
        // [UNCOUNT, owner, reason, owner, reason, …]: a home's departures in one frame.
        for (let i = 1; i < f.length; i += 2) this.watcher?.owner(String(f[i]), null, t)
        return
    }
  }

  #watchSlice(owner: string, flat: unknown[], t: number): void {
    const w = this.watcher as Watcher
    const names: string[] = []
    for (let i = 0; i < flat.length; i += 3) names.push(flat[i] as string)
    w.owner(owner, names, t)
    for (const n of names) w.put(n, owner, t)
  }

  #watchDelta(f: unknown[], t: number): void {
    const w = this.watcher as Watcher
    const d = this.#bare ? { owner: String(f[1]), ops: f[5] as unknown[] } : readDelta(f)
    const ops = d.ops
    for (let i = 0; i < ops.length; ) {
      const op = ops[i]
      if (op === OP_PUT) {
        w.put(ops[i + 1] as string, d.owner, t)
        i += 4
      } else if (op === OP_DEL) {
        w.del(ops[i + 1] as string, d.owner, t)
        i += 3
      } else i += op === 3 ? 2 : 3
    }
  }
}
