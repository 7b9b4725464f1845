/**
 * The relay serves the bundle's types at /flurry.d.ts: one self-contained file (no
 * imports, no Node types) that a page author saves beside their code and maps
 * '/flurry.js' to in tsconfig `paths`. Checked here as a page author would use it
 * (TypeScript strict, the DOM, no @types), and against what /flurry.js exports in a page.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect, test } from './support/fixtures.js'

const TSC = createRequire(import.meta.url).resolve('typescript/bin/tsc')

/** A page script that uses every value /flurry.js exports, as the docs show. */
const GOOD = `
import { createNode, dialWebSocket, broadcastChannel, webrtc, Pid, FlurryError, FlurryNode, isFlurryError, PROTOCOL } from '/flurry.js'
import type { NodeInit, Link, WebRtcInit } from '/flurry.js'

const init: NodeInit = { name: 'tab', cookie: 'secret' }
const node: FlurryNode = await createNode(init)
const home: string = await node.connect(dialWebSocket(\`ws://\${location.host}/flurry\`))
await node.join(broadcastChannel('room'))
const rtc: WebRtcInit = { iceServers: [{ urls: 'stun:stun.example.org' }] }
const attempt = webrtc(rtc).open({ initiator: true, send: (data) => console.log(data) })
const link: Link = await attempt.link
link.send(new Uint8Array([1]))
const pid: Pid = node.spawn(async (ctx) => ctx.receive())
const err: unknown = new FlurryError('TIMEOUT', 'late')
if (isFlurryError(err, 'TIMEOUT')) console.log(err.code, home, pid.node, PROTOCOL)
const lib = await import('/flurry.js')
const again: FlurryNode = await lib.createNode({ name: 'b', cookie: 'secret' })
await again.close()
await node.close()
`

/** Misuses the types must catch, one a line (line numbers are asserted). */
const BAD = `import { createNode, webrtc } from '/flurry.js'
await createNode({ name: 1, cookie: 'secret' })
webrtc({ iceServers: 'stun:stun.example.org' })
webrtc().open({ initiator: 'yes', send: () => {} })
`

const TSCONFIG = {
  compilerOptions: {
    strict: true,
    noEmit: true,
    target: 'es2022',
    module: 'esnext',
    moduleResolution: 'bundler',
    lib: ['es2022', 'dom'],
    types: [],
    paths: { '/flurry.js': ['./flurry.d.ts'] },
  },
  files: ['good.ts', 'bad.ts'],
}

test('/flurry.d.ts types a page script on its own, and declares what /flurry.js exports', async ({ relay, page }) => {
  const res = await fetch(`${relay.url}/flurry.d.ts`)
  expect(res.status).toBe(200)
  const types = await res.text()
  // Self-contained: nothing imported or referenced, so nothing else to install.
  expect(types).not.toMatch(/^\s*import\s|<reference\s|from\s+['"]/m)

  const dir = mkdtempSync(join(tmpdir(), 'flurry-bundle-types-'))
  try {
    writeFileSync(join(dir, 'flurry.d.ts'), types)
    writeFileSync(join(dir, 'good.ts'), GOOD)
    writeFileSync(join(dir, 'bad.ts'), BAD)
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(TSCONFIG))
    const tsc = spawnSync(process.execPath, [TSC, '-p', '.', '--pretty', 'false'], { cwd: dir, encoding: 'utf8', timeout: 60_000 })
    const errors = tsc.stdout.split('\n').filter((l) => l.includes('error TS'))
    // Only bad.ts fails, once on each misuse.
    expect(errors.filter((e) => !e.startsWith('bad.ts'))).toEqual([])
    expect([...new Set(errors.map((e) => /^bad\.ts\((\d+),/.exec(e)?.[1]))]).toEqual(['2', '3', '4'])
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }

  // Every value the declarations export is a runtime export of the bundle, and back.
  const declared = [...types.matchAll(/^export declare (?:function|class|const|let|var|enum) (\w+)/gm)].map((m) => m[1]).sort()
  await page.goto(`${relay.url}/e2e/blank.html`)
  const exported = (await page.evaluate("import('/flurry.js').then((m) => Object.keys(m))")) as string[]
  expect(declared).toEqual([...exported].sort())
  expect(declared).toContain('webrtc')
})
