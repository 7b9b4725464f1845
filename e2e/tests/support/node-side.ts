/**
 * A Flurry node in the test process (Node.js), recording what it sees like the page
 * harness does: events with Date.now() times, and an echo service whose inbox the
 * test reads.
 */
import { createNode, Pid, type FlurryNode, type NodeInit } from '@flurry/core'
import { dialWebSocket } from '@flurry/ws'

export interface Ev {
  t: number
  kind: string
  [field: string]: any
}

export interface InboxEntry {
  t: number
  label: string
  msg: any
}

export class NodeSide {
  readonly node: FlurryNode
  readonly events: Ev[] = []
  readonly inbox: InboxEntry[] = []
  readonly #services = new Map<string, Pid>()

  constructor(node: FlurryNode) {
    this.node = node
    const record = (kind: string, fields: Record<string, unknown>) => this.events.push({ t: Date.now(), kind, ...fields })
    node.on('nodeup', (id) => record('nodeup', { id }))
    node.on('nodedown', (id, reason) => record('nodedown', { id, reason }))
    node.global.on('register', (name, pid) => record('register', { name, pid: pid.toString(), node: pid.node }))
    node.global.on('unregister', (name, pid, reason) => record('unregister', { name, pid: pid.toString(), node: pid.node, reason }))
    node.global.on('conflict', (name, winner, loser) => record('conflict', { name, winner: winner.toString(), loser: loser.toString() }))
  }

  /** A node that records events, and (with `home`) a client of that relay. */
  static async start(init: Partial<NodeInit> & { cookie: string }, home?: string): Promise<NodeSide> {
    const side = new NodeSide(await createNode({ name: 'node', ...init }))
    if (home !== undefined) await side.node.connect(dialWebSocket(home))
    return side
  }

  get id(): string {
    return this.node.id
  }

  service(label = 'svc'): Pid {
    let pid = this.#services.get(label)
    if (pid !== undefined) return pid
    const node = this.node
    pid = node.spawn(async (ctx) => {
      for (;;) {
        const msg = (await ctx.receive()) as any
        this.inbox.push({ t: Date.now(), label, msg })
        if (msg !== null && typeof msg === 'object' && msg.op === 'echo') ctx.reply({ node: node.id, label, body: msg.body })
      }
    })
    this.#services.set(label, pid)
    return pid
  }

  register(name: string, label = 'svc'): boolean {
    return this.node.global.register(name, this.service(label))
  }

  whereis(name: string): { pid: string; node: string; id: number } | null {
    const pid = this.node.global.whereis(name)
    return pid === undefined ? null : { pid: pid.toString(), node: pid.node, id: pid.id }
  }

  /** When `name` last went away here (an unregister event), or undefined. */
  goneAt(name: string, after = 0): number | undefined {
    return this.events.find((e) => e.kind === 'unregister' && e.name === name && e.t >= after)?.t
  }

  downAt(id: string, after = 0): Ev | undefined {
    return this.events.find((e) => e.kind === 'nodedown' && e.id === id && e.t >= after)
  }

  close(): Promise<void> {
    return this.node.close()
  }
}
