/**
 * The layers under createNode, for tests that must speak the protocol by hand (a
 * client that lies about its owner, a garbage frame) and for benchmarks. Not a
 * stable API: use createNode and the link factories in applications.
 */
export { Session } from '../session/index.js'
export type { SessionInit, SessionHandlers, Role, CloseReason } from '../session/index.js'
export { createIdentity, idFor } from '../session/index.js'
export type { Identity } from '../session/index.js'
export { seededRandom, cryptoRandom } from '../base/index.js'
export { systemClock, offsetClock } from '../base/index.js'
export { Registry } from '../global/index.js'
export { HybridClock, COUNTER_SPAN } from '../node/index.js'
export * from '../wire/index.js'
