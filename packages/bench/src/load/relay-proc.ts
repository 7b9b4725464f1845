/**
 * The relay of a load run, alone in its process: the real startRelay with its default
 * heartbeats on 127.0.0.1, port 0. The parent reads its CPU, I/O and RSS from /proc;
 * here it asks for a full GC first (`gc`) and for a health line (`health`).
 * `node --expose-gc relay-proc.js COOKIE`
 */
import { health, startRelay } from '@flurry/relay'
import { gc } from '../measure.js'
import { serve } from './serve.js'

const cookie = process.argv[2] ?? 'load'
const relay = await startRelay({ host: '127.0.0.1', port: 0, cookie, publicDir: null })

serve(
  {
    gc: () => {
      gc()
      return true
    },
    health: () => health(relay),
  },
  { url: relay.wsUrl, id: relay.node.id },
)
