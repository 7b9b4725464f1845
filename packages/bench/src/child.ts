/**
 * Runs one benchmark in a process of its own (a clean heap, no JIT state from the
 * others) and hands its rows to the parent over IPC: `node --expose-gc child.js NAME`.
 */
import { ALL_BENCHES as BENCHES } from './benches.js'

const name = process.argv[2] ?? ''
const bench = BENCHES[name]

async function main(): Promise<void> {
  if (bench === undefined) throw new Error(`no benchmark ${JSON.stringify(name)}; there are ${Object.keys(BENCHES).join(', ')}`)
  const rows = await bench.run()
  if (process.send !== undefined) await new Promise<void>((resolve) => process.send?.({ rows }, () => resolve()))
  else console.log(JSON.stringify(rows, null, 2))
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    const error = err instanceof Error ? (err.stack ?? err.message) : String(err)
    if (process.send !== undefined) process.send({ error }, () => process.exit(1))
    else {
      console.error(error)
      process.exit(1)
    }
  },
)
