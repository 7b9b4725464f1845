/**
 * Direct links between two processes: a Flurry Link over a WebRTC data channel
 * (`@flurry/webrtc`) beside a raw node-datachannel data channel between the same two
 * processes, in the same run, alternating; simple-peer's stream layer (which the Link
 * keeps off its path) and a raw `ws` socket for reference. Per pipe:
 * - open: from the first signaling message to an open pipe (ms);
 * - round trip: a 64-byte message sent back by the far side, one at a time (ms);
 * - one way: BULK_COUNT messages of BULK_BYTES, the sender pausing while more than
 *   1 MiB waits in the pipe, timed until the far side's count comes back (msg/s).
 * Goals (issue 9): round trip ≤ 1.2× raw data channel, throughput ≥ 0.8× raw.
 */
import { fork } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { now } from './measure.js'
import { row, type Row } from './table.js'
import { dialWs, openDataChannel, openLink, openStream } from './webrtc-pipes.js'
import type { Pipe, PipeKind, Signal, Signaling } from './webrtc-pipes.js'
import { BULK, END, PING } from './webrtc-protocol.js'

const RUNS = 5
const TRIPS = 2000
const WARM_TRIPS = 300
const BULK_COUNT = 20_000
const BULK_BYTES = 1024
const PAUSE_ABOVE = 1024 * 1024
const STEP_TIMEOUT_MS = 20_000
const KINDS: readonly PipeKind[] = ['datachannel', 'link', 'stream', 'ws']

interface Figures {
  openMs: number
  tripMs: number
  perSecond: number
}

const echoPath = fileURLToPath(new URL('./webrtc-echo.js', import.meta.url))

function deadline<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing after ${STEP_TIMEOUT_MS} ms`)), STEP_TIMEOUT_MS)
  })
  return Promise.race([p, limit]).finally(() => clearTimeout(timer))
}

/** Opens a pipe of `kind` to the echo process. */
async function open(kind: PipeKind, echo: ChildProcess, signaling: Signaling, port: () => Promise<number>): Promise<Pipe> {
  echo.send({ open: kind } satisfies Signal)
  if (kind === 'ws') return dialWs(await port())
  if (kind === 'stream') return openStream(true, signaling)
  return kind === 'link' ? openLink(true, signaling) : openDataChannel(true, signaling)
}

async function roundTrips(pipe: Pipe, n: number): Promise<number> {
  const message = new Uint8Array(64)
  message[0] = PING
  let next: (() => void) | null = null
  pipe.onmessage = () => next?.()
  const t0 = now()
  for (let i = 0; i < n; i++) {
    await new Promise<void>((resolve) => {
      next = resolve
      pipe.send(message)
    })
  }
  return (now() - t0) / n
}

async function oneWay(pipe: Pipe): Promise<number> {
  const message = new Uint8Array(BULK_BYTES)
  message[0] = BULK
  const end = new Uint8Array([END])
  const counted = new Promise<number>((resolve) => {
    pipe.onmessage = (data) => {
      if (data[0] === END) resolve(new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(1))
    }
  })
  const t0 = now()
  for (let sent = 0; sent < BULK_COUNT; ) {
    if (pipe.bufferedAmount() > PAUSE_ABOVE) {
      await new Promise((resolve) => setImmediate(resolve))
      continue
    }
    for (let i = 0; i < 64 && sent < BULK_COUNT; i++, sent++) pipe.send(message)
  }
  pipe.send(end)
  const count = await counted
  const seconds = (now() - t0) / 1000
  if (count !== BULK_COUNT) throw new Error(`one way: ${count} of ${BULK_COUNT} messages arrived`)
  return BULK_COUNT / seconds
}

async function measure(kind: PipeKind, echo: ChildProcess, signaling: Signaling, port: () => Promise<number>): Promise<Figures> {
  const t0 = now()
  const pipe = await deadline(open(kind, echo, signaling, port), `opening ${kind}`)
  const openMs = now() - t0
  try {
    await deadline(roundTrips(pipe, WARM_TRIPS), `${kind} warm-up`)
    const tripMs = await deadline(roundTrips(pipe, TRIPS), `${kind} round trips`)
    const perSecond = await deadline(oneWay(pipe), `${kind} one way`)
    return { openMs, tripMs, perSecond }
  } finally {
    pipe.close()
    echo.send({ close: true } satisfies Signal)
  }
}

export async function run(): Promise<Row[]> {
  const echo = fork(echoPath, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const signaling: Signaling = { send: (m) => echo.send(m), onsignal: null }
  let portWaiter: ((port: number) => void) | null = null
  echo.on('message', (m: Signal) => {
    if ('sig' in m) signaling.onsignal?.(m.sig)
    else if ('port' in m) portWaiter?.(m.port)
  })
  const port = (): Promise<number> => new Promise((resolve) => (portWaiter = resolve))
  const figures: Record<PipeKind, Figures[]> = { datachannel: [], link: [], stream: [], ws: [] }
  try {
    for (let r = 0; r < RUNS; r++) {
      // Alternate the order so that no pipe always runs first or last.
      const order = r % 2 === 0 ? KINDS : [...KINDS].reverse()
      for (const kind of order) figures[kind].push(await measure(kind, echo, signaling, port))
    }
  } finally {
    if (echo.pid !== undefined && echo.exitCode === null) process.kill(echo.pid, 'SIGKILL')
  }
  return rows(figures)
}

function rows(f: Record<PipeKind, Figures[]>): Row[] {
  const pick = (kind: PipeKind, key: keyof Figures): number[] => f[kind].map((x) => x[key])
  const perRun = (kind: PipeKind, key: keyof Figures): number[] =>
    f[kind].map((x, i) => x[key] / (f.datachannel[i] as Figures)[key])
  const base = { bench: 'webrtc', baselineLabel: 'raw data channel', goal: null }
  const out: Row[] = []
  const add = (name: string, unit: string, better: 'higher' | 'lower', key: keyof Figures, goalRatio?: number): void => {
    out.push(
      row({
        ...base,
        name: `${name}, Link`,
        unit,
        better,
        runs: pick('link', key),
        baselineRuns: pick('datachannel', key),
        ratioRuns: perRun('link', key),
        ...(goalRatio !== undefined ? { goalRatio } : {}),
      }),
      row({
        ...base,
        name: `${name}, simple-peer stream (not used)`,
        unit,
        better,
        runs: pick('stream', key),
        baselineRuns: pick('datachannel', key),
        ratioRuns: perRun('stream', key),
      }),
      row({
        ...base,
        name: `${name}, raw ws (reference)`,
        unit,
        better,
        runs: pick('ws', key),
        baselineRuns: pick('datachannel', key),
        ratioRuns: perRun('ws', key),
      }),
    )
  }
  add('round trip, 64 B', 'ms', 'lower', 'tripMs', 1.2)
  add(`one way, ${BULK_BYTES} B messages/s`, 'msg/s', 'higher', 'perSecond', 0.8)
  add('open (signaling in memory over IPC)', 'ms', 'lower', 'openMs')
  return out
}

