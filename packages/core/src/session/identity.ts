/**
 * A node's identity for one incarnation: an ed25519 key pair made at start, and the
 * id `name@<hash of the public key>`. The handshake proves the key, so ids cannot be
 * forged and a dead incarnation's id never comes back.
 */
import { ed25519 } from '@noble/curves/ed25519.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import { FlurryError } from '../base/index.js'
import type { RandomSource } from '../base/index.js'

export interface Identity {
  readonly id: string
  readonly name: string
  readonly publicKey: Uint8Array
  sign(message: Uint8Array): Uint8Array
}

/**
 * Ed25519 as the handshake uses it. The default is @noble/curves (any platform, ~2 ms
 * a signature or check in Node); a Node server may pass a native one (`node:crypto`,
 * ~20x faster): a relay admitting a thousand clients at once spends its time here.
 */
export interface Ed25519 {
  /** A key pair from 32 random bytes. */
  keyPair(seed: Uint8Array): { publicKey: Uint8Array; sign(message: Uint8Array): Uint8Array }
  verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean
}

export const nobleEd25519: Ed25519 = {
  keyPair(seed) {
    const secretKey = ed25519.utils.randomSecretKey(seed)
    return { publicKey: ed25519.getPublicKey(secretKey), sign: (message) => ed25519.sign(message, secretKey) }
  },
  verify(signature, message, publicKey) {
    try {
      return ed25519.verify(signature, message, publicKey)
    } catch {
      return false
    }
  },
}

const NAME_RE = /^[A-Za-z0-9_.:-]{1,64}$/

export function createIdentity(name: string, random: RandomSource, curve: Ed25519 = nobleEd25519): Identity {
  if (!NAME_RE.test(name)) {
    throw new FlurryError('BAD_ARGUMENT', `node name must be 1-64 of A-Z a-z 0-9 _ . : - (got ${JSON.stringify(name)})`)
  }
  const { publicKey, sign } = curve.keyPair(random(32))
  return { id: idFor(name, publicKey), name, publicKey, sign }
}

export function idFor(name: string, publicKey: Uint8Array): string {
  return `${name}@${bytesToHex(sha256(publicKey)).slice(0, 16)}`
}

/** True when `id` is the id of `publicKey` (whatever name it carries). */
export function idMatchesKey(id: string, publicKey: Uint8Array): boolean {
  const at = id.lastIndexOf('@')
  if (at <= 0) return false
  return idFor(id.slice(0, at), publicKey) === id
}

export function verifySignature(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array, curve: Ed25519 = nobleEd25519): boolean {
  return curve.verify(signature, message, publicKey)
}
