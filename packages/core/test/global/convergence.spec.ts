/**
 * The convergence property: random clusters (peers in a mesh, clients on homes, bus
 * neighbours) under a seeded scheduler that delays and interleaves deliveries,
 * partitions and heals (also non-transitive and half-open), crashes and restarts
 * nodes, moves clients between homes (also before the old session timed out) and
 * skews clocks by up to ±5 s, while actors register, unregister and exit, a
 * compromised client forges old stamps and some homes hold a small quota. Once every
 * partition healed, every client sits on a working home and the simulation drained,
 * the oracle (world.ts `verify`, built from what the test saw happen, never from a
 * registry) says what must hold: every live node shows the winners it computed, one
 * holder per name, every other claim told exactly once and for a reason the record
 * bears out, and no forged stamp standing.
 *
 * Homeless tabs on one bus agree among themselves, across partitions where Web Locks
 * tell liveness. Two more properties, each in its own describe (run one with -t):
 * event loops of clients and homes stall for seconds (longer than heartbeatTimeoutMs
 * and maxClockOffsetMs), and no honest claim may be refused CLOCK_SKEW nor a session
 * dropped by a node for the silence of its own stall; and homeless tabs without Web
 * Locks must agree again after partitions longer than busTimeoutMs.
 *
 * FLURRY_RUNS (200 here; `npm run soak` 10,000) sets the runs: the bus property runs
 * half, the stall property a fifth (FLURRY_STALL_RUNS), the lockless bus a quarter. A
 * failure prints the seed and the shrunk scenario (fast-check); replay with
 * FLURRY_SEED=<seed>. `npm run mutants` checks that the first two fail on five
 * registry mutants.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { HEARTBEAT, World, type Op, type SlotSpec } from './world.js'

const SOAK = process.env.FLURRY_SOAK === '1'
const RUNS = Number(process.env.FLURRY_RUNS) || (SOAK ? 10_000 : 200)
const STALL_RUNS = Number(process.env.FLURRY_STALL_RUNS) || Math.max(1, Math.ceil(RUNS / 5))
const replaySeed = Number(process.env.FLURRY_SEED) || undefined
const totals: Record<string, number> = {}
function tally(stats: Record<string, number>, extra: Record<string, number>): void {
  for (const [k, v] of Object.entries({ ...stats, ...extra })) totals[k] = (totals[k] ?? 0) + v
}

interface ClusterOpts {
  maxPeers: number
  minPeers: number
  buses: boolean
  homeless: boolean
  /** Longest event-loop stall, ms (0: none). */
  maxStallMs: number
}

