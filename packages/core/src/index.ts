/**
 * Flurry core: actors with pids and mailboxes, nodes that talk over links, and a
 * global registry that names actors across the cluster.
 *
 * @example
 * import { createNode } from '@flurry/core'
 * const node = await createNode({ name: 'api', cookie: 'secret' })
 * const pid = node.spawn(async (ctx) => { for (;;) { const m = await ctx.receive(); ctx.reply(m) } })
 * node.global.register('svc:echo', pid)
 */
export { FlurryError, isFlurryError } from './base/index.js'
export type { FlurryErrorCode } from './base/index.js'
export type { Clock, RandomSource } from './base/index.js'
export { Pid } from './wire/index.js'
export type { Link, LinkRemote, Dialer, ListenerSpec, Listener, Bus, BusLocks, BusSpec } from './link/index.js'
export type { DirectTransport, DirectAttempt } from './link/index.js'
export { memoryPair, memoryNetwork } from './link/index.js'
export type { MemoryLane, MemoryScheduler, MemoryPairInit, MemoryNetwork } from './link/index.js'
export { broadcastChannel } from './link/index.js'
export type { BroadcastChannelInit } from './link/index.js'
export { DEFAULT_MAX_FRAME_BYTES } from './wire/index.js'
export { createNode, FlurryNode } from './create-node.js'
export type { CallOptions } from './create-node.js'
export type { NodeInit, Logger, LogLevel, NodeStats, PeerInfo } from './node/index.js'
export type { Ed25519 } from './session/index.js'
export type { NodeEvents } from './node/index.js'
export type { ActorContext, ReceiveOptions, ExitReason } from './actor/index.js'
export type { ActorFn } from './actor/index.js'
export type { GlobalRegistry, GlobalEvents } from './global/index.js'
export type { UnregisterReason } from './global/index.js'
export { systemClock } from './base/index.js'
