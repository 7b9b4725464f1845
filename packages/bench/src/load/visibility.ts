/**
 * What the observer of a load run has seen: when each name first became visible (a
 * DELTA put or a slice holding it), and when each owner stopped being counted
 * (UNCOUNT), with the wall time (wall.ts) the message arrived.
 */
import type { Watcher } from './raw-client.js'

export class Visibility implements Watcher {
  readonly seen = new Map<string, number>()
  readonly uncounted = new Map<string, number>()
  readonly counted = new Set<string>()

  put(name: string, _owner: string, t: number): void {
    if (!this.seen.has(name)) this.seen.set(name, t)
  }

  del(): void {}

  owner(owner: string, names: string[] | null, t: number): void {
    if (names !== null) {
      this.counted.add(owner)
      this.uncounted.delete(owner)
    } else if (this.counted.delete(owner)) this.uncounted.set(owner, t)
  }
}
