/**
 * Nodes for the benchmarks: idle actors to own names, registration in chunks that let
 * the event loop breathe, and meshes of peers over in-process memory links.
 */
import { createNode, memoryNetwork, type FlurryNode, type NodeInit, type Pid } from '@flurry/core'
import { tick, waitUntil } from './measure.js'

export const COOKIE = 'bench'

export type MemoryNetwork = ReturnType<typeof memoryNetwork>

/** Quiet defaults: no logger, the usual timers. */
export function node(name: string, init: Partial<NodeInit> = {}): Promise<FlurryNode> {
  return createNode({ name, cookie: COOKIE, ...init })
}

/** `count` actors that wait for messages forever (they own the names). */
export function idleActors(n: FlurryNode, count: number): Pid[] {
  const pids: Pid[] = []
  for (let i = 0; i < count; i++) {
    pids.push(
      n.spawn(async (ctx) => {
        for (;;) await ctx.receive()
      }),
    )
  }
  return pids
}

/**
 * Registers `names[i]` to `pids[i % pids.length]`, `chunk` names per macrotask.
 * Returns how many registrations returned true.
 */
export async function registerChunked(n: FlurryNode, names: readonly string[], pids: readonly Pid[], chunk: number): Promise<number> {
  let ok = 0
  const k = pids.length
  for (let i = 0; i < names.length; i += chunk) {
    const end = Math.min(names.length, i + chunk)
    for (let j = i; j < end; j++) if (n.global.register(names[j] as string, pids[j % k] as Pid)) ok++
    await tick()
  }
  return ok
}

export interface Mesh {
  net: MemoryNetwork
  nodes: FlurryNode[]
}

/**
 * `count` peers over one memory network: the first listens at memory://p0, the others
 * listen too and connect to it, and the mesh forms from the peer lists. Resolves once
 * every node reaches all the others (or rejects after `timeoutMs`).
 */
export async function mesh(count: number, init: Partial<NodeInit> = {}, timeoutMs = 10_000): Promise<Mesh> {
  const net = memoryNetwork()
  const nodes: FlurryNode[] = []
  for (let i = 0; i < count; i++) nodes.push(await node(`p${i}`, init))
  for (let i = 0; i < count; i++) await (nodes[i] as FlurryNode).listen(net.listen(`p${i}`))
  for (let i = 1; i < count; i++) await (nodes[i] as FlurryNode).connect(net.dial('memory://p0'))
  const formed = await waitUntil(() => nodes.every((n) => n.nodes().length === count - 1), timeoutMs, 2)
  if (!formed) {
    await closeAll(nodes)
    throw new Error(`mesh of ${count} did not form in ${timeoutMs} ms: ${nodes.map((n) => n.nodes().length).join(',')}`)
  }
  return { net, nodes }
}

/** Closes nodes one after the other, the ones without names first (cheaper goodbyes). */
export async function closeAll(nodes: readonly FlurryNode[]): Promise<void> {
  for (const n of [...nodes].reverse()) await n.close()
}
