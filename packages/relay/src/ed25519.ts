/**
 * Ed25519 from node:crypto for the relay's identity and handshakes: about 20 times
 * faster than @noble/curves, which is what a connect storm of a thousand clients
 * spends its time on (a check of each client's proof, a signature of our own).
 */
import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto'
import type { Ed25519 } from '@flurry/core'

/** DER prefixes that wrap a raw 32-byte key as PKCS#8 (private) and SPKI (public). */
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex')

/** Recent remote keys: a client that reconnects is checked without parsing its key again. */
const keys = new Map<string, KeyObject>()

function publicKeyObject(raw: Uint8Array): KeyObject {
  const hex = Buffer.from(raw).toString('hex')
  let key = keys.get(hex)
  if (key === undefined) {
    key = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' })
    if (keys.size >= 4096) keys.clear()
    keys.set(hex, key)
  }
  return key
}

export const nodeEd25519: Ed25519 = {
  keyPair(seed) {
    const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed.subarray(0, 32)]), format: 'der', type: 'pkcs8' })
    const der = createPublicKey(privateKey).export({ format: 'der', type: 'spki' })
    const publicKey = new Uint8Array(der.subarray(der.length - 32))
    return { publicKey, sign: (message) => new Uint8Array(sign(null, message, privateKey)) }
  },
  verify(signature, message, publicKey) {
    if (signature.length !== 64 || publicKey.length !== 32) return false
    try {
      return verify(null, message, publicKeyObject(publicKey), signature)
    } catch {
      return false
    }
  },
}
