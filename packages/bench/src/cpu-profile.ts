/**
 * Where a process spent its time: reads a `--cpu-prof` profile and lists the functions
 * with the most self time and the most total (inclusive) time, with file and line.
 */
import { readFileSync } from 'node:fs'

interface ProfNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  children?: number[]
}
interface Profile {
  nodes: ProfNode[]
  samples: number[]
  timeDeltas: number[]
}

function where(n: ProfNode): string {
  const f = n.callFrame
  const file = f.url.replace(/^file:\/\//, '').replace(/^.*\/node_modules\//, 'node_modules/').replace(/^.*\/packages\//, 'packages/')
  return `${f.functionName || '(anonymous)'} ${file ? `${file}:${f.lineNumber + 1}` : ''}`.trim()
}

/** Self and total ms per function, from one profile. */
export function summarize(path: string, top = 25): string {
  const p = JSON.parse(readFileSync(path, 'utf8')) as Profile
  const byId = new Map(p.nodes.map((n) => [n.id, n]))
  const self = new Map<number, number>()
  for (let i = 0; i < p.samples.length; i++) self.set(p.samples[i] as number, (self.get(p.samples[i] as number) ?? 0) + (p.timeDeltas[i] ?? 0) / 1000)
  const parent = new Map<number, number>()
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const selfBy = new Map<string, number>()
  const totalBy = new Map<string, number>()
  let all = 0
  for (const [id, ms] of self) {
    all += ms
    const n = byId.get(id) as ProfNode
    selfBy.set(where(n), (selfBy.get(where(n)) ?? 0) + ms)
    // Inclusive: every distinct function on the stack gets the sample once.
    const seen = new Set<string>()
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const key = where(byId.get(cur) as ProfNode)
      if (seen.has(key)) continue
      seen.add(key)
      totalBy.set(key, (totalBy.get(key) ?? 0) + ms)
    }
  }
  const fmt = (m: Map<string, number>): string =>
    [...m]
      .sort((x, y) => y[1] - x[1])
      .slice(0, top)
      .map(([k, ms]) => `  ${ms.toFixed(0).padStart(6)} ms ${((100 * ms) / all).toFixed(1).padStart(5)}%  ${k}`)
      .join('\n')
  return `${path} — ${all.toFixed(0)} ms sampled\n self:\n${fmt(selfBy)}\n total:\n${fmt(totalBy)}`
}
