// Builds dist/public: the browser bundle (flurry.js) and a copy of the demo app.
import { build } from 'esbuild'
import { cpSync, existsSync, mkdirSync, rmSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const pkg = join(here, '..')
const out = join(pkg, 'dist', 'public')
rmSync(out, { recursive: true, force: true })
mkdirSync(out, { recursive: true })

await build({
  entryPoints: [join(pkg, 'browser', 'flurry.ts')],
  outfile: join(out, 'flurry.js'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  conditions: ['browser'],
  target: 'es2022',
  minify: true,
  sourcemap: 'linked',
  legalComments: 'linked',
  // simple-peer (for the WebRTC helpers) is written for Node and browserify: give it
  // `process.nextTick` and the `global` object; `buffer` and `events` are npm packages.
  inject: [join(pkg, 'browser', 'process.ts')],
  define: { global: 'globalThis' },
  logLevel: 'warning',
})

const demo = join(pkg, '..', '..', 'demo', 'public')
if (existsSync(demo)) cpSync(demo, out, { recursive: true })
