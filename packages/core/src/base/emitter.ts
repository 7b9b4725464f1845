/**
 * Typed events: `on(event, handler)` returns its unsubscribe function. A handler that
 * throws is reported to `onError` and never stops the others or the emitter's caller.
 */
export type Handler = (...args: never[]) => void

export class Emitter<Events extends { [K in keyof Events]: Handler }> {
  #handlers = new Map<keyof Events, Set<Events[keyof Events]>>()
  onError: (err: unknown) => void = () => {}

  on<K extends keyof Events>(event: K, handler: Events[K]): () => void {
    let set = this.#handlers.get(event)
    if (set === undefined) {
      set = new Set()
      this.#handlers.set(event, set)
    }
    set.add(handler)
    return () => {
      set.delete(handler)
    }
  }

  /** True when someone listens: lets hot paths skip building event arguments. */
  has(event: keyof Events): boolean {
    const set = this.#handlers.get(event)
    return set !== undefined && set.size > 0
  }

  emit<K extends keyof Events>(event: K, ...args: Parameters<Events[K]>): void {
    const set = this.#handlers.get(event)
    if (set === undefined || set.size === 0) return
    for (const h of [...set]) {
      try {
        ;(h as unknown as (...a: Parameters<Events[K]>) => void)(...args)
      } catch (err) {
        this.onError(err)
      }
    }
  }

  clear(): void {
    this.#handlers.clear()
  }
}
