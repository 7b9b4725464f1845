#!/usr/bin/env node
// Mutation check of the convergence spec: copies packages/core to a temporary folder
// (node_modules symlinked), applies each mutant below as a text patch on exact source
// lines, builds the copy (tsc), runs the convergence spec's two properties with fewer
// runs, and prints a table. The spec must pass on the unmutated copy and fail on every
// mutant. A patch line that is not found is reported loudly (the code moved: update
// the mutant here). Each run is bounded in time. Exit 1 if anything is not as it should.
//
//   npm run mutants                      all mutants, FLURRY_RUNS=60 each
//   npm run mutants -- inverted-winner   only the ones named
//   MUTANT_RUNS=200 MUTANT_TIMEOUT_S=300 npm run mutants
import { spawn } from 'node:child_process'
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const RUNS = Number(process.env.MUTANT_RUNS) || 60
const TIMEOUT_MS = (Number(process.env.MUTANT_TIMEOUT_S) || 240) * 1000
const SPEC = 'packages/core/test/global/convergence.spec.ts'
// The stall property is the lead's to make pass; the two others must pass unmutated.
const TESTS = 'converges on every live node|homeless nodes sharing a bus'

/** Each patch: in `file`, the exact lines `find` (whole lines, once) become `replace`. */
const MUTANTS = [
  {
    id: 'inverted-winner',
    what: 'the newest claim wins (registry.ts before)',
    patches: [
      {
        file: 'src/global/registry.ts',
        find: '  return a.at < b.at || (a.at === b.at && a.slice.owner < b.slice.owner)',
        replace: '  return a.at > b.at || (a.at === b.at && a.slice.owner > b.slice.owner)',
      },
    ],
  },
  {
    id: 'both-withdraw',
    what: 'the winner of a conflict withdraws too (service.ts #withdrawBeaten)',
    patches: [
      {
        // The winner's node also notes its own claim as beaten when another joins the chain...
        file: 'src/global/registry.ts',
        find: '    if (own !== undefined && now !== undefined && now !== own && !this.#beaten.has(own)) {',
        replace: '    if (own !== undefined && now !== undefined && (now !== own || own.next !== null) && !this.#beaten.has(own)) {',
      },
      {
        // ...and #withdrawBeaten no longer spares a claim that still wins.
        file: 'src/global/service.ts',
        find: '      if (winner === undefined || winner === claim) continue',
        replace: '      if (winner === undefined) continue',
      },
    ],
  },
  {
    id: 'merge-skips-held',
    what: 'mergeSlice skips a name another owner holds (the seed design\'s bug)',
    patches: [
      {
        file: 'src/global/registry.ts',
        find: '      next.set(name, new Claim(name, slice, pidId, at))',
        replace: [
          '      const holder = this.#table.get(name)',
          '      if (holder !== undefined && holder.slice !== slice) continue',
          '      next.set(name, new Claim(name, slice, pidId, at))',
        ].join('\n'),
      },
    ],
  },
  {
    id: 'home-keeps-departed',
    what: 'a home keeps a departed client listed (replication.ts onClientGone)',
    patches: [
      {
        file: 'src/node/replication.ts',
        find: '      node.store.removeClient(c, reason)',
        replace: '    void reason',
      },
    ],
  },
  {
    id: 'home-takes-forgeries',
    what: 'a home accepts any stamp (replication.ts #checkFor CLOCK_SKEW)',
    patches: [
      {
        file: 'src/node/replication.ts',
        find: "      if (at < (s.ackedMs - o.maxClockOffsetMs) * COUNTER_SPAN) return 'CLOCK_SKEW'",
        replace: '      void COUNTER_SPAN',
      },
    ],
  },
  {
    id: 'loser-told-twice',
    what: 'a loser is told twice (service.ts #tell)',
    patches: [
      {
        file: 'src/global/service.ts',
        find: "      this.#tell(loser, { flurry: 'name_conflict', name: claim.name, winner: winner.pid })",
        replace: [
          "      this.#tell(loser, { flurry: 'name_conflict', name: claim.name, winner: winner.pid })",
          "      this.#tell(loser, { flurry: 'name_conflict', name: claim.name, winner: winner.pid })",
        ].join('\n'),
      },
    ],
  },
]

/** Replaces the whole lines `find` (exactly once) in `text`; null with a reason if not. */
function patch(text, find, replace) {
  const lines = text.split('\n')
  const want = find.split('\n')
  const at = []
  for (let i = 0; i + want.length <= lines.length; i++) {
    if (want.every((w, k) => lines[i + k] === w)) at.push(i)
  }
  if (at.length !== 1) return { text: null, why: at.length === 0 ? 'line not found' : `line found ${at.length} times` }
  lines.splice(at[0], want.length, ...replace.split('\n'))
  return { text: lines.join('\n'), why: null }
}

