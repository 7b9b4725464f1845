/**
 * Result rows, the printed table and the JSON file. Every row holds the Flurry figure
 * and the baseline measured in the same run (medians of several runs), the ratio
 * Flurry / baseline, and the goal with pass or fail. Reference rows hold figures
 * measured elsewhere (Erlang's `global` on this machine) for comparison only.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { median } from './measure.js'

export type Better = 'higher' | 'lower'

export interface Row {
  /** Which benchmark file made it. */
  bench: string
  name: string
  /** What the figures count: 'lookups/s', 'ms', 'bytes/name', … */
  unit: string
  better: Better
  /** Median of `runs`; null when the measurement failed. */
  flurry: number | null
  runs: number[]
  baseline: number | null
  baselineRuns: number[]
  /** What the baseline is, e.g. 'Map.get'. */
  baselineLabel: string
  /** The goal in `unit` (≥ when higher is better, ≤ when lower), or null. */
  goal: number | null
  /** A goal on the ratio Flurry / baseline instead (≥ when higher is better, ≤ when lower). */
  goalRatio?: number
  /**
   * Per-run ratios of runs made side by side (each Flurry run with the baseline run
   * next to it): when present the ratio is their median rather than the ratio of the
   * medians, which cancels drift in a noisy machine.
   */
  ratioRuns?: number[]
  /** A static figure measured elsewhere: the baseline column holds it. */
  reference?: boolean
  note?: string
}

export interface Rated extends Row {
  ratio: number | null
  pass: boolean | null
}

/** A measured row: medians of the runs given. */
export function row(r: Omit<Row, 'flurry' | 'baseline'> & { flurry?: number | null; baseline?: number | null }): Row {
  return {
    ...r,
    flurry: r.flurry !== undefined ? r.flurry : r.runs.length > 0 ? median(r.runs) : null,
    baseline: r.baseline !== undefined ? r.baseline : r.baselineRuns.length > 0 ? median(r.baselineRuns) : null,
  }
}

/** A static reference row compared with a measured one. */
export function reference(of: Row, label: string, figure: number, note?: string): Row {
  return {
    bench: of.bench,
    name: `  vs ${label}`,
    unit: of.unit,
    better: of.better,
    flurry: of.flurry,
    runs: [],
    baseline: figure,
    baselineRuns: [],
    baselineLabel: label,
    goal: null,
    reference: true,
    ...(note !== undefined ? { note } : {}),
  }
}

export function rate(r: Row): Rated {
  const ratio =
    r.ratioRuns !== undefined && r.ratioRuns.length > 0
      ? median(r.ratioRuns)
      : r.flurry !== null && r.baseline !== null && r.baseline !== 0
        ? r.flurry / r.baseline
        : null
  let pass: boolean | null = null
  if (r.goalRatio !== undefined && !r.reference) {
    pass = ratio === null ? false : r.better === 'higher' ? ratio >= r.goalRatio : ratio <= r.goalRatio
  } else if (r.goal !== null && !r.reference) {
    pass = r.flurry === null ? false : r.better === 'higher' ? r.flurry >= r.goal : r.flurry <= r.goal
  }
  return { ...r, ratio, pass }
}

const SI: Array<[number, string]> = [
  [1e9, ' G'],
  [1e6, ' M'],
  [1e3, ' k'],
]

/** 12.3 M/s, 84.1 k/s, 71.4 ms, 212 bytes/name: what a rate counts is in the row's name. */
export function fmt(value: number | null, unit: string): string {
  if (value === null || !Number.isFinite(value)) return '—'
  if (unit.endsWith('/s')) {
    for (const [k, p] of SI) if (Math.abs(value) >= k) return `${(value / k).toFixed(value / k >= 100 ? 0 : 1)}${p}/s`
    return `${value.toFixed(0)} /s`
  }
  if (unit === 'ms') return `${value < 10 ? value.toFixed(2) : value.toFixed(1)} ms`
  return `${value.toFixed(0)} ${unit}`
}

/** How far the runs spread around the median, as ±percent of it. */
function spread(runs: number[]): string {
  if (runs.length < 2) return ''
  const m = median(runs)
  if (!(m > 0)) return ''
  const half = (Math.max(...runs) - Math.min(...runs)) / 2
  return `±${Math.round((100 * half) / m)}%`
}

function goalText(r: Row): string {
  if (r.goalRatio !== undefined) return `${r.better === 'higher' ? '≥' : '≤'} ${r.goalRatio.toFixed(2)}× base`
  if (r.goal === null) return ''
  return `${r.better === 'higher' ? '≥' : '≤'} ${fmt(r.goal, r.unit)}`
}

function resultText(r: Rated): string {
  if (r.reference) return 'ref'
  if (r.pass === null) return ''
  if (r.pass) return 'PASS'
  if (r.goalRatio !== undefined) {
    if (r.ratio === null || r.ratio === 0) return 'FAIL'
    return `FAIL ${(r.better === 'higher' ? r.goalRatio / r.ratio : r.ratio / r.goalRatio).toFixed(2)}×`
  }
  if (r.flurry === null || r.goal === null) return 'FAIL'
  const off = r.better === 'higher' ? r.goal / r.flurry : r.flurry / r.goal
  return `FAIL ${off.toFixed(2)}×`
}

export function renderTable(rows: readonly Rated[]): string {
  const head = ['benchmark', 'Flurry', 'spread', 'baseline', 'ratio', 'goal', 'result']
  const body = rows.map((r) => [
    r.name,
    r.reference ? '' : fmt(r.flurry, r.unit),
    r.reference ? '' : spread(r.runs),
    `${fmt(r.baseline, r.unit)} ${r.baselineLabel}`.trim(),
    r.ratio === null ? '—' : r.ratio >= 100 ? `${r.ratio.toFixed(0)}×` : `${r.ratio.toFixed(2)}×`,
    goalText(r),
    resultText(r),
  ])
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] as string).length)))
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === 0 || i === 3 || i === 6 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number)))
      .join('  ')
      .trimEnd()
  const out = [line(head), widths.map((w) => '-'.repeat(w)).join('  ')]
  let last = ''
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i] as Rated
    if (last !== '' && r.bench !== last) out.push('')
    last = r.bench
    out.push(line(body[i] as string[]))
  }
  return out.join('\n')
}

export function renderNotes(rows: readonly Rated[]): string {
  return rows
    .filter((r) => r.note !== undefined && r.note !== '')
    .map((r) => `- ${r.name.trim()}: ${r.note}`)
    .join('\n')
}

export interface Report {
  suite: string
  date: string
  node: string
  platform: string
  cpus: number
  cpuModel: string
  /** 1-minute load average when the suite started and ended: other work skews figures. */
  loadavg: { start: number; end: number }
  durationMs: number
  rows: Rated[]
  errors: Array<{ bench: string; error: string }>
}

export function writeReport(path: string, report: Report): void {
  mkdirSync(dirname(path), { recursive: true })
  writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`)
}
