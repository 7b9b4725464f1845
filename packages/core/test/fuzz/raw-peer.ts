/**
 * The fuzzer's end of a link: a hand-made protocol speaker that completes a real
 * handshake (HELLO, then PROOF with a real identity and cookie) and then sends
 * whatever bytes it is given. It reads what the target sends back, so the oracle can
 * check every REFUSE / ERROR / REFUSE_NAME code, and learns ids to aim frames at.
 */
import { seededRandom } from '../../src/base/random.js'
import type { Link } from '../../src/link/link.js'
import type { MemoryLane, MemoryScheduler } from '../../src/link/memory.js'
import type { Identity } from '../../src/session/identity.js'
import { cookieMac, identityChallenge } from '../../src/session/proof.js'
import { encodeMessage, readFrames } from '../../src/wire/codec.js'
import { F, ROLE_CLIENT, ROLE_PEER, helloFrame, proofFrame } from '../../src/wire/frames.js'

export interface RawPeerInit {
  link: Link
  identity: Identity
  role: 'peer' | 'client'
  cookie: string
  seed: number
  /** Answer the target's HELLO with our PROOF (costs a signature and the target a verify). @default true */
  prove?: boolean
  /** Every frame the target sent, decoded (or `null` when the bytes did not parse). */
  onframe?: (frame: unknown[] | null, peer: RawPeer) => void
}

/** Settles once the handshake is over: open, or the link closed first. */
export function handshakeOver(peer: RawPeer, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs)
    const done = (): void => {
      clearTimeout(timer)
      resolve(peer.open)
    }
    if (peer.open || peer.closed) return done()
    peer.onsettled = done
  })
}

export class RawPeer {
  readonly init: RawPeerInit
  readonly nonce: Uint8Array
  remoteId = ''
  remoteNonce: Uint8Array | null = null
  proved = false
  /** The target's PROOF arrived (we do not check it: the target is what is tested). */
  open = false
  closed = false
  closeReason = ''
  received = 0
  /** Called once, when the handshake finished or the link closed. */
  onsettled: (() => void) | null = null

  constructor(init: RawPeerInit) {
    this.init = init
    this.nonce = seededRandom(init.seed)(16)
    init.link.onmessage = (data) => this.#onMessage(data)
    init.link.onclose = (reason) => {
      this.closed = true
      this.closeReason = reason
      this.#settled()
    }
    this.sendFrame(
      helloFrame({
        vMin: 1,
        vMax: 1,
        id: init.identity.id,
        key: init.identity.publicKey,
        role: init.role === 'peer' ? ROLE_PEER : ROLE_CLIENT,
        url: init.role === 'peer' ? 'memory://fuzzer' : null,
        nonce: this.nonce,
        clock: Date.now(),
      }),
    )
  }

  send(bytes: Uint8Array): void {
    this.init.link.send(bytes)
  }

  sendFrame(frame: unknown[]): void {
    this.send(encodeMessage(frame))
  }

  close(): void {
    this.init.link.close('fuzzer done')
  }

  #onMessage(data: Uint8Array): void {
    const frames: Array<unknown[] | null> = []
    try {
      readFrames(data, 1 << 30, (f) => frames.push(Array.isArray(f) ? f : null))
    } catch {
      frames.push(null)
    }
    for (const f of frames) {
      this.received++
      if (f !== null && !this.open) this.#handshake(f)
      this.init.onframe?.(f, this)
    }
  }

  #handshake(f: unknown[]): void {
    if (f[0] === F.HELLO && this.remoteNonce === null && f[7] instanceof Uint8Array && typeof f[3] === 'string') {
      this.remoteNonce = f[7]
      this.remoteId = f[3]
      if (this.init.prove !== false) this.#prove()
    } else if (f[0] === F.PROOF && this.remoteNonce !== null) {
      this.open = true
      this.#settled()
    }
  }

  #settled(): void {
    const fn = this.onsettled
    this.onsettled = null
    fn?.()
  }

  #prove(): void {
    const id = this.init.identity
    const theirs = this.remoteNonce as Uint8Array
    this.sendFrame(proofFrame(cookieMac(this.init.cookie, theirs, this.nonce, id.id), id.sign(identityChallenge(theirs, this.nonce))))
    this.proved = true
  }
}

/**
 * Memory-link deliveries run only when drained: the fuzzer decides when the target
 * sees an input, and anything a receiver throws is caught here and reported (it
 * would otherwise escape into the transport).
 */
export class QueueScheduler implements MemoryScheduler {
  readonly #tasks: Array<() => void> = []
  onthrow: (err: unknown) => void = (err) => {
    throw err
  }

  enqueue(_lane: MemoryLane, task: () => void): void {
    this.#tasks.push(task)
  }

  get pending(): number {
    return this.#tasks.length
  }

  /** Runs queued deliveries (and those they queue), at most `limit`; returns how many ran. */
  drain(limit = 10_000): number {
    let ran = 0
    while (this.#tasks.length > 0 && ran < limit) {
      const task = this.#tasks.shift() as () => void
      ran++
      try {
        task()
      } catch (err) {
        this.onthrow(err)
      }
    }
    return ran
  }
}
