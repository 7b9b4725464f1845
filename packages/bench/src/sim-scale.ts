/**
 * 10 peers × 1,000 clients on the simulated network (`@flurry/core/testing` SimNet):
 * simulated time, in-memory links, a seeded scheduler that interleaves deliveries.
 * Peers form a full mesh (each dials p0, the mesh does the rest); clients are spread
 * evenly over them. Once all are up, every client registers one name in the same
 * simulated instant; measured: the simulated time until EVERY node (peers and all
 * clients) shows all the names. Then a quarter of the clients crash at once (their
 * links go silent, as after kill -9): the simulated time until all their names are
 * gone on every peer, and on every surviving client. Heartbeats are the convergence
 * tests' short ones (interval 100 ms, timeout 500 ms), so a crash is noticed within
 * 600 ms and the same 1 s goal holds for the cleanup.
 *
 * Simulated time is what the design promises; real time and heap only say what the
 * simulation cost this process. The goal is absolute (no baseline: nothing else
 * runs this protocol), stated in simulated ms.
 *
 * `npm run bench:sim` (SIM_PEERS / SIM_CLIENTS change the size).
 */
import { createNode, type FlurryNode } from '@flurry/core'
import { SimNet, type SimClockView } from '@flurry/core/testing'
import { gc, now, tick } from './measure.js'
import { row, type Row } from './table.js'

const PEERS = Number(process.env.SIM_PEERS) || 10
const CLIENTS = Number(process.env.SIM_CLIENTS) || 1000
const CRASHED = Math.floor(CLIENTS / 4)
const SEED = 0x5eed
/**
 * SimNet's chance that a due timer runs before a pending delivery (its default 0.1).
 * With a thousand nodes' heartbeats due every fraction of a ms, simulated time then
 * advances by about one timer per ten deliveries: the figure counts deliveries as much
 * as protocol delays. SIM_DELAY_BIAS=0 delivers everything before any timer runs, so
 * the time is the protocol's own waits (flush windows, coalescing, heartbeats).
 */
const DELAY_BIAS = process.env.SIM_DELAY_BIAS !== undefined ? Number(process.env.SIM_DELAY_BIAS) : 0.1
const HEARTBEAT = { heartbeatIntervalMs: 100, heartbeatTimeoutMs: 500 }
const GOAL_MS = 1000
/** Simulated time allowed for each phase before the bench gives up. */
const PHASE_LIMIT_MS = 30_000
const BENCH = 'sim-scale'

interface Member {
  name: string
  node: FlurryNode
  clock: SimClockView
  /** Names this node shows now (kept by its register/unregister events). */
  shown: Set<string>
}

function heapMb(): number {
  gc()
  return process.memoryUsage().heapUsed / 1024 / 1024
}

async function member(net: SimNet, name: string): Promise<Member> {
  const clock = net.clock.view(0, name)
  const node = await createNode({
    name,
    cookie: 'sim',
    clock,
    ...HEARTBEAT,
    handshakeTimeoutMs: 5000,
    reconnect: { minDelayMs: 50, maxDelayMs: 400 },
  })
  const shown = new Set<string>()
  node.global.on('register', (n) => shown.add(n))
  node.global.on('unregister', (n) => shown.delete(n))
  return { name, node, clock, shown }
}

/** Runs the simulation until `done` or `limitMs` of simulated time; the simulated ms it took, or null. */
async function simulate(net: SimNet, done: () => boolean, limitMs: number): Promise<number | null> {
  const t0 = net.clock.now()
  const ok = await net.run(limitMs, done, 50_000_000)
  return ok ? net.clock.now() - t0 : null
}