function clusterArb(opts: ClusterOpts) {
  return fc
    .record({
      peers: fc.integer({ min: opts.minPeers, max: opts.maxPeers }),
      clients: fc.integer({ min: opts.minPeers === 0 ? 2 : 0, max: 5 }),
    })
    .filter(({ peers, clients }) => peers + clients >= 3 && peers + clients <= 8)
    .chain(({ peers, clients }) => {
      const n = peers + clients
      const client = fc.record({
        homes: opts.homeless ? fc.constant([] as number[]) : fc.uniqueArray(fc.integer({ min: 0, max: peers - 1 }), { minLength: 1, maxLength: Math.min(2, peers) }),
        bus: opts.buses ? fc.option(fc.integer({ min: 0, max: 1 }), { freq: 2 }) : fc.constant(null),
      })
      const node = fc.integer({ min: 0, max: n - 1 })
      const ops: Array<{ weight: number; arbitrary: fc.Arbitrary<Op> }> = [
        { weight: 6, arbitrary: fc.record({ t: fc.constant('reg' as const), node, name: fc.nat(5), fresh: fc.boolean() }) },
        { weight: 2, arbitrary: fc.record({ t: fc.constant('unreg' as const), node, name: fc.nat(5) }) },
        { weight: 1, arbitrary: fc.record({ t: fc.constant('exit' as const), node }) },
        { weight: 2, arbitrary: fc.record({ t: fc.constant('cut' as const), a: node, b: node }) },
        { weight: 1, arbitrary: fc.record({ t: fc.constant('oneway' as const), a: node, b: node }) },
        { weight: 2, arbitrary: fc.record({ t: fc.constant('heal' as const), a: node, b: node }) },
        { weight: 1, arbitrary: fc.record({ t: fc.constant('crash' as const), node }) },
        { weight: 1, arbitrary: fc.record({ t: fc.constant('restart' as const), node }) },
        { weight: 1, arbitrary: fc.record({ t: fc.constant('drop' as const), node }) },
        { weight: 4, arbitrary: fc.record({ t: fc.constant('run' as const), ms: fc.integer({ min: 0, max: 1500 }) }) },
        { weight: 2, arbitrary: fc.record({ t: fc.constant('race' as const), nodes: fc.uniqueArray(node, { minLength: 2, maxLength: 4 }), name: fc.nat(5) }) },
      ]
      if (!opts.homeless) ops.push({ weight: 1, arbitrary: fc.record({ t: fc.constant('forge' as const), node, name: fc.nat(5) }) })
      if (opts.maxStallMs > 0) {
        ops.push({ weight: 3, arbitrary: fc.record({ t: fc.constant('stall' as const), node, ms: fc.integer({ min: 200, max: opts.maxStallMs }) }) })
      }
      return fc.record({
        seed: fc.integer({ min: 1, max: 2 ** 30 }),
        locks: fc.boolean(),
        // With stalls, sometimes a heartbeat timeout longer than any stall: sessions
        // outlive it, and what a stalled client sends from its backlog reaches its home.
        heartbeatTimeoutMs: opts.maxStallMs > 0 ? fc.constantFrom(HEARTBEAT.heartbeatTimeoutMs, 2 * opts.maxStallMs) : fc.constant(HEARTBEAT.heartbeatTimeoutMs),
        offsets: fc.array(fc.integer({ min: -5000, max: 5000 }), { minLength: n, maxLength: n }),
        quotas: fc.array(fc.option(fc.integer({ min: 1, max: 3 }), { freq: 3 }), { minLength: peers, maxLength: peers }),
        clients: fc.array(client, { minLength: clients, maxLength: clients }),
        peers: fc.constant(peers),
        ops: fc.array(fc.oneof(...ops), { minLength: 5, maxLength: 40 }),
      })
    })
}

type Cluster = { peers: number; quotas: Array<number | null>; clients: Array<{ homes: number[]; bus: number | null }>; offsets: number[] }

function specs(c: Cluster): SlotSpec[] {
  const out: SlotSpec[] = []
  for (let i = 0; i < c.peers; i++) {
    const quota = c.quotas[i]
    out.push({ kind: 'peer', homes: [], bus: null, offset: c.offsets[i] ?? 0, ...(quota != null ? { quota } : {}) })
  }
  c.clients.forEach((cl, j) => out.push({ kind: 'client', homes: cl.homes, bus: cl.bus, offset: c.offsets[c.peers + j] ?? 0 }))
  return out
}

function same(a: Map<string, string>, b: Map<string, string>): boolean {
  if (a.size !== b.size) return false
  for (const [k, v] of a) if (b.get(k) !== v) return false
  return true
}

const show = (m: Map<string, string>) => JSON.stringify([...m].sort())

/** Every live node shows the oracle's table and the record holds together. */
function expectConverged(world: World): void {
  const { table, problems } = world.verify()
  for (const node of world.liveNodes()) {
    const got = world.tableOf(node)
    expect(same(got, table), `${node.id} table ${show(got)} != expected ${show(table)}`).toBe(true)
  }
  expect(problems, `the oracle: ${problems[0]}`).toEqual([])
  expect(world.errors, `logged errors: ${world.errors[0]}`).toEqual([])
}

/** Runs the ops, heals, settles and drains a cluster with homes. */
async function runHomed(c: Cluster & { seed: number; locks: boolean; heartbeatTimeoutMs: number; ops: Op[] }): Promise<World> {
  const world = new World(c.seed, specs(c), c.locks, c.heartbeatTimeoutMs)
  await world.start()
  await world.net.run(1500)
  for (const op of c.ops) {
    await world.apply(op)
    await world.net.run(world.net.rng() * 200)
  }
  await world.endStalls()
  await world.healAll()
  const settled = await world.settle(30_000)
  expect(settled, 'every client on a working home and the mesh complete').toBe(true)
  // Drain: six heartbeat timeouts of simulated time with every frame delivered.
  world.net.delayBias = 0
  await world.net.run(6 * c.heartbeatTimeoutMs)
  const ids = world.liveNodes().map((n) => n.id).sort()
  for (const node of world.liveNodes()) {
    expect(node.nodes().sort(), `${node.id} reaches every live node`).toEqual(ids.filter((id) => id !== node.id))
  }
  expectConverged(world)
  return world
}

