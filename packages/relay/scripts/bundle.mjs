// Builds dist/public: the browser bundle (flurry.js), its types (flurry.d.ts) and a
// copy of the demo app.
import { generateDtsBundle } from 'dts-bundle-generator'
import { build } from 'esbuild'
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
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

// One self-contained declaration file (core's, ws's and webrtc's types inlined, no
// imports, no Node types), so a page that loads /flurry.js from a relay can be typed
// without installing anything: see browser/tsconfig.json.
const [types] = generateDtsBundle(
  [
    {
      filePath: join(pkg, 'browser', 'flurry.ts'),
      libraries: { inlinedLibraries: ['@flurry/core', '@flurry/ws', '@flurry/webrtc'], importedLibraries: [], allowedTypesLibraries: [] },
      output: { noBanner: true, exportReferencedTypes: false },
    },
  ],
  { preferredConfigPath: join(pkg, 'browser', 'tsconfig.json') },
)
writeFileSync(join(out, 'flurry.d.ts'), `// Types of /flurry.js (@flurry/core, @flurry/ws and @flurry/webrtc for browsers).\n${types}`)

const demo = join(pkg, '..', '..', 'demo', 'public')
if (existsSync(demo)) cpSync(demo, out, { recursive: true })
