/**
 * `npm run bench:load`: the relay under N lightweight clients (scenario.ts), for each N
 * of `--clients` (default 1000,5000), beside a bare `ws` server measured in the same
 * run. Prints one table with the goals of issue 8 (at 1,000 clients: admitted in
 * ≤ 5 s with 0 refusals, cleanup of 250 ≤ 500 ms, visible p99 ≤ 20 ms, ≤ 50 KB relay
 * RSS per idle client; other N reported) and writes it to bench-results/load.json.
 *
 *   node --expose-gc dist/load/run-load.js [--clients 1000,5000] [--procs 4]
 *        [--concurrency 25] [--samples 500] [--profile DIR[:N]]
 *
 * `--profile DIR[:N]` runs the relay of the N-client measurement (default 1000) with
 * --cpu-prof, writes the profile into DIR and prints its top functions.
 */
import { mkdirSync, readdirSync, statSync } from 'node:fs'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { summarize } from '../cpu-profile.js'
import { machine, printReport, resultsPath } from '../suite.js'
import { rate, row, writeReport, type Rated, type Row } from '../table.js'
import { hardFdLimit, stopWorkers } from '../procs/harness.js'
import { measureLoad, type Latency, type LoadResult } from './scenario.js'

interface Args {
  clients: number[]
  procs: number
  concurrency: number
  samples: number
  profileDir: string | null
  /** The N whose relay is profiled. */
  profileClients: number
}

function parseArgs(argv: string[]): Args {
  const a: Args = { clients: [1000, 5000], procs: 4, concurrency: 25, samples: 500, profileDir: null, profileClients: 1000 }
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]
    const value = argv[++i]
    const n = Number(value)
    if (flag === '--clients') a.clients = String(value).split(',').map(Number)
    else if (flag === '--procs') a.procs = n
    else if (flag === '--concurrency') a.concurrency = n
    else if (flag === '--samples') a.samples = n
    else if (flag === '--profile') {
      const [dir, at] = String(value).split(':')
      a.profileDir = dir as string
      if (at !== undefined) a.profileClients = Number(at)
    }
    else throw new Error(`unknown flag ${flag}; use --clients 1000,5000 --procs 4 --concurrency 25 --samples 500 --profile DIR[:N]`)
  }
  for (const n of [...a.clients, a.procs, a.concurrency, a.samples]) {
    if (!Number.isInteger(n) || n < 1) throw new Error(`counts must be positive integers (got ${n})`)
  }
  return a
}

const lower = 'lower' as const

function one(bench: string, name: string, unit: string, flurry: number | null, baseline: number | null, baselineLabel: string, goal: number | null, note?: string): Row {
  return row({
    bench,
    name,
    unit,
    better: lower,
    runs: flurry === null ? [] : [flurry],
    baselineRuns: baseline === null ? [] : [baseline],
    flurry,
    baseline,
    baselineLabel,
    goal,
    ...(note !== undefined ? { note } : {}),
  })
}

function latNote(l: Latency | undefined, what: string): string | undefined {
  if (l === undefined || l.lost === 0) return undefined
  return `${what}: ${l.lost} of ${l.count + l.lost} registrations never seen on the observer in 10 s (counted as slowest)`
}

