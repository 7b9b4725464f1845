/**
 * The packed packages in a browser, as an application would ship them: core, ws and
 * relay packed and installed offline in an empty folder (as in the relay package's
 * pack.spec.ts), a page's script bundled from there by esbuild (the `browser` export
 * condition: ws's browser build), served by the installed relay, run in Chromium: it
 * connects to the relay, calls an actor of the relay by name, and closes its node.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { build } from 'esbuild'
import { npm, packAll, writeApp } from '../../packages/relay/test/integration/offline-install.js'
import { expect, test } from './support/fixtures.js'

const PAGE_SCRIPT = `
import { createNode } from '@flurry/core'
import { dialWebSocket } from '@flurry/ws'

const node = await createNode({ name: 'tab', cookie: 'secret' })
const relay = await node.connect(dialWebSocket(\`ws://\${location.host}/flurry\`))
const reply = await node.call('svc:echo', 'hi')
await node.close()
globalThis.result = { relay, reply, nodes: node.nodes().length }
`

const SERVER = `
import { startRelay } from '@flurry/relay'

const relay = await startRelay({ port: 0, cookie: 'secret', publicDir: process.argv[2] })
const echo = relay.node.spawn(async (ctx) => { for (;;) ctx.reply({ echo: await ctx.receive() }) })
relay.node.global.register('svc:echo', echo)
console.log(JSON.stringify({ url: relay.url, id: relay.node.id }))
process.on('SIGTERM', () => relay.close().then(() => process.exit(0)))
`

test('the packed packages, bundled for the browser, run in Chromium against the packed relay', async ({ context }) => {
  test.setTimeout(180_000)
  const dir = mkdtempSync(join(tmpdir(), 'flurry-pack-browser-'))
  let server: ChildProcess | undefined
  try {
    const app = join(dir, 'app')
    const pub = join(app, 'public')
    mkdirSync(pub, { recursive: true })
    writeApp(app, packAll(dir))
    npm(['ci'], app)
    writeFileSync(join(app, 'page.js'), PAGE_SCRIPT)
    writeFileSync(join(app, 'server.mjs'), SERVER)
    writeFileSync(join(pub, 'index.html'), '<!doctype html><title>packed</title><script type="module" src="page.js"></script>')
    await build({
      absWorkingDir: app,
      entryPoints: ['page.js'],
      outfile: join(pub, 'page.js'),
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      logLevel: 'silent',
    })

    const child = spawn(process.execPath, ['server.mjs', pub], { cwd: app, stdio: ['ignore', 'pipe', 'pipe'] })
    server = child
    let out = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d))
    await expect.poll(() => out, { timeout: 20_000 }).toContain('"url"')
    const { url, id } = JSON.parse(out.split('\n')[0] as string) as { url: string; id: string }

    const page = await context.newPage()
    const errors: string[] = []
    page.on('pageerror', (e) => errors.push(e.message))
    await page.goto(`${url}/index.html`)
    await page.waitForFunction(() => (globalThis as { result?: unknown }).result !== undefined, undefined, { timeout: 20_000 })
    expect(await page.evaluate(() => (globalThis as { result?: unknown }).result)).toEqual({ relay: id, reply: { echo: 'hi' }, nodes: 0 })
    expect(errors).toEqual([])
  } finally {
    // Stopped by its pid: SIGTERM (the relay closes), SIGKILL if it has not exited in 5 s.
    const child = server
    if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
      process.kill(child.pid, 'SIGTERM')
      const late = setTimeout(() => child.pid !== undefined && process.kill(child.pid, 'SIGKILL'), 5000)
      await exited
      clearTimeout(late)
    }
    rmSync(dir, { recursive: true, force: true })
  }
})
