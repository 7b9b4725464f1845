/**
 * Peers that leave on purpose are forgotten (DESIGN.md, Roles and topology): a learned
 * peer whose node closed (GOODBYE 'goodbye') leaves the relay's peer list and /healthz
 * `unreachable`; a learned peer lost without a goodbye (SIGKILL), and a peer configured
 * with --peer even after its goodbye, are redialled and reported while down. Real
 * processes: a flurry-relay CLI and three fixture peers.
 */
import { afterEach, expect, it } from 'vitest'
import { startCli, startNode, stopAll, waitFor, type CliProc, type NodeProc } from './harness.js'

afterEach(() => stopAll())

interface Health {
  nodes: number
  unreachable: string[]
}

async function health(r: CliProc): Promise<Health> {
  return (await fetch(`${r.httpUrl}/healthz`)).json() as Promise<Health>
}

async function unreachableGauge(r: CliProc): Promise<number> {
  const text = await (await fetch(`${r.httpUrl}/metrics`)).text()
  const line = text.split('\n').find((l) => l.startsWith('flurry_peers_unreachable '))
  return Number(line?.split(' ')[1])
}

it('forgets a learned peer that closed, reports one killed and a configured one that closed', async () => {
  const configured = await startNode({ kind: 'peer', name: 'S' })
  const relay = await startCli(['--port', '0', '--name', 'r', '--peer', configured.url])
  const [leaves, dies] = (await Promise.all(
    ['P', 'Q'].map((name) => startNode({ kind: 'peer', name, peers: [relay.wsUrl] })),
  )) as [NodeProc, NodeProc]
  await waitFor(async () => (await health(relay)).nodes === 3, 'the relay to reach S, P and Q', 10_000, () => health(relay))
  expect((await health(relay)).unreachable).toEqual([])

  await leaves.close()
  await relay.waitLine(new RegExp(`nodedown ${leaves.id} \\(goodbye\\)`), 'P to say goodbye')
  // The goodbye is handled before the nodedown line: P is forgotten by now.
  expect((await health(relay)).unreachable).toEqual([])
  expect(await unreachableGauge(relay)).toBe(0)

  dies.kill('SIGKILL')
  await relay.waitLine(new RegExp(`nodedown ${dies.id} \\(closed\\)`), 'Q to be lost')
  expect((await health(relay)).unreachable).toEqual([dies.url])

  await configured.close()
  await relay.waitLine(new RegExp(`nodedown ${configured.id} \\(goodbye\\)`), 'S to say goodbye')
  expect((await health(relay)).unreachable.sort()).toEqual([dies.url, configured.url].sort())
  expect(await unreachableGauge(relay)).toBe(2)
  // Still redialled: S's port is free, so every dial fails and the relay says so.
  await relay.waitLine(new RegExp(`cannot reach peer ${configured.url.replace(/[.]/g, '\\.')}`), 'the relay to redial S', 10_000)
}, 30_000)