/** Goals apply at 1,000 clients; other N are reported. */
function rowsOf(r: LoadResult): Row[] {
  const n = r.clients
  const bench = `load ${n}`
  const at1k = n === 1000
  const goal = (g: number): number | null => (at1k ? g : null)
  const b = r.bare
  const x = r.relay
  const rows: Row[] = []
  const fails = (f: Record<string, number> | undefined): string | undefined =>
    f !== undefined && Object.keys(f).length > 0 ? `connect failures ${JSON.stringify(f)}` : undefined
  rows.push(one(bench, `${n} clients: not admitted`, 'clients', x === null ? null : n - x.admitted, b === null ? null : n - b.admitted, 'bare ws', 0, fails(x?.failures)))
  const allIn = x !== null && x.admitted === n
  rows.push(
    one(bench, 'time to admit all', 'ms', allIn ? x.admitMs : null, b?.admitMs ?? null, 'bare ws connect all', goal(5000), x !== null && !allIn ? `${n - x.admitted} not admitted in the deadline; the last admission came after ${x.admitMs?.toFixed(0) ?? '—'} ms` : undefined),
  )
  const refused = x === null ? null : Object.values(x.tally.refused).reduce((s, k) => s + k, 0)
  const errs = x === null ? '' : Object.keys(x.tally.errors).length > 0 ? `; ERROR frames ${JSON.stringify(x.tally.errors)}` : ''
  const closed = x === null ? '' : Object.keys(x.tally.closed).length > 0 ? `; sessions closed ${JSON.stringify(x.tally.closed)}` : ''
  rows.push(
    one(bench, 'names refused (REFUSE_NAME)', 'names', refused, null, '', 0, x === null ? undefined : `by code ${JSON.stringify(x.tally.refused)}${errs}${closed}; observer saw ${x.namesSeen} of ${2 * x.admitted} names after admission`),
  )
  rows.push(
    one(bench, 'relay CPU per client, admission', 'ms', x?.cpuAdmitMsPerClient ?? null, null, '', null, x === null ? undefined : `relay ${(x.relayCpuAdmitMs / 1000).toFixed(1)} s CPU while connecting, all client processes ${(x.clientCpuAdmitMs / 1000).toFixed(1)} s`),
  )
  rows.push(one(bench, 'relay CPU idle, per client', 'µs per s', x?.idleCpuUsPerSecPerClient ?? null, null, '', null, 'heartbeats only: CPU time per wall second, divided by N'))
  rows.push(one(bench, 'relay bytes in per client, admission', 'bytes', x?.bytesInPerClient ?? null, null, '', null, '/proc/<pid>/io rchar'))
  rows.push(one(bench, 'relay bytes out per client, admission', 'bytes', x?.bytesOutPerClient ?? null, null, '', null, '/proc/<pid>/io wchar'))
  rows.push(
    one(bench, 'relay RSS per idle client', 'KB', x?.rssPerClientBytes == null ? null : x.rssPerClientBytes / 1024, b?.rssPerClientBytes == null ? null : b.rssPerClientBytes / 1024, 'bare ws per connection', goal(50), x === null ? undefined : `(RSS ${x.rssNKb} KB with ${x.admitted} − ${x.rss0Kb} KB with 0) / N, after GC; 2 names per client`),
  )
  rows.push(one(bench, 'register → visible, idle: p50', 'ms', x?.visible.p50 ?? null, b?.visible.p50 ?? null, 'bare ws broadcast', null))
  rows.push(one(bench, 'register → visible, idle: p99', 'ms', x?.visible.p99 ?? null, b?.visible.p99 ?? null, 'bare ws broadcast', goal(20), latNote(x?.visible, 'idle')))
  const churners = x?.churners ?? b?.churners ?? 0
  rows.push(one(bench, `… with ${churners} clients churning: p50`, 'ms', x?.visibleChurn.p50 ?? null, b?.visibleChurn.p50 ?? null, 'bare ws broadcast', null))
  rows.push(one(bench, `… with ${churners} clients churning: p99`, 'ms', x?.visibleChurn.p99 ?? null, b?.visibleChurn.p99 ?? null, 'bare ws broadcast', goal(20), latNote(x?.visibleChurn, 'churn')))
  rows.push(
    one(bench, `cleanup of ${x?.killed ?? Math.round(n / 4)} after kill -9`, 'ms', x?.cleanupMs ?? null, null, '', goal(500), x === null ? undefined : `observer told of ${x.cleanupGone} of ${x.killed} departures; after the churn, a registration was seen again in ${x.drainMs === null ? '— (not in 120 s)' : `${x.drainMs.toFixed(0)} ms`} before the kill`),
  )
  return rows
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2))
  const started = Date.now()
  const loadStart = loadavg()[0] ?? 0
  console.log(`relay load: ${args.clients.join(', ')} clients in ${args.procs} processes, ${args.concurrency} connecting at a time per process; hard fd limit ${hardFdLimit()}`)
  if (args.profileDir !== null) mkdirSync(args.profileDir, { recursive: true })
  const results: LoadResult[] = []
  for (const clients of args.clients) {
    console.log(`N = ${clients}`)
    const t0 = Date.now()
    const profileDir = clients === args.profileClients ? args.profileDir : null
    results.push(await measureLoad({ ...args, clients, profileDir, log: (l) => console.log(l) }))
    console.log(`  ${((Date.now() - t0) / 1000).toFixed(1)} s`)
  }
  const rows: Rated[] = results.flatMap(rowsOf).map(rate)
  const errors = results.flatMap((r) => r.errors.map((error) => ({ bench: `load ${r.clients}`, error })))
  const report = { ...machine('load', started, loadStart), rows, errors, results }
  const out = resultsPath('load')
  writeReport(out, report)
  printReport(
    report,
    'Flurry relay under load',
    'One run per figure; ratio = relay / bare ws server measured in the same run between the same processes. Goals apply at 1,000 clients.',
    out,
  )
  if (args.profileDir !== null) {
    const dir = args.profileDir
    const fresh = readdirSync(dir).filter((f) => f.startsWith('relay-') && f.endsWith('.cpuprofile') && statSync(join(dir, f)).mtimeMs >= started)
    for (const f of fresh.sort()) {
      console.log(`\n${summarize(join(dir, f), 20)}`)
    }
  }
  if (errors.length > 0) process.exitCode = 1
}

main()
  .catch((err: unknown) => {
    console.error(err)
    process.exitCode = 1
  })
  .finally(() => stopWorkers())
