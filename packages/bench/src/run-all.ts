/**
 * `npm run bench`: the core suite (in-process), then the cluster suite (OS
 * processes). Each writes its own table and bench-results/<suite>.json; the exit
 * code is 1 if a benchmark of either failed to run (missed goals are reported, not
 * failures).
 */
import { runSuite } from './suite.js'
import { CORE } from './run-core.js'
import { CLUSTER } from './run-cluster.js'

async function main(): Promise<void> {
  let ok = await runSuite(CORE)
  console.log('')
  ok = (await runSuite(CLUSTER)) && ok
  if (!ok) process.exitCode = 1
}

main().catch((err: unknown) => {
  console.error(err)
  process.exitCode = 1
})
