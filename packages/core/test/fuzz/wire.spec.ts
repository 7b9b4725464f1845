/**
 * Fuzz target 1 and 2: the decoder (decodeValue, readFrames) and every frame reader
 * (src/wire/frames.ts) fed random bytes, mutated and golden frames and bombs. Only
 * FlurryError BAD_FRAME / FRAME_TOO_LARGE may leave them.
 *
 * Replay: FLURRY_SEED=<seed printed> [FLURRY_FUZZ_INPUTS=<n>] npx vitest run packages/core/test/fuzz/wire.spec.ts
 */
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
import { BOMB_SCALE, allBombs, framed, randomBomb } from './bombs.js'
import { GOLDEN, emptyContext, linkMessage, message } from './inputs.js'
import { Findings, announce, expectNoFindings, watchProcess } from './oracle.js'
import { Rng, runSeed, shareOf } from './rng.js'

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
    ctx.ids.push('a@1', 'n@1', 'tab@9a8b7c6d5e4f3021')
    ctx.self = 'n@1'
    let frames = 0
    for (let i = 0; i < inputs; i++) {
      const rng = Rng.forInput(runSeed, i, 1)
      let bytes: Uint8Array
      if (rng.chance(0.03)) bytes = message([framed(rng, randomBomb(rng).value)])
      else if (rng.chance(0.02)) bytes = rng.bytes(rng.length(40))
      else bytes = linkMessage(rng, ctx).bytes
      findings.current = { index: i, input: bytes }
      frames += feed(findings, bytes, rng.chance(0.1) ? rng.pick([1, 16, 100, 1024]) : DEFAULT_MAX_FRAME_BYTES)
      // Pid payloads on their own: the extension decoder's input.
      const pid = rng.bytes(rng.length(20))
      findings.current = { index: i, input: pid }
      findings.only([], 'decodePidPayload', () => decodePidPayload(pid))
    }
    // The generator must reach the readers, not only the framing.
    expect(frames).toBeGreaterThan(inputs / 2)
    // (checkOps of a whole frame accepts only the rare frame that looks like ops.)
    for (const [name] of READERS) if (name !== 'checkOps') expect(accepted.get(name) ?? 0, `frames ${name} accepted`).toBeGreaterThan(inputs / 1000)
    expectNoFindings(findings)
  })

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
 * The bombs, each as a frame and as a field of a frame. At the 'safe' scale they only
 * check the oracle; at 'full' (FLURRY_FUZZ_BOMBS=full, once the decoder has its depth
 * and length limits) each must also be refused quickly and cheaply.
 */
describe(`fuzz: msgpack bombs (${BOMB_SCALE} scale)`, () => {
  const stop = watchProcess(new Findings('bombs'))
  afterAll(stop)
  const rng = new Rng(runSeed)

  for (const bomb of allBombs(BOMB_SCALE)) {
    it(bomb.name, () => {
      const findings = new Findings(`bomb: ${bomb.name}`)
      for (let way = 0; way < 4; way++) {
        const bytes = message([framed(rng, bomb.value)])
        findings.current = { index: way, input: bytes }
        const rssBefore = process.memoryUsage().rss
        const started = performance.now()
        feed(findings, bytes)
        const ms = performance.now() - started
        const grewMb = (process.memoryUsage().rss - rssBefore) / 2 ** 20
        if (BOMB_SCALE === 'full') {
          if (ms > 250) findings.add(`bomb "${bomb.name}" took ${ms.toFixed(0)} ms to refuse`)
          if (grewMb > 64) findings.add(`bomb "${bomb.name}" grew the process by ${grewMb.toFixed(0)} MB`)
        }
      }
      expectNoFindings(findings)
    })
  }
})
