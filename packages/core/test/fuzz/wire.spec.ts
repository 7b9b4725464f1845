/**
 * Fuzz target 1 and 2: the decoder (decodeValue, readFrames) and every frame reader
 * (src/wire/frames.ts) fed random bytes, mutated and golden frames and bombs. Only
 * FlurryError BAD_FRAME / FRAME_TOO_LARGE may leave them.
 *
 * Replay: FLURRY_SEED=<seed printed> [FLURRY_FUZZ_INPUTS=<n>] npx vitest run packages/core/test/fuzz/wire.spec.ts
 */
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { DEFAULT_MAX_FRAME_BYTES, decodeValue, readFrames } from '../../src/wire/codec.js'
import {
  checkOps,
  frameType,
  readBusHello,
  readCodeMessage,
  readDelta,
  readHello,
  readPeers,
  readProof,
  readSync,
} from '../../src/wire/frames.js'
import { decodePidPayload } from '../../src/wire/pid.js'
import { BOMB_SCALE, WAYS, allBombs, framed, randomBomb, type Bomb } from './bombs.js'
import { GOLDEN, emptyContext, linkMessage, message } from './inputs.js'
import { Findings, announce, expectNoFindings, watchProcess } from './oracle.js'
import { Rng, fuzzTimeoutMs, hex, inputOr, replay, runSeed, shareOf } from './rng.js'

const FRAME_ERRORS = ['BAD_FRAME', 'FRAME_TOO_LARGE'] as const
const READER_ERRORS = ['BAD_FRAME'] as const

/** Every reader a session or node applies to a frame array, each on its own. */
const READERS: ReadonlyArray<[string, (f: unknown[]) => unknown]> = [
  ['readHello', readHello],
  ['readProof', readProof],
  ['readCodeMessage', readCodeMessage],
  ['readPeers', readPeers],
  ['readSync', readSync],
  ['readDelta', readDelta],
  ['readBusHello', readBusHello],
  ['checkOps', (f) => checkOps(f)],
  ['checkOps(f[5])', (f) => (Array.isArray(f[5]) ? checkOps(f[5]) : undefined)],
]

/** How often each reader accepted a frame: the generator must get past every one. */
const accepted = new Map<string, number>()

/** Feeds one link message to the decoder and, frame by frame, to every reader. */
function feed(findings: Findings, bytes: Uint8Array, maxFrameBytes = DEFAULT_MAX_FRAME_BYTES, readers = READERS): number {
  let frames = 0
  findings.only(FRAME_ERRORS, 'readFrames', () =>
    readFrames(bytes, maxFrameBytes, (frame) => {
      frames++
      findings.only(READER_ERRORS, 'frameType', () => frameType(frame))
      if (!Array.isArray(frame)) return
      for (const [name, read] of readers) {
        findings.only(READER_ERRORS, name, () => {
          read(frame)
          accepted.set(name, (accepted.get(name) ?? 0) + 1)
        })
      }
    }),
  )
  // The same bytes as one msgpack value, with and without the length prefix.
  findings.only(READER_ERRORS, 'decodeValue', () => decodeValue(bytes.subarray(4), maxFrameBytes))
  findings.only(READER_ERRORS, 'decodeValue(small limit)', () => decodeValue(bytes, 64))
  return frames
}

