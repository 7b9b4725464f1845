// Decodes the link messages given on stdin (one hex string a line) with the built
// decoder (packages/core/dist) in a process of its own, so that a bomb that takes
// gigabytes kills only this process. Prints one JSON line per message:
// { ms, rssGrowthMb, outcome } where outcome is 'ok', a FlurryError code, or 'escape: …'.
import { readFileSync } from 'node:fs'

const { readFrames } = await import(new URL('../../dist/wire/codec.js', import.meta.url).href)
const { FlurryError } = await import(new URL('../../dist/base/error.js', import.meta.url).href)

const lines = readFileSync(0, 'utf8').split('\n').filter((l) => l.length > 0)
for (const line of lines) {
  const bytes = Uint8Array.from(line.match(/../g) ?? [], (h) => parseInt(h, 16))
  const rss = process.memoryUsage().rss
  const started = performance.now()
  let outcome = 'ok'
  try {
    readFrames(bytes, 1024 * 1024, () => {})
  } catch (err) {
    outcome = err instanceof FlurryError ? err.code : `escape: ${String(err).slice(0, 200)}`
  }
  const ms = performance.now() - started
  const rssGrowthMb = (process.memoryUsage().rss - rss) / 2 ** 20
  process.stdout.write(`${JSON.stringify({ ms, rssGrowthMb, outcome })}\n`)
}
