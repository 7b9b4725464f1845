/**
 * Where the time goes in the throughput benchmark: runs one path (Flurry or raw) of
 * one workload between two worker processes started with `--cpu-prof`, then prints,
 * for the sender (B) and the receiver (A), the functions with the most self time and
 * the most total (inclusive) time, with file and line.
 *
 *   node dist/procs/profile.js flurry oneway      # or: raw oneway, flurry pingpong, raw pingpong
 *
 * Profiles stay in $FLURRY_BENCH_CPU_PROF (default: a fresh folder under the OS tmp dir).
 */
import { mkdtempSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { summarize } from '../cpu-profile.js'

const kind = process.argv[2] === 'raw' ? 'raw' : 'flurry'
const workload = process.argv[3] === 'pingpong' ? 'pingpong' : 'oneway'
const dir = process.env.FLURRY_BENCH_CPU_PROF ?? mkdtempSync(join(tmpdir(), 'flurry-prof-'))
process.env.FLURRY_BENCH_CPU_PROF = dir

const ROUNDS = 10
const N = 200_000
const BYTES = 100

async function main(): Promise<void> {
  const { startWorkers, stopWorkers } = await import('./harness.js')
  const [a, b] = await startWorkers(['A', 'B'])
  if (a === undefined || b === undefined) throw new Error('workers')
  try {
    const pa = await a.call<{ url: string }>('flurry.peer')
    await b.call('flurry.peer')
    await b.call('flurry.connect', { url: pa.url })
    const raw = await a.call<{ url: string }>('raw.listen')
    await b.call('raw.connect', { url: raw.url, tag: 'A' })
    await a.call('raw.waitConn', { tag: 'B' })
    const t0 = Date.now()
    if (workload === 'oneway') {
      for (let r = 0; r < ROUNDS; r++) {
        if (kind === 'flurry') {
          const pid = await a.call('flurry.counter', { n: N })
          const s = b.call('flurry.blast', { to: pid, n: N, bytes: BYTES, chunk: 1000, timeoutMs: 20_000 }, 30_000)
          await a.call('flurry.counterWait', { pid, timeoutMs: 20_000 }, 30_000)
          await s
        } else {
          const id = await a.call('raw.counter', { n: N })
          const s = b.call('raw.blast', { tag: 'A', to: id, n: N, bytes: BYTES, chunk: 1000, timeoutMs: 20_000 }, 30_000)
          await a.call('raw.counterWait', { id, timeoutMs: 20_000 }, 30_000)
          await s
        }
      }
    } else if (kind === 'flurry') {
      const pinger = await b.call('flurry.pinger', { bytes: BYTES })
      const ponger = await a.call('flurry.ponger', { partner: pinger })
      for (let r = 0; r < ROUNDS; r++) await b.call('flurry.pingpong', { pinger, ponger, ms: 500, max: 1e7 }, 20_000)
    } else {
      const pinger = await b.call('raw.pinger')
      const ponger = await a.call('raw.ponger', { tag: 'B', partner: pinger })
      for (let r = 0; r < ROUNDS; r++) await b.call('raw.pingpong', { tag: 'A', pinger, ponger, bytes: BYTES, ms: 500, max: 1e7 }, 20_000)
    }
    console.log(`${kind} ${workload}: ${ROUNDS} rounds in ${Date.now() - t0} ms`)
  } finally {
    await stopWorkers([a, b])
  }
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).sort()) console.log(`\n${summarize(join(dir, f))}`)
}

main().catch((err: unknown) => {
  console.error(err)
  process.exitCode = 1
})
