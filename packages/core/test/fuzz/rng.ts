/**
 * The fuzzer's randomness and run settings: one seed per run (FLURRY_SEED replays
 * it), one derived stream per input, so an input can be told apart and replayed.
 */
import { prng } from '../../src/testing/sim.js'
import { testSeed } from '../../src/testing/wait.js'

const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {}

/** Inputs of a CI run, over all targets (the spec files share them out). */
export const CI_INPUTS = 20_000

/**
 * FLURRY_FUZZ_REPLAY=<hex>: every target is fed that one input (from a finding's
 * report) instead of generated ones, once.
 */
export const replay: Uint8Array | null =
  env.FLURRY_FUZZ_REPLAY !== undefined && /^([0-9a-f]{2})+$/i.test(env.FLURRY_FUZZ_REPLAY)
    ? Uint8Array.from(env.FLURRY_FUZZ_REPLAY.match(/../g) ?? [], (h) => parseInt(h, 16))
    : null

/** The replayed input, if there is one, else a generated one. */
export function inputOr(generate: () => Uint8Array): Uint8Array {
  return replay ?? generate()
}

/** FLURRY_FUZZ_INPUTS (npm run fuzz sets 1,000,000), else the CI count. */
export function totalInputs(): number {
  const n = Number(env.FLURRY_FUZZ_INPUTS)
  return Number.isInteger(n) && n > 0 ? n : CI_INPUTS
}

/** This target's share of the inputs (at least `min`). */
export function shareOf(fraction: number, min = 1): number {
  if (replay !== null) return 1
  return Math.max(min, Math.round(totalInputs() * fraction))
}

/** A fuzz test's own timeout: a loaded 2-core machine, and long runs, need more than the default 30 s. */
export function fuzzTimeoutMs(): number {
  return Math.max(180_000, totalInputs() * 10)
}

export const runSeed = testSeed()

/** A deterministic random stream with the helpers the generators need. */
export class Rng {
  readonly #next: () => number

  constructor(seed: number) {
    // prng is a Lehmer generator: spread nearby seeds (run seed + input index) apart.
    let s = Math.imul(seed ^ 0x5bd1e995, 0x27d4eb2d) >>> 0
    s = (s ^ (s >>> 15)) % 2147483646
    this.#next = prng(s + 1)
  }

  /** The stream of input `i` of a run seeded `seed`. */
  static forInput(seed: number, i: number, target: number): Rng {
    return new Rng((seed * 31 + i * 7919 + target * 104729) | 0)
  }

  float(): number {
    return this.#next()
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.#next() * n)
  }
  /** An integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1)
  }
  chance(p: number): boolean {
    return this.#next() < p
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)] as T
  }
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n)
    for (let i = 0; i < n; i++) out[i] = this.int(256)
    return out
  }
  /** Small lengths mostly, sometimes larger: most bugs live near the edges. */
  length(max: number): number {
    const r = this.#next()
    if (r < 0.6) return this.int(Math.min(max, 8) + 1)
    if (r < 0.9) return this.int(Math.min(max, 64) + 1)
    return this.int(max + 1)
  }
}

export function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')
}
