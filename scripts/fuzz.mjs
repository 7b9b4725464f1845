#!/usr/bin/env node
// The long fuzz run of the wire (packages/core/test/fuzz): the same targets as the CI
// run of `npm test`, with 1,000,000 inputs unless FLURRY_FUZZ_INPUTS says otherwise.
// FLURRY_SEED replays a run (the seed is printed first); FLURRY_FUZZ_BOMBS=full feeds
// the full-size msgpack bombs; FLURRY_FUZZ_STRICT=1 fails on known findings too.
// A failure prints the seed and each offending input as hex.
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const inputs = Number(process.env.FLURRY_FUZZ_INPUTS ?? 1_000_000)
if (!Number.isInteger(inputs) || inputs <= 0) {
  process.stderr.write(`FLURRY_FUZZ_INPUTS must be a positive integer (got ${process.env.FLURRY_FUZZ_INPUTS})\n`)
  process.exit(2)
}
const given = Number(process.env.FLURRY_SEED)
const seed = Number.isInteger(given) && given > 0 ? given : Math.floor(Math.random() * 2 ** 31) + 1
process.stdout.write(`fuzz: ${inputs} inputs, FLURRY_SEED=${seed}${process.env.FLURRY_FUZZ_BOMBS === 'full' ? ', full-size bombs' : ''}\n`)

const started = Date.now()
const run = spawnSync(
  process.execPath,
  [
    'node_modules/vitest/vitest.mjs',
    'run',
    'packages/core/test/fuzz/',
    // Hours, not the 30 s of a unit test: a million inputs take minutes.
    '--testTimeout=14400000',
    '--hookTimeout=60000',
  ],
  { cwd: root, stdio: 'inherit', env: { ...process.env, FLURRY_FUZZ_INPUTS: String(inputs), FLURRY_SEED: String(seed) } },
)
const secs = ((Date.now() - started) / 1000).toFixed(0)
if (run.status === 0) process.stdout.write(`fuzz: ${inputs} inputs passed in ${secs} s (FLURRY_SEED=${seed})\n`)
else process.stdout.write(`fuzz: FAILED after ${secs} s; replay with FLURRY_SEED=${seed} FLURRY_FUZZ_INPUTS=${inputs} npm run fuzz\n`)
process.exit(run.status ?? 1)
