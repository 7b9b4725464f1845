/**
 * A newcomer's first minutes: clone the repository (its committed HEAD) into an empty
 * folder, `npm install` (offline, from npm's cache: nothing but 127.0.0.1 is reached),
 * then `npx flurry-relay --version` and `--help`, and a relay started from the
 * environment alone, scraped at /metrics and /healthz, and stopped by its pid.
 * The slowest test here (the install builds everything): one clone, one relay.
 */
import { execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, expect, it } from 'vitest'
import { freePort, waitFor } from './harness.js'
import { REPO } from './offline-install.js'

const OFFLINE = {
  ...process.env,
  npm_config_offline: 'true',
  npm_config_proxy: 'http://127.0.0.1:9',
  npm_config_https_proxy: 'http://127.0.0.1:9',
  npm_config_update_notifier: 'false',
}

let dir = ''
let relayPid: number | undefined
afterAll(() => {
  if (relayPid !== undefined) {
    try {
      process.kill(relayPid, 'SIGKILL')
    } catch {
      // exited already
    }
  }
  if (dir !== '') rmSync(dir, { recursive: true, force: true })
})

function run(cmd: string, args: string[], cwd: string, timeout = 60_000): string {
  return execFileSync(cmd, args, { cwd, env: OFFLINE, encoding: 'utf8', timeout, stdio: ['ignore', 'pipe', 'pipe'] })
}

it('clone, npm install, npx flurry-relay --version/--help, a relay from FLURRY_* only', { timeout: 420_000 }, async () => {
  dir = mkdtempSync(join(tmpdir(), 'flurry-clone-'))
  const clone = join(dir, 'flurry')
  run('git', ['clone', '--quiet', REPO, clone], dir)
  try {
    run('npm', ['install', '--no-audit', '--no-fund'], clone, 360_000)
  } catch (err) {
    // The lockfile has no tarball URLs (omit-lockfile-registry-resolved), so npm needs
    // each package's registry metadata from its cache: an online `npm ci` puts it there.
    const text = String((err as { stderr?: string }).stderr ?? err)
    if (text.includes('ENOTCACHED')) throw new Error(`npm's cache lacks a package (run npm ci once, online): ${text}`)
    throw err
  }

  expect(run('npx', ['flurry-relay', '--version'], clone).trim()).toBe('0.1.0')
  const help = run('npx', ['flurry-relay', '--help'], clone)
  expect(help).toContain('Usage: flurry-relay')
  expect(help).toContain('FLURRY_PEERS')

  // The command npx ran, started directly so that its pid is the relay's.
  const port = await freePort()
  const absent = `ws://127.0.0.1:${await freePort()}/flurry`
  const child = spawn(join(clone, 'node_modules', '.bin', 'flurry-relay'), [], {
    cwd: clone,
    env: { ...OFFLINE, FLURRY_PORT: String(port), FLURRY_COOKIE: 'clone-secret', FLURRY_NAME: 'fresh', FLURRY_PEERS: absent, FLURRY_LOG_FORMAT: 'json' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  relayPid = child.pid
  const lines: string[] = []
  child.stdout.setEncoding('utf8').on('data', (d: string) => lines.push(...d.split('\n').filter((l) => l !== '')))
  let exitCode: number | null | undefined
  child.once('exit', (code) => (exitCode = code))
  await waitFor(() => lines.some((l) => l.includes('listening on')) || exitCode !== undefined, 'the relay to listen', 20_000, () => lines)
  const listening = JSON.parse(lines.find((l) => l.includes('listening on')) as string)
  expect(listening).toMatchObject({ level: 'info', url: `http://127.0.0.1:${port}` })
  expect(listening.id).toMatch(/^fresh@/)

  const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
  expect(metrics).toContain('# TYPE flurry_nodes gauge')
  expect(metrics).toMatch(/^flurry_peers_unreachable 1$/m)
  expect(await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()).toMatchObject({ nodes: 0, unreachable: [absent] })

  process.kill(child.pid as number, 'SIGTERM')
  await waitFor(() => exitCode !== undefined, 'the relay to exit after SIGTERM', 10_000)
  expect(exitCode).toBe(0)
  relayPid = undefined
})