describe('fuzz: wire decoder and frame readers', () => {
  const findings = new Findings('wire')
  const stop = watchProcess(findings)
  afterAll(stop)

  it('the golden frames of PROTOCOL.md §12 read as frames', () => {
    const counts = GOLDEN.map((g) => feed(findings, g))
    expect(counts).toEqual([1, 1, 1, 1, 2])
    expectNoFindings(findings)
  })

  it('random, structurally valid and mutated link messages: only BAD_FRAME or FRAME_TOO_LARGE leaves', () => {
    const inputs = shareOf(0.83)
    announce('wire', inputs)
    const ctx = emptyContext()
    ctx.ids.push('a@0000000000000001', 'n@0000000000000001', 'tab@9a8b7c6d5e4f3021')
    ctx.self = 'n@0000000000000001'
    let frames = 0
    for (let i = 0; i < inputs; i++) {
      const rng = Rng.forInput(runSeed, i, 1)
      const bytes = inputOr(() => {
        if (rng.chance(0.03)) return message([framed(rng.int(WAYS), randomBomb(rng).value)])
        if (rng.chance(0.02)) return rng.bytes(rng.length(40))
        return linkMessage(rng, ctx).bytes
      })
      findings.current = { index: i, input: bytes }
      frames += feed(findings, bytes, rng.chance(0.1) ? rng.pick([1, 16, 100, 1024]) : DEFAULT_MAX_FRAME_BYTES)
      // Pid payloads on their own: the extension decoder's input.
      const pid = rng.bytes(rng.length(20))
      findings.current = { index: i, input: pid }
      findings.only([], 'decodePidPayload', () => decodePidPayload(pid))
    }
    if (replay === null) {
      // The generator must reach the readers, not only the framing.
      expect(frames).toBeGreaterThan(inputs / 2)
      // (checkOps of a whole frame accepts only the rare frame that looks like ops.)
      for (const [name] of READERS) if (name !== 'checkOps') expect(accepted.get(name) ?? 0, `frames ${name} accepted`).toBeGreaterThan(inputs / 1000)
    }
    expectNoFindings(findings)
  }, fuzzTimeoutMs())

  it('the oracle itself: a reader that throws a TypeError is a finding, BAD_FRAME is not', () => {
    const probe = new Findings('oracle check')
    const broken: Array<[string, (f: unknown[]) => unknown]> = [['broken', (f) => (f[9] as { x: unknown }).x]]
    probe.current = { index: 0, input: GOLDEN[0] as Uint8Array }
    feed(probe, GOLDEN[0] as Uint8Array, DEFAULT_MAX_FRAME_BYTES, broken)
    expect(probe.size).toBe(1)
    expect(probe.report()).toContain('not a FlurryError escaped: TypeError')
    expect(probe.report()).toContain('00000005' + '9204cd04d2')
  })
})

/**
 * The bombs, each as a frame and as a field of a frame. At the 'safe' scale they are
 * decoded here and only check the oracle. At 'full' (FLURRY_FUZZ_BOMBS=full: the
 * attack of issue 8, to enable once the decoder has its depth and length limits) each
 * is decoded by the built decoder (packages/core/dist) in a child process capped at
 * 256 MB, which must refuse it with BAD_FRAME or FRAME_TOO_LARGE within 250 ms and
 * 64 MB, and must not die.
 */
describe(`fuzz: msgpack bombs (${BOMB_SCALE} scale)`, () => {
  const stop = watchProcess(new Findings('bombs'))
  afterAll(stop)
  for (const bomb of allBombs(BOMB_SCALE)) {
    it(bomb.name, () => {
      const findings = new Findings(`bomb: ${bomb.name}`)
      const messages = Array.from({ length: WAYS }, (_, way) => message([framed(way, bomb.value)]))
      if (BOMB_SCALE === 'safe') {
        for (const [way, bytes] of messages.entries()) {
          findings.current = { index: way, input: bytes }
          feed(findings, bytes)
        }
      } else {
        inChild(findings, bomb, messages)
      }
      expectNoFindings(findings)
    })
  }
})

const CHILD = fileURLToPath(new URL('./bomb-child.mjs', import.meta.url))

/** Decodes `messages` in a child process with a small heap; checks it lived and refused each cheaply. */
function inChild(findings: Findings, bomb: Bomb, messages: Uint8Array[]): void {
  findings.current = { index: 0, input: messages[0] as Uint8Array }
  const run = spawnSync(process.execPath, ['--max-old-space-size=256', CHILD], {
    input: messages.map(hex).join('\n'),
    encoding: 'utf8',
    timeout: 60_000,
  })
  const results = run.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { ms: number; rssGrowthMb: number; outcome: string })
  for (const [i, r] of results.entries()) {
    findings.current = { index: i, input: messages[i] as Uint8Array }
    if (r.outcome.startsWith('escape')) findings.add('not a FlurryError escaped', undefined, r.outcome)
    else if (bomb.refused && r.outcome !== 'BAD_FRAME' && r.outcome !== 'FRAME_TOO_LARGE') findings.add('a bomb was not refused', undefined, r.outcome)
    if (r.ms > 250) findings.add('a bomb took too long to refuse', undefined, `${r.ms.toFixed(0)} ms`)
    if (r.rssGrowthMb > 64) findings.add('a bomb grew the process too much', undefined, `${r.rssGrowthMb.toFixed(0)} MB`)
  }
  if (run.status !== 0 || results.length !== messages.length) {
    findings.current = { index: results.length, input: messages[results.length] ?? null }
    const why = run.error !== undefined ? String(run.error) : `exit ${run.status}, signal ${run.signal}`
    findings.add('a bomb killed the decoding process', undefined, `${why}: ${run.stderr.trim().split('\n').slice(-3).join(' | ').slice(0, 400)}`)
  }
}
