#!/usr/bin/env node
// The flurry-relay command: loads the build, which `npm install` makes (prepare) in a
// clone and the published package ships. Committed, so npm links it before the build.
import { existsSync } from 'node:fs'

const cli = new URL('../dist/cli.js', import.meta.url)
if (!existsSync(cli)) {
  process.stderr.write('flurry-relay: not built: no dist/cli.js next to this script (run npm run build)\n')
  process.exit(1)
}
await import(cli.href)
