import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('..', import.meta.url))

/** Every bare module specifier reachable from `entry` through relative imports. */
function bareImports(entry: string): string[] {
  const bare = new Set<string>()
  const seen = new Set<string>()
  const visit = (file: string): void => {
    if (seen.has(file)) return
    seen.add(file)
    for (const [, spec] of readFileSync(file, 'utf8').matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s+'([^']+)'/g)) {
      if (spec === undefined) continue
      if (spec.startsWith('.')) visit(join(dirname(file), spec.replace(/\.js$/, '.ts')))
      else bare.add(spec)
    }
  }
  visit(entry)
  return [...bare].sort()
}

describe('the browser build', () => {
  it('is what the browser export condition selects, before the Node default', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: { '.': Record<string, string> } }
    const conditions = Object.keys(pkg.exports['.'])
    expect(pkg.exports['.'].browser).toBe('./dist/index.browser.js')
    expect(conditions.indexOf('browser')).toBeLessThan(conditions.indexOf('default'))
  })

  it('leaves node-datachannel out; the Node build uses it', () => {
    expect(bareImports(join(root, 'src/index.browser.ts'))).toEqual(['@flurry/core', 'simple-peer'])
    expect(bareImports(join(root, 'src/index.ts'))).toContain('node-datachannel/polyfill')
  })
})
