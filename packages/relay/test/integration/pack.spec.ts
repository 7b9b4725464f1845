/**
 * The packages as users get them: core, ws and relay packed with `npm pack`, installed
 * from the tarballs in an empty folder with no network (offline-install.ts), then the
 * README's first snippet run there in Node, `@flurry/core/testing` imported without
 * vitest, the installed `flurry-relay` command asked its version, every source map
 * resolved, and the types checked by the repository's TypeScript under the default
 * settings, node10 and nodenext resolution (browser code with no Node types at all).
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { REPO, npm, packAll, writeApp } from './offline-install.js'

const TSC = join(REPO, 'node_modules', 'typescript', 'bin', 'tsc')
const NODE_TYPES = ['--typeRoots', join(REPO, 'node_modules', '@types'), '--types', 'node']

let dir = ''
let app = ''

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'flurry-pack-'))
  app = join(dir, 'app')
  mkdirSync(app)
  writeApp(app, packAll(dir))
  npm(['ci'], app)
}, 180_000)

afterAll(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true })
})

function node(args: string[], timeout = 30_000): string {
  return execFileSync(process.execPath, args, { cwd: app, encoding: 'utf8', timeout, stdio: ['ignore', 'pipe', 'pipe'] })
}

/** tsc --noEmit in the app folder; the error text, or '' when it type-checks. */
function tsc(args: string[]): string {
  try {
    execFileSync(process.execPath, [TSC, '--strict', '--noEmit', ...args], { cwd: app, encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] })
    return ''
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string }
    return `${e.stdout ?? ''}${e.stderr ?? ''}` || e.message
  }
}

describe('the packed packages, installed offline in an empty folder', () => {
  /** The first ```js block of a README, written into the app folder. */
  function firstSnippet(readme: string, file: string): string {
    const snippet = /```js\n([\s\S]*?)```/.exec(readFileSync(join(REPO, readme), 'utf8'))?.[1]
    expect(snippet, `${readme} has a js snippet`).toContain("from '@flurry/")
    writeFileSync(join(app, file), snippet as string)
    return file
  }

  it("runs the README's first snippet, and the process ends on its own", () => {
    const out = node([firstSnippet('README.md', 'readme.mjs')])
    expect(out).toContain("{ echo: 'hi' }")
    expect(out).toMatch(/<a@[0-9a-f]{16}\.\d+>/)
  })

  it("runs each package README's first snippet, and each process ends on its own", () => {
    expect(node([firstSnippet('packages/core/README.md', 'core-readme.mjs')])).toContain('hi')
    node([firstSnippet('packages/ws/README.md', 'ws-readme.mjs')])
    expect(node([firstSnippet('packages/relay/README.md', 'relay-readme.mjs')])).toMatch(/^http:\/\/127\.0\.0\.1:\d+ ws:\/\/127\.0\.0\.1:\d+\/flurry 0$/m)
  })

  it('imports @flurry/core/testing without vitest, and the installed flurry-relay runs', () => {
    expect(existsSync(join(app, 'node_modules', 'vitest'))).toBe(false)
    const out = node(['--input-type=module', '-e', "const t = await import('@flurry/core/testing'); console.log(typeof t.SimNet, typeof t.waitFor)"])
    expect(out.trim()).toBe('function function')
    const bin = join(app, 'node_modules', '.bin', 'flurry-relay')
    expect(execFileSync(bin, ['--version'], { cwd: app, encoding: 'utf8', timeout: 30_000 }).trim()).toBe('0.1.0')
  })

  it('ships LICENSE and README, and every source map points at a file in the package', () => {
    let maps = 0
    for (const pkg of ['core', 'ws', 'relay']) {
      const root = join(app, 'node_modules', '@flurry', pkg)
      expect(readFileSync(join(root, 'LICENSE'), 'utf8')).toContain('MIT License')
      expect(existsSync(join(root, 'README.md'))).toBe(true)
      for (const file of readdirSync(join(root, 'dist'), { recursive: true }) as string[]) {
        if (!file.endsWith('.map') || file.startsWith('public')) continue
        const map = join(root, 'dist', file)
        for (const source of (JSON.parse(readFileSync(map, 'utf8')) as { sources: string[] }).sources) {
          expect(existsSync(join(dirname(map), source)), `${pkg}/dist/${file} -> ${source}`).toBe(true)
        }
        maps++
      }
    }
    expect(maps).toBeGreaterThan(50)
  })

  it('has types under default, node10 and nodenext resolution; browser types need no Node types', { timeout: 120_000 }, () => {
    writeFileSync(
      join(app, 'browser.ts'),
      [
        "import { createNode, type FlurryNode, type NodeStats } from '@flurry/core'",
        "import { SimNet, waitFor } from '@flurry/core/testing'",
        "import { dialWebSocket } from '@flurry/ws/browser'",
        "const node: FlurryNode = await createNode({ name: 'tab', cookie: 'c' })",
        'const stats: NodeStats = node.stats()',
        "export const found = [stats, dialWebSocket('ws://127.0.0.1:1/flurry'), SimNet, waitFor]",
      ].join('\n'),
    )
    writeFileSync(
      join(app, 'server.ts'),
      [
        "import { createNode, type PeerInfo } from '@flurry/core'",
        "import { listenWebSocket } from '@flurry/ws'",
        "import { startRelay, type Relay } from '@flurry/relay'",
        "const relay: Relay = await startRelay({ cookie: 'c', port: 0, cors: ['*'] })",
        "const node = await createNode({ name: 'svc', cookie: 'c' })",
        'await node.listen(listenWebSocket({ port: 0 }))',
        'node.addPeer(relay.wsUrl)',
        'export const peers: PeerInfo[] = node.peers()',
      ].join('\n'),
    )
    const node10 = ['--module', 'es2022', '--moduleResolution', 'node10', '--ignoreDeprecations', '6.0', '--target', 'es2022']
    const nodenext = ['--module', 'nodenext']
    // `tsc --strict browser.ts` with nothing else, no @types anywhere in the folder:
    // every declaration file reached is checked, so a Node type in one fails here.
    expect(tsc(['browser.ts'])).toBe('')
    // Resolution under node10 and nodenext: an unresolved import fails in the .ts
    // files themselves, so the declaration files need no second full check.
    const fast = ['--skipLibCheck', ...NODE_TYPES, 'browser.ts', 'server.ts']
    expect(tsc([...node10, ...fast])).toBe('')
    expect(tsc([...nodenext, ...fast])).toBe('')
  })
})
