import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { isFlurryError } from '@flurry/core'
import type { Link } from '@flurry/core'
import { waitFor, rejection } from '@flurry/core/testing'
import { linkSuite } from '@flurry/core/testing/suites'
import { afterEach, describe, expect, it } from 'vitest'
import { webrtc } from '../src/index.js'
import { openLinks, signalPair } from './signal-pair.js'

const loopback = webrtc({ bindAddress: '127.0.0.1' })

linkSuite('webrtc', async () => {
  const [a, b] = await openLinks(loopback)
  return {
    a,
    b,
    async cleanup() {
      a.close('cleanup')
      b.close('cleanup')
    },
  }
})


function codeOf(err: unknown): string | undefined {
  return isFlurryError(err) ? err.code : undefined
}

describe('WebRTC direct links', () => {
  const open: Link[] = []
  afterEach(() => {
    for (const link of open.splice(0)) link.close('test over')
  })
  async function pair(init = loopback): Promise<[Link, Link]> {
    const links = await openLinks(init)
    open.push(...links)
    return links
  }

  it('runs over a candidate pair on 127.0.0.1 on both sides', async () => {
    const [a, b] = await pair()
    expect(a.kind).toBe('webrtc')
    expect(a.remote?.address).toMatch(/^127\.0\.0\.1:\d+$/)
    expect(b.remote?.address).toMatch(/^127\.0\.0\.1:\d+$/)
    expect(a.remote?.address).not.toBe(b.remote?.address)
  })

  it('carries signaling data that survive msgpack, a handful of messages each way', async () => {
    const { offerer, answerer, sent } = signalPair(loopback)
    const links = await Promise.all([offerer.link, answerer.link])
    open.push(...links)
    expect(sent.offerer).toBeGreaterThan(0)
    expect(sent.answerer).toBeGreaterThan(0)
    expect(sent.offerer + sent.answerer).toBeLessThan(50)
  })

  it('a close on one side fires onclose on the other with the reason', async () => {
    const [a, b] = await pair()
    const closes: string[] = []
    a.onclose = (reason) => closes.push(`a:${reason}`)
    b.onclose = (reason) => closes.push(`b:${reason}`)
    b.close('b leaves')
    await waitFor(() => closes.length === 2, 'both closes')
    expect(closes.sort()).toEqual(['a:b leaves', 'b:b leaves'])
  })

  it('splits and joins messages of 1 MiB and more, in order with small ones', async () => {
    const [a, b] = await pair(webrtc({ bindAddress: '127.0.0.1', maxMessageBytes: 3 * 1024 * 1024 }))
    const got: Uint8Array[] = []
    b.onmessage = (m) => got.push(m)
    const big = new Uint8Array(3 * 1024 * 1024).map((_, i) => i * 7)
    a.send(new Uint8Array([1]))
    a.send(big)
    a.send(new Uint8Array([2]))
    await waitFor(() => got.length === 3, 'three messages')
    expect([...(got[0] as Uint8Array)]).toEqual([1])
    expect(Buffer.compare(got[1] as Uint8Array, big)).toBe(0)
    expect([...(got[2] as Uint8Array)]).toEqual([2])
  })

  it('a message above the receiver maxMessageBytes closes the link on both sides', async () => {
    const [a, b] = await pair(webrtc({ bindAddress: '127.0.0.1', maxMessageBytes: 100_000 }))
    const closes: string[] = []
    const got: Uint8Array[] = []
    b.onmessage = (m) => got.push(m)
    a.onclose = (reason) => closes.push(`a:${reason}`)
    b.onclose = (reason) => closes.push(`b:${reason}`)
    a.send(new Uint8Array(100_000))
    a.send(new Uint8Array(100_001))
    await waitFor(() => closes.length === 2, 'both closes')
    expect(got.map((m) => m.byteLength)).toEqual([100_000])
    expect(closes.sort()).toEqual(['a:message too big', 'b:message too big'])
  })

  it('an attempt whose remote never answers rejects with TIMEOUT', async () => {
    const attempt = webrtc({ bindAddress: '127.0.0.1', connectTimeoutMs: 300 }).open({ initiator: true, send: () => {} })
    const started = Date.now()
    const err = await rejection(attempt.link)
    expect(codeOf(err)).toBe('TIMEOUT')
    expect(Date.now() - started).toBeGreaterThanOrEqual(250)
  })

  it('leaves no handle open after a TIMEOUT: the process exits at once', async () => {
    const index = fileURLToPath(new URL('../dist/index.js', import.meta.url))
    const script = `
      import { webrtc } from ${JSON.stringify(index)}
      const attempt = webrtc({ bindAddress: '127.0.0.1', connectTimeoutMs: 300 }).open({ initiator: true, send: () => {} })
      attempt.link.catch((err) => console.log(JSON.stringify({ code: err.code, at: Date.now() })))
    `
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr.on('data', (d: Buffer) => (err += d.toString()))
    const kill = setTimeout(() => child.kill('SIGKILL'), 15_000)
    const exit = await new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
    const exitedAt = Date.now()
    clearTimeout(kill)
    expect(err).toBe('')
    expect(exit).toBe(0)
    const report = JSON.parse(out.trim()) as { code: string; at: number }
    expect(report.code).toBe('TIMEOUT')
    expect(exitedAt - report.at).toBeLessThan(2_000)
  })

  it('keeps working after garbage collection drops everything but the two links', async () => {
    const index = fileURLToPath(new URL('../dist/index.js', import.meta.url))
    const script = `
      import { webrtc } from ${JSON.stringify(index)}
      const t = webrtc({ bindAddress: '127.0.0.1' })
      async function open() {
        let a, b
        a = t.open({ initiator: true, send: (d) => setTimeout(() => b.receive(d)) })
        b = t.open({ initiator: false, send: (d) => setTimeout(() => a.receive(d)) })
        return Promise.all([a.link, b.link])
      }
      const [x, y] = await open()
      for (let i = 0; i < 5; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 50)) }
      let got = 0
      y.onmessage = () => { got++; if (got === 100) x.close('done') }
      y.onclose = (reason) => console.log(JSON.stringify({ got, reason }))
      for (let i = 0; i < 100; i++) x.send(new Uint8Array([i]))
    `
    const child = spawn(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr.on('data', (d: Buffer) => (err += d.toString()))
    const kill = setTimeout(() => child.kill('SIGKILL'), 20_000)
    const exit = await new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
    clearTimeout(kill)
    expect(err).toBe('')
    expect(exit).toBe(0)
    expect(JSON.parse(out.trim())).toEqual({ got: 100, reason: 'done' })
  })

  it('rejects with ABORTED on an aborted signal or close(), before and during the attempt', async () => {
    const controller = new AbortController()
    const during = loopback.open({ initiator: true, send: () => {}, signal: controller.signal })
    controller.abort()
    expect(codeOf(await rejection(during.link))).toBe('ABORTED')
    const before = loopback.open({ initiator: true, send: () => {}, signal: controller.signal })
    expect(codeOf(await rejection(before.link))).toBe('ABORTED')
    const closed = loopback.open({ initiator: false, send: () => {} })
    closed.close()
    expect(codeOf(await rejection(closed.link))).toBe('ABORTED')
  })

  it('fails with CONNECT_FAILED on bad signaling data, and never throws from receive', async () => {
    for (const bad of [null, 42, 'offer', {}, { type: 'answer' }, { type: 'offer', sdp: 'nonsense' }, { type: 'candidate' }]) {
      const attempt = loopback.open({ initiator: false, send: () => {} })
      expect(() => attempt.receive(bad)).not.toThrow()
      expect(codeOf(await rejection(attempt.link)), JSON.stringify(bad)).toBe('CONNECT_FAILED')
    }
  })

  it('rejects with CONNECT_FAILED when the signaling send throws', async () => {
    const attempt = loopback.open({
      initiator: true,
      send: () => {
        throw new Error('no route')
      },
    })
    const err = await rejection(attempt.link)
    expect(codeOf(err)).toBe('CONNECT_FAILED')
    expect(String((err as Error).message)).toMatch(/no route/)
  })

  it('rejects bad options with BAD_ARGUMENT', () => {
    for (const init of [{ connectTimeoutMs: 0 }, { maxMessageBytes: -1 }, { connectTimeoutMs: Number.NaN }]) {
      expect(() => webrtc(init)).toThrow(expect.objectContaining({ code: 'BAD_ARGUMENT' }))
    }
    expect(() => webrtc({ iceServers: 'stun:x' as never })).toThrow(expect.objectContaining({ code: 'BAD_ARGUMENT' }))
  })
})
