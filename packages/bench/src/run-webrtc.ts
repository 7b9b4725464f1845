/**
 * The WebRTC benchmark suite: direct links between two OS processes on 127.0.0.1, a
 * Flurry Link over a data channel beside raw node-datachannel, raw ws for reference.
 * One table on stdout and the same as JSON in `bench-results/webrtc.json`.
 */
import { WEBRTC_BENCHES } from './benches.js'
import { isMain, mainSuite, type Suite } from './suite.js'

export const WEBRTC: Suite = {
  name: 'webrtc',
  title: 'Flurry direct links (WebRTC data channels between two processes on 127.0.0.1)',
  benches: WEBRTC_BENCHES,
  childTimeoutMs: 180_000,
  legend:
    'Figures are medians of several runs; ratio = median of per-run ratios to a raw node-datachannel data channel between the same processes; spread = ±half the range of the runs.',
}

if (isMain(import.meta.url)) mainSuite(WEBRTC)
