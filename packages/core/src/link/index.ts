export type { Link, LinkRemote, Dialer, ListenerSpec, Listener, Bus, BusLocks, BusSpec } from './link.js'
export { memoryPair, memoryNetwork, MacrotaskScheduler } from './memory.js'
export type { MemoryLane, MemoryScheduler, MemoryPairInit, MemoryNetwork } from './memory.js'
