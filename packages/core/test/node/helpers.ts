/**
 * Shared by the node and actor tests: nodes on a memory network with short
 * heartbeats, closed after each test, and small assertions on FlurryError codes.
 */
import { createNode, type FlurryNode, type NodeInit } from '../../src/index.js'
import { seededRandom } from '../../src/base/random.js'
import { memoryNetwork, type MemoryNetwork } from '../../src/link/memory.js'
import type { SimNet } from '../../src/testing/sim.js'
import { waitFor } from '../../src/testing/wait.js'

export const HB = { heartbeatIntervalMs: 50, heartbeatTimeoutMs: 250 } as const

export interface Cluster {
  net: MemoryNetwork
  /** A node with short heartbeats and fast reconnects; closed by closeAll. */
  node(init?: Partial<NodeInit>): Promise<FlurryNode>
  /** A peer listening at memory://<name>. */
  peer(name: string, init?: Partial<NodeInit>): Promise<FlurryNode>
  closeAll(): Promise<void>
}

export function cluster(): Cluster {
  const net = memoryNetwork()
  const nodes: FlurryNode[] = []
  const node = async (init: Partial<NodeInit> = {}): Promise<FlurryNode> => {
    const n = await createNode({ cookie: 'c', ...HB, reconnect: { minDelayMs: 20, maxDelayMs: 100 }, ...init })
    nodes.push(n)
    return n
  }
  return {
    net,
    node,
    async peer(name, init = {}) {
      const n = await node({ name, ...init })
      await n.listen(net.listen(name))
      return n
    },
    async closeAll() {
      await Promise.all(nodes.splice(0).map((n) => n.close()))
    },
  }
}

/** The code of the FlurryError `p` rejects with (fails if it resolves). */
export async function rejectionCode(p: Promise<unknown>): Promise<string> {
  try {
    await p
  } catch (err) {
    return (err as { code?: string }).code ?? `not a FlurryError: ${String(err)}`
  }
  throw new Error('expected a rejection')
}

/** The code of the FlurryError `fn` throws (fails if it returns). */
export function thrownCode(fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    return (err as { code?: string }).code ?? `not a FlurryError: ${String(err)}`
  }
  throw new Error('expected a throw')
}

/** Two peers meshed (b dialed a), each having seen the other up. */
export async function twoPeers(c: Cluster, init: Partial<NodeInit> = {}): Promise<[FlurryNode, FlurryNode]> {
  const a = await c.peer('a', init)
  const b = await c.peer('b', init)
  await b.connect(c.net.dial('memory://a'))
  await waitFor(() => a.nodes().includes(b.id) && b.nodes().includes(a.id), 'a and b to see each other', 2000)
  return [a, b]
}

/** An actor that answers every call with `[tag, msg]`. */
export function echo(node: FlurryNode, tag = 'echo') {
  return node.spawn(async (ctx) => {
    for (;;) {
      const m = await ctx.receive()
      ctx.reply([tag, m])
    }
  })
}

/** A node on a simulated network: its clock, short heartbeats, keys from `seed`. */
export function simNode(net: SimNet, name: string, seed: number, init: Partial<NodeInit> = {}): Promise<FlurryNode> {
  return createNode({ name, cookie: 'c', clock: net.clock.view(), random: seededRandom(seed), ...HB, ...init })
}

/** `node` (named `owner` on the network) connects to `url`; true once connect resolved and `until` holds. */
export async function simConnect(net: SimNet, node: FlurryNode, owner: string, url: string, until: () => boolean = () => true): Promise<boolean> {
  let up = false
  void node.connect(net.dialer(owner, [url])).then(() => (up = true))
  return net.run(1000, () => up && until())
}
