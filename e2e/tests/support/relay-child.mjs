// A relay in its own process, for the cases that stop and restart it on the same
// port. Started by relay-process.ts with child_process.fork; argv[2] is JSON
// { port, cookie, node }. Sends { ready: { url, wsUrl, id } } over IPC once listening;
// SIGTERM says goodbye and exits 0; losing the parent (IPC disconnect) exits too.
import { startRelay } from '@flurry/relay'
import { e2eRoute } from './routes.mjs'

const config = JSON.parse(process.argv[2] ?? '{}')
const relay = await startRelay({
  host: '127.0.0.1',
  port: config.port ?? 0,
  cookie: config.cookie,
  devCookie: config.cookie,
  routes: [e2eRoute()],
  node: config.node ?? {},
})
let stopping = false
function stop() {
  if (stopping) return
  stopping = true
  relay.close().then(
    () => process.exit(0),
    () => process.exit(1),
  )
}
process.on('SIGTERM', stop)
process.on('disconnect', stop)
process.send?.({ ready: { url: relay.url, wsUrl: relay.wsUrl, id: relay.node.id } })
