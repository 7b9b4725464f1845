/**
 * What every fuzz target checks: only FlurryError leaves a decoder or reader, with a
 * code the documentation lists (docs/ERRORS.md §1, parsed here); no handler throws,
 * no promise rejects unhandled. Problems are collected as findings (deduplicated by
 * what went wrong), each with the run seed and the input as hex so it replays.
 */
import { readFileSync } from 'node:fs'
import { expect } from 'vitest'
import { FlurryError } from '../../src/base/error.js'
import { hex, runSeed } from './rng.js'

/** The codes of the table in docs/ERRORS.md §1 ("| `CODE` | meaning | …"). */
export function documentedCodes(): ReadonlySet<string> {
  const text = readFileSync(new URL('../../../../docs/ERRORS.md', import.meta.url), 'utf8')
  const section = text.slice(text.indexOf('## 1. Error codes'), text.indexOf('## 2.'))
  const codes = new Set<string>()
  for (const m of section.matchAll(/^\| `([A-Z_]+)` \|/gm)) codes.add(m[1] as string)
  return codes
}

export const DOCUMENTED = documentedCodes()

const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {}

/**
 * Findings already reported to the lead, with the place to fix: printed as warnings,
 * not failures, until fixed (then delete the entry). FLURRY_FUZZ_STRICT=1 fails on them too.
 */
export const KNOWN: ReadonlyArray<{ what: RegExp; fix: string }> = [
]
const STRICT = env.FLURRY_FUZZ_STRICT === '1'

export interface Finding {
  target: string
  /** The kind of problem (what KNOWN matches). */
  kind: string
  what: string
  /** Which input of the run (replay: FLURRY_SEED=<seed>, the same count). */
  index: number
  input: Uint8Array | null
  stack: string
  count: number
}

/** At most this many hex characters of an input go into a report line. */
const HEX_LIMIT = 8192

export class Findings {
  readonly #byKey = new Map<string, Finding>()
  readonly target: string
  /** The input being fed now, for findings that arrive later (a rejection, a log line). */
  current: { index: number; input: Uint8Array | null } = { index: -1, input: null }

  constructor(target: string) {
    this.target = target
  }

  get size(): number {
    return this.#byKey.size
  }

  /**
   * Records a problem with the current input. `what` names the kind of problem (the
   * key that deduplicates), `detail` what this input showed.
   */
  add(what: string, err?: unknown, detail = ''): void {
    const at = this.current
    // Numbers vary per input; the kind of problem does not.
    const key = what.replace(/\d+/g, 'N').slice(0, 200)
    const known = this.#byKey.get(key)
    if (known !== undefined) {
      known.count++
      return
    }
    const stack = err instanceof Error ? (err.stack ?? String(err)) : err === undefined ? '' : String(err)
    this.#byKey.set(key, { target: this.target, kind: what, what: detail ? `${what}: ${detail}` : what, index: at.index, input: at.input, stack, count: 1 })
  }

  /** Runs `fn`; anything but a FlurryError with one of `codes` is a finding. */
  only(codes: readonly string[], what: string, fn: () => unknown): void {
    try {
      fn()
    } catch (err) {
      this.check(err, codes, what)
    }
  }

  /** A thrown or reported error: a FlurryError with one of `codes`, else a finding. */
  check(err: unknown, codes: readonly string[], what: string): void {
    if (!(err instanceof FlurryError)) {
      const e = err as { name?: unknown; message?: unknown }
      this.add(`${what}: not a FlurryError escaped: ${String(e?.name)}`, err, String(e?.message ?? err).slice(0, 300))
      return
    }
    if (!DOCUMENTED.has(err.code)) this.add(`${what}: undocumented code`, err, `${JSON.stringify(err.code)}: ${err.message.slice(0, 200)}`)
    else if (!codes.includes(err.code)) this.add(`${what}: unexpected code ${err.code}`, err, err.message.slice(0, 200))
  }

  /** A code that crossed the wire (REFUSE, ERROR, REFUSE_NAME) must be documented. */
  wireCode(code: unknown, frame: string): void {
    if (typeof code !== 'string' || !DOCUMENTED.has(code)) this.add(`${frame} carried an undocumented code`, undefined, JSON.stringify(code))
  }

  /** The report of the findings not yet known (all of them with FLURRY_FUZZ_STRICT=1). */
  report(): string {
    return this.#format([...this.#byKey.values()].filter((f) => STRICT || !isKnown(f)))
  }

  /** Known findings seen in this run, as warnings. */
  known(): string {
    return STRICT ? '' : this.#format([...this.#byKey.values()].filter(isKnown), false)
  }

  /** One block per distinct finding, each replayable. */
  #format(findings: Finding[], stacks = true): string {
    const lines: string[] = []
    for (const f of findings) {
      const h = f.input === null ? '(none)' : hex(f.input)
      lines.push(
        `[${f.target}] ${f.what} (x${f.count})`,
        `  replay: FLURRY_SEED=${runSeed} (input #${f.index}), or this input alone: FLURRY_FUZZ_REPLAY=<the hex below>`,
        `  input (${f.input?.length ?? 0} bytes): ${h.length > HEX_LIMIT ? `${h.slice(0, HEX_LIMIT)}… (cut)` : h}`,
        ...(stacks && f.stack ? [`  ${f.stack.split('\n').slice(0, 8).join('\n  ')}`] : []),
      )
    }
    return lines.join('\n')
  }
}

function isKnown(f: Finding): boolean {
  return KNOWN.some((k) => k.what.test(f.kind))
}

/**
 * Listens for unhandled rejections and uncaught exceptions while a target runs;
 * each is a finding of the input fed at the time.
 */
export function watchProcess(findings: Findings): () => void {
  const proc = (globalThis as unknown as { process: NodeJS.Process }).process
  const onRejection = (reason: unknown): void => findings.add('unhandled rejection', reason, String(reason).slice(0, 300))
  const onException = (err: unknown): void => findings.add('uncaught exception', err, String(err).slice(0, 300))
  proc.on('unhandledRejection', onRejection)
  proc.on('uncaughtException', onException)
  return () => {
    proc.off('unhandledRejection', onRejection)
    proc.off('uncaughtException', onException)
    const known = findings.known()
    if (known !== '') console.warn(`known findings (not failures until fixed; see KNOWN in oracle.ts):\n${known}`)
  }
}

/** Prints the run seed once per target, so any run can be replayed. */
export function announce(target: string, inputs: number): void {
  console.log(`fuzz ${target}: ${inputs} inputs, FLURRY_SEED=${runSeed}`)
}

/** Fails with every new finding, printed in full first (a long diff may be cut). */
export function expectNoFindings(findings: Findings): void {
  const report = findings.report()
  if (report !== '') console.error(`fuzz findings (FLURRY_SEED=${runSeed}):\n${report}`)
  expect(report).toBe('')
}
