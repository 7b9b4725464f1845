/**
 * The core benchmark suite: each benchmark in a child process of its own
 * (`node --expose-gc`), then one table on stdout and the same as JSON in
 * `bench-results/core.json` at the repository root.
 *
 * `node --expose-gc dist/run-core.js [name ...]` runs the named benchmarks only.
 */
import { fork } from 'node:child_process'
import { cpus, loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import { BENCHES } from './benches.js'
import { rate, renderNotes, renderTable, writeReport, type Rated, type Row } from './table.js'

/** A benchmark still running after this is killed and reported as failed. */
const CHILD_TIMEOUT_MS = 90_000

const childPath = fileURLToPath(new URL('./child.js', import.meta.url))
const outPath = fileURLToPath(new URL('../../../bench-results/core.json', import.meta.url))

function runChild(name: string): Promise<Row[]> {
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
      child.kill('SIGKILL')
      finish(() => reject(new Error(`timed out after ${CHILD_TIMEOUT_MS} ms`)))
    }, CHILD_TIMEOUT_MS)
    child.on('message', (m: { rows?: Row[]; error?: string }) => {
      if (m.rows !== undefined) finish(() => resolve(m.rows as Row[]))
      else finish(() => reject(new Error(m.error ?? 'failed')))
    })
    child.on('exit', (code, signal) => finish(() => reject(new Error(`exited (${signal ?? code}) without results`))))
    child.on('error', (err) => finish(() => reject(err)))
  })
}

async function main(): Promise<void> {
  const asked = process.argv.slice(2)
  for (const a of asked) if (BENCHES[a] === undefined) throw new Error(`no benchmark ${a}; there are ${Object.keys(BENCHES).join(', ')}`)
  const names = asked.length > 0 ? asked : Object.keys(BENCHES)
  const started = Date.now()
  const loadStart = loadavg()[0] ?? 0
  const rows: Rated[] = []
  const errors: Array<{ bench: string; error: string }> = []
  for (const name of names) {
    const t0 = Date.now()
    process.stdout.write(`bench ${name}: ${BENCHES[name]?.title} … `)
    try {
      for (const r of await runChild(name)) rows.push(rate(r))
      process.stdout.write(`${((Date.now() - t0) / 1000).toFixed(1)} s\n`)
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err)
      errors.push({ bench: name, error })
      process.stdout.write(`FAILED: ${error}\n`)
    }
  }
  const cpu = cpus()
  const report = {
    suite: 'core',
    date: new Date(started).toISOString(),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    cpus: cpu.length,
    cpuModel: cpu[0]?.model ?? 'unknown',
    loadavg: { start: loadStart, end: loadavg()[0] ?? 0 },
    durationMs: Date.now() - started,
    rows,
    errors,
  }
  writeReport(outPath, report)
  console.log(`\nFlurry core benchmarks — node ${report.node}, ${report.cpus} × ${report.cpuModel}, load ${loadStart.toFixed(2)} → ${report.loadavg.end.toFixed(2)}`)
  console.log('Figures are medians of several runs; ratio = Flurry / baseline; spread = ±half the range of the runs.\n')
  console.log(renderTable(rows))
  const notes = renderNotes(rows)
  if (notes !== '') console.log(`\n${notes}`)
  for (const e of errors) console.log(`\n${e.bench} FAILED: ${e.error}`)
  console.log(`\n${rows.length} rows in ${(report.durationMs / 1000).toFixed(1)} s; written to ${outPath}`)
  const failed = rows.filter((r) => r.pass === false).length
  if (failed > 0) console.log(`${failed} goal(s) missed.`)
  if (errors.length > 0) process.exitCode = 1
}

main().catch((err: unknown) => {
  console.error(err)
  process.exitCode = 1
})
