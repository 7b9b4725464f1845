/**
 * Installs the packed @flurry tarballs in an empty folder with no network: npm's cache
 * holds the dependencies' tarballs (from the repository's own install) but not their
 * registry metadata, so the folder gets a lockfile written from the repository's
 * lockfile, and `npm ci --offline` takes everything from the cache.
 */
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { basename, join } from 'node:path'

export const REPO = join(import.meta.dirname, '..', '..', '..', '..')
const PACKAGES = ['core', 'ws', 'relay'] as const

type LockEntry = { version?: string; dependencies?: Record<string, string>; [k: string]: unknown }

/** npm, with the network shut: offline, and any request would go to a closed local port. */
export function npm(args: string[], cwd: string, timeout = 120_000): string {
  return execFileSync('npm', [...args, '--offline', '--no-audit', '--no-fund', '--proxy=http://127.0.0.1:9', '--https-proxy=http://127.0.0.1:9'], {
    cwd,
    encoding: 'utf8',
    timeout,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, npm_config_update_notifier: 'false' },
  })
}

/** `npm pack` of core, ws and relay into `dir` (they must be built): the tarball paths. */
export function packAll(dir: string): string[] {
  const out = npm(['pack', '--json', '--pack-destination', dir, ...PACKAGES.map((p) => `-w=@flurry/${p}`)], REPO)
  return (JSON.parse(out) as Array<{ filename: string }>).map((p) => join(dir, p.filename))
}

/** Writes package.json and package-lock.json for an app that depends on the tarballs. */
export function writeApp(appDir: string, tarballs: string[]): void {
  const repoLock = JSON.parse(readFileSync(join(REPO, 'package-lock.json'), 'utf8')).packages as Record<string, LockEntry>
  const deps: Record<string, string> = {}
  const packages: Record<string, LockEntry> = {}
  const todo: string[] = []
  for (const tgz of tarballs) {
    const dir = PACKAGES.find((p) => basename(tgz).startsWith(`flurry-${p}-`)) as string
    const pkg = JSON.parse(readFileSync(join(REPO, 'packages', dir, 'package.json'), 'utf8'))
    const spec = `file:${tgz}`
    deps[pkg.name] = spec
    packages[`node_modules/${pkg.name}`] = {
      version: pkg.version,
      resolved: spec,
      integrity: `sha512-${createHash('sha512').update(readFileSync(tgz)).digest('base64')}`,
      ...(pkg.dependencies ? { dependencies: pkg.dependencies } : {}),
      ...(pkg.peerDependencies ? { peerDependencies: pkg.peerDependencies, peerDependenciesMeta: pkg.peerDependenciesMeta } : {}),
      ...(pkg.bin ? { bin: pkg.bin } : {}),
    }
    todo.push(...Object.keys(pkg.dependencies ?? {}))
  }
  // The registry dependencies, as the repository's lockfile has them (hoisted there).
  for (let i = 0; i < todo.length && i < 1000; i++) {
    const name = todo[i] as string
    const key = `node_modules/${name}`
    if (packages[key] !== undefined) continue
    const entry = repoLock[key]
    if (entry === undefined) throw new Error(`${name} is not in the repository's package-lock.json`)
    // With the tarball's URL and integrity npm reads it from its cache, asking no registry.
    const tarball = `${name.split('/').pop()}-${entry.version}.tgz`
    packages[key] = { resolved: `https://registry.npmjs.org/${name}/-/${tarball}`, ...entry }
    todo.push(...Object.keys(entry.dependencies ?? {}))
  }
  const manifest = { name: 'flurry-pack-app', version: '0.0.0', private: true, type: 'module', dependencies: deps }
  packages[''] = { name: manifest.name, version: manifest.version, dependencies: deps }
  writeFileSync(join(appDir, 'package.json'), JSON.stringify(manifest, null, 2))
  writeFileSync(join(appDir, 'package-lock.json'), JSON.stringify({ name: manifest.name, version: manifest.version, lockfileVersion: 3, requires: true, packages }, null, 2))
}
