/** createNode: option validation and node ids (src/create-node.ts, src/node/options.ts). */
import { afterEach, describe, expect, it } from 'vitest'
import { createNode, FlurryError, type FlurryNode, type NodeInit } from '../../src/index.js'
import { rejectionCode } from './helpers.js'

const made: FlurryNode[] = []
afterEach(async () => {
  await Promise.all(made.splice(0).map((n) => n.close()))
})

async function make(init: NodeInit): Promise<FlurryNode> {
  const n = await createNode(init)
  made.push(n)
  return n
}

describe('createNode options', () => {
  it('rejects a missing or empty cookie with BAD_ARGUMENT', async () => {
    const missing = createNode({} as NodeInit)
    await expect(missing).rejects.toBeInstanceOf(FlurryError)
    expect(await rejectionCode(createNode({} as NodeInit))).toBe('BAD_ARGUMENT')
    expect(await rejectionCode(createNode({ cookie: '' }))).toBe('BAD_ARGUMENT')
    expect(await rejectionCode(createNode(undefined as unknown as NodeInit))).toBe('BAD_ARGUMENT')
  })

  it('rejects bad timings, a bad onNameConflict and a bad name with BAD_ARGUMENT', async () => {
    expect(await rejectionCode(createNode({ cookie: 'c', heartbeatIntervalMs: 0 }))).toBe('BAD_ARGUMENT')
    expect(await rejectionCode(createNode({ cookie: 'c', heartbeatTimeoutMs: -1 }))).toBe('BAD_ARGUMENT')
    expect(await rejectionCode(createNode({ cookie: 'c', heartbeatIntervalMs: 100, heartbeatTimeoutMs: 50 }))).toBe('BAD_ARGUMENT')
    expect(await rejectionCode(createNode({ cookie: 'c', onNameConflict: 'ignore' as 'exit' }))).toBe('BAD_ARGUMENT')
    expect(await rejectionCode(createNode({ cookie: 'c', name: 'has space' }))).toBe('BAD_ARGUMENT')
  })
})

describe('node ids', () => {
  it('are name@<16 hex>', async () => {
    const n = await make({ name: 'api', cookie: 'c' })
    expect(n.id).toMatch(/^api@[0-9a-f]{16}$/)
    const anon = await make({ cookie: 'c' })
    expect(anon.id).toMatch(/^[A-Za-z0-9_.:-]+@[0-9a-f]{16}$/)
  })

  it('differ between two nodes of the same name', async () => {
    const a = await make({ name: 'same', cookie: 'c' })
    const b = await make({ name: 'same', cookie: 'c' })
    expect(a.id).not.toBe(b.id)
    expect(a.id.startsWith('same@')).toBe(true)
    expect(b.id.startsWith('same@')).toBe(true)
  })

  it('a fresh node reaches nobody and close is idempotent', async () => {
    const n = await make({ cookie: 'c' })
    expect(n.nodes()).toEqual([])
    await n.close()
    await n.close()
  })
})
