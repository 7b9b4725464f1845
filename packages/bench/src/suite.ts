/**
 * Runs a suite of benchmarks, each in a child process of its own
 * (`node --expose-gc child.js NAME`), then prints one table on stdout and writes the
 * same rows as JSON to `bench-results/<suite>.json` at the repository root.
 */
import { fork } from 'node:child_process'
import { cpus, loadavg } from 'node:os'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { Bench } from './benches.js'
import { rate, renderNotes, renderTable, writeReport, type Rated, type Report, type Row } from './table.js'

export interface Suite {
  /** 'core', 'cluster': the JSON file's name. */
  name: string
  /** The table's heading. */
  title: string
  benches: Record<string, Bench>
  /** A benchmark still running after this is killed and reported as failed. */
  childTimeoutMs: number
  /** One line under the heading: what the figures are. */
  legend: string
}

const childPath = fileURLToPath(new URL('./child.js', import.meta.url))

export function resultsPath(suite: string): string {
  return fileURLToPath(new URL(`../../../bench-results/${suite}.json`, import.meta.url))
}

function runChild(name: string, timeoutMs: number): Promise<Row[]> {
  return new Promise((resolve, reject) => {
    const child = fork(childPath, [name], { execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    let settled = false
    const finish = (fn: () => void): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      fn()
    }
    const timer = setTimeout(() => {
      // By pid; its own workers exit when their IPC channel to it goes.
      if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGKILL')
      finish(() => reject(new Error(`timed out after ${timeoutMs} ms`)))
    }, timeoutMs)
    child.on('message', (m: { rows?: Row[]; error?: string }) => {
      if (m.rows !== undefined) finish(() => resolve(m.rows as Row[]))
      else finish(() => reject(new Error(m.error ?? 'failed')))
    })
    child.on('exit', (code, signal) => finish(() => reject(new Error(`exited (${signal ?? code}) without results`))))
    child.on('error', (err) => finish(() => reject(err)))
  })
}

/** Runs the benchmarks named in `asked` (all when empty); returns false if one failed. */
export async function runSuite(suite: Suite, asked: readonly string[] = []): Promise<boolean> {
  const { benches } = suite
  for (const a of asked) if (benches[a] === undefined) throw new Error(`no ${suite.name} benchmark ${a}; there are ${Object.keys(benches).join(', ')}`)
  const names = asked.length > 0 ? asked : Object.keys(benches)
  const outPath = resultsPath(suite.name)
  const started = Date.now()
  const loadStart = loadavg()[0] ?? 0
  const rows: Rated[] = []
  const errors: Array<{ bench: string; error: string }> = []
  for (const name of names) {
    const t0 = Date.now()
    process.stdout.write(`bench ${name}: ${benches[name]?.title} … `)
    try {
      for (const r of await runChild(name, suite.childTimeoutMs)) rows.push(rate(r))
      process.stdout.write(`${((Date.now() - t0) / 1000).toFixed(1)} s\n`)
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err)
      errors.push({ bench: name, error })
      process.stdout.write(`FAILED: ${error}\n`)
    }
  }
  const report: Report = { ...machine(suite.name, started, loadStart), rows, errors }
  writeReport(outPath, report)
  printReport(report, suite.title, suite.legend, outPath)
  return errors.length === 0
}

/** Where and when a report was measured: the fields of a Report besides its rows. */
export function machine(suite: string, started: number, loadStart: number): Omit<Report, 'rows' | 'errors'> {
  const cpu = cpus()
  return {
    suite,
    date: new Date(started).toISOString(),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    cpus: cpu.length,
    cpuModel: cpu[0]?.model ?? 'unknown',
    loadavg: { start: loadStart, end: loadavg()[0] ?? 0 },
    durationMs: Date.now() - started,
  }
}

/** The table on stdout: heading, legend, rows, notes, errors, and where the JSON went. */
export function printReport(report: Report, title: string, legend: string, outPath: string): void {
  console.log(`\n${title} — node ${report.node}, ${report.cpus} × ${report.cpuModel}, load ${report.loadavg.start.toFixed(2)} → ${report.loadavg.end.toFixed(2)}`)
  console.log(`${legend}\n`)
  console.log(renderTable(report.rows))
  const notes = renderNotes(report.rows)
  if (notes !== '') console.log(`\n${notes}`)
  for (const e of report.errors) console.log(`\n${e.bench} FAILED: ${e.error}`)
  console.log(`\n${report.rows.length} rows in ${(report.durationMs / 1000).toFixed(1)} s; written to ${outPath}`)
  const failed = report.rows.filter((r) => r.pass === false).length
  if (failed > 0) console.log(`${failed} goal(s) missed.`)
}

/** Whether the module at `url` is the script node was started with. */
export function isMain(url: string): boolean {
  const script = process.argv[1]
  return script !== undefined && pathToFileURL(script).href === url
}

/** Runs `suite` as the main script: named benchmarks from argv, exit code 1 on a failure. */
export function mainSuite(suite: Suite): void {
  runSuite(suite, process.argv.slice(2)).then(
    (ok) => {
      if (!ok) process.exitCode = 1
    },
    (err: unknown) => {
      console.error(err)
      process.exitCode = 1
    },
  )
}
