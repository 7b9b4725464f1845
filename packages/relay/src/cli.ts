#!/usr/bin/env node
/**
 * flurry-relay: one log line per event worth a person's attention (listening,
 * nodeup/nodedown with the reason, refusals), exit 0 after a goodbye to every peer on
 * SIGINT/SIGTERM.
 */
import type { LogLevel } from '@flurry/core'
import { USAGE, parseArgs } from './cli-args.js'
import { startRelay } from './relay.js'

function line(level: LogLevel | 'event', message: string): void {
  const out = level === 'error' ? process.stderr : process.stdout
  out.write(`${new Date().toISOString()} ${level.padEnd(5)} ${message}\n`)
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2), process.env)
  if (args.help) {
    process.stdout.write(USAGE)
    return
  }
  if ('error' in args) {
    process.stderr.write(`flurry-relay: ${args.error}\n\n${USAGE}`)
    process.exitCode = 2
    return
  }
  const relay = await startRelay({ ...args.init, logger: (level, message) => line(level, message) })
  const node = relay.node
  node.on('nodeup', (id) => line('event', `nodeup ${id}`))
  node.on('nodedown', (id, reason) => line('event', `nodedown ${id} (${reason})`))
  line('info', `relay ${node.id} listening on ${relay.url} (WebSocket ${relay.wsUrl})`)
  let stopping = false
  const stop = (signal: string) => {
    if (stopping) return
    stopping = true
    line('info', `${signal}: saying goodbye to ${node.nodes().length} nodes`)
    relay.close().then(
      () => process.exit(0),
      (err: unknown) => {
        line('error', `close failed: ${String(err)}`)
        process.exit(1)
      },
    )
  }
  process.on('SIGINT', () => stop('SIGINT'))
  process.on('SIGTERM', () => stop('SIGTERM'))
}

main().catch((err: unknown) => {
  process.stderr.write(`flurry-relay: ${(err as Error).message ?? String(err)}\n`)
  process.exit(1)
})
