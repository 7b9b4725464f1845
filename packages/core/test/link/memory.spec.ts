import { memoryPair } from '../../src/link/memory.js'
import { linkSuite } from '../../src/testing/suites.js'

linkSuite('memory pair', async () => {
  const [a, b] = memoryPair({ label: 'suite' })
  return { a, b, cleanup: async () => {} }
})
