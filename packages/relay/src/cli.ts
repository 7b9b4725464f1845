#!/usr/bin/env node
/**
 * flurry-relay: one log line per event worth a person's attention (listening,
 * nodeup/nodedown with the reason, refusals), as text or JSON; exit 0 after a goodbye
 * to every peer on SIGINT/SIGTERM, 1 when the relay cannot start, 2 for bad input.
 */
import { readFileSync } from 'node:fs'
import { FlurryError } from '@flurry/core'
import { USAGE, parseArgs, type CliLogLevel, type LogFormat } from './cli-args.js'
import { startRelay } from './relay.js'

const RANK: Record<CliLogLevel, number> = { error: 0, warn: 1, info: 2 }

type Line = (level: CliLogLevel, message: string, fields?: Record<string, unknown>) => void

function logTo(format: LogFormat, minimum: CliLogLevel): Line {
  return (level, message, fields) => {
    if (RANK[level] > RANK[minimum]) return
    const out = level === 'error' ? process.stderr : process.stdout
    const time = new Date().toISOString()
    if (format === 'json') out.write(`${JSON.stringify({ time, level, msg: message, ...fields })}\n`)
    else out.write(`${time} ${(fields?.event !== undefined ? 'event' : level).padEnd(5)} ${message}\n`)
  }
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
  return pkg.version
}

/** One line on stderr and the exit code: 2 for bad input, 1 for anything else. */
function fail(message: string, code: 1 | 2): void {
  process.stderr.write(`flurry-relay: ${message}\n`)
  process.exitCode = code
}

/** A listen failure (port in use, no such address) is 1; a bad option value is 2. */
function exitCodeOf(err: unknown): 1 | 2 {
  const cause = (err as { cause?: { code?: unknown } }).cause
  if (typeof cause?.code === 'string' && cause.code.startsWith('E')) return 1
  return err instanceof FlurryError && err.code === 'BAD_ARGUMENT' ? 2 : 1
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2), process.env)
  if (args.help) {
    process.stdout.write(USAGE)
    return
  }
  if ('version' in args) {
    process.stdout.write(`${version()}\n`)
    return
  }
  if ('error' in args) {
    fail(`${args.error} (--help lists the options)`, 2)
    return
  }
  const line = logTo(args.logFormat, args.logLevel)
  let relay
  try {
    relay = await startRelay({ ...args.init, logger: (level, message, fields) => line(level, message, fields) })
  } catch (err) {
    fail((err as Error).message ?? String(err), exitCodeOf(err))
    return
  }
  const node = relay.node
  node.on('nodeup', (id) => line('info', `nodeup ${id}`, { event: 'nodeup', node: id }))
  node.on('nodedown', (id, reason) => line('info', `nodedown ${id} (${reason})`, { event: 'nodedown', node: id, reason }))
  line('info', `relay ${node.id} listening on ${relay.url} (WebSocket ${relay.wsUrl})`, { id: node.id, url: relay.url, wsUrl: relay.wsUrl })
  let stopping = false
  const stop = (signal: string) => {
    if (stopping) return
    stopping = true
    line('info', `${signal}: saying goodbye to ${node.nodes().length} nodes`, { signal })
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
  fail((err as Error).message ?? String(err), 1)
})
