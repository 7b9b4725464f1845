/**
 * Randomness, injected: keys and nonces come from a RandomSource so a test run can be
 * replayed from its seed. The default is the platform's CSPRNG.
 */
export type RandomSource = (length: number) => Uint8Array

export const cryptoRandom: RandomSource = (length) => {
  const out = new Uint8Array(length)
  globalThis.crypto.getRandomValues(out)
  return out
}

/** Deterministic bytes from a seed (xorshift128+); for tests only, never for real keys. */
export function seededRandom(seed: number): RandomSource {
  let s0 = (seed ^ 0x9e3779b9) >>> 0 || 1
  let s1 = (Math.imul(seed, 0x85ebca6b) ^ 0xc2b2ae35) >>> 0 || 2
  const next = (): number => {
    let x = s0
    const y = s1
    s0 = y
    x ^= x << 23
    x >>>= 0
    x ^= x >>> 17
    x ^= y ^ (y >>> 26)
    s1 = x >>> 0
    return (s0 + s1) >>> 0
  }
  return (length) => {
    const out = new Uint8Array(length)
    for (let i = 0; i < length; i += 4) {
      const v = next()
      out[i] = v & 0xff
      if (i + 1 < length) out[i + 1] = (v >>> 8) & 0xff
      if (i + 2 < length) out[i + 2] = (v >>> 16) & 0xff
      if (i + 3 < length) out[i + 3] = (v >>> 24) & 0xff
    }
    return out
  }
}
