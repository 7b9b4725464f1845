/**
 * The child side of a load-run process: answers `{ rid, cmd, args }` requests from the
 * parent over the IPC channel with `{ rid, ok, value | error }` (what procs/harness.ts's
 * Worker sends and expects), says `{ ev: 'ready' }` once it is set up, and exits on
 * `close` or when the parent goes (IPC disconnect), so nothing outlives a run.
 */
export type Commands = Record<string, (args: Record<string, any>) => unknown>

export function serve(commands: Commands, info: Record<string, unknown> = {}): void {
  if (typeof process.send !== 'function') {
    process.stderr.write('this script is started by the load harness (child_process.fork)\n')
    process.exit(2)
  }
  process.on('disconnect', () => process.exit(0))
  const builtin: Commands = {
    info: () => ({ pid: process.pid, ...info }),
    // A clean exit (after the answer leaves), so that --cpu-prof writes its profile.
    close: () => {
      setImmediate(() => process.exit(0))
      return true
    },
  }
  process.on('message', (m: { rid: number; cmd: string; args: Record<string, unknown> }) => {
    const run = commands[m.cmd] ?? builtin[m.cmd]
    void (async () => {
      try {
        if (run === undefined) throw new Error(`unknown command ${m.cmd}`)
        reply({ rid: m.rid, ok: true, value: await run(m.args ?? {}) })
      } catch (err) {
        reply({ rid: m.rid, ok: false, error: err instanceof Error ? err.message : String(err) })
      }
    })()
  })
  reply({ ev: 'ready' })
}

function reply(m: unknown): void {
  if (process.connected) process.send?.(m)
}

