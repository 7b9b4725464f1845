/**
 * The replicated per-owner state the node layer moves around, as the node layer needs
 * to see it. Replication (seq, repair, sync, forwarding) and membership (clients
 * lists, counted owners) are protocol here; the global registry implements the
 * store, names being the payload.
 */
import type { Delta, SliceChunk } from '../wire/index.js'

/** A whole slice (all chunks joined). */
export type WholeSlice = SliceChunk

/** The home's check of a claim new to it: an error code refuses it, null accepts it. */
export type ClaimCheck = (owner: string, name: string, at: number) => string | null

export interface ApplyResult {
  status: 'applied' | 'duplicate' | 'gap'
  /** Claims refused by the check, as [name, code] pairs. */
  refused: Array<[string, string]> | null
  /** The ops as applied when some were refused (to forward instead of the original). */
  acceptedOps: unknown[] | null
  /** The clients list changed (a peer's slice). */
  clientsChanged: boolean
}

export interface SliceStore {
  readonly selfId: string
  seqOf(owner: string): number
  has(owner: string): boolean
  roleOf(owner: string): number | undefined
  clientsOf(owner: string): ReadonlySet<string> | undefined
  owners(): Iterable<string>
  isCounted(owner: string): boolean
  /** Shows or hides an owner's names. `reason` goes to unregister events when hiding. */
  setCounted(owner: string, counted: boolean): void
  /** When an uncounted slice was hidden (for the cache time-to-live), else undefined. */
  hiddenSince(owner: string): number | undefined
  /** Forgets an uncounted slice. */
  drop(owner: string): void
  /** Applies a delta by the seq rules: duplicate, applied, or a gap to repair. */
  applyDelta(delta: Delta, check?: ClaimCheck): ApplyResult
  /** Replaces the held slice when `slice.seq` is higher; true if it did. */
  mergeSlice(slice: WholeSlice, check?: ClaimCheck): { merged: boolean; refused: Array<[string, string]> | null }
  /** Appends the slice of `owner` as SYNC chunks of about `budgetBytes` each. */
  chunksOf(owner: string, budgetBytes: number, out: unknown[][]): void
  /** The greatest claim stamp held in a slice (a joining client re-stamps above). */
  maxStampOf(owner: string): number

  // own slice
  /** Appends a client to this peer's clients list (an own-slice change). */
  addClient(id: string): void
  removeClient(id: string, reason: string): void
  /**
   * The own changes made since the last call, as one delta (bumps seq), or null.
   * With `maxBytes`, only as many as fit in about that many bytes: call again for
   * the rest (each delta its own seq).
   */
  takeOwnDelta(clockMs: number, maxBytes?: number): Delta | null
  /** Gives every own claim a new stamp (a client joining a home), bumping seq. */
  restampOwn(stamp: () => number): void
  /** Called when own changes wait to be taken. */
  onOwnChange: (() => void) | null
  /** Forgets the rest of what the node knows: self stays as it is. */
  clearOthers?(): void
}
