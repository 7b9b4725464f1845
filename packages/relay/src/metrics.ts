/**
 * GET /metrics: the relay's node.stats() and its event-loop lag in the Prometheus text
 * format (prom-client), one registry per relay so several relays share a process.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { Counter, Gauge, Registry } from 'prom-client'
import type { FlurryNode, NodeStats } from '@flurry/core'

export interface RelayMetrics {
  readonly contentType: string
  /** The exposition text, read from the node now. */
  render(): Promise<string>
  /** Stops the event-loop sampling. */
  close(): void
}

export function relayMetrics(node: FlurryNode): RelayMetrics {
  const registry = new Registry()
  const lag = monitorEventLoopDelay({ resolution: 10 })
  lag.enable()
  // One snapshot per scrape, shared by every family.
  let snap: NodeStats = node.stats()

  const gauge = (name: string, help: string, value: (s: NodeStats) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(value(snap))
      },
    })
  const counter = (name: string, help: string, value: (s: NodeStats) => number) =>
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset()
        this.inc(value(snap))
      },
    })

  gauge('flurry_nodes', 'Nodes this relay reaches now: peers, its clients, the clients of its peers.', (s) => s.nodes)
  gauge('flurry_clients', 'Clients homed on this relay with an open session.', (s) => s.clients)
  gauge('flurry_peers', 'Mesh peers with an open session.', (s) => s.peers)
  gauge('flurry_peers_unreachable', 'Peers known by URL with no session now (as /healthz unreachable).', () =>
    node.peers().filter((p) => !p.reachable).length,
  )
  gauge('flurry_names', 'Global names this relay sees.', (s) => s.names)
  gauge('flurry_sessions', 'Sessions open or in their handshake.', (s) => s.sessions)
  counter('flurry_received_bytes_total', 'Bytes received on all sessions.', (s) => s.bytesIn)
  counter('flurry_sent_bytes_total', 'Bytes sent on all sessions.', (s) => s.bytesOut)
  counter('flurry_received_frames_total', 'Frames received on all sessions.', (s) => s.framesIn)
  counter('flurry_sent_frames_total', 'Frames sent on all sessions.', (s) => s.framesOut)
  counter('flurry_slow_consumer_drops_total', 'Sessions closed because the remote read too slowly.', (s) => s.slowConsumerDrops)
  counter('flurry_handshake_failures_total', 'Handshakes that failed (cookie, versions, timeout).', (s) => s.handshakeFailures)
  new Counter({
    name: 'flurry_refusals_total',
    help: 'Refusals and session errors reported by the node, by FlurryError code.',
    labelNames: ['code'],
    registers: [registry],
    collect() {
      this.reset()
      for (const [code, n] of Object.entries(snap.refusals)) this.inc({ code }, n)
    },
  })
  new Gauge({
    name: 'flurry_event_loop_lag_seconds',
    help: 'Event-loop delay since the previous scrape, by quantile (1 is the maximum).',
    labelNames: ['quantile'],
    registers: [registry],
    collect() {
      for (const q of [0.5, 0.99]) this.set({ quantile: String(q) }, lag.percentile(q * 100) / 1e9)
      this.set({ quantile: '1' }, lag.max / 1e9)
      lag.reset()
    },
  })

  return {
    contentType: registry.contentType,
    render: () => {
      snap = node.stats()
      return registry.metrics()
    },
    close: () => lag.disable(),
  }
}
