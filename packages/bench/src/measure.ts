/**
 * Measuring helpers: medians, bounded waits, a forced GC, and the next macrotask.
 * Every loop here is bounded in count and in time.
 */

/** The median of a non-empty list (the mean of the middle two for an even count). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN
  const s = [...xs].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2
}

export const now = (): number => performance.now()

/** The next macrotask: lets timers and link deliveries run. */
export function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** A full GC, when node runs with --expose-gc (the bench script does). */
export function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc
  if (g !== undefined) {
    g()
    g()
  }
}

export function hasGc(): boolean {
  return typeof (globalThis as { gc?: unknown }).gc === 'function'
}

/**
 * Polls `done` every macrotask (or `everyMs`) until it holds or `timeoutMs` passes.
 * Returns whether it held.
 */
export async function waitUntil(done: () => boolean, timeoutMs: number, everyMs = 0): Promise<boolean> {
  const deadline = now() + timeoutMs
  for (let i = 0; i < 10_000_000; i++) {
    if (done()) return true
    if (now() > deadline) return false
    if (everyMs > 0) await sleep(everyMs)
    else await tick()
  }
  return done()
}

/** A promise that settles with `value`, or `onTimeout` after `ms`. */
export function withDeadline<T>(p: Promise<T>, ms: number, onTimeout: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const t = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(onTimeout), ms)
  })
  return Promise.race([p, t]).finally(() => clearTimeout(timer))
}

/** A seeded shuffle (mulberry32), so every run looks names up in the same order. */
export function shuffled<T>(xs: readonly T[], seed = 0x5eed): T[] {
  const out = [...xs]
  let a = seed >>> 0
  const rand = (): number => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1))
    const x = out[i] as T
    out[i] = out[j] as T
    out[j] = x
  }
  return out
}

/** `name:0` … `name:${n - 1}`. */
export function makeNames(n: number, prefix = 'name:'): string[] {
  const out = new Array<string>(n)
  for (let i = 0; i < n; i++) out[i] = `${prefix}${i}`
  return out
}
