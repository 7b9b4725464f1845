/**
 * What each side of a handshake proves: that it knows the cookie (HMAC-SHA256 over
 * both fresh nonces; the cookie never crosses the wire) and that it holds the key of
 * its id (ed25519 over the same nonces). @noble/hashes, because a page on plain http
 * has no crypto.subtle.
 */
import { hmac } from '@noble/hashes/hmac.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { concatBytes } from '@noble/hashes/utils.js'

const enc = new TextEncoder()
const MAC_DOMAIN = enc.encode('flurry cookie proof v1\0')
const SIG_DOMAIN = enc.encode('flurry identity proof v1\0')


/** The prover's MAC: binds the verifier's nonce (freshness), its own nonce and its id. */
export function cookieMac(cookie: string, verifierNonce: Uint8Array, proverNonce: Uint8Array, proverId: string): Uint8Array {
  return hmac(sha256, enc.encode(cookie), concatBytes(MAC_DOMAIN, verifierNonce, proverNonce, enc.encode(proverId)))
}

/** The bytes the prover signs with its identity key. */
export function identityChallenge(verifierNonce: Uint8Array, proverNonce: Uint8Array): Uint8Array {
  return concatBytes(SIG_DOMAIN, verifierNonce, proverNonce)
}

/** Constant-time comparison. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number)
  return diff === 0
}
