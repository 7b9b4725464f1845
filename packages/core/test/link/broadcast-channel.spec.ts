import { execFileSync, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { broadcastChannel, webLocks } from '../../src/link/broadcast-channel.js'
import { settle, waitFor } from '../../src/testing/index.js'
import { busSuite } from '../../src/testing/suites.js'

let channels = 0
/** A bus name no other test uses: BroadcastChannel reaches every thread of the process. */
const fresh = (): string => `test-${process.pid}-${++channels}`

busSuite('BroadcastChannel', async (n) => {
  const spec = broadcastChannel(fresh())
  const buses = await Promise.all(Array.from({ length: n }, () => spec.open()))
  return { buses, cleanup: async () => buses.forEach((bus) => bus.close()) }
})

const builtModule = fileURLToPath(new URL('../../dist/link/broadcast-channel.js', import.meta.url))

describe('broadcastChannel', () => {
  const cleanups: Array<() => unknown> = []
  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn()
  })

  it('opens flurry:<name> and ignores data that is not bytes', async () => {
    const name = fresh()
    const spec = broadcastChannel(name)
    expect(spec.kind).toBe('broadcast-channel')
    expect(spec.name).toBe(name)
    const bus = await spec.open()
    cleanups.push(() => bus.close())
    expect(bus.name).toBe(name)
    const raw = new BroadcastChannel(`flurry:${name}`)
    cleanups.push(() => raw.close())
    const rawGot: unknown[] = []
    raw.onmessage = (ev: MessageEvent) => rawGot.push(ev.data)
    const got: Uint8Array[] = []
    bus.onmessage = (data) => got.push(data)

    raw.postMessage('text')
    raw.postMessage({ not: 'bytes' })
    raw.postMessage(new Uint8Array([9]))
    bus.post(new Uint8Array([1, 2]))
    await waitFor(() => got.length >= 1 && rawGot.length >= 1, 'a message each way')
    await settle()
    expect(got.map((d) => [...d])).toEqual([[9]])
    expect(rawGot.map((d) => [...(d as Uint8Array)])).toEqual([[1, 2]])
  })

  it('has locks only where navigator.locks exists, and none when asked', async () => {
    const bus = await broadcastChannel(fresh()).open()
    cleanups.push(() => bus.close())
    const platform = (globalThis as { navigator?: { locks?: unknown } }).navigator?.locks
    expect(bus.locks === null).toBe(platform === undefined)
    const none = await broadcastChannel(fresh(), { locks: false }).open()
    cleanups.push(() => none.close())
    expect(none.locks).toBeNull()
  })

  describe('across processes and threads (built dist)', () => {
    // A worker and a child process load the built module: build it when it is missing.
    beforeAll(() => {
      if (!existsSync(builtModule)) execFileSync('npx', ['tsc', '-b', '--force'], { cwd: fileURLToPath(new URL('../..', import.meta.url)), stdio: 'inherit', timeout: 120_000 })
      if (!existsSync(builtModule)) throw new Error(`${builtModule} is missing after tsc -b --force: run \`npm run build\` first`)
    }, 130_000)

    it('reaches a member in a worker_thread, both ways', async () => {
      const name = fresh()
      const bus = await broadcastChannel(name).open()
      cleanups.push(() => bus.close())
      const got: number[][] = []
      bus.onmessage = (data) => got.push([...data])

      const worker = new Worker(new URL('./bus-worker.mjs', import.meta.url), { workerData: { name } })
      let ready = false
      let exited: number | undefined
      worker.on('message', (m) => (ready = m === 'ready'))
      worker.on('exit', (code) => (exited = code))
      cleanups.push(() => worker.terminate())

      await waitFor(() => ready && got.length === 1, 'the worker joined and said hello')
      expect(got[0]).toEqual([0xaa])
      bus.post(new Uint8Array([1, 2, 3]))
      await waitFor(() => got.length === 2, 'the echo from the worker')
      expect(got[1]).toEqual([0xee, 1, 2, 3])

      bus.post(new Uint8Array([0]))
      await waitFor(() => exited !== undefined, 'the worker to exit once its bus is closed')
      expect(exited).toBe(0)
    })

    /** Runs a Node script using the built bus; resolves with its exit code, or null if still running. */
    async function runScript(script: string, watchMs: number): Promise<number | null> {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'ignore' })
      let code: number | null = null
      let done = false
      child.on('exit', (c) => {
        code = c
        done = true
      })
      cleanups.push(() => {
        if (!done) child.kill()
      })
      try {
        await waitFor(() => done, 'the script to exit', watchMs)
      } catch {
        return null
      }
      return code
    }

    const opening = `import { broadcastChannel } from ${JSON.stringify(builtModule)}
const bus = await broadcastChannel('exit-test-' + process.pid).open()
bus.onmessage = () => {}`

    it('an open bus keeps a process alive; a closed one lets it exit', async () => {
      expect(await runScript(`${opening}\nbus.close()`, 10_000)).toBe(0)
      // Still running after a while: the open bus holds it (the cleanup kills it).
      expect(await runScript(opening, 500)).toBeNull()
    })
  })
})

/** An in-memory LockManager with exclusive locks only: enough to drive webLocks. */
function fakeLockManager(): LockManager {
  type Waiter = { run: () => void; signal?: AbortSignal | undefined }
  const holders = new Set<string>()
  const queues = new Map<string, Waiter[]>()
  const grant = (name: string): void => {
    if (holders.has(name)) return
    const next = queues.get(name)?.shift()
    if (next !== undefined) next.run()
  }
  const manager = {
    request(name: string, a: unknown, b?: unknown): Promise<unknown> {
      const callback = (typeof a === 'function' ? a : b) as (lock: Lock) => unknown
      const signal = typeof a === 'object' && a !== null ? (a as LockOptions).signal : undefined
      return new Promise((resolve, reject) => {
        const waiter: Waiter = {
          signal,
          run: () => {
            holders.add(name)
            Promise.resolve(callback({ name, mode: 'exclusive' } as Lock))
              .then(resolve, reject)
              .finally(() => {
                holders.delete(name)
                grant(name)
              })
          },
        }
        signal?.addEventListener('abort', () => {
          const q = queues.get(name) ?? []
          const at = q.indexOf(waiter)
          if (at >= 0) {
            q.splice(at, 1)
            reject(new DOMException('aborted', 'AbortError'))
          }
        })
        queues.set(name, [...(queues.get(name) ?? []), waiter])
        grant(name)
      })
    },
    async query(): Promise<LockManagerSnapshot> {
      return { held: [...holders].map((name) => ({ name, mode: 'exclusive' as const })), pending: [] }
    },
  }
  return manager as unknown as LockManager
}

describe('webLocks', () => {
  it('holds until release, tells a watcher when the holder lets go, and lists held names', async () => {
    const locks = webLocks(fakeLockManager())
    const lock = await locks.hold('flurry:bus:a')
    await locks.hold('other:b')
    expect((await locks.held('flurry:bus:')).sort()).toEqual(['flurry:bus:a'])

    let dead = 0
    locks.watch('flurry:bus:a', () => dead++)
    await settle(20)
    expect(dead).toBe(0)
    lock.release()
    await waitFor(() => dead === 1, 'the watcher told')
    // The watcher released at once: the name is free again.
    expect(await locks.held('flurry:bus:')).toEqual([])
  })

  it('a stopped watch never fires', async () => {
    const locks = webLocks(fakeLockManager())
    const lock = await locks.hold('n')
    let dead = 0
    const stop = locks.watch('n', () => dead++)
    stop()
    lock.release()
    await settle(20)
    expect(dead).toBe(0)
  })
})
