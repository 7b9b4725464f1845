/**
 * Silence on a session, counted only in time the local loop was awake: a tick that
 * comes late after a stall adds at most what the session hands it, so a busy machine
 * never blames a remote whose frames wait unread in its socket.
 */
export class Silence {
  #heard = true
  #ms = 0

  /** Something that counts arrived. */
  heard(): void {
    this.#heard = true
  }

  /** One heartbeat tick of `awakeMs`: the silence so far (0 after a frame). */
  tick(awakeMs: number): number {
    if (this.#heard) {
      this.#heard = false
      this.#ms = 0
    } else this.#ms += awakeMs
    return this.#ms
  }
}
