/** A promise with its settle functions; settling twice does nothing. Never unhandled. */
export class Deferred<T> {
  readonly promise: Promise<T>
  settled = false
  #resolve!: (v: T) => void
  #reject!: (e: unknown) => void

  constructor() {
    this.promise = new Promise<T>((res, rej) => {
      this.#resolve = res
      this.#reject = rej
    })
    this.promise.catch(() => {})
  }

  resolve(v: T): void {
    if (this.settled) return
    this.settled = true
    this.#resolve(v)
  }

  reject(e: unknown): void {
    if (this.settled) return
    this.settled = true
    this.#reject(e)
  }
}
