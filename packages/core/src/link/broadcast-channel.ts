/**
 * The BroadcastChannel bus: every same-origin tab, worker (and, in Node, every
 * worker_thread) that opens the same name is a member. Web Locks, where the platform
 * has them, give bus members liveness that survives throttled timers.
 */
import { FlurryError } from '../base/index.js'
import type { Bus, BusLocks, BusSpec } from './link.js'

export interface BroadcastChannelInit {
  /**
   * Use Web Locks for liveness where `navigator.locks` exists; false forces
   * heartbeats.
   * @default true
   */
  locks?: boolean
}

/**
 * A bus over `BroadcastChannel('flurry:<name>')`.
 * @example
 * await node.join(broadcastChannel('my-app'))
 */
export function broadcastChannel(name: string, init: BroadcastChannelInit = {}): BusSpec {
  return {
    kind: 'broadcast-channel',
    name,
    async open() {
      const Channel = (globalThis as { BroadcastChannel?: typeof BroadcastChannel }).BroadcastChannel
      if (Channel === undefined) throw new FlurryError('BAD_ARGUMENT', 'BroadcastChannel is not available here')
      const manager = (globalThis as { navigator?: { locks?: LockManager } }).navigator?.locks
      return channelBus(name, new Channel(`flurry:${name}`), init.locks !== false && manager ? webLocks(manager) : null)
    },
  }
}

function channelBus(name: string, channel: BroadcastChannel, locks: BusLocks | null): Bus {
  let closed = false
  const bus: Bus = {
    name,
    locks,
    onmessage: null,
    post(data) {
      if (closed) return
      // Structured clone copies the whole underlying buffer: post only the view's bytes.
      const whole = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength
      channel.postMessage(whole ? data : data.slice())
    },
    close() {
      if (closed) return
      closed = true
      channel.onmessage = null
      channel.close()
    },
  }
  channel.onmessage = (ev: MessageEvent) => {
    const data: unknown = ev.data
    if (!closed && data instanceof Uint8Array) bus.onmessage?.(data)
  }
  return bus
}

/** BusLocks over the Web Locks API; lock names are used as given. */
export function webLocks(manager: LockManager): BusLocks {
  return {
    hold(name) {
      return new Promise((granted, failed) => {
        let release!: () => void
        const held = new Promise<void>((resolve) => {
          release = resolve
        })
        manager
          .request(name, () => {
            granted({ release })
            return held
          })
          .catch(failed)
      })
    },
    watch(name, ondead) {
      const stop = new AbortController()
      manager
        .request(name, { signal: stop.signal }, () => {
          // Granted: the holder is gone. Returning releases the lock at once.
          if (!stop.signal.aborted) ondead()
        })
        .catch(() => {}) // aborted while waiting
      return () => stop.abort()
    },
    async held(prefix) {
      const { held = [] } = await manager.query()
      const names = new Set<string>()
      for (const lock of held) if (lock.name?.startsWith(prefix)) names.add(lock.name)
      return [...names]
    },
  }
}
