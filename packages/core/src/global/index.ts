export { Registry, Claim, Slice } from './registry.js'
export type { RegistryEvents, UnregisterReason } from './registry.js'
export { GlobalService } from './service.js'
export type { GlobalRegistry, GlobalEvents } from './service.js'
