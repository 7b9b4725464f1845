/**
 * The layers under createNode, for tests that must speak the protocol by hand (a
 * client that lies about its owner, a garbage frame) and for benchmarks. Not a
 * stable API: use createNode and the link factories in applications.
 */
export { Session } from '../session/session.js'
export type { SessionInit, SessionHandlers, Role, CloseReason } from '../session/session.js'
export { createIdentity, idFor } from '../session/identity.js'
export type { Identity } from '../session/identity.js'
export { seededRandom, cryptoRandom } from '../base/random.js'
export { systemClock, offsetClock } from '../base/clock.js'
export { Registry } from '../global/registry.js'
export { HybridClock, COUNTER_SPAN } from '../node/hlc.js'
export * from '../wire/index.js'
