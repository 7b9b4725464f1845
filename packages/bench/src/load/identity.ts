/**
 * Client identities and handshake proofs with node:crypto (native ed25519, HMAC), so
 * that thousands of load clients cost their own processes little: the relay is what
 * is measured. The formats are PROTOCOL.md §3 (core's session/proof.ts and
 * session/identity.ts compute the same bytes with @noble).
 */
import { createHash, createHmac, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto'

const MAC_DOMAIN = Buffer.from('flurry cookie proof v1\0')
const SIG_DOMAIN = Buffer.from('flurry identity proof v1\0')

export interface LoadIdentity {
  id: string
  /** The raw 32-byte ed25519 public key, as HELLO carries it. */
  publicKey: Uint8Array
  privateKey: KeyObject
}

/** `name@` + the first 16 hex digits of sha256(key). */
export function idOf(name: string, publicKey: Uint8Array): string {
  return `${name}@${createHash('sha256').update(publicKey).digest('hex').slice(0, 16)}`
}

export function makeIdentity(name: string): LoadIdentity {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519')
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x as string, 'base64url')
  return { id: idOf(name, raw), publicKey: new Uint8Array(raw), privateKey }
}

/** HMAC-SHA256(cookie, domain || verifier nonce || prover nonce || prover id). */
export function cookieMac(cookie: string, verifierNonce: Uint8Array, proverNonce: Uint8Array, proverId: string): Uint8Array {
  return new Uint8Array(createHmac('sha256', cookie).update(MAC_DOMAIN).update(verifierNonce).update(proverNonce).update(proverId).digest())
}

export function proofSignature(who: LoadIdentity, verifierNonce: Uint8Array, proverNonce: Uint8Array): Uint8Array {
  return new Uint8Array(sign(null, Buffer.concat([SIG_DOMAIN, verifierNonce, proverNonce]), who.privateKey))
}

/** Checks the other side's PROOF: its signature over our nonce and its, then its MAC. */
export function proofValid(
  cookie: string,
  proof: { mac: Uint8Array; sig: Uint8Array },
  prover: { id: string; key: Uint8Array; nonce: Uint8Array },
  ourNonce: Uint8Array,
): boolean {
  const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(prover.key).toString('base64url') }, format: 'jwk' })
  if (!verify(null, Buffer.concat([SIG_DOMAIN, ourNonce, prover.nonce]), key, proof.sig)) return false
  return Buffer.from(cookieMac(cookie, ourNonce, prover.nonce, prover.id)).equals(Buffer.from(proof.mac))
}
