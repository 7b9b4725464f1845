/**
 * The Flurry relay: a peer that meshes with other peers, is the home of browser and
 * Node clients, and serves HTTP (/healthz, a status page) on its WebSocket port.
 *
 * @example
 * import { startRelay } from '@flurry/relay'
 * const relay = await startRelay({ host: '127.0.0.1', port: 8080, cookie: 'secret',
 *                                  peers: ['ws://127.0.0.1:8081/flurry'] })
 * console.log(relay.url, relay.node.id)
 * await relay.close()
 */
export { startRelay, health, status } from './relay.js'
export type { Relay, RelayInit, RelayRoute } from './relay.js'
export { parseArgs, USAGE } from './cli-args.js'
export type { RelayArgs, RelayCliOptions, LogFormat, CliLogLevel } from './cli-args.js'
