import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('..', import.meta.url))

/** Every bare module specifier reachable from `entry` through relative imports. */
function bareImports(entry: string): Set<string> {
  const bare = new Set<string>()
  const seen = new Set<string>()
  const visit = (file: string): void => {
    if (seen.has(file)) return
    seen.add(file)
    const source = readFileSync(file, 'utf8')
    for (const [, spec] of source.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s+'([^']+)'/g)) {
      if (spec === undefined) continue
      if (spec.startsWith('.')) visit(join(dirname(file), spec.replace(/\.js$/, '.ts')))
      else bare.add(spec)
    }
  }
  visit(entry)
  return bare
}

describe('the browser build', () => {
  it('is what the browser export condition selects, with its own types (and at @flurry/ws/browser)', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      exports: Record<string, Record<string, unknown>>
    }
    const browser = { types: './dist/index.browser.d.ts', default: './dist/index.browser.js' }
    // First: a bundler or TypeScript with the browser condition never sees the Node build's types.
    expect(Object.keys(pkg.exports['.'] as object)).toEqual(['browser', 'types', 'default'])
    expect(pkg.exports['.']?.browser).toEqual(browser)
    expect(pkg.exports['./browser']).toEqual(browser)
  })

  it('imports neither ws nor node:* and has no listener', async () => {
    expect([...bareImports(join(root, 'src/index.browser.ts'))]).toEqual(['@flurry/core'])
    const browser = await import('../src/index.browser.js')
    expect(Object.keys(browser)).toEqual(['dialWebSocket'])
  })

  it('the Node build does import ws', () => {
    expect(bareImports(join(root, 'src/index.ts'))).toContain('ws')
  })
})
