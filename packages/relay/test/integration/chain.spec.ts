/**
 * Full mesh from a chain: five peer processes, each started with one seed address
 * (the one before it), end fully meshed — every pair with one session, one nodeup per
 * node and no nodedown, whatever simultaneous dials the peer lists caused.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { freePort, startNode, stopAll, waitFor, type NodeProc } from './harness.js'

afterEach(() => stopAll())

describe('mesh forming', () => {
  it('five peers started in a chain (each knows only the previous one) end fully meshed', async () => {
    const names = ['P1', 'P2', 'P3', 'P4', 'P5']
    const ports: number[] = []
    for (const _ of names) ports.push(await freePort())
    // All five start at once; each knows only the previous one's address (the first
    // may not be up yet: configured peers are redialed) and learns the rest from peer
    // lists, so simultaneous dials happen.
    const procs = await Promise.all(
      names.map((name, i) =>
        startNode({ kind: 'peer', name, port: ports[i] as number, ...(i > 0 ? { peers: [`ws://127.0.0.1:${ports[i - 1]}/flurry`] } : {}) }),
      ),
    )
    const full = async () => {
      for (const p of procs) {
        const seen = await p.nodes()
        if (seen.length !== procs.length - 1) return false
      }
      return true
    }
    await waitFor(full, 'every peer to reach the 4 others', 15_000, () => Promise.all(procs.map((p) => p.nodes())))
    for (const p of procs) {
      const others = procs.filter((q) => q !== p).map((q) => q.id).sort()
      expect((await p.nodes()).sort(), `${p.config.name}: nodes()`).toEqual(others)
      expect(p.find('nodeup').map((e) => e.node).sort(), `${p.config.name}: one nodeup per node`).toEqual(others)
      expect(p.find('nodedown'), `${p.config.name}: no nodedown`).toEqual([])
    }
  })
})
