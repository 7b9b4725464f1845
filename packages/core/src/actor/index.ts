export { ActorSystem, DEFAULT_CALL_TIMEOUT_MS, wireReason } from './actors.js'
export type { ActorFn } from './actors.js'
export { Actor, CallEnvelope, describeReason } from './actor.js'
export type { ActorContext, ReceiveOptions, ExitReason } from './actor.js'