/** Runs a command in `cwd`, killed (its process group, by pid) after `ms`. */
function run(cmd, args, cwd, env, ms) {
  return new Promise((resolveRun) => {
    const started = Date.now()
    const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (out += d))
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      try {
        process.kill(-child.pid, 'SIGKILL')
      } catch {}
    }, ms)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolveRun({ code, out, timedOut, seconds: (Date.now() - started) / 1000 })
    })
  })
}

function firstFailure(out) {
  const plain = out.replace(/\x1b\[[0-9;]*m/g, '')
  const line = plain.split('\n').find((l) => /AssertionError|Error:|expected/.test(l) && !/Property failed/.test(l))
  return (line ?? '').trim().slice(0, 110)
}

const only = process.argv.slice(2)
const chosen = only.length === 0 ? MUTANTS : MUTANTS.filter((m) => only.includes(m.id))
if (chosen.length !== (only.length === 0 ? MUTANTS.length : only.length)) {
  console.error(`unknown mutant; known: ${MUTANTS.map((m) => m.id).join(', ')}`)
  process.exit(2)
}

const work = mkdtempSync(join(tmpdir(), 'flurry-mutants-'))
const core = join(work, 'packages/core')
process.on('exit', () => rmSync(work, { recursive: true, force: true }))
process.on('SIGINT', () => process.exit(130))
cpSync(join(ROOT, 'packages/core'), core, {
  recursive: true,
  filter: (src) => !/\/(node_modules|dist)(\/|$)/.test(src.slice(ROOT.length)),
})
for (const f of ['tsconfig.json', 'vitest.config.ts', 'package.json']) cpSync(join(ROOT, f), join(work, f))
symlinkSync(join(ROOT, 'node_modules'), join(work, 'node_modules'), 'dir')

const originals = new Map()
const rows = []
let bad = false
const tsc = join(ROOT, 'node_modules/typescript/bin/tsc')
const vitest = join(ROOT, 'node_modules/vitest/vitest.mjs')

for (const m of [{ id: 'none', what: 'the code as it is', patches: [] }, ...chosen]) {
  // Back to the original sources, then this mutant's patches.
  for (const [file, text] of originals) writeFileSync(join(core, file), text)
  let applied = true
  for (const p of m.patches) {
    const path = join(core, p.file)
    if (!originals.has(p.file)) originals.set(p.file, readFileSync(path, 'utf8'))
    const r = patch(readFileSync(path, 'utf8'), p.find, p.replace)
    if (r.text === null) {
      console.error(`\n!!! MUTANT ${m.id}: ${r.why} in packages/core/${p.file}:\n!!!   ${p.find.split('\n')[0]}\n!!! The code moved: update this mutant in scripts/mutants.mjs.\n`)
      applied = false
      break
    }
    writeFileSync(path, r.text)
  }
  if (!applied) {
    rows.push([m.id, 'NOT APPLIED', '-', '-', 'line not found'])
    bad = true
    continue
  }
  process.stderr.write(`${m.id}: building... `)
  const build = await run(process.execPath, [tsc, '-p', 'packages/core/tsconfig.json'], work, {}, 120_000)
  if (build.code !== 0) {
    rows.push([m.id, 'applied', 'BUILD FAILED', '-', firstFailure(build.out)])
    bad = true
    process.stderr.write('build failed\n')
    continue
  }
  process.stderr.write(`running the spec (${RUNS} runs)... `)
  const spec = await run(
    process.execPath,
    [vitest, 'run', SPEC, '-t', TESTS],
    work,
    { FLURRY_RUNS: String(RUNS), FLURRY_SEED: '', FORCE_COLOR: '0' },
    TIMEOUT_MS,
  )
  const failed = spec.code !== 0
  const result = spec.timedOut ? `TIMED OUT (${TIMEOUT_MS / 1000} s)` : failed ? 'spec FAILS' : 'spec passes'
  const wanted = m.id === 'none' ? !failed && !spec.timedOut : failed && !spec.timedOut
  if (!wanted) bad = true
  const verdict = m.id === 'none' ? (wanted ? 'ok (baseline)' : 'BASELINE FAILS') : wanted ? 'KILLED' : 'SURVIVED'
  rows.push([m.id, 'applied', `${spec.seconds.toFixed(0)} s`, result, verdict, failed && m.id !== 'none' ? firstFailure(spec.out) : ''])
  process.stderr.write(`${verdict}\n`)
  if (m.id === 'none' && !wanted) process.stderr.write(spec.out.slice(-3000))
}

const header = ['mutant', 'patch', 'spec time', 'result', 'verdict', 'first failure']
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i] ?? '').length)))
const fmt = (r) => r.map((c, i) => String(c ?? '').padEnd(widths[i])).join(' | ')
console.log(`\nconvergence spec (${TESTS.replace('|', ', ')}), FLURRY_RUNS=${RUNS}`)
console.log(fmt(header))
console.log(widths.map((w) => '-'.repeat(w)).join('-|-'))
for (const r of rows) console.log(fmt(r))
for (const m of chosen) console.log(`  ${m.id}: ${m.what}`)
process.exit(bad ? 1 : 0)
