/**
 * The little of Node's `process` that simple-peer's stream layer (readable-stream)
 * reaches in a page: `nextTick` and `env`. bundle.mjs injects it where the bundled
 * code names the global `process`; the page's own globals are left alone.
 */
export const process = {
  nextTick: (fn: (...args: unknown[]) => void, ...args: unknown[]): void => queueMicrotask(() => fn(...args)),
  env: {} as Record<string, string | undefined>,
}
