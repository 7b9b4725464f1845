/** Placeholder: replaced by the bus membership. */
import type { BusSpec } from '../link/link.js'
import type { Conn } from './conn.js'
import type { NodeCore } from './node.js'

export class BusMember {
  readonly name: string
  constructor(_node: NodeCore, spec: BusSpec) {
    this.name = spec.name
  }
  async start(): Promise<void> {}
  stop(): void {}
  homelessNeighbours(): Iterable<string> {
    return []
  }
  readyNeighbours(): Iterable<string> {
    return []
  }
  neighbour(_id: string): Conn | null {
    return null
  }
  broadcastRegistry(_bytes: Uint8Array): void {}
  homeChanged(): void {}
}
