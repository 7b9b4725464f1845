/**
 * Registries built directly, for the benchmarks of the pure data structure. The
 * Registry class is not exported by @flurry/core (no deep import path either), so it
 * is taken from a createNode node's store: `node.core.store` is one.
 */
import type { FlurryNode, Pid } from '@flurry/core'

/** The part of core's Registry (global/registry.ts) these benchmarks use. */
export interface RegistryLike {
  readonly size: number
  whereis(name: string): Pid | undefined
  setCounted(owner: string, counted: boolean): void
  mergeSlice(s: WholeSliceLike): { merged: boolean }
  mergeSnapshot(slices: Iterable<WholeSliceLike>): void
  snapshot(): WholeSliceLike[]
}

export interface WholeSliceLike {
  owner: string
  seq: number
  role: number
  clients: string[] | null
  /** Flat: name, pidId, at, name, pidId, at, … */
  names: unknown[]
}

export interface RegistryEventsLike {
  register(name: string, pid: Pid): void
  unregister(name: string, pid: Pid, reason: string): void
  conflict(name: string, winner: Pid, loser: Pid): void
}

export type RegistryCtor = new (selfId: string, init?: { events?: RegistryEventsLike; role?: number; now?: () => number }) => RegistryLike

/** wire/frames.ts ROLE_CLIENT. */
export const ROLE_CLIENT = 1

export function registryClass(n: FlurryNode): RegistryCtor {
  const store = n.core.store as unknown as RegistryLike
  if (typeof store.mergeSnapshot !== 'function' || typeof store.setCounted !== 'function') {
    throw new Error("node.core.store is not the Registry these benchmarks know: update src/snapshot.ts")
  }
  return store.constructor as RegistryCtor
}

/** name, pidId, at × n: as a slice of `n` names of 100 actors, stamped now. */
export function flatSlice(names: readonly string[]): unknown[] {
  const flat: unknown[] = []
  const base = Date.now() * 4096
  for (let i = 0; i < names.length; i++) flat.push(names[i], (i % 100) + 1, base + i)
  return flat
}

/** Counts events; nothing else. */
export class EventCounter implements RegistryEventsLike {
  registers = 0
  unregisters = 0
  conflicts = 0
  register(): void {
    this.registers++
  }
  unregister(): void {
    this.unregisters++
  }
  conflict(): void {
    this.conflicts++
  }
}