/** Homeless tabs on one bus: run the ops (partitions among them if `cuts`), heal, drain. */
async function runHomeless(c: Cluster & { seed: number; locks: boolean; ops: Op[] }, cuts: boolean): Promise<void> {
  const all = specs(c).map((s) => ({ ...s, bus: 0 }))
  const world = new World(c.seed, all, c.locks)
  try {
    await world.start()
    await world.net.run(1500)
    for (const op of c.ops) {
      if (op.t === 'drop' || (!cuts && (op.t === 'cut' || op.t === 'oneway'))) continue
      await world.apply(op)
      await world.net.run(world.net.rng() * 200)
    }
    await world.healAll()
    // Restart nobody: crashed tabs stay gone; the others must forget them.
    world.net.delayBias = 0
    await world.net.run(4000)
    expectConverged(world)
  } finally {
    await world.close()
  }
}

describe('global registry convergence', () => {
  it(`converges on every live node (${RUNS} random clusters)`, { timeout: SOAK ? 0 : 600_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(clusterArb({ minPeers: 1, maxPeers: 3, buses: true, homeless: false, maxStallMs: 0 }), async (c) => {
        let world: World | null = null
        try {
          world = await runHomed(c)
          tally(world.stats(), {
            runs: 1,
            honestRefusals: world.honestRefusals.length,
            crashes: c.ops.filter((o) => o.t === 'crash').length,
            cuts: c.ops.filter((o) => o.t === 'cut' || o.t === 'oneway').length,
          })
        } finally {
          await world?.close()
        }
      }),
      { numRuns: RUNS, seed: replaySeed, endOnFailure: false, verbose: 1 },
    )
    // The runs were not trivial: names were contested and notices sent, forgeries tried.
    expect(totals.notices ?? 0).toBeGreaterThan(0)
    expect(totals.forged ?? 0).toBeGreaterThan(0)
    if (process.env.FLURRY_STATS) console.log('convergence totals', totals)
  })

  it(`homeless nodes sharing a bus agree among themselves, across partitions where Web Locks tell liveness (${Math.ceil(RUNS / 2)} runs)`, { timeout: SOAK ? 0 : 600_000 }, async () => {
    // Without locks a partition longer than busTimeoutMs splits the bus for good (see
    // the bus-partition property below); with locks it only delays frames.
    await fc.assert(
      fc.asyncProperty(clusterArb({ minPeers: 0, maxPeers: 0, buses: false, homeless: true, maxStallMs: 0 }), async (c) => {
        await runHomeless(c, c.locks)
      }),
      { numRuns: Math.ceil(RUNS / 2), seed: replaySeed, endOnFailure: false, verbose: 1 },
    )
  })
})

// The two properties below fail on today's code (the lead's fixes are under way); each
// sits in its own describe so that it can be run and judged alone (-t).
describe('global registry convergence under event-loop stalls', () => {
  it(`no honest claim refused and every node converges when loops stall for seconds (${STALL_RUNS} runs)`, { timeout: SOAK ? 0 : 600_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(clusterArb({ minPeers: 1, maxPeers: 3, buses: true, homeless: false, maxStallMs: 8000 }), async (c) => {
        let world: World | null = null
        try {
          world = await runHomed(c)
          expect(world.honestRefusals, 'honest claims refused CLOCK_SKEW').toEqual([])
          expect(world.stallTimeouts, 'sessions a stalled node dropped for its own silence').toEqual([])
        } finally {
          await world?.close()
        }
      }),
      { numRuns: STALL_RUNS, seed: replaySeed, endOnFailure: false, verbose: 1 },
    )
  })
})

describe('global registry convergence across bus partitions without Web Locks', () => {
  it(`homeless tabs without locks agree again after partitions longer than busTimeoutMs (${Math.ceil(RUNS / 4)} runs)`, { timeout: SOAK ? 0 : 600_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(clusterArb({ minPeers: 0, maxPeers: 0, buses: false, homeless: true, maxStallMs: 0 }), async (c) => {
        await runHomeless({ ...c, locks: false }, true)
      }),
      { numRuns: Math.ceil(RUNS / 4), seed: replaySeed, endOnFailure: false, verbose: 1 },
    )
  })
})