export async function run(): Promise<Row[]> {
  const real0 = now()
  const heap0 = heapMb()
  const net = new SimNet(SEED)
  net.delayBias = DELAY_BIAS
  const peers: Member[] = []
  const clients: Member[] = []
  for (let i = 0; i < PEERS; i++) {
    const p = await member(net, `p${i}`)
    await p.node.listen(net.listen(p.name))
    if (i > 0) void p.node.connect(net.dialer(p.name, ['memory://p0'])).catch(() => {})
    peers.push(p)
  }
  for (let i = 0; i < CLIENTS; i++) {
    const c = await member(net, `c${i}`)
    clients.push(c)
    if (i % 100 === 99) await tick()
  }
  const createdMs = now() - real0
  const meshed = () => peers.every((p) => p.node.nodes().length >= PEERS - 1)
  const meshMs = await simulate(net, meshed, PHASE_LIMIT_MS)
  if (meshMs === null) throw new Error('the peers did not mesh')
  const homed = new Set<number>()
  clients.forEach((c, i) => {
    const home = peers[i % PEERS] as Member
    void c.node.connect(net.dialer(c.name, [`memory://${home.name}`])).then(
      () => homed.add(i),
      () => {},
    )
  })
  const connectMs = await simulate(net, () => homed.size === CLIENTS, PHASE_LIMIT_MS)
  if (connectMs === null) throw new Error(`${homed.size} of ${CLIENTS} clients connected`)
  const connectReal = now() - real0 - createdMs
  const heapConnected = heapMb()

  // Every client registers one name in the same simulated instant.
  const everyone = [...peers, ...clients]
  const names = clients.map((c) => `svc:${c.name}`)
  clients.forEach((c, i) => {
    const pid = c.node.spawn(async (ctx) => {
      for (;;) await ctx.receive()
    })
    if (!c.node.global.register(names[i] as string, pid)) throw new Error(`register ${names[i]} refused`)
  })
  const realReg0 = now()
  const allShown = () => everyone.every((m) => m.shown.size === CLIENTS)
  const convergeMs = await simulate(net, allShown, PHASE_LIMIT_MS)
  const convergeReal = now() - realReg0
  const heapNames = heapMb()

  // A quarter of the clients crash at once (every other client of each peer first).
  const crashed = clients.filter((_, i) => i % 4 === 0).slice(0, CRASHED)
  const gone = new Set(crashed.map((c) => `svc:${c.name}`))
  const peerNames = peers.map((p) => p.name)
  for (const c of crashed) net.crash(c.name, peerNames)
  for (const c of crashed) c.clock.kill()
  const survivors = everyone.filter((m) => !crashed.includes(m))
  const cleaned = (ms: Member[]) => () => ms.every((m) => m.shown.size === CLIENTS - CRASHED && ![...gone].some((n) => m.shown.has(n)))
  const realCrash0 = now()
  const peersCleanMs = await simulate(net, cleaned(peers), PHASE_LIMIT_MS)
  const allCleanMs = peersCleanMs === null ? null : (peersCleanMs + ((await simulate(net, cleaned(survivors), PHASE_LIMIT_MS)) ?? Number.NaN))
  const cleanupReal = now() - realCrash0
  const totalReal = now() - real0
  for (const m of everyone) m.clock.kill()

  const size = `${PEERS} peers × ${CLIENTS} clients`
  const note =
    `${PEERS + CLIENTS} full nodes in one process, every one checked; SimNet delayBias ${DELAY_BIAS}; heartbeat ${HEARTBEAT.heartbeatIntervalMs}/${HEARTBEAT.heartbeatTimeoutMs} ms; ` +
    `real time: create ${(createdMs / 1000).toFixed(1)} s, connect ${(connectReal / 1000).toFixed(1)} s (${connectMs} simulated ms), ` +
    `register→converged ${(convergeReal / 1000).toFixed(1)} s, crash cleanup ${(cleanupReal / 1000).toFixed(1)} s, total ${(totalReal / 1000).toFixed(1)} s; ` +
    `heap ${heap0.toFixed(0)} MB empty, ${heapConnected.toFixed(0)} MB connected, ${heapNames.toFixed(0)} MB with the names ` +
    `(${(((heapNames - heap0) * 1024) / (PEERS + CLIENTS)).toFixed(0)} KB per node)`
  const simRow = (name: string, flurry: number | null, goal: number | null, extra: Partial<Row> = {}): Row =>
    row({ bench: BENCH, name, unit: 'ms', better: 'lower', flurry, runs: flurry === null ? [] : [flurry], baselineRuns: [], baselineLabel: '', goal, ...extra })
  return [
    simRow(`sim ${size}: all names on all ${PEERS + CLIENTS} nodes (simulated)`, convergeMs, GOAL_MS, { note }),
    simRow(`sim: ${CRASHED} clients crash → names gone on every peer (simulated)`, peersCleanMs, GOAL_MS),
    simRow(`sim: … and on every surviving client (simulated)`, allCleanMs !== null && Number.isFinite(allCleanMs) ? allCleanMs : null, null),
    simRow('sim: real time of the whole run', totalReal, null),
  ]
}
