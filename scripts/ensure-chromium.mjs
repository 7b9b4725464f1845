#!/usr/bin/env node
// The browser tests (e2e/) drive the system's Chromium: Playwright's own browser
// download is not used. Exit 0 if Chromium is there ($CHROMIUM_PATH or
// /usr/bin/chromium); as root on Debian, install it with apt-get; otherwise say how
// in one line and exit 1.
import { spawnSync } from 'node:child_process'
import { accessSync, constants } from 'node:fs'

const DEFAULT_PATH = '/usr/bin/chromium'
const wanted = process.env.CHROMIUM_PATH || DEFAULT_PATH

function executable(path) {
  try {
    accessSync(path, constants.X_OK)
    return true
  } catch {
    return false
  }
}

function fail(extra = '') {
  process.stderr.write(
    'Chromium is needed for the browser tests: run `sudo apt-get install -y chromium` (Debian) or set CHROMIUM_PATH' +
      extra +
      '\n',
  )
  process.exit(1)
}

if (executable(wanted)) process.exit(0)
if (process.env.CHROMIUM_PATH) fail(` (CHROMIUM_PATH=${process.env.CHROMIUM_PATH} is not an executable)`)

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0
if (!isRoot || !executable('/usr/bin/apt-get')) fail()

process.stdout.write('Chromium is missing: installing it with apt-get (Debian package "chromium")\n')
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
for (const args of [['update'], ['install', '-y', 'chromium']]) {
  const r = spawnSync('apt-get', args, { stdio: 'inherit', env })
  if (r.status !== 0) fail(` (apt-get ${args.join(' ')} failed with ${r.status ?? r.signal})`)
}
if (!executable(DEFAULT_PATH)) fail(` (apt-get finished but ${DEFAULT_PATH} is still missing)`)
const version = spawnSync(DEFAULT_PATH, ['--version'], { encoding: 'utf8' })
process.stdout.write(`Installed ${(version.stdout || 'chromium').trim()}\n`)
